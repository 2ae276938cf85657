"""The camera scanner's frame -> decode -> signal path, fed with frames built in the test."""

from __future__ import annotations

import io
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QVideoFrame
from pytestqt.qtbot import QtBot

from drivers.scanner.camera import FrameReader
from drivers.scanner.decoders import ZbarDecoder, ZxingDecoder
from terminal import messages
from terminal.config import ConfigError, ScannerConfig, TerminalConfig, parse_config
from terminal.paycode import new_payment_code, validate_payment_code
from tests.drivers.scanner.camera_qr_frames import inverted, load_photo, photo_names, qr_frame
from tests.ui.conftest import FakeApi
from tests.ui.test_scanning import enter_amount
from ui.app import Terminal
from ui.camera import CameraScanner, qimage_to_pil, start_camera_scanner, validate_wallet_code

MISSING_CAMERA = "/dev/video-missing"


def to_qimage(image: Image.Image) -> QImage:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    qimage = QImage.fromData(buffer.getvalue())
    assert not qimage.isNull()
    return qimage.convertToFormat(QImage.Format.Format_RGB32)


def to_video_frame(image: Image.Image) -> QVideoFrame:
    frame = QVideoFrame(to_qimage(image))
    assert frame.isValid()
    return frame


def accept_any(text: str) -> str:
    return text


@pytest.fixture
def terminal_config(terminal_config: TerminalConfig) -> TerminalConfig:
    scanner = replace(terminal_config.scanner, kind="camera", camera_id=MISSING_CAMERA)
    return replace(terminal_config, scanner=scanner)


def test_qimage_converts_to_same_pixels() -> None:
    image = qr_frame(new_payment_code())
    # An odd width makes Qt pad each line, which the conversion must skip.
    cropped = image.crop((0, 0, 301, 200))

    assert qimage_to_pil(to_qimage(cropped)).tobytes() == cropped.tobytes()


def test_video_frame_of_payment_code_is_scanned(qtbot: QtBot) -> None:
    code = new_payment_code()
    scanner = CameraScanner(FrameReader(ZxingDecoder(), validate_wallet_code))

    with qtbot.waitSignal(scanner.scanned, timeout=3000) as blocker:
        assert scanner.feed_frame(to_video_frame(qr_frame(code)))

    assert blocker.args == [code]


@pytest.mark.parametrize("photo", photo_names()[::5])
def test_photo_frame_is_scanned(qtbot: QtBot, photo: str) -> None:
    image, expected = load_photo(photo)
    scanner = CameraScanner(FrameReader(ZxingDecoder(), accept_any))

    with qtbot.waitSignal(scanner.scanned, timeout=3000) as blocker:
        scanner.feed_frame(to_video_frame(image))

    assert blocker.args == [expected]


def test_dark_mode_frame_is_scanned_with_zbar(qtbot: QtBot) -> None:
    code = new_payment_code()
    scanner = CameraScanner(FrameReader(ZbarDecoder(), validate_wallet_code))

    with qtbot.waitSignal(scanner.scanned, timeout=3000) as blocker:
        scanner.feed_image(to_qimage(inverted(qr_frame(code))))

    assert blocker.args == [code]


def test_photo_of_other_code_is_rejected(qtbot: QtBot) -> None:
    image, _ = load_photo(photo_names()[0])
    scanner = CameraScanner(FrameReader(ZxingDecoder(), validate_wallet_code))
    scans: list[str] = []
    scanner.scanned.connect(scans.append)

    with qtbot.waitSignal(scanner.rejected, timeout=3000) as blocker:
        scanner.feed_image(to_qimage(image))

    assert blocker.args == [messages.CODE_MALFORMED]
    assert scans == []


def test_frames_are_dropped_while_decoding(qtbot: QtBot) -> None:
    code = new_payment_code()
    scanner = CameraScanner(FrameReader(ZxingDecoder(), validate_wallet_code))
    scans: list[str] = []
    scanner.scanned.connect(scans.append)
    frame = to_video_frame(qr_frame(code))

    # The first frame's decode cannot report back before the event loop runs again.
    accepted = [scanner.feed_frame(frame) for _ in range(5)]
    qtbot.waitUntil(lambda: scanner.decoded_frames == 1, timeout=3000)

    assert accepted == [True, False, False, False, False]
    assert scanner.dropped_frames == 4
    assert scans == [code]


def test_decoding_runs_off_gui_thread(qtbot: QtBot) -> None:
    threads: list[threading.Thread] = []

    def validate(text: str) -> str:
        threads.append(threading.current_thread())
        return validate_payment_code(text)

    scanner = CameraScanner(FrameReader(ZxingDecoder(), validate))
    with qtbot.waitSignal(scanner.scanned, timeout=3000):
        scanner.feed_frame(to_video_frame(qr_frame(new_payment_code())))

    assert threads
    assert all(thread is not threading.main_thread() for thread in threads)


def test_missing_camera_gives_clear_message(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    reported: list[str] = []
    config = ScannerConfig(kind="camera", camera_id=MISSING_CAMERA)

    with caplog.at_level(logging.ERROR, logger="ui.camera"):
        scanner = start_camera_scanner(config, reported.append)

    assert scanner is not None
    assert not scanner.running
    assert reported == [messages.CAMERA_NOT_FOUND]
    assert f"camera '{MISSING_CAMERA}' from scanner.camera_id is not connected" in caplog.text
    assert "Connected cameras:" in caplog.text


def test_missing_qt_multimedia_gives_clear_message(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)
    reported: list[str] = []

    with caplog.at_level(logging.ERROR, logger="ui.camera"):
        start_camera_scanner(ScannerConfig(kind="camera"), reported.append)

    assert reported == [messages.CAMERA_UNAVAILABLE]
    assert "Qt Multimedia cannot be loaded" in caplog.text


def test_no_decoder_disables_camera(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "pyzbar.wrapper", None)
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    reported: list[str] = []

    with caplog.at_level(logging.ERROR, logger="ui.camera"):
        scanner = start_camera_scanner(ScannerConfig(kind="camera"), reported.append)

    assert scanner is None
    assert reported == [messages.CAMERA_DECODER_MISSING]
    assert "camera scanner disabled: no QR decoder can be loaded" in caplog.text


def test_terminal_starts_without_zbar(
    monkeypatch: pytest.MonkeyPatch, make_terminal: Callable[[], Terminal]
) -> None:
    monkeypatch.setitem(sys.modules, "pyzbar.wrapper", None)
    terminal = make_terminal()

    assert terminal.camera is not None
    assert terminal.camera.decoder_name == "zxing"
    # The configured camera id matches no camera, so the clerk reads why the camera is off.
    assert terminal.window.controller.screens.sale.hint.text() == (
        "設定されたカメラが見つかりません。カメラがつながっているか確認し、"
        "直らない場合は技術担当者に連絡してください。"
    )


def test_terminal_starts_without_any_decoder(
    monkeypatch: pytest.MonkeyPatch, make_terminal: Callable[[], Terminal]
) -> None:
    monkeypatch.setitem(sys.modules, "pyzbar.wrapper", None)
    monkeypatch.setitem(sys.modules, "zxingcpp", None)
    terminal = make_terminal()

    assert terminal.camera is None
    assert terminal.window.controller.screens.sale.hint.text().startswith(
        "カメラでコードを読み取る部品（libzbar0 または zxing-cpp）が入っていないため"
    )
    assert terminal.window.controller.current() is terminal.window.controller.screens.sale


def test_camera_scan_pays_on_code_screen(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    camera = terminal.camera
    assert camera is not None
    code = new_payment_code()
    enter_amount(qtbot, terminal, "800")
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)

    camera.feed_frame(to_video_frame(qr_frame(code)))
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)
    # The same code stays in view for more frames; it must not be sent twice.
    for _ in range(3):
        qtbot.waitUntil(lambda: camera.feed_frame(to_video_frame(qr_frame(code))), timeout=3000)
    camera.wait()
    qtbot.wait(50)

    redeemed = [args for name, args in fake_api.calls if name == "redeem_cpm"]
    assert [(args[0], args[1]) for args in redeemed] == [(code, 800)]
    assert controller.screens.result.headline.text() == "承認"
    camera.close()


def test_config_reads_camera_keys(tmp_path: Path) -> None:
    document = {"scanner": {"kind": "camera", "camera_id": "/dev/video2", "decoder": "zbar"}}
    scanner = parse_config(document, tmp_path / "terminal.toml").scanner

    assert scanner.kind == "camera"
    assert scanner.camera_id == "/dev/video2"
    assert scanner.decoder == "zbar"


def test_config_rejects_unknown_decoder(tmp_path: Path) -> None:
    document = {"scanner": {"kind": "camera", "decoder": "opencv"}}

    allowed = 'use "auto" or "zxing" or "zbar"'
    with pytest.raises(ConfigError, match=f'scanner.decoder = "opencv" in .*: {allowed}'):
        parse_config(document, tmp_path / "terminal.toml")
