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
    )


def _escpos_features(name: str) -> dict[str, Any]:
    if name not in CAPABILITIES["profiles"]:
        known = ", ".join(sorted(CAPABILITIES["profiles"]))
        raise PrinterConfigError(f"Unknown printer profile {name!r}; known profiles: {known}.")
    features: dict[str, Any] = get_profile(name).features
    return features


DEFAULT_PROFILE = printer_profile()
