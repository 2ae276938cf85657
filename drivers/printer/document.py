"""A printer-independent receipt document.

terminal/ composes receipts out of these blocks; a renderer in this package turns a document
into ESC/POS bytes for one paper width. Text is plain Unicode: the renderer chooses the
encoding (Kanji mode with Shift_JIS for Japanese) and lays columns out by display width, where a
full-width character takes two columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Align(Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class Text:
    """A line of text, wrapped by display width when it does not fit."""

    text: str
    align: Align = Align.LEFT
    double_width: bool = False
    double_height: bool = False
    bold: bool = False


@dataclass(frozen=True)
class Columns:
    """A label on the left and a value on the right of one line, such as an item and its price.

    The label is shortened (never the value) when both do not fit on one line.
    """

    left: str
    right: str
    double_height: bool = False
    bold: bool = False


@dataclass(frozen=True)
class Rule:
    """A full-width separator line."""

    char: str = "-"


@dataclass(frozen=True)
class QrCode:
    """A QR code holding ``data`` (UTF-8), centred."""

    data: str


@dataclass(frozen=True)
class Feed:
    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """Feed past the cutter and cut, so the last printed line is not sliced."""


@dataclass(frozen=True)
class DrawerKick:
    """Pulse the cash drawer connector: pin 2 or 5, on and off times in milliseconds (2-510)."""

    pin: int = 2
    on_ms: int = 100
    off_ms: int = 100


Block = Text | Columns | Rule | QrCode | Feed | Cut | DrawerKick


@dataclass
class Document:
    blocks: list[Block] = field(default_factory=list)

    def add(self, block: Block) -> Document:
        self.blocks.append(block)
        return self
