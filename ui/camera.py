"""The tablet camera as a code scanner: Qt Multimedia frames in, ``scanned`` texts out.

``CameraScanner`` has the signal shape of ``ui.scanning.ScanFilter``: ``scanned(str)`` carries
a code's text and ``rejected(str)`` a ``terminal.messages`` key. Frames come from a ``QCamera``
through a ``QMediaCaptureSession`` into a ``QVideoSink`` (``open``), or from a caller
(``feed_frame``, ``feed_image``). Each frame is converted to an image and decoded on a
one-thread pool, never on the GUI thread. A frame that arrives while a decode is running is
dropped, so a slow decoder lowers the rate of decoded frames instead of queueing them.

Qt Multimedia is imported only when a camera is opened. A machine without its libraries
(libpulse, for example) still runs the terminal with a wedge or serial scanner, and the clerk
sees why the camera is off.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from PIL import Image
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from drivers.scanner.camera import FrameOutcome, FrameReader
from drivers.scanner.decoders import DecoderUnavailableError, open_decoder
from terminal import messages
from terminal.config import ScannerConfig
from terminal.offline_code import looks_like_offline_code, parse_offline_code
from terminal.paycode import validate_payment_code
from ui.errors import clerk_message
from ui.worker import TaskRunner

if TYPE_CHECKING:
    from PySide6.QtMultimedia import QCamera, QCameraDevice, QMediaCaptureSession, QVideoFrame
    from PySide6.QtMultimedia import QVideoSink

log = logging.getLogger(__name__)


class CameraError(Exception):
    """The camera cannot be used. ``message_key`` is the terminal.messages key for the clerk."""

    def __init__(self, detail: str, message_key: str) -> None:
        super().__init__(detail)
        self.message_key = message_key


def validate_wallet_code(text: str) -> str:
    """Return ``text`` if it is a well-formed payment code or offline code, else raise ValueError.

    Only the form and check digits or CRC are checked here. Signatures and caps are checked
    when the sale takes the code.
    """
    if looks_like_offline_code(text):
        parse_offline_code(text)
        return text
    return validate_payment_code(text)


def qimage_to_pil(image: QImage) -> Image.Image:
    """Copy a QImage into an 8-bit grayscale PIL image."""
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = gray.width(), gray.height(), gray.bytesPerLine()
    pixels = bytes(gray.constBits())[: stride * height]
    return Image.frombuffer("L", (width, height), pixels, "raw", "L", stride, 1).copy()


class CameraScanner(QObject):
    """A scanner that decodes camera frames off the GUI thread and emits the codes found."""

    scanned = Signal(str)
    rejected = Signal(str)  # the terminal.messages key for a code or camera that cannot be used

    def __init__(self, reader: FrameReader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reader = reader
        self._runner = TaskRunner(self, max_threads=1)
        self._busy = False
        self.decoded_frames = 0
        self.dropped_frames = 0
        self._failures = 0
        self._camera: QCamera | None = None
        self._session: QMediaCaptureSession | None = None
        self._sink: QVideoSink | None = None

    # --- frames ----------------------------------------------------------------------------

    def feed_frame(self, frame: QVideoFrame) -> bool:
        """Decode ``frame`` unless a decode is running. Return False when the frame was dropped."""
        # A signal's argument may be freed after the slot returns, so keep a shared copy. The
        # frame's own class is used because Qt Multimedia is imported only when a camera opens.
        copy = type(frame)(frame)
        return self._start_decode(lambda: qimage_to_pil(copy.toImage()))

    def feed_image(self, image: QImage) -> bool:
        """Decode ``image`` unless a decode is running. Return False when it was dropped."""
        copy = image.copy()
        return self._start_decode(lambda: qimage_to_pil(copy))

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Block until the running decode has returned; used at shutdown and in tests."""
        return self._runner.wait(timeout_ms)

    def _start_decode(self, to_pil: Callable[[], Image.Image]) -> bool:
        if self._busy:
            self.dropped_frames += 1
            return False
        self._busy = True
        reader = self._reader

        def decode() -> FrameOutcome:
            return reader.read(to_pil(), time.monotonic() * 1000.0)

        self._runner.run(decode, self._on_decoded, self._on_failed)
        return True

    def _on_decoded(self, outcome: FrameOutcome) -> None:
        self._busy = False
        self.decoded_frames += 1
        for text in outcome.scans:
            log.info("camera scan of %d characters", len(text))
            self.scanned.emit(text)
        if outcome.rejected:
            self.rejected.emit(messages.CODE_MALFORMED)

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        self._failures += 1
        # A frame the backend cannot convert fails the same way many times a second.
        if self._failures == 1 or self._failures % 100 == 0:
            log.warning("camera frame could not be decoded (%d so far): %s", self._failures, exc)

    # --- camera ----------------------------------------------------------------------------

    @property
    def decoder_name(self) -> str:
        return self._reader.decoder.name

    @property
    def running(self) -> bool:
        return self._camera is not None and self._camera.isActive()

    def open(self, camera_id: str) -> None:
        """Start the camera named by ``camera_id`` ("" for the default), or raise CameraError."""
        multimedia = _load_multimedia()
        device = _find_camera(multimedia, camera_id)
        camera = multimedia.QCamera(device, self)
        session = multimedia.QMediaCaptureSession(self)
        sink = multimedia.QVideoSink(self)
        session.setCamera(camera)
        session.setVideoSink(sink)
        sink.videoFrameChanged.connect(self.feed_frame)
        camera.errorOccurred.connect(self._on_camera_error)
        self._camera, self._session, self._sink = camera, session, sink
        camera.start()
        log.info("camera %r opened (%s)", device.description(), bytes(device.id().data()).decode())

    def close(self) -> None:
        """Stop the camera and wait for the running decode. Safe to call twice."""
        if self._camera is not None:
            self._camera.stop()
            log.info("camera closed")
        self._camera = self._session = self._sink = None
        self.wait()

    def _on_camera_error(self, error: object, description: str) -> None:
        log.error("camera failed: %s (%s)", description, error)
        self.rejected.emit(messages.CAMERA_FAILED)


def _load_multimedia() -> ModuleType:
    try:
        multimedia = importlib.import_module("PySide6.QtMultimedia")
    except ImportError as exc:
        raise CameraError(
            f"Qt Multimedia cannot be loaded ({exc}). Install the Qt 6 multimedia libraries "
            "(on Debian: libpulse0).",
            messages.CAMERA_UNAVAILABLE,
        ) from exc
    return multimedia


def _find_camera(multimedia: ModuleType, camera_id: str) -> QCameraDevice:
    devices: list[QCameraDevice] = list(multimedia.QMediaDevices.videoInputs())
    if not camera_id:
        if not devices:
            raise CameraError(
            "no camera is connected. Connect one, or set scanner.kind to wedge or serial",
            messages.CAMERA_NOT_FOUND,
        )
        default: QCameraDevice = multimedia.QMediaDevices.defaultVideoInput()
        return default if not default.isNull() else devices[0]
    for device in devices:
        if camera_id in (bytes(device.id().data()).decode(errors="replace"), device.description()):
            return device
    known = ", ".join(repr(bytes(d.id().data()).decode(errors="replace")) for d in devices)
    raise CameraError(
        f"camera {camera_id!r} from scanner.camera_id is not connected. "
        f"Connected cameras: {known or 'none'}",
        messages.CAMERA_NOT_FOUND,
    )


def start_camera_scanner(
    config: ScannerConfig, report: Callable[[str], None], parent: QObject | None = None
) -> CameraScanner | None:
    """Create the camera scanner that ``config`` describes and open its camera.

    Nothing here raises, so the terminal starts without a camera. When no QR decoder library
    loads, the reason is logged, ``report`` receives the clerk's message key and None is
    returned. When the camera cannot be opened, the same happens but the scanner is returned,
    not running, so frames can still be fed to it.
    """
    try:
        decoder = open_decoder(config.decoder)
    except DecoderUnavailableError as exc:
        log.error("camera scanner disabled: %s", exc)
        report(messages.CAMERA_DECODER_MISSING)
        return None

    # NOTE: the camera runs and frames are decoded for as long as the terminal is open, not
    # only while the code screen waits for a code.
    reader = FrameReader(decoder, validate_wallet_code, config.repeat_window_ms)
    scanner = CameraScanner(reader, parent)
    try:
        scanner.open(config.camera_id)
    except CameraError as exc:
        log.error("camera scanner not started: %s", exc)
        report(exc.message_key)
    log.info("camera scanner uses the %s decoder", decoder.name)
    return scanner


class ScanReceiver(Protocol):
    """The part of the terminal's controller that takes scans and clerk notices."""

    def on_scan(self, code: str) -> None: ...

    def on_notice(self, text: str) -> None: ...


def attach_camera_scanner(
    config: ScannerConfig, receiver: ScanReceiver, lang: str, parent: QObject | None = None
) -> CameraScanner | None:
    """Start the camera scanner and deliver its scans and messages as the wedge filter does."""

    def notify(message_key: str) -> None:
        receiver.on_notice(clerk_message(message_key, lang))

    scanner = start_camera_scanner(config, notify, parent)
    if scanner is not None:
        scanner.scanned.connect(receiver.on_scan)
        scanner.rejected.connect(notify)
    return scanner
