"""Sample sender, transfers and a small bank directory for the Zengin tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from server.zengin import Sender, Transfer
from server.zengin_banks import Bank, BankDirectory, Branch

TRANSFER_DATE = date(2026, 12, 7)

# Names as the zengin-code data writes them: full-width kana, small kana enlarged, － for ー.
_BANKS = {
    "0001": ("みずほ", "ミズホ", {"001": ("東京営業部", "トウキヨウ")}),
    "0005": ("三菱ＵＦＪ", "ミツビシユ－エフジエイ", {"001": ("本店", "ホンテン")}),
    "0179": ("福島", "フクシマ", {"101": ("本店営業部", "ホンテンエイギヨウブ"),
                                  "123": ("会津", "アイヅ")}),
    "9900": ("ゆうちょ", "ユウチヨ", {"008": ("〇〇八", "ゼロゼロハチ")}),
}


def small_directory() -> BankDirectory:
    banks = {code: Bank(code, name, kana) for code, (name, kana, _) in _BANKS.items()}
    branches = {
        code: {branch: Branch(code, branch, name, kana)
               for branch, (name, kana) in by_code.items()}
        for code, (_, _, by_code) in _BANKS.items()
    }
    return BankDirectory(banks, branches, version="test")


SENDER = Sender(
    consignor_code="1234567890", name="ちいきコイン（カ", bank_code="0179", branch_code="101",
    account_type=1, account_number="1234567",
)


def transfer(**changes: Any) -> Transfer:
    base = Transfer(
        merchant_id="M-0001", bank_code="0005", branch_code="001", account_type=1,
        account_number="7654321", holder_name="やまだ　たろう", amount_yen=12_345,
        customer_code1="42",
    )
    return replace(base, **changes)
