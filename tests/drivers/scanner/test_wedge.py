from __future__ import annotations

import pytest

from drivers.scanner import KanaInputError, ScanResult, WedgeDetector, WedgeOutput
from terminal.paycode import PaymentCodeError, new_payment_code, validate_payment_code

SCANNER_GAP_MS = 4.0  # wedge scanners type one key every 1-10 ms
HUMAN_GAP_MS = 150.0  # people type at more than 80 ms per key


def play(
    detector: WedgeDetector, keys: str, gap_ms: float, start_ms: float = 1000.0
) -> tuple[list[WedgeOutput], float]:
    """Feed each character of ``keys`` ``gap_ms`` apart; return outputs and the last time."""
    outputs = []
    now = start_ms
    for char in keys:
        outputs.append(detector.feed(char, now))
        now += gap_ms
    return outputs, now - gap_ms


def scans(outputs: list[WedgeOutput]) -> list[str]:
    return [output.scan.text for output in outputs if output.scan is not None]


def passthrough(outputs: list[WedgeOutput]) -> str:
    return "".join(output.passthrough for output in outputs)


def test_fast_burst_with_enter_is_scan() -> None:
    code = new_payment_code()
    detector = WedgeDetector()

    outputs, _ = play(detector, code + "\r", SCANNER_GAP_MS)

    assert scans(outputs) == [code]
    assert outputs[-1].scan == ScanResult(text=code, source="wedge")
    assert passthrough(outputs) == ""


def test_feed_enter_ends_scan() -> None:
    detector = WedgeDetector()
    _, last_ms = play(detector, "4901234567894", SCANNER_GAP_MS)

    output = detector.feed_enter(last_ms + SCANNER_GAP_MS)

    assert output.scan is not None
    assert output.scan.text == "4901234567894"


def test_slow_typing_passes_through() -> None:
    detector = WedgeDetector()

    outputs, last_ms = play(detector, "12345678\r", HUMAN_GAP_MS)

    assert scans(outputs) == []
    assert passthrough(outputs) == "12345678\r"
    assert detector.pending_deadline_ms() is None


def test_held_key_released_by_flush() -> None:
    detector = WedgeDetector(max_interkey_ms=30)
    first_key = detector.feed("7", 1000.0)

    early = detector.flush(1020.0)
    deadline = detector.pending_deadline_ms()
    late = detector.flush(1031.0)

    assert first_key.passthrough == ""
    assert early.passthrough == ""
    assert deadline == 1031.0
    assert late.passthrough == "7"


def test_short_fast_burst_is_typing() -> None:
    detector = WedgeDetector(min_length=6)

    outputs, _ = play(detector, "123\r", SCANNER_GAP_MS)

    assert scans(outputs) == []
    assert passthrough(outputs) == "123\r"


def test_fast_burst_without_suffix_flushed_as_typing() -> None:
    detector = WedgeDetector()
    outputs, last_ms = play(detector, "12345678", SCANNER_GAP_MS)

    flushed = detector.flush(last_ms + 100)

    assert scans(outputs) == []
    assert flushed.passthrough == "12345678"


def test_typing_then_scan_split_by_timing() -> None:
    detector = WedgeDetector()
    typed, last_ms = play(detector, "99", HUMAN_GAP_MS)
    scanned, _ = play(detector, "4901234567894\r", SCANNER_GAP_MS, start_ms=last_ms + 500)

    assert passthrough(typed + scanned) == "99"
    assert scans(scanned) == ["4901234567894"]


def test_pause_inside_burst_is_typing() -> None:
    detector = WedgeDetector()
    first, last_ms = play(detector, "1234", SCANNER_GAP_MS)
    rest, _ = play(detector, "5678\r", SCANNER_GAP_MS, start_ms=last_ms + 200)

    assert scans(first + rest) == []
    assert passthrough(first + rest) == "12345678\r"


def test_interkey_exactly_at_limit_is_fast() -> None:
    detector = WedgeDetector(max_interkey_ms=30)

    outputs, _ = play(detector, "12345678\r", 30.0)

    assert scans(outputs) == ["12345678"]


def test_modifier_events_ignored() -> None:
    detector = WedgeDetector()
    now = 1000.0
    outputs = []
    for char in "AB-12345\r":
        outputs.append(detector.feed("", now))  # Shift press: no text
        outputs.append(detector.feed(char, now + 1))
        now += SCANNER_GAP_MS

    assert scans(outputs) == ["AB-12345"]


@pytest.mark.parametrize(
    ("suffix", "sent"),
    [("enter", "\r"), ("cr", "\r"), ("tab", "\t"), ("lf", "\n"), ("crlf", "\r\n")],
)
def test_suffix_variants(suffix: str, sent: str) -> None:
    detector = WedgeDetector(suffix=suffix)

    outputs, _ = play(detector, "12345678" + sent, SCANNER_GAP_MS)

    assert scans(outputs) == ["12345678"]
    assert passthrough(outputs) == ""


def test_wrong_terminator_is_typing() -> None:
    detector = WedgeDetector(suffix="tab")

    outputs, _ = play(detector, "12345678\r", SCANNER_GAP_MS)

    assert scans(outputs) == []
    assert passthrough(outputs) == "12345678\r"


def test_crlf_when_enter_configured_is_one_scan() -> None:
    detector = WedgeDetector(suffix="enter")

    outputs, _ = play(detector, "12345678\r\n", SCANNER_GAP_MS)

    assert scans(outputs) == ["12345678"]
    assert passthrough(outputs) == ""


def test_double_enter_is_one_scan() -> None:
    detector = WedgeDetector()

    outputs, _ = play(detector, "12345678\r\r", SCANNER_GAP_MS)

    assert scans(outputs) == ["12345678"]
    assert passthrough(outputs) == ""


def test_enter_long_after_scan_passes_through() -> None:
    detector = WedgeDetector()
    _, last_ms = play(detector, "12345678\r", SCANNER_GAP_MS)

    output = detector.feed_enter(last_ms + 500)

    assert output.passthrough == "\r"


def test_repeated_burst_within_window_is_one_scan() -> None:
    detector = WedgeDetector(repeat_window_ms=1500)
    first, last_ms = play(detector, "12345678\r", SCANNER_GAP_MS)
    second, last_ms = play(detector, "12345678\r", SCANNER_GAP_MS, start_ms=last_ms + 400)
    third, _ = play(detector, "12345678\r", SCANNER_GAP_MS, start_ms=last_ms + 1400)

    assert scans(first) == ["12345678"]
    assert scans(second) == []
    assert scans(third) == []
    assert passthrough(first + second + third) == ""


def test_repeated_burst_after_window_scans_again() -> None:
    detector = WedgeDetector(repeat_window_ms=1500)
    first, last_ms = play(detector, "12345678\r", SCANNER_GAP_MS)
    second, _ = play(detector, "12345678\r", SCANNER_GAP_MS, start_ms=last_ms + 2000)

    assert scans(first + second) == ["12345678", "12345678"]


def test_different_code_within_window_scans() -> None:
    detector = WedgeDetector()
    first, last_ms = play(detector, "12345678\r", SCANNER_GAP_MS)
    second, _ = play(detector, "87654321\r", SCANNER_GAP_MS, start_ms=last_ms + 200)

    assert scans(first + second) == ["12345678", "87654321"]


def test_prefix_stripped() -> None:
    detector = WedgeDetector(prefix="]Q1")

    outputs, _ = play(detector, "]Q112345678\r", SCANNER_GAP_MS)

    assert scans(outputs) == ["12345678"]


def test_burst_without_prefix_is_typing() -> None:
    detector = WedgeDetector(prefix="]Q1")

    outputs, _ = play(detector, "12345678\r", SCANNER_GAP_MS)

    assert scans(outputs) == []
    assert passthrough(outputs) == "12345678\r"


def test_full_width_digits_folded() -> None:
    code = new_payment_code()
    full_width = "".join(chr(ord(digit) - ord("0") + ord("０")) for digit in code)
    detector = WedgeDetector()

    outputs, _ = play(detector, full_width + "\r", SCANNER_GAP_MS)

    assert scans(outputs) == [code]
    assert validate_payment_code(scans(outputs)[0]) == code


def test_kana_rejected_with_hint() -> None:
    detector = WedgeDetector()

    # Digits 1-8 typed on a JIS keyboard in kana-lock mode.
    outputs, _ = play(detector, "ぬふあうえおやゆ\r", SCANNER_GAP_MS)

    errors = [output.error for output in outputs if output.error is not None]
    assert scans(outputs) == []
    assert passthrough(outputs) == ""
    assert len(errors) == 1
    assert isinstance(errors[0], KanaInputError)
    assert "input method" in str(errors[0])


def test_half_width_kana_rejected() -> None:
    detector = WedgeDetector()

    outputs, _ = play(detector, "ﾇﾌｱｳｴｵﾔﾕ\r", SCANNER_GAP_MS)

    assert any(isinstance(output.error, KanaInputError) for output in outputs)


def test_layout_mismatch_repaired_when_configured() -> None:
    detector = WedgeDetector(layout="us_on_jis")

    # A US scanner reading "user@bank:01" types these characters on a JIS host.
    outputs, _ = play(detector, 'user"bank+01\r', SCANNER_GAP_MS)

    assert scans(outputs) == ["user@bank:01"]


def test_layout_left_alone_by_default() -> None:
    detector = WedgeDetector()

    outputs, _ = play(detector, 'user"bank+01\r', SCANNER_GAP_MS)

    assert scans(outputs) == ['user"bank+01']


def test_dropped_digit_rejected_by_validation() -> None:
    code = new_payment_code()
    mangled = code[:7] + code[8:]
    detector = WedgeDetector()

    outputs, _ = play(detector, mangled + "\r", SCANNER_GAP_MS)

    assert scans(outputs) == [mangled]
    with pytest.raises(PaymentCodeError, match="19 digits"):
        validate_payment_code(scans(outputs)[0])


def test_bad_suffix_setting_rejected() -> None:
    with pytest.raises(ValueError, match="esc"):
        WedgeDetector(suffix="esc")
