"""QR codes on receipts: the printer's own GS ( k symbol, or a raster image where it has none.

Both paths use model 2 at error correction level M. The module size is the largest that fits the
printable width with the 4-module quiet zone QR requires, capped at ``MAX_MODULE_DOTS``.
"""

from __future__ import annotations

import segno
from PIL import Image

from drivers.printer import commands
from drivers.printer.errors import ReceiptLayoutError
from drivers.printer.raster import BLACK, WHITE, pack_raster, place_on_line

QUIET_ZONE_MODULES = 4

# 8 dots is 1 mm at 203 dpi. The cap is an estimate of what phone cameras read comfortably:
# larger modules only use more paper.
MAX_MODULE_DOTS = 8


def make_symbol(data: bytes) -> segno.QRCode:
    """Build the model 2, level M symbol for ``data`` in byte mode, as the printer stores it."""
    try:
        return segno.make_qr(data, error="m", boost_error=False)
    except segno.DataOverflowError as exc:
        raise ReceiptLayoutError(
            f"QR data of {len(data)} bytes does not fit a QR code at error correction level M."
        ) from exc


def module_dots_for(symbol: segno.QRCode, printable_dots: int) -> int:
    """Return the module size in dots that fits ``symbol`` and its quiet zone across the paper."""
    modules = int(symbol.symbol_size(border=QUIET_ZONE_MODULES)[0])
    module_dots = min(MAX_MODULE_DOTS, printable_dots // modules)
    if module_dots < 1:
        raise ReceiptLayoutError(
            f"A version {symbol.version} QR code is wider than {printable_dots} dots of paper."
        )
    return module_dots


def native_qr(data: bytes, printable_dots: int) -> bytes:
    """Centre and print ``data`` with the printer's GS ( k QR commands."""
    module_dots = module_dots_for(make_symbol(data), printable_dots)
    return (
        commands.justification("center")
        + commands.qr_code(data, module_dots=module_dots)
        + commands.LF
        + commands.justification("left")
    )


def raster_qr(data: bytes, printable_dots: int) -> bytes:
    """Print ``data`` as a GS v 0 image of the QR code, centred on the paper."""
    image = qr_image(data, printable_dots)
    strip = place_on_line(image, printable_dots, "center")
    return commands.raster_image(*pack_raster(strip)) + commands.LF


def qr_image(data: bytes, printable_dots: int, module_dots: int | None = None) -> Image.Image:
    """Draw the QR code of ``data`` with its quiet zone, black on white."""
    symbol = make_symbol(data)
    scale = module_dots or module_dots_for(symbol, printable_dots)
    rows = [
        bytes(BLACK if dark else WHITE for dark in row)
        for row in symbol.matrix_iter(scale=scale, border=QUIET_ZONE_MODULES)
    ]
    return Image.frombytes("L", (len(rows[0]), len(rows)), b"".join(rows))
