"""Column widths of text on a Japanese receipt printer, and fitting text into columns.

One column is one ANK cell of font A: 12 dots, so 48 columns on 80 mm paper (576 dots) and 32
on 58 mm (384 dots). A character takes as many columns as the bytes it is printed with (see
``charmap``): ASCII and half-width katakana (ｶﾌｪﾗﾃ) take one, every Shift_JIS double-byte
character takes two, and combining marks and controls take none.

That rule agrees with Unicode's East Asian Width for Wide, Fullwidth, Halfwidth and Narrow
characters. For Ambiguous characters (…, ※, ×, ①, Greek, Cyrillic) it follows the printer:
Epson's Japanese models print them in Kanji mode as 24-dot glyphs, so they take two columns,
where wcwidth would count one.

Fitting and wrapping work on clusters (a character with the combining marks after it), so a
double-width character or a mark is never split from its base.
"""

from __future__ import annotations

from collections.abc import Iterator

from drivers.printer.charmap import is_zero_width, map_char

ELLIPSIS = "\u2026"

# Characters that Japanese line breaking (kinsoku shori) keeps off the start of a line.
_NO_LINE_START = frozenset("、。，．,.)）]］｝」』】〕〉》’”!?！？:;：；ーゝゞヽヾぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ・ｰｧｨｩｪｫｬｭｮｯ｡､")

# Narrowest line wrap_to_width accepts: one double-width character plus one that kinsoku moves.
MIN_WRAP_COLUMNS = 4


def char_width(char: str, *, extended_kanji: bool = False) -> int:
    """Return the columns ``char`` takes on paper (0, 1 or 2; more for a multi-letter substitute)."""
    return map_char(char, extended_kanji).columns


def display_width(text: str, *, extended_kanji: bool = False) -> int:
    """Return the columns ``text`` takes on paper.

    >>> display_width("ｶﾌｪﾗﾃ"), display_width("カフェラテ")
    (5, 10)
    """
    return sum(char_width(char, extended_kanji=extended_kanji) for char in text)


def clusters(text: str) -> list[str]:
    """Split ``text`` into base characters, each with the zero-width marks that follow it."""
    result: list[str] = []
    for char in text:
        if result and is_zero_width(char):
            result[-1] += char
        else:
            result.append(char)
    return result


def truncate_to_width(text: str, max_columns: int, *, extended_kanji: bool = False) -> str:
    """Return the longest prefix of ``text`` that fits in ``max_columns``."""
    kept: list[str] = []
    used = 0
    for cluster in clusters(text):
        width = display_width(cluster, extended_kanji=extended_kanji)
        if used + width > max_columns:
            break
        kept.append(cluster)
        used += width
    return "".join(kept)


def shorten_to_width(
    text: str, max_columns: int, *, placeholder: str = ELLIPSIS, extended_kanji: bool = False
) -> str:
    """Fit ``text`` into ``max_columns``, ending it with ``placeholder`` when it was cut.

    When even the placeholder does not fit, the text is truncated without one.
    """
    if display_width(text, extended_kanji=extended_kanji) <= max_columns:
        return text
    room = max_columns - display_width(placeholder, extended_kanji=extended_kanji)
    if room < 0:
        return truncate_to_width(text, max_columns, extended_kanji=extended_kanji)
    return truncate_to_width(text, room, extended_kanji=extended_kanji).rstrip() + placeholder


def wrap_to_width(text: str, max_columns: int, *, extended_kanji: bool = False) -> list[str]:
    """Break one paragraph into lines of at most ``max_columns`` columns.

    Breaks fall between any two Japanese characters and at spaces inside Latin text, and a
    closing bracket or small kana is not left at the start of a line. An empty paragraph gives
    one empty line.
    """
    if max_columns < MIN_WRAP_COLUMNS:
        raise ValueError(f"max_columns must be at least {MIN_WRAP_COLUMNS}, got {max_columns}")
    lines = list(_wrap(clusters(text), max_columns, extended_kanji))
    return lines or [""]


def _wrap(parts: list[str], max_columns: int, extended_kanji: bool) -> Iterator[str]:
    line: list[str] = []
    for part in parts:
        if _width(line + [part], extended_kanji) <= max_columns:
            line.append(part)
            continue

        printed, carried = _break_line(line, part)
        next_line = _strip_leading_spaces(carried + [part])
        if _width(next_line, extended_kanji) > max_columns:
            printed, next_line = line, _strip_leading_spaces([part])
        if printed:
            yield "".join(printed).rstrip()
        line = next_line
    if line:
        yield "".join(line).rstrip()


def _width(parts: list[str], extended_kanji: bool) -> int:
    return display_width("".join(parts), extended_kanji=extended_kanji)


def _break_line(line: list[str], next_part: str) -> tuple[list[str], list[str]]:
    """Choose where a full line breaks. Return the line to print and the clusters carried over."""
    if _is_word_char(next_part) and line and _is_word_char(line[-1]):
        space = _last_index(line, " ")
        if space is not None and space > 0:
            return line[:space], line[space + 1 :]
    if next_part in _NO_LINE_START and len(line) > 1:
        return line[:-1], line[-1:]
    return line, []


def _strip_leading_spaces(parts: list[str]) -> list[str]:
    start = 0
    while start < len(parts) and parts[start] == " ":
        start += 1
    return parts[start:]


def _is_word_char(part: str) -> bool:
    return part.isascii() and not part.isspace()


def _last_index(parts: list[str], value: str) -> int | None:
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] == value:
            return index
    return None
