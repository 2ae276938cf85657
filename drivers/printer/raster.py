"""Raster images for ESC/POS: drawing text cells and packing images for GS v 0.

A printed character occupies a cell of font A: 12 x 24 dots for one column, 24 x 24 dots for a
double-byte character. The same drawing serves printers without a kanji font (Japanese lines are
sent as images) and the emulator's picture of a received receipt.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageOps

from drivers.printer.fonts import load_cjk_font

# Font A on Epson TM printers: 12 x 24 dot ANK cells; a kanji takes two cells.
COLUMN_DOTS = 12
CELL_HEIGHT_DOTS = 24

# The em square sits 88 % above the baseline in Noto Sans CJK, so a 24 px glyph fills the cell.
_BASELINE_RATIO = 0.88

WHITE = 255
BLACK = 0


@dataclass(frozen=True)
class Cell:
    """One printed character and the columns it occupies (1 or 2)."""

    char: str
    columns: int


def draw_cells(
    cells: Sequence[Cell], *, width_mult: int = 1, height_mult: int = 1, bold: bool = False
) -> Image.Image:
    """Draw a run of character cells as a greyscale image (black text on white).

    The image is ``columns * 12 * width_mult`` dots wide and ``24 * height_mult`` dots high.
    """
    columns = sum(cell.columns for cell in cells)
    image = Image.new("L", (max(columns, 1) * COLUMN_DOTS, CELL_HEIGHT_DOTS), WHITE)
    draw = ImageDraw.Draw(image)
    font = load_cjk_font(CELL_HEIGHT_DOTS)
    baseline = round(CELL_HEIGHT_DOTS * _BASELINE_RATIO)

    x = 0
    for cell in cells:
        draw.text((x, baseline), cell.char, font=font, fill=BLACK, anchor="ls")
        if bold:
            draw.text((x + 1, baseline), cell.char, font=font, fill=BLACK, anchor="ls")
        x += cell.columns * COLUMN_DOTS

    if width_mult == 1 and height_mult == 1:
        return image
    size = (image.width * width_mult, image.height * height_mult)
    return image.resize(size, Image.Resampling.NEAREST)


def place_on_line(content: Image.Image, line_width_dots: int, align: str) -> Image.Image:
    """Paste ``content`` into a white strip of the printable width, aligned left, center or right."""
    strip = Image.new("L", (line_width_dots, content.height), WHITE)
    free = max(line_width_dots - content.width, 0)
    offset = {"left": 0, "center": free // 2, "right": free}[align]
    strip.paste(content.crop((0, 0, min(content.width, line_width_dots), content.height)), (offset, 0))
    return strip


def pack_raster(image: Image.Image) -> tuple[int, int, bytes]:
    """Pack an image as GS v 0 data: (bytes per row, rows, data) with 1 bits for black dots."""
    mono = ImageOps.invert(image.convert("L")).convert("1", dither=Image.Dither.NONE)
    width_bytes = (mono.width + 7) // 8
    return width_bytes, mono.height, mono.tobytes()


def unpack_raster(width_bytes: int, rows: int, data: bytes) -> Image.Image:
    """Turn GS v 0 data back into a greyscale image (black dots on white)."""
    mono = Image.frombytes("1", (width_bytes * 8, rows), data)
    return ImageOps.invert(mono.convert("L"))
