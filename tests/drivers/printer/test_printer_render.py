from __future__ import annotations

import re

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from pyzbar.pyzbar import decode as decode_barcodes

from drivers.printer.document import Align, Columns, Cut, Document, Feed, QrCode, Rule, Text
from drivers.printer.errors import PrinterConfigError, ReceiptLayoutError
from drivers.printer.encoding import TextEncoder
from drivers.printer.profile import DEFAULT_PROFILE, PAPERS, PrinterProfile, printer_profile
from drivers.printer.raster import unpack_raster
from drivers.printer.received import PrintedLine, PrintedQr, ReceivedJob
from drivers.printer.render import render
from drivers.printer.stream import StreamParser

# Wide enough that the parser never wraps, so an over-long rendered line shows up as one line.
UNWRAPPED_COLUMNS = 10_000


def _decode(job: bytes) -> ReceivedJob:
    jobs: list[ReceivedJob] = []
    parser = StreamParser(UNWRAPPED_COLUMNS, jobs.append)
    parser.feed(job)
    parser.close()
    assert len(jobs) == 1
    return jobs[0]


def _printed_lines(job: bytes) -> list[PrintedLine]:
    return [item for item in _decode(job).items if isinstance(item, PrintedLine)]


def test_price_line_fits_one_80mm_line() -> None:
    job = render(Document().add(Columns("豚肉・木耳と玉子炒め弁当", "￥1,990")))
    lines = _printed_lines(job)
    assert len(lines) == 1
    assert lines[0].text.startswith("豚肉・木耳と玉子炒め弁当 ")
    assert lines[0].text.endswith("￥1,990")
    assert lines[0].width_columns == 48


def test_price_line_fits_one_58mm_line() -> None:
    job = render(Document().add(Columns("豚肉・木耳と玉子炒め弁当", "￥1,990")), paper_width_mm=58)
    lines = _printed_lines(job)
    assert [line.text for line in lines] == ["豚肉・木耳と玉子炒め弁当 ￥1,990"]
    assert lines[0].width_columns == 32


def test_rule_fills_48_columns_on_80mm() -> None:
    assert [line.text for line in _printed_lines(render(Document().add(Rule())))] == ["-" * 48]


def test_rule_fills_32_columns_on_58mm() -> None:
    assert [line.text for line in _printed_lines(render(Document().add(Rule()), paper_width_mm=58))] == ["-" * 32]


def test_double_width_rule_char_fills_half_as_many() -> None:
    assert _printed_lines(render(Document().add(Rule("＝"))))[0].text == "＝" * 24


def test_columns_shorten_label_never_value() -> None:
    label = "特製豚肉・木耳と玉子炒め弁当（大盛り）ご飯増量"
    job = render(Document().add(Columns(label, "￥12,345,678")), paper_width_mm=58)
    lines = _printed_lines(job)
    assert len(lines) == 1
    assert lines[0].text.endswith("￥12,345,678")
    assert "…" in lines[0].text
    assert lines[0].width_columns <= 32


def test_columns_with_huge_value_keep_whole_value() -> None:
    value = "￥" + "9" * 40
    lines = _printed_lines(render(Document().add(Columns("合計", value)), paper_width_mm=58))
    assert lines[0].text == "合計"
    assert "".join(line.text.strip() for line in lines[1:]) == value
    assert all(line.width_columns <= 32 for line in lines)


def test_text_wraps_at_paper_width() -> None:
    lines = _printed_lines(render(Document().add(Text("あ" * 30)), paper_width_mm=58))
    assert [line.text for line in lines] == ["あ" * 16, "あ" * 14]


def test_double_width_halves_columns() -> None:
    job = render(Document().add(Text("あ" * 30, double_width=True)))
    lines = _printed_lines(job)
    assert [len(line.text) for line in lines] == [12, 12, 6]
    assert b"\x1d\x21\x10\x1c\x21\x04" in job


def test_double_height_sets_gs_and_fs_bits() -> None:
    job = render(Document().add(Text("会津", double_height=True)))
    assert b"\x1d\x21\x01\x1c\x21\x08" in job
    assert job.endswith(b"\x1d\x21\x00\x1c\x21\x00")


def test_alignment_uses_esc_a() -> None:
    job = render(Document().add(Text("会津", align=Align.RIGHT)))
    assert b"\x1b\x61\x02" in job
    assert _decode(job).items[0] == PrintedLine(_printed_lines(job)[0].cells, "right")


def test_bold_uses_esc_e() -> None:
    job = render(Document().add(Text("合計", bold=True)))
    assert b"\x1b\x45\x01" in job


def test_newlines_in_text_start_new_lines() -> None:
    lines = _printed_lines(render(Document().add(Text("一行目\n二行目"))))
    assert [line.text for line in lines] == ["一行目", "二行目"]


def test_qr_store_length_is_data_plus_three() -> None:
    data = "00020101021226" + "A" * 100
    job = render(Document().add(QrCode(data)))
    store = re.search(rb"\x1d\x28\x6b(.)(.)\x31\x50\x30", job, re.DOTALL)
    assert store is not None
    assert store.group(1)[0] + 256 * store.group(2)[0] == len(data) + 3
    assert data.encode() in job


def test_qr_uses_model_2_level_m_and_prints() -> None:
    job = render(Document().add(QrCode("hello")))
    assert b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00" in job
    assert b"\x1d\x28\x6b\x03\x00\x31\x45\x31" in job
    assert b"\x1d\x28\x6b\x03\x00\x31\x51\x30" in job


@pytest.mark.parametrize(("paper_width_mm", "printable_dots"), [(80, 576), (58, 384)])
def test_qr_module_size_fits_printable_width(paper_width_mm: int, printable_dots: int) -> None:
    for data in ("short", "x" * 300, "y" * 1200):
        job = render(Document().add(QrCode(data)), paper_width_mm=paper_width_mm)
        size = re.search(rb"\x1d\x28\x6b\x03\x00\x31\x43(.)", job, re.DOTALL)
        assert size is not None
        module_dots = size.group(1)[0]
        assert isinstance(_decode(job).items[0], PrintedQr)
        modules = segno.make_qr(data.encode(), error="m", boost_error=False).symbol_size(border=4)[0]
        assert 1 <= module_dots <= 8
        assert modules * module_dots <= printable_dots


def test_qr_too_long_raises_layout_error() -> None:
    with pytest.raises(ReceiptLayoutError, match="does not fit"):
        render(Document().add(QrCode("x" * 3000)))


def test_qr_without_native_support_is_raster_image() -> None:
    profile = PrinterProfile(qr_code=False)
    job = render(Document().add(QrCode("CHIIKI-TEST-123")), profile=profile)
    assert b"\x1d\x28\x6b" not in job
    start = job.index(b"\x1d\x76\x30\x00")
    width_bytes = int.from_bytes(job[start + 4 : start + 6], "little")
    rows = int.from_bytes(job[start + 6 : start + 8], "little")
    image = unpack_raster(width_bytes, rows, job[start + 8 : start + 8 + width_bytes * rows])
    assert [symbol.data for symbol in decode_barcodes(image)] == [b"CHIIKI-TEST-123"]


def test_simple_profile_has_no_native_qr() -> None:
    assert printer_profile("simple").qr_code is False
    assert printer_profile("TM-T20II").qr_code is True


def test_cut_feeds_past_cutter_then_cuts_partially() -> None:
    job = render(Document().add(Text("最終行")).add(Cut()))
    assert job.endswith(b"\x1c\x2e\n\x1d\x56\x42\x18")


def test_cut_without_cutter_feeds_to_tear_bar() -> None:
    profile = PrinterProfile(partial_cut=False, full_cut=False)
    assert render(Document().add(Cut()), profile=profile).endswith(b"\x1b\x64\x06")


def test_feed_uses_esc_d() -> None:
    assert render(Document().add(Feed(3))).endswith(b"\x1b\x64\x03")


def test_unsupported_paper_width_is_config_error() -> None:
    with pytest.raises(PrinterConfigError, match="72 mm"):
        render(Document(), paper_width_mm=72)


def test_unknown_profile_is_config_error() -> None:
    with pytest.raises(PrinterConfigError, match="TM-NOPE"):
        printer_profile("TM-NOPE")


_japanese_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.characters(min_codepoint=0xFF61, max_codepoint=0xFF9F),
        st.characters(min_codepoint=0x3041, max_codepoint=0x30FA),
        st.sampled_from("会津豚肉木耳玉子炒弁当髙﨑¥￥…※①〜😀\u3099 \t"),
    ),
    max_size=80,
)


def _assert_lines_fit(job: bytes, columns: int) -> None:
    for line in _printed_lines(job):
        assert line.width_columns <= columns
        assert "\ufffd" not in line.text
    for run in re.findall(rb"\x1c\x26(.*?)\x1c\x2e", job, re.DOTALL):
        assert len(run) % 2 == 0
        run.decode("cp932")


@settings(max_examples=150, deadline=None)
@given(left=_japanese_text, right=_japanese_text, paper_width_mm=st.sampled_from([58, 80]))
def test_columns_never_exceed_width(left: str, right: str, paper_width_mm: int) -> None:
    columns = 48 if paper_width_mm == 80 else 32
    job = render(Document().add(Columns(left, right)), paper_width_mm=paper_width_mm)
    _assert_lines_fit(job, columns)
    printed = "".join(line.text for line in _printed_lines(job))
    if "?" not in left + right:
        assert "?" not in printed


@settings(max_examples=150, deadline=None)
@given(text=_japanese_text, double_width=st.booleans(), paper_width_mm=st.sampled_from([58, 80]))
def test_text_lines_never_exceed_width(text: str, double_width: bool, paper_width_mm: int) -> None:
    columns = 48 if paper_width_mm == 80 else 32
    job = render(Document().add(Text(text, double_width=double_width)), paper_width_mm=paper_width_mm)
    _assert_lines_fit(job, columns)


@settings(max_examples=100, deadline=None)
@given(left=_japanese_text, right=_japanese_text)
def test_columns_value_always_printed_whole(left: str, right: str) -> None:
    value = TextEncoder(DEFAULT_PROFILE, PAPERS[58]).printable(" ".join(right.replace("\t", " ").split("\n")))
    job = render(Document().add(Columns(left, right)), paper_width_mm=58)
    printed = "".join(line.text for line in _printed_lines(job)).replace(" ", "")
    assert value.replace(" ", "") in printed
