"""Names converted to the Zengin character set by to_zengin_kana."""

from __future__ import annotations

import pytest

from server.zengin import ZenginNameError, to_zengin_kana


def _convert(text: str, max_length: int = 30) -> str:
    return to_zengin_kana(text, max_length=max_length, field="holder_name")


@pytest.mark.parametrize(("text", "expected"), [
    ("ヤマダ タロウ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
    ("やまだ　たろう", "ﾔﾏﾀﾞ ﾀﾛｳ"),
    ("ﾔﾏﾀﾞ ﾀﾛｳ", "ﾔﾏﾀﾞ ﾀﾛｳ"),
    ("ガギグゲゴ", "ｶﾞｷﾞｸﾞｹﾞｺﾞ"),
    ("ざじずぜぞだぢづでど", "ｻﾞｼﾞｽﾞｾﾞｿﾞﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞ"),
    ("ばびぶべぼ", "ﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ"),
    ("パピプペポ", "ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ"),
    ("ヴ", "ｳﾞ"),
    ("ゔ", "ｳﾞ"),
    ("か゛", "ｶﾞ"),
    ("は゜", "ﾊﾟ"),
    ("か\u3099", "ｶﾞ"),
    ("ｶﾞ", "ｶﾞ"),
])
def test_kana_to_half_width(text: str, expected: str) -> None:
    assert _convert(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("ッ", "ﾂ"), ("っ", "ﾂ"), ("ｯ", "ﾂ"),
    ("ャュョ", "ﾔﾕﾖ"), ("ゃゅょ", "ﾔﾕﾖ"), ("ｬｭｮ", "ﾔﾕﾖ"),
    ("ァィゥェォ", "ｱｲｳｴｵ"), ("ぁぃぅぇぉ", "ｱｲｳｴｵ"), ("ｧｨｩｪｫ", "ｱｲｳｴｵ"),
    ("ヮゎ", "ﾜﾜ"), ("ヵヶ", "ｶｹ"), ("ゕゖ", "ｶｹ"),
    ("キャッシュ", "ｷﾔﾂｼﾕ"),
])
def test_small_kana_become_full_size(text: str, expected: str) -> None:
    assert _convert(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("ヲ", "ｵ"), ("を", "ｵ"), ("ｦ", "ｵ"), ("ヰヱ", "ｲｴ"), ("ゐゑ", "ｲｴ"),
])
def test_archaic_kana_become_modern(text: str, expected: str) -> None:
    assert _convert(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("yamada taro", "YAMADA TARO"),
    ("ＹａｍａｄａＴａｒｏ", "YAMADATARO"),
    ("０１２３４５６７８９", "0123456789"),
    ("ABC123", "ABC123"),
])
def test_latin_and_digits(text: str, expected: str) -> None:
    assert _convert(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("カ)ヤマダ", "ｶ)ﾔﾏﾀﾞ"),
    ("（カ）ヤマダ．ショウテン", "(ｶ)ﾔﾏﾀﾞ.ｼﾖｳﾃﾝ"),
    ("A/B-C", "A/B-C"),
    ("Ａ／Ｂ－Ｃ", "A/B-C"),
])
def test_allowed_symbols(text: str, expected: str) -> None:
    assert _convert(text) == expected


@pytest.mark.parametrize("dash", ["ー", "ｰ", "‐", "‑", "‒", "–", "—", "―", "−", "－"])
def test_long_vowel_and_dashes_become_hyphen(dash: str) -> None:
    assert _convert(f"コ{dash}ヒ{dash}") == "ｺ-ﾋ-"


def test_surrounding_spaces_are_removed() -> None:
    assert _convert("　 ヤマダ  タロウ　") == "ﾔﾏﾀﾞ  ﾀﾛｳ"


@pytest.mark.parametrize(("text", "character"), [
    ("山田", "山"), ("ヤマダ,タロウ", ","), ("ヤマダ，タロウ", "，"), ("ヤマダ・タロウ", "・"),
    ("ヤマダ&", "&"), ("ヤマダ🙂", "🙂"), ("ヤマダ\tタロウ", "\t"), ("ヤマダ「タロウ」", "「"),
    ("café", "é"), ("ヤマダ¥", "¥"), ("ゝ", "ゝ"), ("㈱ヤマダ", "㈱"), ("ヤマダ@", "@"),
])
def test_unconvertible_character_is_named(text: str, character: str) -> None:
    with pytest.raises(ZenginNameError) as caught:
        _convert(text)

    assert f"{character!r} (U+{ord(character):04X})" in str(caught.value)
    assert caught.value.field == "holder_name"
    assert str(caught.value).startswith("holder_name ")
    assert "口座名義カナ" in str(caught.value)


@pytest.mark.parametrize("text", ["ﾞ", "゛ヤマダ", "A゛", "ガ゛", "ヤマダ ﾟ"])
def test_voiced_mark_without_kana_is_rejected(text: str) -> None:
    with pytest.raises(ZenginNameError, match="U\\+"):
        _convert(text)


@pytest.mark.parametrize("text", ["", " ", "　　"])
def test_empty_name_is_rejected(text: str) -> None:
    with pytest.raises(ZenginNameError, match="is empty"):
        _convert(text)


def test_too_long_name_is_rejected_without_truncate() -> None:
    with pytest.raises(ZenginNameError, match="11 characters in Zengin form, more than 10"):
        _convert("ガガガガガア", max_length=10)


def test_voiced_kana_count_two_characters() -> None:
    assert _convert("ガガガガガ", max_length=10) == "ｶﾞｶﾞｶﾞｶﾞｶﾞ"


@pytest.mark.parametrize(("text", "max_length", "expected"), [
    ("アガ", 2, "ｱ"),
    ("アガ", 3, "ｱｶﾞ"),
    ("ガガ", 3, "ｶﾞ"),
    ("ABC DEF", 4, "ABC"),
    ("ABCDEF", 6, "ABCDEF"),
])
def test_truncate_never_splits_a_voiced_mark(text: str, max_length: int, expected: str) -> None:
    result = to_zengin_kana(text, max_length=max_length, field="x", truncate=True)

    assert result == expected
    assert len(result) <= max_length


def test_truncate_that_leaves_nothing_is_rejected() -> None:
    with pytest.raises(ZenginNameError, match="leaves nothing"):
        to_zengin_kana("パン", max_length=1, field="x", truncate=True)


def test_result_is_one_byte_per_character() -> None:
    result = _convert("ちいきショウテン　ｶﾌﾞｼｷｶﾞｲｼｬ")

    assert len(result.encode("cp932")) == len(result)
