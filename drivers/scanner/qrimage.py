"""Read QR codes out of still images (a photo, a screenshot, a camera frame) with pyzbar.

zbar guesses the text encoding of byte-mode QR codes. When it guesses Shift_JIS for UTF-8
content it hands back UTF-8 of the wrong characters (mojibake), so each result is offered to
the caller's validator as it came and, failing that, with that guess undone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageOps

logger = logging.getLogger(__name__)


class QrImageError(Exception):
    """An image could not be read, or no QR code in it passed validation."""


class ZbarMissingError(QrImageError):
    """The zbar shared library is not installed."""


def _decode_raw(image: Image.Image) -> list[bytes]:
    try:
        from pyzbar.pyzbar import ZBarSymbol, decode
    except ImportError as exc:  # pyzbar raises ImportError when libzbar cannot be loaded
        raise ZbarMissingError(
            "the zbar library is missing; install the Debian package libzbar0"
        ) from exc
    return [symbol.data for symbol in decode(image, symbols=[ZBarSymbol.QRCODE])]


def _candidates(raw: bytes) -> list[str]:
    texts: list[str] = []
    try:
        texts.append(raw.decode("utf-8"))
    except UnicodeDecodeError:
        texts.append(raw.decode("shift_jis", errors="replace"))
    try:
        # Undo zbar's Shift_JIS guess: re-encode what it produced and read it as UTF-8.
        texts.append(texts[0].encode("shift_jis").decode("utf-8"))
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return texts


def read_qr_texts(image: Image.Image) -> list[str]:
    """Return the text of every QR code found, trying the inverted image too (dark mode)."""
    gray = image.convert("L")
    raw_results = _decode_raw(gray) or _decode_raw(ImageOps.invert(gray))
    return [text for raw in raw_results for text in _candidates(raw)]


def read_valid_qr(image: Image.Image, validate: Callable[[str], object]) -> str:
    """Return the first QR text in ``image`` that ``validate`` accepts (does not raise).

    Raise QrImageError naming the last validation failure, or saying that no QR was found.
    """
    last_error: Exception | None = None
    for text in read_qr_texts(image):
        try:
            validate(text)
        except ValueError as exc:
            last_error = exc
            continue
        return text
    if last_error is not None:
        raise QrImageError(f"a QR code was found but it is not valid: {last_error}")
    raise QrImageError("no QR code found in the image; hold the code flat and fill the frame")


def read_valid_qr_file(path: Path, validate: Callable[[str], object]) -> str:
    """Open an image file and return its first valid QR text; see read_valid_qr()."""
    try:
        with Image.open(path) as image:
            image.load()
            return read_valid_qr(image, validate)
    except FileNotFoundError as exc:
        raise QrImageError(f"image file {path} does not exist") from exc
    except OSError as exc:
        raise QrImageError(f"cannot read image file {path}: {exc}") from exc
