from __future__ import annotations

from camera_qr_frames import emv_payload, qr_frame
from PIL import Image

from drivers.scanner.camera import FrameReader
from drivers.scanner.decoders import ZxingDecoder
from terminal.paycode import new_payment_code, validate_payment_code

WINDOW_MS = 1500


def _reader() -> FrameReader:
    return FrameReader(ZxingDecoder(), validate_payment_code, repeat_window_ms=WINDOW_MS)


def test_frame_with_payment_code_is_scanned() -> None:
    code = new_payment_code()
    outcome = _reader().read(qr_frame(code), now_ms=0.0)

    assert outcome.scans == [code]
    assert outcome.rejected == []


def test_code_held_up_is_reported_once() -> None:
    reader = _reader()
    frame = qr_frame(new_payment_code())

    first = reader.read(frame, now_ms=0.0)
    # Seen on every frame for three seconds: each sighting restarts the window.
    later = [reader.read(frame, now_ms=float(ms)).scans for ms in range(100, 3000, 100)]

    assert len(first.scans) == 1
    assert all(scans == [] for scans in later)


def test_code_shown_again_after_window_is_reported() -> None:
    reader = _reader()
    code = new_payment_code()
    frame = qr_frame(code)

    reader.read(frame, now_ms=0.0)
    reader.read(Image.new("L", frame.size, 128), now_ms=500.0)
    again = reader.read(frame, now_ms=WINDOW_MS + 1.0)

    assert again.scans == [code]


def test_other_code_is_reported_at_once() -> None:
    reader = _reader()
    first, second = new_payment_code(), new_payment_code()

    reader.read(qr_frame(first), now_ms=0.0)
    outcome = reader.read(qr_frame(second), now_ms=100.0)

    assert outcome.scans == [second]


def test_invalid_code_is_rejected_once() -> None:
    reader = _reader()
    frame = qr_frame(emv_payload())

    first = reader.read(frame, now_ms=0.0)
    second = reader.read(frame, now_ms=100.0)

    assert first.scans == []
    assert len(first.rejected) == 1
    assert "digits" in first.rejected[0]
    assert second.rejected == []


def test_code_with_bad_check_digits_is_rejected() -> None:
    code = new_payment_code()
    broken = code[:-1] + str((int(code[-1]) + 1) % 10)

    outcome = _reader().read(qr_frame(broken), now_ms=0.0)

    assert outcome.scans == []
    assert "check digits" in outcome.rejected[0]


def test_empty_frame_reports_nothing() -> None:
    outcome = _reader().read(Image.new("L", (640, 480), 128), now_ms=0.0)

    assert outcome.scans == []
    assert outcome.rejected == []
