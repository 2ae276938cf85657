"""The exact bytes each printer profile gets for the same receipt lines.

Three models stand for the three cases: a kanji TM-T88V (80 mm, 512-dot head), a TM-T20II on
58 mm paper, and a ZJ-5870, a 58 mm printer with no Japanese kanji font and no native QR.
"""

from __future__ import annotations

import pytest

from drivers.printer import commands
from drivers.printer.connection import open_printer
from drivers.printer.document import Cut, Document, DrawerKick, QrCode, Text
from drivers.printer.errors import ReceiptLayoutError
from drivers.printer.profile import PrinterProfile, paper_for_printer, printer_profile
from drivers.printer.qr import QUIET_ZONE_MODULES, make_symbol
from drivers.printer.received import ReceivedJob
from drivers.printer.render import render
from drivers.printer.stream import StreamParser

TM_T88V = printer_profile("TM-T88V", kanji=True)
TM_T20II = printer_profile("TM-T20II", kanji=True)
ANK_ONLY = printer_profile("ZJ-5870", kanji=False)

HEADER_KANJI = b"\x1b@" + b"\x1bR\x08" + b"\x1bt\x01" + b"\x1cC\x01"
HEADER_ANK = b"\x1b@" + b"\x1bR\x08" + b"\x1bt\x01"
PAYLOAD = "https://coin.example.jp/r/0001"


def job(profile: PrinterProfile, paper_width_mm: int, *blocks: Text | QrCode | Cut | DrawerKick) -> bytes:
    return render(Document(list(blocks)), paper_width_mm=paper_width_mm, profile=profile)


@pytest.mark.parametrize(("profile", "width_mm"), [(TM_T88V, 80), (TM_T20II, 58)])
def test_kanji_model_total_line_bytes(profile: PrinterProfile, width_mm: int) -> None:
    data = job(profile, width_mm, Text("合計 ¥1,200"))

    assert data == HEADER_KANJI + b"\x1c&\x8d\x87\x8cv\x1c." + b" \x5c1,200\n"


@pytest.mark.parametrize(("profile", "width_mm"), [(TM_T88V, 80), (TM_T20II, 58)])
def test_full_width_yen_in_kanji_mode(profile: PrinterProfile, width_mm: int) -> None:
    data = job(profile, width_mm, Text("￥500"))

    assert data == HEADER_KANJI + b"\x1c&\x81\x8f\x1c.500\n"


@pytest.mark.parametrize(("profile", "width_mm"), [(TM_T88V, 80), (TM_T20II, 58)])
def test_characters_outside_jis_substituted(profile: PrinterProfile, width_mm: int) -> None:
    data = job(profile, width_mm, Text("麵髙﨑①～"))

    # 麺 0x96CB, 高 0x8D82, 崎 0x8DE8, ① 0x8740 (NEC row 13), ～ 0x8160.
    assert data == HEADER_KANJI + b"\x1c&\x96\xcb\x8d\x82\x8d\xe8\x87\x40\x81\x60\x1c.\n"
    assert b"?" not in data


@pytest.mark.parametrize("profile", [TM_T88V, TM_T20II, ANK_ONLY])
def test_backslash_never_sent_as_0x5c(profile: PrinterProfile) -> None:
    data = job(profile, 58, Text("C:\\TEMP"))

    assert b"C:\\" not in data
    if profile.kanji:
        assert b"C:\x1c&\x81\x5f\x1c.TEMP\n" in data


def test_ank_model_header_leaves_out_kanji_code_system() -> None:
    data = job(ANK_ONLY, 58, Text("ABC ｱｲｳ ¥100"))

    assert data == HEADER_ANK + b"ABC \xb1\xb2\xb3 \x5c100\n"


def test_ank_model_kanji_line_is_image() -> None:
    data = job(ANK_ONLY, 58, Text("麵 髙 﨑 ① ～"))

    assert data.startswith(HEADER_ANK + b"\x1dv0\x00")
    width_bytes = int.from_bytes(data[len(HEADER_ANK) + 4 : len(HEADER_ANK) + 6], "little")
    rows = int.from_bytes(data[len(HEADER_ANK) + 6 : len(HEADER_ANK) + 8], "little")
    assert width_bytes * 8 == 384
    assert rows == 24
    assert b"\x1c&" not in data
    # The image shows the documented substitutes, drawn exactly as if they had been written.
    assert data == job(ANK_ONLY, 58, Text("麺 高 崎 ① ～"))
    assert data != job(ANK_ONLY, 58, Text("〓 〓 〓 〓 〓"))


def test_ank_model_image_has_ink() -> None:
    data = job(ANK_ONLY, 58, Text("領収書"))
    raster = data[len(HEADER_ANK) + 8 :]

    assert any(raster)


def test_tm_t88v_lines_are_42_columns() -> None:
    paper = paper_for_printer(80, TM_T88V)

    assert (paper.columns, paper.printable_dots) == (42, 512)
    assert paper_for_printer(80, TM_T20II).columns == 48
    assert paper_for_printer(58, TM_T20II).columns == 32


def test_tm_t88v_wraps_at_42_columns() -> None:
    received: list[ReceivedJob] = []
    parser = StreamParser(48, on_job=received.append)
    parser.feed(job(TM_T88V, 80, Text("あ" * 30)))
    parser.close()

    assert [len(line) for line in received[0].lines] == [21, 9]


@pytest.mark.parametrize(("profile", "width_mm", "head_dots"), [(TM_T88V, 80, 512), (TM_T20II, 58, 384)])
def test_native_qr_sized_to_printable_width(profile: PrinterProfile, width_mm: int, head_dots: int) -> None:
    data = job(profile, width_mm, QrCode(PAYLOAD))
    modules = make_symbol(PAYLOAD.encode()).symbol_size(border=QUIET_ZONE_MODULES)[0]

    size_command = b"\x1d(k\x03\x001C"
    module_dots = data[data.index(size_command) + len(size_command)]
    assert modules * module_dots <= head_dots
    assert modules * (module_dots + 1) > head_dots or module_dots == 8
    assert b"\x1d(k" + (len(PAYLOAD) + 3).to_bytes(2, "little") + b"1P0" + PAYLOAD.encode() in data
    assert b"\x1d(k\x03\x001Q0" in data


def test_long_payload_shrinks_modules_on_58mm() -> None:
    payload = "0002010102122654" + "A" * 200
    data = job(TM_T20II, 58, QrCode(payload))
    modules = make_symbol(payload.encode()).symbol_size(border=QUIET_ZONE_MODULES)[0]

    size_command = b"\x1d(k\x03\x001C"
    module_dots = data[data.index(size_command) + len(size_command)]
    assert module_dots < 8
    assert modules * module_dots <= 384


def test_ank_model_prints_qr_as_image() -> None:
    data = job(ANK_ONLY, 58, QrCode(PAYLOAD))

    assert b"\x1d(k" not in data
    assert b"\x1dv0\x00" + (384 // 8).to_bytes(2, "little") in data


@pytest.mark.parametrize("profile", [TM_T88V, TM_T20II])
def test_cut_feeds_past_cutter_first(profile: PrinterProfile) -> None:
    data = job(profile, 58, Text("A"), Cut())

    # GS V 66 n: feed to the cutting position plus n units, then cut partially.
    assert data.endswith(b"A\n\x1dVB\x18")


def test_model_without_cutter_feeds_to_tear_bar() -> None:
    data = job(ANK_ONLY, 58, Text("A"), Cut())

    assert data.endswith(b"A\n\x1bd\x06")
    assert b"\x1dV" not in data


@pytest.mark.parametrize(
    ("pin", "on_ms", "off_ms", "expected"),
    [
        (2, 100, 100, b"\x1bp\x00\x32\x32"),
        (5, 200, 500, b"\x1bp\x01\x64\xfa"),
        (2, 2, 510, b"\x1bp\x00\x01\xff"),
    ],
)
def test_drawer_kick_sends_pin_and_both_times(pin: int, on_ms: int, off_ms: int, expected: bytes) -> None:
    data = job(TM_T20II, 58, DrawerKick(pin, on_ms, off_ms))

    assert data == HEADER_KANJI + expected


@pytest.mark.parametrize(("pin", "on_ms"), [(3, 100), (2, 0), (2, 512)])
def test_invalid_drawer_kick_is_layout_error(pin: int, on_ms: int) -> None:
    with pytest.raises(ReceiptLayoutError, match="cash drawer"):
        job(TM_T20II, 58, DrawerKick(pin, on_ms, 100))


def test_escpos_dummy_receives_job_bytes_unchanged() -> None:
    data = job(TM_T88V, 80, Text("合計 ¥1,200"), QrCode(PAYLOAD), Cut())

    with open_printer("dummy://") as connection:
        connection.write(data)
        output = connection.printer.output

    assert output == data
    assert output.startswith(HEADER_KANJI)
    assert commands.KANJI_MODE_ON in output
