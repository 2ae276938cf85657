from __future__ import annotations

import pytest

from drivers.scanner import KanaInputError, normalize_scan
from drivers.scanner.base import JIS_SCANNER_ON_US_HOST, US_SCANNER_ON_JIS_HOST


def test_nfkc_folds_full_width_ascii() -> None:
    assert normalize_scan("＠［］＾＿：ＡＢＣ１２３") == "@[]^_:ABC123"


def test_ideographic_space_becomes_space() -> None:
    assert normalize_scan("AB\u3000CD") == "AB CD"


def test_prolonged_sound_mark_is_kana() -> None:
    with pytest.raises(KanaInputError):
        normalize_scan("12ー34")


def test_us_on_jis_table_from_reference_pairs() -> None:
    # Each pair: what the US scanner meant -> what the JIS host typed.
    pairs = [
        ("@", '"'), (":", "+"), ("*", "("), ("_", "="), ("[", "@"),
        ("]", "["), ("=", "^"), ("+", "~"), ("&", "'"), ("'", ":"),
    ]  # fmt: skip
    for meant, typed in pairs:
        assert US_SCANNER_ON_JIS_HOST[typed] == meant
        assert normalize_scan(typed, "us_on_jis") == meant


def test_jis_on_us_table_from_reference_pairs() -> None:
    for meant, typed in [("@", "["), (":", "'"), ("*", '"'), ('"', "@")]:
        assert JIS_SCANNER_ON_US_HOST[typed] == meant
        assert normalize_scan(typed, "jis_on_us") == meant


def test_layout_repair_is_single_pass() -> None:
    # '"' becomes '@', and that '@' must not then become '['.
    assert normalize_scan('"@', "us_on_jis") == "@["


def test_tables_are_inverse_where_both_defined() -> None:
    for typed, meant in US_SCANNER_ON_JIS_HOST.items():
        if meant in JIS_SCANNER_ON_US_HOST:
            assert JIS_SCANNER_ON_US_HOST[meant] == typed


def test_digits_and_letters_untouched_by_layouts() -> None:
    text = "91ABCxyz0123456789"

    assert normalize_scan(text, "us_on_jis") == text
    assert normalize_scan(text, "jis_on_us") == text
