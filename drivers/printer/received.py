"""The printer emulator's record of one print job: printed lines, QR codes, images and cuts.

These are plain Python objects (the picture is a PIL image), so a Qt preview converts them
itself and tests read them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image


@dataclass(frozen=True)
class PrintedCell:
    """One character as printed: its columns (1 or 2) and magnification."""

    char: str
    columns: int
    width_mult: int = 1
    height_mult: int = 1
    bold: bool = False

    @property
    def width_columns(self) -> int:
        return self.columns * self.width_mult


@dataclass(frozen=True)
class PrintedLine:
    """One line of text; ``align`` is left, center or right."""

    cells: tuple[PrintedCell, ...]
    align: str = "left"

    @property
    def text(self) -> str:
        return "".join(cell.char for cell in self.cells).rstrip()

    @property
    def width_columns(self) -> int:
        return sum(cell.width_columns for cell in self.cells)

    @property
    def height_mult(self) -> int:
        return max((cell.height_mult for cell in self.cells), default=1)


@dataclass(frozen=True)
class PrintedQr:
    """A QR code printed with GS ( k: the stored data and the module size in dots."""

    data: str
    module_dots: int
    align: str = "left"


@dataclass(frozen=True)
class PrintedImage:
    """A raster image printed with GS v 0 (greyscale, black dots on white)."""

    image: Image.Image
    align: str = "left"


@dataclass(frozen=True)
class CutMark:
    partial: bool
    extra_feed: int = 0


@dataclass(frozen=True)
class DrawerPulse:
    pin: int
    on_ms: int
    off_ms: int


PrintedItem = PrintedLine | PrintedQr | PrintedImage | CutMark | DrawerPulse


@dataclass
class ReceivedJob:
    """One print job, ended by a cut or by the connection closing."""

    items: list[PrintedItem] = field(default_factory=list)
    raw: bytes = b""
    columns: int = 48
    image: Image.Image | None = None

    @property
    def lines(self) -> list[str]:
        """Decoded text of every printed line, blank lines included."""
        return [item.text for item in self.items if isinstance(item, PrintedLine)]

    @property
    def qr_data(self) -> list[str]:
        return [item.data for item in self.items if isinstance(item, PrintedQr)]

    @property
    def cuts(self) -> list[CutMark]:
        return [item for item in self.items if isinstance(item, CutMark)]

    @property
    def ended_by_cut(self) -> bool:
        return bool(self.items) and isinstance(self.items[-1], CutMark)

    def to_text(self) -> str:
        """Lay the job out as plain text of ``columns`` width, with markers for non-text items."""
        out: list[str] = []
        for item in self.items:
            out.append(self._describe(item))
        return "\n".join(out)

    def _describe(self, item: PrintedItem) -> str:
        match item:
            case PrintedLine():
                return _aligned(item, self.columns)
            case PrintedQr():
                return f"[QR {item.data}]"
            case PrintedImage():
                return f"[image {item.image.width}x{item.image.height} dots]"
            case CutMark():
                return "-- partial cut --" if item.partial else "-- full cut --"
            case DrawerPulse():
                return f"[drawer pulse pin {item.pin}]"


def _aligned(line: PrintedLine, columns: int) -> str:
    # A double-width cell is shown as the character followed by spaces, so columns line up.
    text = "".join(cell.char + " " * (cell.width_mult - 1) * cell.columns for cell in line.cells)
    free = max(columns - line.width_columns, 0)
    padding = {"left": 0, "center": free // 2, "right": free}[line.align]
    return (" " * padding + text).rstrip()
