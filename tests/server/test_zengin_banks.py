"""Bank and branch codes checked against the zengin-code data that the package ships."""

from __future__ import annotations

from dataclasses import replace

import pytest
from zengin_layout import read_file
from zengin_samples import SENDER, TRANSFER_DATE, transfer

from server import kana
from server.zengin import ZenginBankError, build_transfer_file
from server.zengin_banks import BankDirectory, default_directory


@pytest.fixture(scope="module")
def directory() -> BankDirectory:
    return default_directory()


def test_directory_holds_major_banks(directory: BankDirectory) -> None:
    mizuho = directory.bank("0001")
    tokyo = directory.branch("0001", "001")

    assert mizuho is not None
    assert mizuho.kana == "ミズホ"
    assert tokyo is not None
    assert tokyo.kana == "トウキヨウ"
    assert directory.bank("9900") is not None
    assert len(directory.banks()) > 1000


def test_directory_version_names_the_data_date(directory: BankDirectory) -> None:
    assert directory.version.count(".") == 3
    assert len(directory.version.rsplit(".", 1)[1]) == 8  # YYYYMMDD of the data


def test_default_directory_is_loaded_once() -> None:
    assert default_directory() is default_directory()


def test_unknown_codes_are_absent(directory: BankDirectory) -> None:
    assert directory.bank("0002") is None
    assert directory.branch("0001", "000") is None
    assert directory.branch("0002", "001") is None
    assert directory.branches("0002") == []


def test_every_directory_name_converts(directory: BankDirectory) -> None:
    failures = []
    for bank in directory.banks():
        for name in [bank.kana, *(branch.kana for branch in directory.branches(bank.code))]:
            try:
                kana.to_zengin_characters(name)
            except kana.UnconvertibleCharacter as exc:
                failures.append((bank.code, name, exc.character))

    assert failures == []


def test_file_takes_names_from_directory() -> None:
    sender = replace(SENDER, bank_code="0001", branch_code="001")
    to_mufg = transfer(bank_code="0005", branch_code="001")

    parsed = read_file(build_transfer_file(sender, TRANSFER_DATE, [to_mufg]))

    assert parsed.header["bank_name"] == "ﾐｽﾞﾎ"
    assert parsed.header["branch_name"] == "ﾄｳｷﾖｳ"
    assert parsed.data[0]["bank_name"] == "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ"
    assert parsed.data[0]["branch_name"]


def test_unknown_bank_in_real_directory() -> None:
    sender = replace(SENDER, bank_code="0001", branch_code="001")

    with pytest.raises(ZenginBankError, match="'0002' is not in the bank directory"):
        build_transfer_file(sender, TRANSFER_DATE, [transfer(bank_code="0002")])
