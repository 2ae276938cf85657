"""Conversion of names to the character set of Zengin bank files.

Zengin files carry text in JIS X 0201: upper-case latin letters, digits, half-width katakana
and a few symbols. ``to_zengin_characters`` converts what people type, character by character:

- Hiragana and full-width or half-width katakana become half-width katakana. A voiced or
  semi-voiced kana becomes its base followed by ``ﾞ`` or ``ﾟ`` (ガ → ``ｶﾞ``, two characters).
  A separate voiced mark (゛, ゜, ﾞ, ﾟ or the combining U+3099 and U+309A) becomes ``ﾞ`` or
  ``ﾟ`` and must follow a kana.
- Small kana become full-size kana (ッ → ``ﾂ``, ャ → ``ﾔ``, ァ → ``ｱ``, ヵ → ``ｶ``), because
  Zengin text has no small kana.
- ヲ becomes ``ｵ``, which sounds the same, because bank character lists for names leave ``ｦ``
  out. The obsolete ヰ and ヱ, which have no half-width form, become ``ｲ`` and ``ｴ``.
- Latin letters are upper-cased. Full-width letters, digits, spaces and symbols become their
  ASCII forms (Unicode NFKC).
- The long vowel mark (ー, ｰ) and the dashes ‐ ‑ ‒ – — ― − become ``-``, because many banks
  reject ``ｰ`` in names, while ``-`` is in the Zengin character set for names.
- Space and ``( ) . - /`` are kept.

Any other character raises ``UnconvertibleCharacter``, including the comma (many banks reject
it), the middle dot ・, kanji and emoji: a name must then be registered in kana.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

ALLOWED_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ().-/")
VOICED_MARK = "\uff9e"  # ﾞ
SEMI_VOICED_MARK = "\uff9f"  # ﾟ
VOICE_MARKS = frozenset((VOICED_MARK, SEMI_VOICED_MARK))

_VOICED_INPUTS = frozenset("\u3099\u309b\uff9e")
_SEMI_VOICED_INPUTS = frozenset("\u309a\u309c\uff9f")
_DASHES = frozenset("\u30fc\uff70\u2010\u2011\u2012\u2013\u2014\u2015\u2212")

# Full-width katakana that have no half-width letter of their own, mapped to one that has.
_FULL_SIZE = dict(zip("ァィゥェォッャュョヮヵヶヲヰヱ", "アイウエオツヤユヨワカケオイエ", strict=True))

_HIRAGANA_FIRST = 0x3041  # ぁ
_HIRAGANA_LAST = 0x3096  # ゖ
_HIRAGANA_TO_KATAKANA = 0x60
# Cached conversions of single characters; names repeat few distinct characters.
_CHARACTER_CACHE_SIZE = 4096


class UnconvertibleCharacter(ValueError):
    """A character of a name has no form in the Zengin character set."""

    def __init__(self, character: str, position: int) -> None:
        super().__init__(f"character {character!r} (U+{ord(character):04X}) at position "
                         f"{position} has no form in the Zengin character set")
        self.character = character
        self.position = position


def _half_width_katakana() -> dict[str, str]:
    """Map each full-width katakana letter to its half-width form, ア → ｱ up to ン → ﾝ."""
    table: dict[str, str] = {}
    for code in range(0xFF71, 0xFF9E):  # ｱ .. ﾝ
        half = chr(code)
        table[unicodedata.normalize("NFKC", half)] = half
    return table


_KATAKANA = _half_width_katakana()


def _convert_letter(letter: str) -> str | None:
    """Convert one NFKC-normalised character, or return None when it has no form."""
    if letter in ALLOWED_ASCII:
        return letter
    if "a" <= letter <= "z":
        return letter.upper()
    if letter in _DASHES:
        return "-"
    if letter in _VOICED_INPUTS:
        return VOICED_MARK
    if letter in _SEMI_VOICED_INPUTS:
        return SEMI_VOICED_MARK
    if _HIRAGANA_FIRST <= ord(letter) <= _HIRAGANA_LAST:
        letter = chr(ord(letter) + _HIRAGANA_TO_KATAKANA)

    # NFD splits a voiced kana into its base and a combining mark: ガ → カ U+3099.
    decomposed = unicodedata.normalize("NFD", letter)
    base, marks = decomposed[0], decomposed[1:]
    half = _KATAKANA.get(_FULL_SIZE.get(base, base))
    if half is None or len(marks) > 1:
        return None
    if not marks:
        return half
    mark = _convert_letter(marks)
    return half + mark if mark in VOICE_MARKS else None


@lru_cache(maxsize=_CHARACTER_CACHE_SIZE)
def _convert_character(character: str) -> str | None:
    # Marks and dashes first: NFKC turns ゛ into a space and a combining mark, and ｰ into ー.
    direct = _convert_letter(character)
    if direct is not None:
        return direct
    converted = []
    for letter in unicodedata.normalize("NFKC", character):
        result = _convert_letter(letter)
        if result is None:
            return None
        converted.append(result)
    return "".join(converted)


def to_zengin_characters(text: str) -> str:
    """Convert ``text`` to Zengin characters, without leading or trailing spaces.

    Raises ``UnconvertibleCharacter`` naming the first character that has no Zengin form, or a
    voiced mark that does not follow a kana.
    """
    parts: list[str] = []
    for position, character in enumerate(text, start=1):
        converted = _convert_character(character)
        if converted is None:
            raise UnconvertibleCharacter(character, position)
        if converted in VOICE_MARKS and not _ends_with_kana(parts):
            raise UnconvertibleCharacter(character, position)
        parts.append(converted)
    return "".join(parts).strip(" ")


def _ends_with_kana(parts: list[str]) -> bool:
    return bool(parts) and bool(parts[-1]) and "\uff71" <= parts[-1][-1] <= "\uff9d"


def truncate(converted: str, max_length: int) -> str:
    """Cut converted text to ``max_length`` characters, never between a kana and its mark."""
    if len(converted) <= max_length:
        return converted
    end = max_length
    while end > 0 and converted[end] in VOICE_MARKS:
        end -= 1
    return converted[:end].rstrip(" ")
