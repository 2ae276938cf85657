"""Every field of the 総合振込 file, read back by the independent reader in zengin_layout."""

from __future__ import annotations

from dataclasses import replace

import pytest
from zengin_layout import LayoutError, read_file, split_records
from zengin_samples import SENDER, TRANSFER_DATE, small_directory, transfer

from server.zengin import MAX_AMOUNT_YEN, Transfer, build_transfer_file


def _build(transfers: list[Transfer], **options: bool) -> bytes:
    return build_transfer_file(SENDER, TRANSFER_DATE, transfers, bank_data=small_directory(),
                               **options)


def test_header_fields() -> None:
    parsed = read_file(_build([transfer()]))

    assert parsed.header == {
        "data_kind": "1", "category": "21", "code_division": "0",
        "consignor_code": "1234567890", "sender_name": "ﾁｲｷｺｲﾝ(ｶ", "transfer_date": "1207",
        "bank_code": "0179", "bank_name": "ﾌｸｼﾏ", "branch_code": "101",
        "branch_name": "ﾎﾝﾃﾝｴｲｷﾞﾖｳﾌﾞ", "account_type": "1", "account_number": "1234567",
        "dummy": "",
    }


def test_header_zero_fills_and_keeps_names() -> None:
    sender = replace(SENDER, consignor_code="77", account_number="89", account_type=2,
                     bank_name="フクギン", branch_name="ほんてん")

    data = build_transfer_file(sender, TRANSFER_DATE, [transfer()], bank_data=small_directory())
    header = read_file(data).header

    assert header["consignor_code"] == "0000000077"
    assert header["account_number"] == "0000089"
    assert header["account_type"] == "2"
    assert header["bank_name"] == "ﾌｸｷﾞﾝ"
    assert header["branch_name"] == "ﾎﾝﾃﾝ"


def test_header_raw_bytes_at_fixed_positions() -> None:
    header = _build([transfer()])[:120]

    assert header[:4] == b"1210"
    assert header[14:54] == "ﾁｲｷｺｲﾝ(ｶ".encode("cp932") + b" " * 32
    assert header[54:58] == b"1207"
    assert header[103:120] == b" " * 17


def test_data_record_fields() -> None:
    record = read_file(_build([transfer()])).data[0]

    assert record == {
        "data_kind": "2", "bank_code": "0005", "bank_name": "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ",
        "branch_code": "001", "branch_name": "ﾎﾝﾃﾝ", "clearing_house": "0000",
        "account_type": "1", "account_number": "7654321", "holder_name": "ﾔﾏﾀﾞ ﾀﾛｳ",
        "amount": "0000012345", "new_code": "0", "customer_code1": "0000000042",
        "customer_code2": "0000000000", "transfer_kind": "7", "edi_flag": "", "dummy": "",
    }


def test_data_record_optional_fields() -> None:
    savings = transfer(account_type=4, account_number="1", customer_code1="9876543210",
                   customer_code2="5", new_code=2, bank_code="9900", branch_code="008")

    record = read_file(_build([savings])).data[0]

    assert record["account_type"] == "4"
    assert record["account_number"] == "0000001"
    assert record["customer_code1"] == "9876543210"
    assert record["customer_code2"] == "0000000005"
    assert record["new_code"] == "2"
    assert record["bank_name"] == "ﾕｳﾁﾖ"
    assert record["branch_name"] == "ｾﾞﾛｾﾞﾛﾊﾁ"


def test_empty_customer_code_is_zero_filled() -> None:
    record = read_file(_build([transfer(customer_code1="")])).data[0]

    assert record["customer_code1"] == "0000000000"


def test_voiced_kana_takes_two_bytes() -> None:
    record = _build([transfer(holder_name="ガ")])[122:242]

    assert record[50:52] == b"\xb6\xde"  # ｶ ﾞ
    assert record[52:80] == b" " * 28


def test_trailer_count_and_total() -> None:
    transfers = [transfer(customer_code1=str(n), amount_yen=n * 1000) for n in range(1, 6)]

    parsed = read_file(_build(transfers))

    assert [record["amount"] for record in parsed.data] == [
        "0000001000", "0000002000", "0000003000", "0000004000", "0000005000"]
    assert parsed.trailer == {"data_kind": "8", "count": "000005", "total": "000000015000",
                              "dummy": ""}


def test_largest_amounts_fill_every_digit() -> None:
    transfers = [transfer(customer_code1=str(n), amount_yen=MAX_AMOUNT_YEN) for n in range(100)]

    parsed = read_file(_build(transfers))

    assert parsed.data[0]["amount"] == "9999999999"
    assert parsed.trailer["count"] == "000100"
    assert parsed.trailer["total"] == "999999999900"


def test_end_record_is_nine_and_spaces() -> None:
    data = _build([transfer()])

    assert data[-122:] == b"9" + b" " * 119 + b"\r\n"
    assert read_file(data).end == {"data_kind": "9", "dummy": ""}


def test_records_end_in_crlf() -> None:
    data = _build([transfer(customer_code1="1"), transfer(customer_code1="2")])

    assert len(data) == 5 * 122
    assert data.count(b"\r\n") == 5
    assert all(len(record) == 120 for record in split_records(data, line_ends=True))


def test_records_without_line_ends() -> None:
    data = _build([transfer(customer_code1="1"), transfer(customer_code1="2")], line_ends=False)

    assert len(data) == 5 * 120
    assert b"\r" not in data
    assert b"\n" not in data
    assert read_file(data, line_ends=False).trailer["count"] == "000002"


def test_reader_rejects_a_shifted_field() -> None:
    data = bytearray(_build([transfer()]))
    data[122 + 80:122 + 90] = b" 000012345"  # amount no longer zero-filled

    with pytest.raises(LayoutError, match="amount"):
        read_file(bytes(data))


def test_file_is_single_byte_cp932() -> None:
    data = _build([transfer(holder_name="ｶ)ﾔﾏﾀﾞｼﾖｳﾃﾝ (ｴｲ")])

    text = data.decode("cp932")
    assert len(text) == len(data)
    assert "ｶ)ﾔﾏﾀﾞｼﾖｳﾃﾝ (ｴｲ" in text


def test_holder_name_truncated_to_thirty() -> None:
    name = "ア" * 29 + "ガ"  # ｶﾞ would need bytes 30 and 31

    record = read_file(_build([transfer(holder_name=name)])).data[0]

    assert record["holder_name"] == "ｱ" * 29


def test_holder_name_of_thirty_bytes_is_kept() -> None:
    name = "ア" * 28 + "ガ"

    record = read_file(_build([transfer(holder_name=name)])).data[0]

    assert record["holder_name"] == "ｱ" * 28 + "ｶﾞ"


def test_bank_names_converted_once_per_branch() -> None:
    transfers = [transfer(customer_code1=str(n), bank_code="0179",
                          branch_code="123" if n % 2 else "101") for n in range(4)]

    records = read_file(_build(transfers)).data

    assert [record["branch_name"] for record in records] == [
        "ﾎﾝﾃﾝｴｲｷﾞﾖｳﾌﾞ", "ｱｲﾂﾞ", "ﾎﾝﾃﾝｴｲｷﾞﾖｳﾌﾞ", "ｱｲﾂﾞ"]
    assert {record["bank_name"] for record in records} == {"ﾌｸｼﾏ"}


def test_same_input_gives_same_bytes() -> None:
    transfers = [transfer(customer_code1=str(n)) for n in range(3)]

    assert _build(transfers) == _build(transfers)
