"""Render a receipt ``Document`` into one ESC/POS print job.

The job starts with ESC @ and the Japanese character set selection (ESC R 8, ESC t 1 and, on
kanji models, FS C 1), then prints each block. Lines are laid out by display width (see
``width``), so a full-width character counts two of the paper's columns: 48 on 80 mm paper and
32 on 58 mm (42 on 80 mm for the 512-dot TM-T88 family), half of that in double width.
"""

from __future__ import annotations

from drivers.printer import commands
from drivers.printer.document import Block, Columns, Cut, Document, DrawerKick, Feed, QrCode, Rule, Text
from drivers.printer.encoding import LineStyle, TextEncoder
from drivers.printer.errors import ReceiptLayoutError
from drivers.printer.profile import DEFAULT_PROFILE, Paper, PrinterProfile, paper_for_printer
from drivers.printer.qr import native_qr, raster_qr
from drivers.printer.width import display_width, shorten_to_width, wrap_to_width

# Spaces kept between a Columns label and its value.
COLUMN_GAP = 1

# Below this many columns a shortened label is unreadable, so the label gets its own line.
MIN_LABEL_COLUMNS = 6

# Extra feed after the cutter position, in vertical motion units. With a unit of one dot at
# 203 dpi this is about 3 mm of blank paper under the last line.
CUT_EXTRA_FEED = 24

# Lines to feed when the printer has no cutter, so the last line clears the tear bar.
TEAR_OFF_FEED_LINES = 6

_PLAIN = LineStyle()


def render(
    document: Document, *, paper_width_mm: int = 80, profile: PrinterProfile = DEFAULT_PROFILE
) -> bytes:
    """Return the whole print job for ``document`` on ``paper_width_mm`` paper (58 or 80)."""
    renderer = _Renderer(profile, paper_for_printer(paper_width_mm, profile))
    job = commands.job_header(kanji=profile.kanji)
    for block in document.blocks:
        job += renderer.block(block)
    return job


class _Renderer:
    def __init__(self, profile: PrinterProfile, paper: Paper) -> None:
        self.profile = profile
        self.paper = paper
        self.encoder = TextEncoder(profile, paper)

    def block(self, block: Block) -> bytes:
        match block:
            case Text():
                return self.text(block)
            case Columns():
                return self.columns(block)
            case Rule():
                return self.rule(block)
            case QrCode():
                return self.qr_code(block)
            case Feed():
                return self.feed(block)
            case Cut():
                return self.cut()
            case DrawerKick():
                return self.drawer_kick(block)
        raise ReceiptLayoutError(f"Unknown document block {block!r}.")

    def text(self, block: Text) -> bytes:
        style = LineStyle(block.align.value, block.double_width, block.double_height, block.bold)
        max_columns = self.paper.columns // (2 if block.double_width else 1)
        lines: list[str] = []
        for paragraph in _paragraphs(block.text):
            printable = self.encoder.printable(paragraph)
            lines.extend(wrap_to_width(printable, max_columns, extended_kanji=self.extended_kanji))
        return self._styled_lines(lines, style)

    def columns(self, block: Columns) -> bytes:
        style = LineStyle(double_height=block.double_height, bold=block.bold)
        left = self.encoder.printable(_single_line(block.left))
        right = self.encoder.printable(_single_line(block.right))
        return self._styled_lines(self._column_lines(left, right), style)

    def _column_lines(self, left: str, right: str) -> list[str]:
        columns = self.paper.columns
        room = columns - self._width(right) - COLUMN_GAP
        if room >= MIN_LABEL_COLUMNS:
            label = shorten_to_width(left, room, extended_kanji=self.extended_kanji)
            return [self._spread(label, right)]

        # The value alone nearly fills the line: print the label above it, and wrap the value
        # (right-aligned) rather than shorten it.
        lines = wrap_to_width(left, columns, extended_kanji=self.extended_kanji) if left else []
        for value_line in wrap_to_width(right, columns, extended_kanji=self.extended_kanji):
            lines.append(" " * (columns - self._width(value_line)) + value_line)
        return lines

    def _spread(self, left: str, right: str) -> str:
        padding = self.paper.columns - self._width(left) - self._width(right)
        return left + " " * padding + right

    def rule(self, block: Rule) -> bytes:
        unit = self.encoder.printable(_single_line(block.char)) or "-"
        unit_width = self._width(unit) or 1
        return self.encoder.encode_line(unit * (self.paper.columns // unit_width), _PLAIN)

    def qr_code(self, block: QrCode) -> bytes:
        data = block.data.encode("utf-8")
        if not data:
            raise ReceiptLayoutError("A QR code block has no data.")
        if self.profile.qr_code:
            return native_qr(data, self.paper.printable_dots)
        return raster_qr(data, self.paper.printable_dots)

    def feed(self, block: Feed) -> bytes:
        if not 0 <= block.lines <= 255:
            raise ReceiptLayoutError(f"Feed lines must be 0-255, got {block.lines}.")
        return commands.feed_lines(block.lines)

    def cut(self) -> bytes:
        if self.profile.partial_cut:
            return commands.cut(partial=True, extra_feed_dots=CUT_EXTRA_FEED)
        if self.profile.full_cut:
            return commands.cut(partial=False, extra_feed_dots=CUT_EXTRA_FEED)
        return commands.feed_lines(TEAR_OFF_FEED_LINES)

    def drawer_kick(self, block: DrawerKick) -> bytes:
        try:
            return commands.drawer_pulse(block.pin, block.on_ms, block.off_ms)
        except ValueError as exc:
            raise ReceiptLayoutError(f"Invalid cash drawer pulse: {exc}.") from exc

    def _styled_lines(self, lines: list[str], style: LineStyle) -> bytes:
        body = b"".join(self.encoder.encode_line(line, style) for line in lines)
        if style == _PLAIN:
            return body
        return self._select_style(style) + body + self._select_style(_PLAIN)

    def _select_style(self, style: LineStyle) -> bytes:
        width_mult = 2 if style.double_width else 1
        height_mult = 2 if style.double_height else 1
        selected = (
            commands.justification(style.align)
            + commands.emphasis(style.bold)
            + commands.character_size(width_mult, height_mult)
        )
        if self.profile.kanji:
            selected += commands.kanji_print_mode(
                double_width=style.double_width, double_height=style.double_height
            )
        return selected

    def _width(self, text: str) -> int:
        return display_width(text, extended_kanji=self.extended_kanji)

    @property
    def extended_kanji(self) -> bool:
        return self.profile.extended_kanji


def _paragraphs(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\t", " ").split("\n")


def _single_line(text: str) -> str:
    return " ".join(_paragraphs(text))
