"""Read QR codes out of still images (a photo, a screenshot, a camera frame).

The decoding is done by a ``drivers.scanner.decoders.QrDecoder``, by default the one
``open_decoder("auto")`` loads. Every reading of every code found is offered to the caller's
validator, so a code whose text a decoder transcoded wrongly is still accepted in the reading
that passes (see ``decoders.text_candidates``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

from drivers.scanner.decoders import (
    DecodedCode,
    DecoderUnavailableError,
    QrDecoder,
    QrImageError,
    ZbarMissingError,
    open_decoder,
)

__all__ = [
    "DecoderUnavailableError",
    "QrImageError",
    "ZbarMissingError",
    "first_valid",
    "read_qr_texts",
    "read_valid_qr",
    "read_valid_qr_file",
]


Validator = Callable[[str], object]

_default_decoder: QrDecoder | None = None
_default_lock = threading.Lock()


def default_decoder() -> QrDecoder:
    """Return the shared decoder of ``open_decoder("auto")``, created on first use."""
    global _default_decoder
    with _default_lock:
        if _default_decoder is None:
            _default_decoder = open_decoder("auto")
        return _default_decoder


def read_qr_texts(image: Image.Image, decoder: QrDecoder | None = None) -> list[str]:
    """Return every reading of every QR code found, light-on-dark codes included."""
    codes = (decoder or default_decoder()).decode(image)
    return [text for code in codes for text in code.candidates()]


def first_valid(codes: Sequence[DecodedCode], validate: Validator) -> tuple[str | None, str]:
    """Return the first reading that ``validate`` accepts (does not raise ValueError).

    The second item is the last validation failure, or "" when every reading passed or there
    was none.
    """
    last_error = ""
    for code in codes:
        for text in code.candidates():
            try:
                validate(text)
            except ValueError as exc:
                last_error = str(exc)
                continue
            return text, ""
    return None, last_error


def read_valid_qr(
    image: Image.Image, validate: Validator, decoder: QrDecoder | None = None
) -> str:
    """Return the first QR text in ``image`` that ``validate`` accepts (does not raise).

    Raise QrImageError naming the last validation failure, or saying that no QR was found.
    """
    codes = (decoder or default_decoder()).decode(image)
    text, last_error = first_valid(codes, validate)
    if text is not None:
        return text
    if codes:
        raise QrImageError(f"a QR code was found but it is not valid: {last_error}")
    raise QrImageError("no QR code found in the image; hold the code flat and fill the frame")


def read_valid_qr_file(
    path: Path, validate: Validator, decoder: QrDecoder | None = None
) -> str:
    """Open an image file and return its first valid QR text; see read_valid_qr()."""
    try:
        with Image.open(path) as image:
            image.load()
            return read_valid_qr(image, validate, decoder)
    except FileNotFoundError as exc:
        raise QrImageError(f"image file {path} does not exist") from exc
    except OSError as exc:
        raise QrImageError(f"cannot read image file {path}: {exc}") from exc
