"""Map Unicode characters to the bytes a Japanese ESC/POS printer prints.

Every job sets ESC R 8 (international set Japan), ESC t 1 (Katakana page) and, on kanji models,
FS C 1 (Shift_JIS). Under these settings the printer prints:

- 0x20-0x7E as ASCII, except 0x5C, which prints as ¥ (so ``\\`` must go as full-width ＼);
- 0xA1-0xDF as half-width katakana;
- a Shift_JIS double-byte code, sent in Kanji mode, as one glyph 24 dots wide, which is two
  columns of font A (12 dots each). This holds for every double-byte code, so characters of
  ambiguous East Asian width (…, ※, ×, ○, ①, Greek, Cyrillic) take two columns.

A character's column width on paper is therefore the number of bytes it is sent as.

Characters the printer cannot print are replaced, in this order: ``SUBSTITUTIONS`` (fixed
replacements), ``EXTENDED_KANJI_SUBSTITUTIONS`` (for printers without the NEC-selected and IBM
extension kanji of cp932), NFKC compatibility folding (Ⅲ -> III, ＂ -> "), NFKD with accents
removed (é -> e), and finally ``FALLBACK_CHAR``. A question mark is never printed in place of a
character. Control characters and leftover combining marks are dropped.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

YEN_SIGN = "\u00a5"
YEN_SIGN_BYTE = b"\x5c"

# U+3013 GETA MARK, the customary Japanese placeholder for a character that cannot be printed.
FALLBACK_CHAR = "\u3013"

# Characters printed as something else on every printer. Python's cp932 codec encodes some of
# them (〜, −, ‖, ¢) one way only, so the table names the character that comes back when the
# bytes are decoded, which is also what the printer's glyph shows.
SUBSTITUTIONS: dict[str, str] = {
    "\\": "\uff3c",  # 0x5C prints as ¥ under ESC R 8, so a backslash goes as full-width ＼.
    "\u203e": "\uffe3",  # OVERLINE -> FULLWIDTH MACRON
    "\u301c": "\uff5e",  # WAVE DASH 〜 -> FULLWIDTH TILDE ～ (cp932 0x8160)
    "\u2212": "\uff0d",  # MINUS SIGN -> FULLWIDTH HYPHEN-MINUS (cp932 0x817C)
    "\u2016": "\u2225",  # DOUBLE VERTICAL LINE -> PARALLEL TO (cp932 0x8161)
    "\u2014": "\u2015",  # EM DASH -> HORIZONTAL BAR (cp932 0x815C)
    "\u2013": "\uff0d",  # EN DASH -> FULLWIDTH HYPHEN-MINUS
    "\u00a2": "\uffe0",  # CENT SIGN -> FULLWIDTH CENT SIGN (cp932 0x8191)
    "\u00a3": "\uffe1",  # POUND SIGN -> FULLWIDTH POUND SIGN (cp932 0x8192)
    "\u00ac": "\uffe2",  # NOT SIGN -> FULLWIDTH NOT SIGN (cp932 0x81CA)
    "\u2022": "\u30fb",  # BULLET -> KATAKANA MIDDLE DOT
    "\u00b7": "\u30fb",  # MIDDLE DOT -> KATAKANA MIDDLE DOT
    "\u2550": "\uff1d",  # BOX DRAWINGS DOUBLE HORIZONTAL -> FULLWIDTH EQUALS SIGN
    "\u20ac": "EUR",
    "\uffe4": "\uff5c",  # FULLWIDTH BROKEN BAR -> FULLWIDTH VERTICAL LINE
    "\u9eb5": "\u9eba",  # 麵 is not in cp932 -> 麺
    "\U00020bb7": "\u5409",  # 𠮷 (tsuchi-yoshi, outside the BMP) -> 吉
}

# Variant kanji that cp932 places in the NEC-selected IBM extension (lead bytes 0xED, 0xEE) or the
# IBM extension (0xFA-0xFC). Printers whose font has only JIS X 0208 print the common form.
EXTENDED_KANJI_SUBSTITUTIONS: dict[str, str] = {
    "\u9ad9": "\u9ad8",  # 髙 -> 高
    "\ufa11": "\u5d0e",  # 﨑 -> 崎
    "\u5fb7": "\u5fb3",  # 德 -> 徳
    "\u6801": "\u67f3",  # 栁 -> 柳
    "\u7028": "\u702c",  # 瀨 -> 瀬
}

EXTENDED_KANJI_LEAD_BYTES = frozenset({0xED, 0xEE, 0xFA, 0xFB, 0xFC})

# Lead bytes of double-byte codes every Japanese kanji model prints: JIS X 0208 rows 1-8 and
# 16-84, plus row 13 (0x87, NEC special characters such as ① and ㈱).
# NOTE: row 13 support is assumed from cp932 being the Japanese models' code system; a model whose
# font lacks it prints blanks for those codes.
_STANDARD_LEAD_BYTES = frozenset({0x81, 0x82, 0x83, 0x84, 0x87}) | frozenset(range(0x88, 0xA0)) | frozenset(
    range(0xE0, 0xEB)
)

_MAX_SUBSTITUTION_DEPTH = 3


class MappingKind(Enum):
    """Route by which a character reached the bytes that represent it."""

    DIRECT = "direct"
    SUBSTITUTED = "substituted"
    FALLBACK = "fallback"
    DROPPED = "dropped"


@dataclass(frozen=True)
class Glyph:
    """One printed character: what the paper shows and the bytes that print it."""

    char: str
    data: bytes

    @property
    def columns(self) -> int:
        return len(self.data)

    @property
    def is_double_byte(self) -> bool:
        return len(self.data) == 2


@dataclass(frozen=True)
class MappedChar:
    """The glyphs printed for one source character, and whether it was replaced."""

    source: str
    glyphs: tuple[Glyph, ...]
    kind: MappingKind

    @property
    def columns(self) -> int:
        return sum(glyph.columns for glyph in self.glyphs)


def is_zero_width(char: str) -> bool:
    """Return True for combining marks, format characters and controls, which take no column."""
    category = unicodedata.category(char)
    return category in ("Mn", "Me", "Cf", "Cc") or unicodedata.combining(char) != 0


@lru_cache(maxsize=8192)
def map_char(char: str, extended_kanji: bool = False) -> MappedChar:
    """Map one character to the glyphs the printer prints for it.

    ``extended_kanji`` tells whether the printer's font has the cp932 extension kanji (髙, 﨑).
    """
    return _map(char, extended_kanji, depth=0)


def _map(char: str, extended_kanji: bool, depth: int) -> MappedChar:
    if char == YEN_SIGN:
        return MappedChar(char, (Glyph(char, YEN_SIGN_BYTE),), MappingKind.DIRECT)
    if is_zero_width(char):
        return MappedChar(char, (), MappingKind.DROPPED)

    replacement = SUBSTITUTIONS.get(char)
    if replacement is not None:
        return _replace(char, replacement, extended_kanji, depth)

    data = _encode_direct(char, extended_kanji)
    if data is not None:
        return MappedChar(char, (Glyph(char, data),), MappingKind.DIRECT)

    for candidate in _candidate_replacements(char, extended_kanji):
        mapped = _replace(char, candidate, extended_kanji, depth)
        if mapped.kind is not MappingKind.FALLBACK:
            return mapped
    return _fallback(char)


def _encode_direct(char: str, extended_kanji: bool) -> bytes | None:
    """Return the cp932 bytes of ``char`` when the printer prints them as that character."""
    try:
        data = char.encode("cp932")
    except UnicodeEncodeError:
        return None

    if len(data) == 1:
        # 0x5C is ¥ under ESC R 8. Python's cp932 also maps private-use characters to 0xA0 and
        # 0xFD-0xFF, which the printer has no glyphs for.
        code = data[0]
        printable = (0x20 <= code <= 0x7E or 0xA1 <= code <= 0xDF) and data != YEN_SIGN_BYTE
        return data if printable else None
    lead = data[0]
    if lead in _STANDARD_LEAD_BYTES:
        return data
    if extended_kanji and lead in EXTENDED_KANJI_LEAD_BYTES:
        return data
    return None


def _candidate_replacements(char: str, extended_kanji: bool) -> list[str]:
    candidates: list[str] = []
    if not extended_kanji and char in EXTENDED_KANJI_SUBSTITUTIONS:
        candidates.append(EXTENDED_KANJI_SUBSTITUTIONS[char])

    folded = unicodedata.normalize("NFKC", char)
    if folded != char:
        candidates.append(folded)

    stripped = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if stripped and stripped != char:
        candidates.append(stripped)
    return candidates


def _replace(char: str, replacement: str, extended_kanji: bool, depth: int) -> MappedChar:
    if depth >= _MAX_SUBSTITUTION_DEPTH:
        return _fallback(char)

    glyphs: list[Glyph] = []
    for part in replacement:
        mapped = _map(part, extended_kanji, depth + 1)
        if mapped.kind is MappingKind.FALLBACK:
            return _fallback(char)
        glyphs.extend(mapped.glyphs)
    if not glyphs:
        return _fallback(char)
    return MappedChar(char, tuple(glyphs), MappingKind.SUBSTITUTED)


def _fallback(char: str) -> MappedChar:
    glyph = Glyph(FALLBACK_CHAR, FALLBACK_CHAR.encode("cp932"))
    return MappedChar(char, (glyph,), MappingKind.FALLBACK)
