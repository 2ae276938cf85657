"""Encode lines of Japanese text as ESC/POS bytes for one printer model.

python-escpos's ``text()`` picks a code page per character through its magic encoder, which sends
kanji as GB2312 and kana it cannot place as ``?``. This encoder never uses it. On a kanji model,
runs of double-byte characters go inside FS & ... FS . as Shift_JIS (cp932) codes, and ASCII and
half-width katakana go as single bytes outside Kanji mode. On an ANK model (no kanji font), a line
that contains a double-byte character is drawn with Noto Sans CJK JP and sent as a GS v 0 image.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from drivers.printer import commands
from drivers.printer.charmap import Glyph, MappedChar, MappingKind, map_char
from drivers.printer.profile import Paper, PrinterProfile
from drivers.printer.raster import Cell, draw_cells, pack_raster, place_on_line

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LineStyle:
    """Style of one printed line. ``align`` is left, center or right."""

    align: str = "left"
    double_width: bool = False
    double_height: bool = False
    bold: bool = False


class TextEncoder:
    """Turn text into the bytes one printer model prints it with.

    Each character the printer cannot print is logged once per encoder, naming the character
    and what is printed in its place.
    """

    def __init__(self, profile: PrinterProfile, paper: Paper) -> None:
        self.profile = profile
        self.paper = paper
        self._reported: set[str] = set()

    def printable(self, text: str) -> str:
        """Return ``text`` as the printer will print it: NFC-composed, with substitutes applied."""
        glyphs = self.glyphs(text)
        return "".join(glyph.char for glyph in glyphs)

    def glyphs(self, text: str) -> list[Glyph]:
        result: list[Glyph] = []
        for char in unicodedata.normalize("NFC", text):
            mapped = map_char(char, self.profile.extended_kanji)
            self._report(mapped)
            result.extend(mapped.glyphs)
        return result

    def encode_line(self, text: str, style: LineStyle) -> bytes:
        """Encode one line that already fits the paper, ending with a line feed."""
        glyphs = self.glyphs(text)
        if not self.profile.kanji and any(glyph.is_double_byte for glyph in glyphs):
            return self._encode_as_image(glyphs, style)
        return encode_glyphs(glyphs) + commands.LF

    def _encode_as_image(self, glyphs: list[Glyph], style: LineStyle) -> bytes:
        cells = [Cell(glyph.char, glyph.columns) for glyph in glyphs]
        drawn = draw_cells(
            cells,
            width_mult=2 if style.double_width else 1,
            height_mult=2 if style.double_height else 1,
            bold=style.bold,
        )
        strip = place_on_line(drawn, self.paper.printable_dots, style.align)
        return commands.raster_image(*pack_raster(strip))

    def _report(self, mapped: MappedChar) -> None:
        if mapped.kind is MappingKind.DIRECT or mapped.source in self._reported:
            return
        self._reported.add(mapped.source)
        name = f"U+{ord(mapped.source):04X} {unicodedata.name(mapped.source, 'unnamed')}"
        if mapped.kind is MappingKind.DROPPED:
            logger.warning("Dropped %s from receipt text: the printer cannot print it", name)
            return
        printed = "".join(glyph.char for glyph in mapped.glyphs)
        logger.warning(
            "Printing %s (%r) as %r: the printer font has no glyph for it", name, mapped.source, printed
        )


def encode_glyphs(glyphs: Iterable[Glyph]) -> bytes:
    """Join glyph bytes, wrapping each run of double-byte codes in FS & ... FS ."""
    out = bytearray()
    in_kanji_mode = False
    for glyph in glyphs:
        if glyph.is_double_byte != in_kanji_mode:
            out += commands.KANJI_MODE_ON if glyph.is_double_byte else commands.KANJI_MODE_OFF
            in_kanji_mode = glyph.is_double_byte
        out += glyph.data
    if in_kanji_mode:
        out += commands.KANJI_MODE_OFF
    return bytes(out)
