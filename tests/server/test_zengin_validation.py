"""Invalid fields raise ZenginError naming the merchant (or the sender) and the field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from zengin_samples import SENDER, TRANSFER_DATE, small_directory, transfer

from server.zengin import (
    MAX_AMOUNT_YEN,
    Sender,
    Transfer,
    ZenginBankError,
    ZenginError,
    ZenginNameError,
    build_transfer_file,
)


def _build(transfers: list[Transfer], sender: Sender = SENDER,
           transfer_date: date = TRANSFER_DATE) -> bytes:
    return build_transfer_file(sender, transfer_date, transfers, bank_data=small_directory())


TRANSFER_CASES: list[tuple[str, Any]] = [
    ("bank_code", "5"), ("bank_code", "00050"), ("bank_code", "０００５"), ("bank_code", "abcd"),
    ("bank_code", 5), ("bank_code", ""), ("bank_code", "٠٠٠٥"),
    ("branch_code", "01"), ("branch_code", "0001"), ("branch_code", "1a1"),
    ("account_type", 3), ("account_type", 0), ("account_type", True), ("account_type", "1"),
    ("account_number", ""), ("account_number", "12345678"), ("account_number", "123-456"),
    ("account_number", "0000000"), ("account_number", 1234567), ("account_number", " 123"),
    ("amount_yen", 0), ("amount_yen", -1), ("amount_yen", MAX_AMOUNT_YEN + 1),
    ("amount_yen", 1.5), ("amount_yen", True), ("amount_yen", "100"),
    ("customer_code1", "12345678901"), ("customer_code1", "12a"), ("customer_code1", "-1"),
    ("customer_code2", "12345678901"), ("customer_code2", " "),
    ("new_code", 3), ("new_code", -1),
]


@pytest.mark.parametrize(("field", "value"), TRANSFER_CASES)
def test_invalid_transfer_field_names_merchant(field: str, value: Any) -> None:
    bad = transfer(merchant_id="M-0777", **{field: value})

    with pytest.raises(ZenginError) as caught:
        _build([transfer(), bad])

    assert caught.value.field == field
    assert caught.value.merchant_id == "M-0777"
    assert "merchant 'M-0777'" in str(caught.value)
    assert field in str(caught.value)


@pytest.mark.parametrize("name", ["山田", "ヤマダ🙂", "ヤマダ,タロウ", "ヤマダ・タロウ",
                                  "ヤマダ＆カ", "ゞ", "", "   ", "ﾞｱ"])
def test_unconvertible_holder_name_raises_name_error(name: str) -> None:
    with pytest.raises(ZenginNameError) as caught:
        _build([transfer(merchant_id="M-0009", holder_name=name)])

    assert caught.value.field == "holder_name"
    assert caught.value.merchant_id == "M-0009"
    assert "merchant 'M-0009': holder_name (受取人名)" in str(caught.value)
    assert "口座名義カナ" in str(caught.value)


def test_name_error_names_the_character() -> None:
    with pytest.raises(ZenginNameError, match=r"'田' \(U\+7530\) at position 4"):
        _build([transfer(holder_name="ヤマダ田")])


def test_holder_name_that_is_not_text() -> None:
    with pytest.raises(ZenginNameError, match="must be text"):
        _build([transfer(holder_name=None)])


def test_unknown_bank_raises_bank_error() -> None:
    with pytest.raises(ZenginBankError) as caught:
        _build([transfer(merchant_id="M-0003", bank_code="1234")])

    assert caught.value.field == "bank_code"
    assert caught.value.merchant_id == "M-0003"
    assert "'1234' is not in the bank directory" in str(caught.value)


def test_unknown_branch_raises_bank_error() -> None:
    with pytest.raises(ZenginBankError) as caught:
        _build([transfer(merchant_id="M-0004", bank_code="0005", branch_code="999")])

    assert caught.value.field == "branch_code"
    assert "merchant 'M-0004'" in str(caught.value)
    assert "'999' of bank 0005" in str(caught.value)


SENDER_CASES: list[tuple[str, Any, type[ZenginError]]] = [
    ("consignor_code", "12345678901", ZenginError), ("consignor_code", "", ZenginError),
    ("consignor_code", "12345abcde", ZenginError),
    ("name", "地域コイン", ZenginNameError), ("name", "", ZenginNameError),
    ("name", "ア" * 41, ZenginNameError), ("name", "ガ" * 21, ZenginNameError),
    ("bank_code", "179", ZenginError), ("bank_code", "1234", ZenginBankError),
    ("branch_code", "999", ZenginBankError), ("account_type", 4, ZenginError),
    ("account_number", "12345678", ZenginError), ("bank_name", "福島銀行", ZenginNameError),
]


@pytest.mark.parametrize(("field", "value", "error"), SENDER_CASES)
def test_invalid_sender_field_names_sender(field: str, value: Any,
                                           error: type[ZenginError]) -> None:
    with pytest.raises(error) as caught:
        _build([transfer()], sender=replace(SENDER, **{field: value}))

    assert caught.value.field == field
    assert caught.value.merchant_id is None
    assert str(caught.value).startswith(f"sender: {field}")


def test_sender_name_of_forty_is_accepted() -> None:
    data = _build([transfer()], sender=replace(SENDER, name="ガ" * 20))

    assert data[14:54] == "ｶﾞ".encode("cp932") * 20


def test_transfer_date_must_be_a_date() -> None:
    with pytest.raises(ZenginError, match="transfer_date"):
        _build([transfer()], transfer_date="2026-12-07")  # type: ignore[arg-type]


def test_empty_transfer_list() -> None:
    with pytest.raises(ZenginError, match="at least one transfer"):
        _build([])


def test_total_above_twelve_digits() -> None:
    transfers = [transfer(customer_code1=str(n), amount_yen=MAX_AMOUNT_YEN) for n in range(101)]

    with pytest.raises(ZenginError, match="1,009,999,999,899 yen") as caught:
        _build(transfers)

    assert caught.value.field == "transfers"


def test_count_above_six_digits() -> None:
    with pytest.raises(ZenginError, match="1,000,000 transfers"):
        _build([transfer(customer_code1="")] * 1_000_000)


def test_repeated_customer_code_names_both_merchants() -> None:
    first = transfer(merchant_id="M-0001", customer_code1="42")
    second = transfer(merchant_id="M-0002", customer_code1="0042")

    with pytest.raises(ZenginError) as caught:
        _build([first, second])

    assert caught.value.field == "customer_code1"
    assert caught.value.merchant_id == "M-0002"
    assert "'M-0001'" in str(caught.value)


def test_empty_customer_codes_may_repeat() -> None:
    data = _build([transfer(customer_code1=""), transfer(customer_code1="")])

    assert len(data) == 5 * 122


def test_long_merchant_id_is_shortened_in_messages() -> None:
    with pytest.raises(ZenginError) as caught:
        _build([transfer(merchant_id="M" * 500, amount_yen=0)])

    assert len(str(caught.value)) < 200
    assert caught.value.merchant_id == "M" * 500
