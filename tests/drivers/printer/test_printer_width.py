from __future__ import annotations

import unicodedata

import pytest

from drivers.printer.width import (
    char_width,
    display_width,
    shorten_to_width,
    truncate_to_width,
    wrap_to_width,
)


def test_lunch_box_name_is_24_columns() -> None:
    assert display_width("豚肉・木耳と玉子炒め弁当") == 24


def test_half_width_kana_take_one_column_each() -> None:
    assert display_width("ｶﾌｪﾗﾃ") == 5


def test_full_width_kana_take_two_columns_each() -> None:
    assert display_width("カフェラテ") == 10


def test_combining_marks_take_no_column() -> None:
    assert display_width("か\u3099") == 2
    assert display_width("e\u0301") == 1


@pytest.mark.parametrize("char", ["…", "※", "×", "①", "○", "α", "Ж"])
def test_ambiguous_characters_print_double_width(char: str) -> None:
    assert unicodedata.east_asian_width(char) == "A"
    assert char_width(char) == 2


@pytest.mark.parametrize(
    ("char", "expected"),
    [("A", 1), ("¥", 1), ("￥", 2), ("ｱ", 1), ("ア", 2), ("会", 2), ("\u3000", 2), ("\\", 2)],
)
def test_char_width_matches_printer_cells(char: str, expected: int) -> None:
    assert char_width(char) == expected


def test_truncate_never_splits_double_width_char() -> None:
    assert truncate_to_width("豚肉・木耳", 5) == "豚肉"
    assert display_width(truncate_to_width("豚肉・木耳", 5)) == 4


def test_truncate_keeps_combining_mark_with_base() -> None:
    assert truncate_to_width("か\u3099き", 2) == "か\u3099"


def test_shorten_ends_with_ellipsis() -> None:
    shortened = shorten_to_width("豚肉・木耳と玉子炒め弁当", 11)
    assert shortened == "豚肉・木…"
    assert display_width(shortened) <= 11


def test_shorten_leaves_fitting_text_alone() -> None:
    assert shorten_to_width("カフェラテ", 10) == "カフェラテ"


def test_shorten_without_room_for_ellipsis_truncates() -> None:
    assert shorten_to_width("カフェラテ", 1) == ""


def test_wrap_breaks_japanese_between_characters() -> None:
    lines = wrap_to_width("会津コインで支払いました", 10)
    assert lines == ["会津コイン", "で支払いま", "した"]


def test_wrap_keeps_closing_punctuation_off_line_start() -> None:
    lines = wrap_to_width("ありがとうございます。", 20)
    assert lines == ["ありがとうございま", "す。"]


def test_wrap_breaks_latin_text_at_spaces() -> None:
    lines = wrap_to_width("The quick brown fox jumps", 12)
    assert lines == ["The quick", "brown fox", "jumps"]


def test_wrap_of_empty_paragraph_is_one_blank_line() -> None:
    assert wrap_to_width("", 48) == [""]


def test_wrap_rejects_too_narrow_width() -> None:
    with pytest.raises(ValueError, match="at least 4"):
        wrap_to_width("会津", 3)
