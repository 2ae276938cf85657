"""QR decoders behind one interface: zbar (through pyzbar) and zxing-cpp.

Both take a PIL image and return every QR code found as a ``DecodedCode`` that carries the
code's raw bytes, so text that a decoder transcoded wrongly can be read again from the bytes.
Each decoder loads its native library when it is created. When the library is missing, it
raises ``DecoderUnavailableError`` and ``open_decoder`` moves on to the next decoder.

Exceptions, all from ``QrImageError``::

    QrImageError                     an image could not be read, or no valid QR code is in it
    └── DecoderUnavailableError      no decoder library can be loaded
        └── ZbarMissingError         pyzbar is installed but libzbar0 is not (or is broken)

Text: a QR code in byte mode carries no encoding unless it has an ECI header. zbar guesses
one, and it guesses Shift_JIS for some UTF-8 content, which yields UTF-8 of the wrong
characters (mojibake). ``ZbarDecoder`` therefore requests the bytes unconverted
(``ZBAR_CFG_BINARY``) and decodes them itself. ``text_candidates`` lists
the readings a validator should try, so a payment code is accepted only in a reading that
passes its own alphabet and check.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, Protocol

from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

DecoderName = Literal["zxing", "zbar"]
DecoderChoice = Literal["auto", "zxing", "zbar"]

# The decoder "auto" tries first. In benchmarks/bench_decoders.py zxing-cpp read 90 of 111
# photographed and degraded frames, every frame zbar read among them, against zbar's 83 with
# the inverted retry, in a quarter of the time per frame (figures in benchmarks/BENCHMARKS.md).
DEFAULT_DECODER: DecoderName = "zxing"
FALLBACK_ORDER: tuple[DecoderName, ...] = ("zxing", "zbar")

# zbar_config_t and zbar_symbol_type_t values. pyzbar 0.1.9's enums lack ZBAR_CFG_BINARY, which
# libzbar0 0.23.92 (Debian 12) accepts for QR codes and then returns the bytes unconverted.
ZBAR_CFG_ENABLE = 0
ZBAR_CFG_BINARY = 4
ZBAR_QRCODE = 64
# zbar's fourcc for 8-bit grayscale, "Y800" read as a little-endian 32-bit integer.
ZBAR_FOURCC_Y800 = int.from_bytes(b"Y800", "little")

ZBAR_INSTALL_HINT = "install the Debian package libzbar0"
ZXING_INSTALL_HINT = "install the Python package zxing-cpp"


class QrImageError(Exception):
    """An image could not be read, or no QR code in it passed validation."""


class DecoderUnavailableError(QrImageError):
    """A decoder's native library cannot be loaded."""


class ZbarMissingError(DecoderUnavailableError):
    """The zbar shared library is not installed, so pyzbar cannot load it."""


@dataclass(frozen=True)
class DecodedCode:
    """One QR code found in an image: its text as the decoder read it, and its raw bytes."""

    text: str
    raw: bytes
    decoder: DecoderName

    def candidates(self) -> list[str]:
        """Return the readings of this code to validate, the decoder's own text first."""
        readings = [self.text, *text_candidates(self.raw)]
        return list(dict.fromkeys(readings))


class QrDecoder(Protocol):
    """Finds QR codes in a still image."""

    name: DecoderName

    def decode(self, image: Image.Image) -> list[DecodedCode]:
        """Return every QR code found in ``image``, or an empty list when there is none."""
        ...


def text_candidates(raw: bytes) -> list[str]:
    """Return the plausible texts of raw QR bytes, the most likely first.

    UTF-8 comes first because wallets and our own codes write UTF-8. Bytes that are not UTF-8
    are read as Shift_JIS, the encoding of QR Kanji mode. The last candidate undoes zbar's
    Shift_JIS guess: zbar without ZBAR_CFG_BINARY hands back UTF-8 of Shift_JIS-decoded bytes.
    """
    texts: list[str] = []
    try:
        texts.append(raw.decode("utf-8"))
    except UnicodeDecodeError:
        texts.append(raw.decode("shift_jis", errors="replace"))
    try:
        texts.append(texts[0].encode("shift_jis").decode("utf-8"))
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return list(dict.fromkeys(texts))


def _text_of(raw: bytes) -> str:
    return text_candidates(raw)[0]


class ZbarDecoder:
    """zbar through pyzbar's ctypes bindings, with the raw bytes of each code.

    zbar does not look for light-on-dark codes, which wallets in dark mode show, so when a frame
    gives nothing the inverted frame is scanned too (``try_invert``).
    """

    name: DecoderName = "zbar"

    def __init__(self, try_invert: bool = True) -> None:
        self._zbar = _load_zbar()
        self.try_invert = try_invert
        self._binary = True

    def decode(self, image: Image.Image) -> list[DecodedCode]:
        gray = image.convert("L")
        found = self._scan(gray)
        if not found and self.try_invert:
            found = self._scan(ImageOps.invert(gray))
        return [DecodedCode(_text_of(raw), raw, self.name) for raw in found]

    def _scan(self, gray: Image.Image) -> list[bytes]:
        zbar = self._zbar
        scanner = zbar.zbar_image_scanner_create()
        try:
            self._configure(scanner)
            return self._scan_with(scanner, gray)
        finally:
            zbar.zbar_image_scanner_destroy(scanner)

    def _configure(self, scanner: Any) -> None:
        zbar = self._zbar
        zbar.zbar_image_scanner_set_config(scanner, 0, ZBAR_CFG_ENABLE, 0)
        zbar.zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1)
        if self._binary and zbar.zbar_image_scanner_set_config(
            scanner, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1
        ):
            # NOTE: a zbar without binary mode rejects the option. Its converted text is then
            # repaired only by the last reading in text_candidates(). No such zbar was tested.
            logger.warning("zbar has no binary mode; QR text is read as zbar converts it")
            self._binary = False

    def _scan_with(self, scanner: Any, gray: Image.Image) -> list[bytes]:
        zbar = self._zbar
        pixels = gray.tobytes()
        width, height = gray.size
        image = zbar.zbar_image_create()
        try:
            zbar.zbar_image_set_format(image, ZBAR_FOURCC_Y800)
            zbar.zbar_image_set_size(image, width, height)
            data = ctypes.cast(ctypes.c_char_p(pixels), ctypes.c_void_p)
            zbar.zbar_image_set_data(image, data, len(pixels), None)
            if zbar.zbar_scan_image(scanner, image) < 0:
                raise QrImageError(f"zbar cannot scan a {width}x{height} grayscale image")
            return list(_symbol_data(zbar, image))
        finally:
            zbar.zbar_image_destroy(image)


def _symbol_data(zbar: ModuleType, image: Any) -> Iterable[bytes]:
    symbol = zbar.zbar_image_first_symbol(image)
    while symbol:
        yield ctypes.string_at(
            zbar.zbar_symbol_get_data(symbol), zbar.zbar_symbol_get_data_length(symbol)
        )
        symbol = zbar.zbar_symbol_next(symbol)


def _load_zbar() -> ModuleType:
    try:
        wrapper = importlib.import_module("pyzbar.wrapper")
    except (ImportError, OSError) as exc:
        # pyzbar raises ImportError when it cannot find libzbar, and ctypes raises OSError when
        # the library is found but cannot be loaded.
        raise ZbarMissingError(
            f"the zbar library cannot be loaded ({exc}); {ZBAR_INSTALL_HINT}"
        ) from exc
    module: ModuleType = wrapper
    return module


class ZxingDecoder:
    """zxing-cpp, which also finds inverted, rotated and downscaled codes by itself."""

    name: DecoderName = "zxing"

    def __init__(self) -> None:
        self._zxing = _load_zxing()

    def decode(self, image: Image.Image) -> list[DecodedCode]:
        zxing = self._zxing
        results = zxing.read_barcodes(
            image.convert("L"), formats=zxing.BarcodeFormat.QRCode, try_invert=True
        )
        return [DecodedCode(result.text, bytes(result.bytes), self.name) for result in results]


def _load_zxing() -> ModuleType:
    try:
        zxingcpp = importlib.import_module("zxingcpp")
    except (ImportError, OSError) as exc:
        raise DecoderUnavailableError(
            f"zxing-cpp cannot be loaded ({exc}); {ZXING_INSTALL_HINT}"
        ) from exc
    module: ModuleType = zxingcpp
    return module


def create_decoder(name: DecoderName) -> QrDecoder:
    """Create the named decoder; raise DecoderUnavailableError when its library is missing."""
    if name == "zbar":
        return ZbarDecoder()
    return ZxingDecoder()


def open_decoder(choice: DecoderChoice = "auto") -> QrDecoder:
    """Create the chosen decoder or, when its library is missing, the next one that loads.

    "auto" starts with ``DEFAULT_DECODER``. A fallback is logged as a warning. Raises
    DecoderUnavailableError, listing every failure, when no decoder loads.
    """
    preferred = DEFAULT_DECODER if choice == "auto" else choice
    order = [preferred, *(name for name in FALLBACK_ORDER if name != preferred)]
    failures: list[str] = []
    for name in order:
        try:
            decoder = create_decoder(name)
        except DecoderUnavailableError as exc:
            failures.append(str(exc))
            continue
        if failures:
            logger.warning(
                "QR decoder %s is unavailable, using %s: %s", preferred, name, failures[0]
            )
        return decoder
    raise DecoderUnavailableError("no QR decoder can be loaded: " + "; ".join(failures))
