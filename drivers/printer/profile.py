"""Paper sizes and printer profiles: the features of each printer model.

Feature flags (native QR, cutter) come from python-escpos's capability database
(``escpos.capabilities``, a copy of escpos-printer-db). That database has no kanji flag, so
this module sets whether a model has a kanji font. Epson's models sold in Japan with a kanji
font have one. ANK models such as the TM-T70II (noted in escpos-printer-db as lacking FS &) do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from escpos.capabilities import CAPABILITIES, get_profile

from drivers.printer.errors import PrinterConfigError


@dataclass(frozen=True)
class Paper:
    """A roll width and what fits across it in font A at 203 dpi."""

    width_mm: int
    columns: int
    printable_dots: int


# 80 mm rolls print 72 mm (576 dots), 58 mm rolls 48 mm (384 dots); font A columns are 12 dots.
COLUMN_DOTS = 12
PAPERS: dict[int, Paper] = {
    80: Paper(width_mm=80, columns=48, printable_dots=576),
    58: Paper(width_mm=58, columns=32, printable_dots=384),
}


def paper_for_width(width_mm: int) -> Paper:
    """Return the paper for a roll width in millimetres (58 or 80)."""
    paper = PAPERS.get(width_mm)
    if paper is None:
        accepted = " or ".join(str(width) for width in sorted(PAPERS))
        raise PrinterConfigError(f"Paper width {width_mm} mm is not supported; use {accepted}.")
    return paper


@dataclass(frozen=True)
class PrinterProfile:
    """Features of one printer model."""

    name: str = "default"
    kanji: bool = True
    extended_kanji: bool = False
    qr_code: bool = True
    partial_cut: bool = True
    full_cut: bool = True
    # The print head's width in dots, where the capability database gives it: 512 for the
    # 180 dpi TM-T88 family, 576 for 203 dpi 80 mm models. None means the paper decides.
    head_dots: int | None = None


def printer_profile(
    name: str = "default", *, kanji: bool = True, extended_kanji: bool = False
) -> PrinterProfile:
    """Build a profile from a python-escpos capability profile name such as ``TM-T88V``.

    ``kanji`` means the printer has a Japanese kanji font (FS C, FS &); without it Japanese lines
    are printed as images. ``extended_kanji`` means the font also has cp932's NEC-selected and IBM
    extension kanji (髙, 﨑); without it they are printed as their common forms (高, 崎).
    """
    features = _escpos_features(name)
    return PrinterProfile(
        name=name,
        kanji=kanji,
        extended_kanji=extended_kanji,
        qr_code=bool(features.get("qrCode")),
        partial_cut=bool(features.get("paperPartCut")),
        full_cut=bool(features.get("paperFullCut")),
        head_dots=_head_dots(name),
    )


def paper_for_printer(width_mm: int, profile: PrinterProfile) -> Paper:
    """Return the paper for ``width_mm`` as this printer prints it: never wider than its head.

    A TM-T88V prints 512 dots across 80 mm paper, so 42 columns of font A, not 48.
    """
    paper = paper_for_width(width_mm)
    if profile.head_dots is None or profile.head_dots >= paper.printable_dots:
        return paper
    return Paper(width_mm=width_mm, columns=profile.head_dots // COLUMN_DOTS, printable_dots=profile.head_dots)


def _head_dots(name: str) -> int | None:
    media: dict[str, Any] = get_profile(name).profile_data.get("media", {})
    pixels = media.get("width", {}).get("pixels")
    return pixels if isinstance(pixels, int) and pixels > 0 else None


def _escpos_features(name: str) -> dict[str, Any]:
    if name not in CAPABILITIES["profiles"]:
        known = ", ".join(sorted(CAPABILITIES["profiles"]))
        raise PrinterConfigError(f"Unknown printer profile {name!r}; known profiles: {known}.")
    features: dict[str, Any] = get_profile(name).features
    return features


DEFAULT_PROFILE = printer_profile()
