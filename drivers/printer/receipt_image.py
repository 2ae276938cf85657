"""Draw a received print job as a picture of the paper roll.

Text is drawn with Noto Sans CJK JP in font A cells (see ``raster``), QR codes are drawn with
segno at the module size the job selected, and raster images are copied dot for dot.
"""

from __future__ import annotations

from PIL import Image, ImageDraw

from drivers.printer.qr import qr_image
from drivers.printer.raster import (
    CELL_HEIGHT_DOTS,
    COLUMN_DOTS,
    WHITE,
    Cell,
    draw_cells,
    place_on_line,
)
from drivers.printer.received import (
    CutMark,
    DrawerPulse,
    PrintedImage,
    PrintedItem,
    PrintedLine,
    PrintedQr,
    ReceivedJob,
)

# Epson's default line spacing is 1/6 inch: 30 dots at 180 dpi, about 34 at 203 dpi. 30 keeps
# the picture compact; the printer's paper is a little longer.
LINE_HEIGHT_DOTS = 30
MARGIN_DOTS = 16
CUT_MARK_HEIGHT_DOTS = 16
GREY = 160


def draw_job(job: ReceivedJob, printable_dots: int) -> Image.Image:
    """Return a greyscale picture of ``job`` on paper ``printable_dots`` wide plus margins."""
    parts = [_draw_item(item, printable_dots) for item in job.items]
    height = sum(part.height for part in parts) + 2 * MARGIN_DOTS
    page = Image.new("L", (printable_dots + 2 * MARGIN_DOTS, height), WHITE)
    y = MARGIN_DOTS
    for part in parts:
        page.paste(part, (MARGIN_DOTS, y))
        y += part.height
    return page


def _draw_item(item: PrintedItem, printable_dots: int) -> Image.Image:
    match item:
        case PrintedLine():
            return _draw_line(item, printable_dots)
        case PrintedQr():
            symbol = qr_image(item.data.encode("utf-8"), printable_dots, item.module_dots)
            return _aligned(symbol, printable_dots, item.align)
        case PrintedImage():
            return _aligned(item.image, printable_dots, item.align)
        case CutMark():
            return _draw_cut(printable_dots)
        case DrawerPulse():
            return Image.new("L", (printable_dots, 1), WHITE)


def _draw_line(line: PrintedLine, printable_dots: int) -> Image.Image:
    height = LINE_HEIGHT_DOTS + CELL_HEIGHT_DOTS * (line.height_mult - 1)
    strip = Image.new("L", (printable_dots, height), WHITE)
    x = {
        "left": 0,
        "center": (printable_dots - line.width_columns * COLUMN_DOTS) // 2,
        "right": printable_dots - line.width_columns * COLUMN_DOTS,
    }[line.align]
    for cell in line.cells:
        glyph = draw_cells(
            [Cell(cell.char, cell.columns)],
            width_mult=cell.width_mult,
            height_mult=cell.height_mult,
            bold=cell.bold,
        )
        # Cells of one line share a baseline, as on the printer.
        strip.paste(glyph, (max(x, 0), height - glyph.height - (LINE_HEIGHT_DOTS - CELL_HEIGHT_DOTS)))
        x += cell.width_columns * COLUMN_DOTS
    return strip


def _aligned(content: Image.Image, printable_dots: int, align: str) -> Image.Image:
    return place_on_line(content.convert("L"), printable_dots, align)


def _draw_cut(printable_dots: int) -> Image.Image:
    strip = Image.new("L", (printable_dots, CUT_MARK_HEIGHT_DOTS), WHITE)
    draw = ImageDraw.Draw(strip)
    middle = CUT_MARK_HEIGHT_DOTS // 2
    for x in range(0, printable_dots, 12):
        draw.line((x, middle, x + 6, middle), fill=GREY, width=2)
    return strip
