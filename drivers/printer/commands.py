"""ESC/POS command bytes, built by small functions named after the command.

Byte values follow Epson's ESC/POS reference for the TM series. python-escpos writes most of these
as side effects on a printer object; the renderer needs plain bytes, so they are built here.
"""

from __future__ import annotations

ESC = b"\x1b"
FS = b"\x1c"
GS = b"\x1d"
DLE = b"\x10"
EOT = b"\x04"
LF = b"\n"

INITIALIZE = ESC + b"@"
KANJI_MODE_ON = FS + b"&"
KANJI_MODE_OFF = FS + b"."

INTERNATIONAL_JAPAN = 8  # ESC R 8: 0x5C prints as ¥
CODE_PAGE_KATAKANA = 1  # ESC t 1: 0xA1-0xDF print as half-width katakana
KANJI_CODE_SHIFT_JIS = 1  # FS C 1

# GS ( k for QR codes (cn = 49).
QR_CODE_TYPE = 0x31
QR_MODEL_2 = 0x32
QR_ERROR_LEVEL_M = 0x31
QR_FN_MODEL = 0x41
QR_FN_MODULE_SIZE = 0x43
QR_FN_ERROR_LEVEL = 0x45
QR_FN_STORE = 0x50
QR_FN_PRINT = 0x51
QR_MAX_MODULE_DOTS = 16

ALIGN_CODES = {"left": 0, "center": 1, "right": 2}


def _byte(value: int, name: str) -> bytes:
    if not 0 <= value <= 255:
        raise ValueError(f"{name} must be 0-255, got {value}")
    return bytes([value])


def select_international_charset(n: int) -> bytes:
    return ESC + b"R" + _byte(n, "n")


def select_code_page(n: int) -> bytes:
    return ESC + b"t" + _byte(n, "n")


def select_kanji_code_system(n: int) -> bytes:
    return FS + b"C" + _byte(n, "n")


def job_header(*, kanji: bool) -> bytes:
    """Reset the printer and select the Japanese character sets (Shift_JIS only on kanji models)."""
    header = INITIALIZE + select_international_charset(INTERNATIONAL_JAPAN)
    header += select_code_page(CODE_PAGE_KATAKANA)
    if kanji:
        header += select_kanji_code_system(KANJI_CODE_SHIFT_JIS)
    return header


def character_size(width_mult: int = 1, height_mult: int = 1) -> bytes:
    """GS ! n: magnify ANK and kanji characters 1-8 times in each direction."""
    if not (1 <= width_mult <= 8 and 1 <= height_mult <= 8):
        raise ValueError(f"character size must be 1-8, got {width_mult}x{height_mult}")
    return GS + b"!" + bytes([(width_mult - 1) << 4 | (height_mult - 1)])


def kanji_print_mode(*, double_width: bool = False, double_height: bool = False) -> bytes:
    """FS ! n: bit 2 doubles kanji width, bit 3 doubles kanji height."""
    n = (0x04 if double_width else 0) | (0x08 if double_height else 0)
    return FS + b"!" + bytes([n])


def emphasis(on: bool) -> bytes:
    return ESC + b"E" + bytes([1 if on else 0])


def justification(align: str) -> bytes:
    """ESC a n with ``align`` one of left, center, right."""
    return ESC + b"a" + bytes([ALIGN_CODES[align]])


def feed_lines(lines: int) -> bytes:
    """ESC d n: print the buffer and feed ``lines`` lines."""
    return ESC + b"d" + _byte(lines, "lines")


def realtime_status(n: int) -> bytes:
    """DLE EOT n: request one status byte (1 printer, 2 offline cause, 3 error, 4 paper)."""
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT n must be 1-4, got {n}")
    return DLE + EOT + bytes([n])


def cut(*, partial: bool = True, extra_feed_dots: int = 0) -> bytes:
    """GS V 66/65 n: feed to the cutter plus ``extra_feed_dots`` motion units, then cut."""
    m = 66 if partial else 65
    return GS + b"V" + bytes([m]) + _byte(extra_feed_dots, "extra_feed_dots")


def drawer_pulse(pin: int = 2, on_ms: int = 100, off_ms: int = 100) -> bytes:
    """ESC p m t1 t2: pulse the drawer kick connector (pin 2 or 5); times are in 2 ms units.

    Both times are sent in full (t1 on, t2 off), each 2-510 ms, so the pulse never depends on
    what the printer assumes for a missing byte.
    """
    if pin not in (2, 5):
        raise ValueError(f"drawer pin must be 2 or 5, got {pin}")
    for name, value in (("on_ms", on_ms), ("off_ms", off_ms)):
        if not 2 <= value <= 510:
            raise ValueError(f"drawer {name} must be 2-510 ms, got {value}")
    m = 0 if pin == 2 else 1
    return ESC + b"p" + bytes([m]) + _byte(on_ms // 2, "on_ms / 2") + _byte(off_ms // 2, "off_ms / 2")


def qr_function(fn: int, parameters: bytes) -> bytes:
    """GS ( k pL pH cn fn parameters for a QR code, where pL + 256 * pH = len(parameters) + 2."""
    length = len(parameters) + 2
    if length > 0xFFFF:
        raise ValueError(f"QR function data of {len(parameters)} bytes is too long for GS ( k")
    return GS + b"(k" + length.to_bytes(2, "little") + bytes([QR_CODE_TYPE, fn]) + parameters


def qr_code(data: bytes, *, module_dots: int) -> bytes:
    """Select model 2, module size and level M, store ``data`` and print the symbol."""
    if not 1 <= module_dots <= QR_MAX_MODULE_DOTS:
        raise ValueError(f"QR module size must be 1-{QR_MAX_MODULE_DOTS} dots, got {module_dots}")
    return (
        qr_function(QR_FN_MODEL, bytes([QR_MODEL_2, 0]))
        + qr_function(QR_FN_MODULE_SIZE, bytes([module_dots]))
        + qr_function(QR_FN_ERROR_LEVEL, bytes([QR_ERROR_LEVEL_M]))
        + qr_function(QR_FN_STORE, b"0" + data)
        + qr_function(QR_FN_PRINT, b"0")
    )


def raster_image(width_bytes: int, rows: int, data: bytes) -> bytes:
    """GS v 0 0 xL xH yL yH d1...dk: print a raster bit image at normal density."""
    if len(data) != width_bytes * rows:
        raise ValueError(f"raster data has {len(data)} bytes, expected {width_bytes * rows}")
    return GS + b"v0\x00" + width_bytes.to_bytes(2, "little") + rows.to_bytes(2, "little") + data
