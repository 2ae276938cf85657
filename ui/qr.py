"""Render QR codes as crisp Qt images: whole pixels per module and a quiet zone."""

from __future__ import annotations

import io

import segno
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

# ISO/IEC 18004 specifies a quiet zone of four modules around the symbol.
QUIET_ZONE_MODULES = 4


def qr_image(data: str, error: str = "m") -> QImage:
    """Encode ``data`` as a QR code with one pixel per module, quiet zone included."""
    code = segno.make_qr(data, error=error)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=1, border=QUIET_ZONE_MODULES)
    image = QImage.fromData(buffer.getvalue())
    return image.convertToFormat(QImage.Format.Format_RGB32)


def scaled_to_fit(image: QImage, side_px: int) -> QPixmap:
    """Scale by the largest whole factor that fits ``side_px``, so every module stays square."""
    factor = max(1, side_px // max(image.width(), 1))
    scaled = image.scaled(
        image.width() * factor,
        image.height() * factor,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.FastTransformation,
    )
    return QPixmap.fromImage(scaled)


class QrView(QLabel):
    """A label that shows one QR code as large as its space allows."""

    def __init__(self, parent: QWidget | None = None, min_side_px: int = 240) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(QSize(min_side_px, min_side_px))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("background: white;")

    def set_data(self, data: str) -> None:
        self._image = qr_image(data) if data else None
        self._rescale()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._image is None:
            self.clear()
            return
        side = min(self.width(), self.height())
        self.setPixmap(scaled_to_fit(self._image, side))
