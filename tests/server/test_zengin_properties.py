"""Property tests: any valid payouts give a file that the independent reader reads back."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zengin_layout import TEXT_BYTES, read_file
from zengin_samples import SENDER, TRANSFER_DATE, small_directory

from server.zengin import (
    MAX_AMOUNT_YEN,
    Transfer,
    ZenginNameError,
    build_transfer_file,
    parse_result_file,
    to_zengin_kana,
)

# Input pieces and the Zengin text each must become, written out by hand for this test.
PIECES = [
    ("あ", "ｱ"), ("ア", "ｱ"), ("ｱ", "ｱ"), ("き", "ｷ"), ("ン", "ﾝ"), ("ﾝ", "ﾝ"), ("ろ", "ﾛ"),
    ("が", "ｶﾞ"), ("ガ", "ｶﾞ"), ("ｶﾞ", "ｶﾞ"), ("ぱ", "ﾊﾟ"), ("ポ", "ﾎﾟ"), ("ヴ", "ｳﾞ"),
    ("ゃ", "ﾔ"), ("ッ", "ﾂ"), ("ｮ", "ﾖ"), ("ァ", "ｱ"), ("を", "ｵ"), ("ー", "-"), ("ｰ", "-"),
    ("a", "A"), ("z", "Z"), ("Q", "Q"), ("ｍ", "M"), ("Ｑ", "Q"), ("7", "7"), ("８", "8"),
    (" ", " "), ("　", " "), ("(", "("), ("）", ")"), (".", "."), ("／", "/"), ("-", "-"),
]
MARKS = ("ﾞ", "ﾟ")


@dataclass(frozen=True)
class Name:
    text: str
    expected: str  # converted, before truncation


@st.composite
def names(draw: st.DrawFn) -> Name:
    pieces = draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=40))
    expected = "".join(out for _, out in pieces).strip(" ")
    if not expected:
        pieces = [("ア", "ｱ"), *pieces]
        expected = "".join(out for _, out in pieces).strip(" ")
    return Name("".join(text for text, _ in pieces), expected)


def _truncated(text: str, width: int) -> str:
    """The documented cut: keep ``width`` characters, minus a base whose mark would be lost."""
    if len(text) <= width:
        return text
    prefix = text[:width]
    if text[width] in MARKS:
        prefix = prefix[:-1]
    return prefix.rstrip(" ")


@st.composite
def transfers(draw: st.DrawFn) -> list[tuple[Transfer, Name]]:
    count = draw(st.integers(min_value=1, max_value=12))
    codes = draw(st.lists(st.integers(min_value=1, max_value=9_999_999_999), min_size=count,
                          max_size=count, unique=True))
    result = []
    for index, code in enumerate(codes):
        name = draw(names())
        bank, branch = draw(st.sampled_from([("0001", "001"), ("0005", "001"), ("0179", "123"),
                                             ("9900", "008")]))
        result.append((Transfer(
            merchant_id=f"M-{index}", bank_code=bank, branch_code=branch,
            account_type=draw(st.sampled_from([1, 2, 4, 9])),
            account_number=draw(st.from_regex(r"\A[0-9]{0,6}[1-9]\Z")),
            holder_name=name.text,
            amount_yen=draw(st.integers(min_value=1, max_value=MAX_AMOUNT_YEN)),
            customer_code1=str(code),
            customer_code2=draw(st.from_regex(r"\A[0-9]{0,10}\Z")),
            new_code=draw(st.sampled_from([0, 1, 2])),
        ), name))
    return result


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transfers(), st.booleans())
def test_file_reads_back_to_the_same_values(cases: list[tuple[Transfer, Name]],
                                            line_ends: bool) -> None:
    sent = [payout for payout, _ in cases]

    data = build_transfer_file(SENDER, TRANSFER_DATE, sent, line_ends=line_ends,
                               bank_data=small_directory())
    parsed = read_file(data, line_ends=line_ends)

    assert len(data) == (len(sent) + 3) * (122 if line_ends else 120)
    assert len(parsed.data) == len(sent)
    for record, (payout, name) in zip(parsed.data, cases, strict=True):
        assert record["bank_code"] == payout.bank_code
        assert record["branch_code"] == payout.branch_code
        assert record["account_type"] == str(payout.account_type)
        assert int(record["account_number"]) == int(payout.account_number)
        assert record["holder_name"] == _truncated(name.expected, 30)
        assert int(record["amount"]) == payout.amount_yen
        assert int(record["customer_code1"]) == int(payout.customer_code1)
        assert int(record["customer_code2"] or "0") == int(payout.customer_code2 or "0")
        assert record["new_code"] == str(payout.new_code)
        assert record["transfer_kind"] == "7"
        assert record["edi_flag"] == ""
        assert record["dummy"] == ""
    assert int(parsed.trailer["count"]) == len(sent)
    assert int(parsed.trailer["total"]) == sum(payout.amount_yen for payout in sent)


@settings(deadline=None)
@given(transfers())
def test_result_file_returns_each_amount(cases: list[tuple[Transfer, Name]]) -> None:
    sent = [payout for payout, _ in cases]
    data = bytearray(build_transfer_file(SENDER, TRANSFER_DATE, sent,
                                         bank_data=small_directory()))
    for index in range(1, len(sent) + 1):
        data[index * 122 + 119] = ord("0") + index % 3

    results = parse_result_file(bytes(data))

    assert [result.amount_yen for result in results] == [payout.amount_yen for payout in sent]
    assert [int(result.customer_code1) for result in results] == [
        int(payout.customer_code1) for payout in sent]
    assert [result.paid for result in results] == [
        index % 3 == 0 for index in range(1, len(sent) + 1)]


NAME_LIKE = st.text(
    alphabet=st.characters(min_codepoint=0x3040, max_codepoint=0x30FF)
    | st.characters(min_codepoint=0xFF61, max_codepoint=0xFF9F)
    | st.characters(min_codepoint=0x20, max_codepoint=0x7E),
    max_size=50,
)


@given(st.one_of(st.text(max_size=50), NAME_LIKE), st.integers(min_value=2, max_value=40))
def test_any_text_converts_to_zengin_bytes_or_raises(text: str, width: int) -> None:
    try:
        result = to_zengin_kana(text, max_length=width, field="name", truncate=True)
    except ZenginNameError:
        return

    encoded = result.encode("cp932")
    assert len(encoded) == len(result)
    assert 1 <= len(result) <= width
    assert set(encoded) <= TEXT_BYTES
    assert result[0] not in MARKS
    assert result == result.strip(" ")
    assert result == _truncated(to_zengin_kana(text, max_length=10_000, field="name"), width)


@given(names(), st.integers(min_value=2, max_value=30))
def test_cut_names_keep_each_mark_with_its_kana(name: Name, width: int) -> None:
    result = to_zengin_kana(name.text, max_length=width, field="name", truncate=True)

    assert result == _truncated(name.expected, width)


@given(NAME_LIKE)
def test_conversion_is_idempotent(text: str) -> None:
    try:
        once = to_zengin_kana(text, max_length=10_000, field="name")
    except ZenginNameError:
        return

    assert to_zengin_kana(once, max_length=10_000, field="name") == once
