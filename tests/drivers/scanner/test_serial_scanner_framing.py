"""SerialFramer: cutting serial scanner bytes into scans, with explicit times and no I/O."""

from __future__ import annotations

import pytest

from drivers.scanner.base import KanaInputError, ScanResult
from drivers.scanner.serial_framing import (
    FramingSettings,
    FrameOutput,
    SerialFramer,
    Terminator,
    UnreadableDataError,
    UnterminatedDataError,
)

CODE = "91234567890123456789"
OTHER = "98765432109876543210"


def framer(**settings: object) -> SerialFramer:
    return SerialFramer(FramingSettings(**settings))  # type: ignore[arg-type]


def texts(outputs: list[FrameOutput]) -> list[str]:
    return [output.text for output in outputs if isinstance(output, ScanResult)]


def errors(outputs: list[FrameOutput]) -> list[Exception]:
    return [output for output in outputs if not isinstance(output, ScanResult)]


@pytest.mark.parametrize(
    ("terminator", "suffix"),
    [
        ("cr", b"\r"),
        ("lf", b"\n"),
        ("crlf", b"\r\n"),
        ("tab", b"\t"),
        ("etx", b"\x03"),
        ("any", b"\r"),
        ("any", b"\n"),
        ("any", b"\r\n"),
        ("any", b"\t"),
        ("any", b"\x03"),
    ],
)
def test_each_terminator_ends_a_scan(terminator: Terminator, suffix: bytes) -> None:
    outputs = framer(terminator=terminator).feed(CODE.encode() + suffix, 0.0)

    assert texts(outputs) == [CODE]
    assert errors(outputs) == []


def test_code_split_across_reads_is_one_scan() -> None:
    reader = framer()
    outputs: list[FrameOutput] = []
    data = CODE.encode() + b"\r\n"

    for index, byte in enumerate(data):
        outputs += reader.feed(bytes([byte]), index * 0.001)

    assert texts(outputs) == [CODE]
    assert errors(outputs) == []


def test_crlf_split_between_reads_is_one_terminator() -> None:
    reader = framer(terminator="crlf")

    first = reader.feed(CODE.encode() + b"\r", 0.0)
    second = reader.feed(b"\n", 0.01)

    assert first == []
    assert texts(second) == [CODE]


def test_several_codes_in_one_read() -> None:
    data = b"".join(code.encode() + b"\r" for code in (CODE, OTHER, "4901234567894"))

    outputs = framer().feed(data, 0.0)

    assert texts(outputs) == [CODE, OTHER, "4901234567894"]


def test_read_ending_inside_a_code_keeps_the_rest() -> None:
    reader = framer()

    first = reader.feed(CODE.encode() + b"\r" + OTHER[:5].encode(), 0.0)
    second = reader.feed(OTHER[5:].encode() + b"\r", 0.01)

    assert texts(first) == [CODE]
    assert texts(second) == [OTHER]


def test_doubled_terminator_gives_one_scan() -> None:
    outputs = framer(terminator="cr").feed(CODE.encode() + b"\r\r", 0.0)

    assert texts(outputs) == [CODE]
    assert errors(outputs) == []


def test_crlf_with_cr_terminator_scans_cleanly() -> None:
    reader = framer(terminator="cr", unterminated_timeout_s=1.0)

    outputs = reader.feed(CODE.encode() + b"\r\n" + OTHER.encode() + b"\r\n", 0.0)
    outputs += reader.expire(5.0)

    assert texts(outputs) == [CODE, OTHER]
    assert errors(outputs) == []


def test_no_terminator_ends_scan_after_silence() -> None:
    reader = framer(terminator="none", inter_byte_timeout_s=0.05)

    during = reader.feed(CODE[:10].encode(), 0.0)
    during += reader.feed(CODE[10:].encode(), 0.02)
    during += reader.expire(0.04)
    after = reader.expire(0.1)

    assert during == []
    assert texts(after) == [CODE]


def test_late_expiry_ends_scan_before_next() -> None:
    reader = framer(terminator="none", inter_byte_timeout_s=0.05)

    first = reader.feed(CODE.encode(), 0.0)
    second = reader.feed(OTHER.encode(), 1.0)
    third = reader.expire(2.0)

    assert first == []
    assert texts(second) == [CODE]
    assert texts(third) == [OTHER]


def test_prefix_is_stripped() -> None:
    outputs = framer(prefix="]Q1").feed(b"]Q1" + CODE.encode() + b"\r", 0.0)

    assert texts(outputs) == [CODE]


def test_frame_without_prefix_is_kept() -> None:
    outputs = framer(prefix="]Q1").feed(CODE.encode() + b"\r", 0.0)

    assert texts(outputs) == [CODE]


def test_stx_etx_framing_is_removed() -> None:
    outputs = framer(terminator="etx").feed(b"\x02" + CODE.encode() + b"\x03", 0.0)

    assert texts(outputs) == [CODE]


def test_full_width_digits_are_folded() -> None:
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in CODE)

    outputs = framer().feed(full_width.encode() + b"\r", 0.0)

    assert texts(outputs) == [CODE]


def test_kana_is_rejected_with_hint() -> None:
    outputs = framer().feed("ぬふあう".encode() + b"\r", 0.0)

    assert texts(outputs) == []
    assert len(errors(outputs)) == 1
    assert isinstance(errors(outputs)[0], KanaInputError)
    assert "input method" in str(errors(outputs)[0])


def test_repeat_within_window_is_one_scan() -> None:
    reader = framer(repeat_window_s=1.5)

    outputs = reader.feed(CODE.encode() + b"\r", 0.0)
    outputs += reader.feed(CODE.encode() + b"\r", 0.5)
    outputs += reader.feed(CODE.encode() + b"\r", 1.9)

    assert texts(outputs) == [CODE]


def test_repeat_after_window_is_a_new_scan() -> None:
    reader = framer(repeat_window_s=1.5)

    outputs = reader.feed(CODE.encode() + b"\r", 0.0)
    outputs += reader.feed(CODE.encode() + b"\r", 2.0)

    assert texts(outputs) == [CODE, CODE]


def test_different_code_within_window_is_scanned() -> None:
    reader = framer(repeat_window_s=1.5)

    outputs = reader.feed(CODE.encode() + b"\r" + OTHER.encode() + b"\r", 0.0)

    assert texts(outputs) == [CODE, OTHER]


def test_invalid_utf8_is_rejected_naming_byte() -> None:
    outputs = framer().feed(b"1234\xff5678\r", 0.0)

    assert texts(outputs) == []
    assert len(errors(outputs)) == 1
    error = errors(outputs)[0]
    assert isinstance(error, UnreadableDataError)
    assert "0xff" in str(error)
    assert "offset 4" in str(error)
    assert "baud rate" in str(error)


def test_nul_byte_is_rejected_naming_nul() -> None:
    outputs = framer().feed(b"1234\x005678\r", 0.0)

    assert texts(outputs) == []
    error = errors(outputs)[0]
    assert isinstance(error, UnreadableDataError)
    assert "NUL (0x00)" in str(error)


def test_group_separator_is_data() -> None:
    gs1 = "0104912345678904\x1d10ABC123"

    outputs = framer().feed(gs1.encode() + b"\r", 0.0)

    assert texts(outputs) == [gs1]


def test_garbage_then_code_in_one_read() -> None:
    outputs = framer().feed(b"\xfe\xfe\x80\r" + CODE.encode() + b"\r", 0.0)

    assert len(errors(outputs)) == 1
    assert isinstance(errors(outputs)[0], UnreadableDataError)
    assert texts(outputs) == [CODE]


def test_overlong_line_is_rejected_and_tail_discarded() -> None:
    reader = framer(max_frame_bytes=64)

    outputs = reader.feed(b"7" * 100, 0.0)
    outputs += reader.feed(b"7" * 30 + b"\r", 0.01)
    outputs += reader.feed(CODE.encode() + b"\r", 0.02)

    assert len(errors(outputs)) == 1
    error = errors(outputs)[0]
    assert isinstance(error, UnterminatedDataError)
    assert "100 bytes" in str(error)
    assert "scanner.terminator" in str(error)
    assert texts(outputs) == [CODE]


def test_overlong_line_without_terminator_mode_resyncs_after_silence() -> None:
    reader = framer(terminator="none", max_frame_bytes=64, inter_byte_timeout_s=0.05)

    outputs = reader.feed(b"7" * 100, 0.0)
    outputs += reader.feed(b"7" * 10, 0.01)
    outputs += reader.expire(0.5)
    outputs += reader.feed(CODE.encode(), 1.0)
    outputs += reader.expire(1.5)

    assert len(errors(outputs)) == 1
    assert isinstance(errors(outputs)[0], UnterminatedDataError)
    assert texts(outputs) == [CODE]


def test_bytes_left_without_terminator_are_rejected_after_silence() -> None:
    reader = framer(terminator="cr", unterminated_timeout_s=1.0)

    waiting = reader.feed(CODE.encode(), 0.0)
    waiting += reader.expire(0.5)
    expired = reader.expire(1.5)
    later = reader.feed(OTHER.encode() + b"\r", 2.0)

    assert waiting == []
    assert len(expired) == 1
    assert isinstance(expired[0], UnterminatedDataError)
    assert f"{len(CODE)} bytes" in str(expired[0])
    assert texts(later) == [OTHER]


def test_unknown_terminator_is_refused() -> None:
    with pytest.raises(ValueError, match="'nul'"):
        FramingSettings(terminator="nul")  # type: ignore[arg-type]


def test_overlong_line_in_one_read_is_rejected() -> None:
    reader = framer(max_frame_bytes=64)

    outputs = reader.feed(b"7" * 100 + b"\r" + CODE.encode() + b"\r", 0.0)

    assert len(errors(outputs)) == 1
    assert isinstance(errors(outputs)[0], UnterminatedDataError)
    assert "100 bytes" in str(errors(outputs)[0])
    assert texts(outputs) == [CODE]


def test_endless_line_is_rejected_once() -> None:
    reader = framer(max_frame_bytes=64)

    outputs: list[FrameOutput] = []
    for index in range(10):
        outputs += reader.feed(b"7" * 50, index * 0.01)
    outputs += reader.feed(b"\r" + CODE.encode() + b"\r", 0.2)

    assert len(errors(outputs)) == 1
    assert texts(outputs) == [CODE]
