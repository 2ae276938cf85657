"""Bank result files read by parse_result_file: 120-byte records and the hand-marked CSV."""

from __future__ import annotations

import pytest
from zengin_samples import SENDER, TRANSFER_DATE, small_directory, transfer

from server.zengin import ZenginError, build_transfer_file, parse_result_file


def _transfer_file(count: int = 3, *, line_ends: bool = True) -> bytes:
    transfers = [transfer(merchant_id=f"M-{n}", customer_code1=str(100 + n),
                          amount_yen=1000 * (n + 1), holder_name=f"ﾃﾝﾎﾟ {n}")
                 for n in range(count)]
    return build_transfer_file(SENDER, TRANSFER_DATE, transfers, line_ends=line_ends,
                               bank_data=small_directory())


def _with_results(data: bytes, codes: list[bytes], *, position: int = 120,
                  line_ends: bool = True) -> bytes:
    """Write one result byte into each data record, as a bank would return the file."""
    step = 122 if line_ends else 120
    result = bytearray(data)
    for index, code in enumerate(codes, start=1):
        result[index * step + position - 1] = code[0]
    return bytes(result)


def test_result_records_are_read() -> None:
    results = parse_result_file(_with_results(_transfer_file(), [b"0", b"2", b"0"]))

    assert [result.customer_code1 for result in results] == [
        "0000000100", "0000000101", "0000000102"]
    assert [result.result_code for result in results] == ["0", "2", "0"]
    assert [result.paid for result in results] == [True, False, True]
    assert [result.amount_yen for result in results] == [1000, 2000, 3000]
    assert [result.record_number for result in results] == [2, 3, 4]


def test_result_record_carries_the_account() -> None:
    result = parse_result_file(_with_results(_transfer_file(1), [b"0"]))[0]

    assert result.bank_code == "0005"
    assert result.branch_code == "001"
    assert result.account_number == "7654321"
    assert result.holder_name == "ﾃﾝﾎﾟ 0"


def test_result_records_without_line_ends() -> None:
    data = _with_results(_transfer_file(line_ends=False), [b"0", b"9", b"0"], line_ends=False)

    assert [result.result_code for result in parse_result_file(data)] == ["0", "9", "0"]


def test_result_records_with_lf_only_and_eof_mark() -> None:
    data = _with_results(_transfer_file(), [b"0", b"0", b"1"]).replace(b"\r\n", b"\n") + b"\x1a"

    assert [result.paid for result in parse_result_file(data)] == [True, True, False]


@pytest.mark.parametrize("position", [112, 113, 114, 119])
def test_result_position_is_configurable(position: int) -> None:
    data = _with_results(_transfer_file(), [b"0", b"4", b"0"], position=position)

    results = parse_result_file(data, result_position=position)

    assert [result.result_code for result in results] == ["0", "4", "0"]


def test_result_position_outside_dummy_area() -> None:
    with pytest.raises(ValueError, match="result_position 111"):
        parse_result_file(_transfer_file(), result_position=111)


def test_transfer_file_is_not_a_result_file() -> None:
    with pytest.raises(ZenginError, match="record 2 has no result code at byte 120"):
        parse_result_file(_transfer_file())


def test_lower_case_result_code_is_rejected() -> None:
    with pytest.raises(ZenginError, match="result code b'x'"):
        parse_result_file(_with_results(_transfer_file(), [b"0", b"x", b"0"]))


def test_trailer_mismatch_is_rejected() -> None:
    data = _with_results(_transfer_file(), [b"0", b"0", b"0"])
    records = data.split(b"\r\n")
    damaged = b"\r\n".join(records[:2] + records[3:])  # one data record lost

    with pytest.raises(ZenginError, match="trailer gives 3 transfers of 6,000 yen"):
        parse_result_file(damaged)


def test_changed_amount_is_rejected() -> None:
    data = bytearray(_with_results(_transfer_file(), [b"0", b"0", b"0"]))
    data[122 + 80:122 + 90] = b"0000009999"

    with pytest.raises(ZenginError, match="ask the bank for it again"):
        parse_result_file(bytes(data))


def test_short_record_is_rejected() -> None:
    data = _with_results(_transfer_file(), [b"0", b"0", b"0"])
    records = data.split(b"\r\n")
    records[2] = records[2][:100]

    with pytest.raises(ZenginError, match="record 3 is 100 bytes"):
        parse_result_file(b"\r\n".join(records))


def test_missing_end_record_is_rejected() -> None:
    data = _with_results(_transfer_file(), [b"0", b"0", b"0"])

    with pytest.raises(ZenginError, match="record kinds"):
        parse_result_file(data[:-122])


def test_other_category_is_rejected() -> None:
    data = _with_results(_transfer_file(), [b"0", b"0", b"0"])

    with pytest.raises(ZenginError, match="not 21"):
        parse_result_file(b"191" + data[3:])


def test_non_digit_amount_is_rejected() -> None:
    data = bytearray(_with_results(_transfer_file(), [b"0", b"0", b"0"]))
    data[122 + 80] = ord(" ")

    with pytest.raises(ZenginError, match="record 2: amount_yen"):
        parse_result_file(bytes(data))


def test_repeated_customer_code_in_results() -> None:
    data = _with_results(_transfer_file(), [b"0", b"0", b"0"])
    records = data.split(b"\r\n")
    records[3] = records[3][:91] + records[2][91:101] + records[3][101:]

    with pytest.raises(ZenginError, match="0000000101 appears in record 3 and record 4"):
        parse_result_file(b"\r\n".join(records))


def test_csv_results() -> None:
    results = parse_result_file(b"100,0\r\n101,2\r\n0000000102,0\r\n")

    assert [result.customer_code1 for result in results] == [
        "0000000100", "0000000101", "0000000102"]
    assert [result.paid for result in results] == [True, False, True]
    assert results[1].result_code == "2"
    assert results[0].amount_yen is None


def test_csv_with_heading_bom_and_blank_lines() -> None:
    data = "\ufeffcustomer_code1, result\n\n 100 , 0 \n101,e1\n\n".encode()

    results = parse_result_file(data)

    assert [(result.customer_code1, result.result_code) for result in results] == [
        ("0000000100", "0"), ("0000000101", "E1")]
    assert [result.record_number for result in results] == [3, 4]


@pytest.mark.parametrize(("data", "message"), [
    (b"100,0\n101\n", "line 2 '101' is invalid"),
    (b"100,0,1\n", "line 1"),
    (b"abc,0\n", "line 1"),
    (b"12345678901,0\n", "line 1"),
    (b"100,\n", "line 1"),
    (b"100,0\n100,1\n", "appears in record 1 and record 2"),
    (b"100,0\n1\xef\xbc\x90,0\n", "non-ASCII byte at offset 7"),
    (b"customer_code1,result\n", "no customer_code1,result rows"),
    (b"100,0\ncustomer_code1,result\n", "line 2"),
])
def test_invalid_csv_is_rejected(data: bytes, message: str) -> None:
    with pytest.raises(ZenginError, match=message):
        parse_result_file(data)


def test_empty_file_is_rejected() -> None:
    with pytest.raises(ZenginError, match="the file is empty"):
        parse_result_file(b"\r\n")
