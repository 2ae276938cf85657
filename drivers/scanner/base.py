"""Scan results and errors shared by the scanner drivers, and the repairs scanned text needs.

Exceptions, all from ``ScanError``::

    ScanError                a burst looked like a scan but its text cannot be used
    └── KanaInputError       the text contains kana: an input method turned the keys into kana

Repairs, in order (``normalize_scan``):

1. NFKC folds full-width letters, digits and symbols to ASCII. An input method left on in
   romaji mode types ``１２３`` for the scanner's ``123``.
2. Kana are rejected, not guessed back: they come from an input method in kana mode, and the
   fix is to switch it off.
3. Symbol swaps between a US-layout scanner and a JIS host (or the reverse) are undone when the
   configuration names the mismatch. Letters, digits, space and Tab are the same on both
   layouts, so payment codes (digits only) need no repair.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

ScanSource = Literal["wedge", "serial", "evdev", "camera"]
Layout = Literal["same", "us_on_jis", "jis_on_us"]

# A wedge scanner sends key positions and the host's layout turns them into characters, so a
# scanner set to one layout on a host using the other types some symbols wrong. Keys are the
# characters that arrive, values the characters the scanner meant. Derived from the US 104-key
# and JIS 106/109-key layouts. `)` from a US scanner and the JIS-only keys (ろ, ¥) have no
# counterpart on the other layout and are lost before this repair can see them.
US_SCANNER_ON_JIS_HOST = {
    '"': "@",
    "&": "^",
    "'": "&",
    "(": "*",
    ")": "(",
    "=": "_",
    "^": "=",
    "~": "+",
    "@": "[",
    "`": "{",
    "[": "]",
    "{": "}",
    "]": "\\",
    "}": "|",
    "+": ":",
    ":": "'",
    "*": '"',
}
JIS_SCANNER_ON_US_HOST = {
    "@": '"',
    "^": "&",
    "&": "'",
    "*": "(",
    "(": ")",
    "_": "=",
    "=": "^",
    "+": "~",
    "[": "@",
    "{": "`",
    "]": "[",
    "}": "{",
    "\\": "]",
    "|": "}",
    ":": "+",
    "'": ":",
    '"': "*",
}
_LAYOUT_TABLES: dict[Layout, dict[int, str]] = {
    "same": {},
    "us_on_jis": str.maketrans(US_SCANNER_ON_JIS_HOST),
    "jis_on_us": str.maketrans(JIS_SCANNER_ON_US_HOST),
}

KANA_HINT = (
    "the scanner's keys arrived as kana because an input method is on in kana mode; "
    "switch the input method off (half-width alphanumeric) for the scan field"
)


class ScanError(ValueError):
    """A scan that cannot be used as it is."""


class KanaInputError(ScanError):
    """The scan contains kana, which no code alphabet uses."""


@dataclass(frozen=True)
class ScanResult:
    """One scanned code, after repairs, with the kind of device that read it."""

    text: str
    source: ScanSource


def contains_kana(text: str) -> bool:
    """Tell whether ``text`` has hiragana or katakana (including the prolonged sound mark)."""
    return any("\u3040" <= char <= "\u30ff" or "\u31f0" <= char <= "\u31ff" for char in text)


def normalize_scan(text: str, layout: Layout = "same") -> str:
    """Apply the module's repairs to scanned ``text``; raise KanaInputError for kana."""
    folded = unicodedata.normalize("NFKC", text)
    if contains_kana(folded):
        raise KanaInputError(f"scan of {len(text)} characters contains kana: {KANA_HINT}")
    return folded.translate(_LAYOUT_TABLES[layout])
