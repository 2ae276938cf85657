"""The bank account each merchant is paid out to, checked as a Zengin transfer file needs it."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from server import zengin
from server.errors import ServerError, invalid
from server.merchants import get_merchant
from server.models import MerchantBankAccount
from server.zengin_banks import BankDirectory, default_directory
from terminal import protocol
from terminal.protocol import ErrorCode

logger = logging.getLogger(__name__)

# Zengin 預金種目 of a recipient account that a merchant may register.
ACCOUNT_TYPES = {1: "ordinary (普通)", 2: "current (当座)", 4: "savings (貯蓄)"}
HOLDER_NAME_CHARS = 30


@dataclass(frozen=True)
class BankAccountDetails:
    bank_code: str
    branch_code: str
    account_type: int
    account_number: str
    holder_name: str


_HOLDER_NAME_HINT = ("give the account holder's name in kana as the bank records it"
                     " (口座名義カナ), e.g. キタカタラーメン")


def set_bank_account(
    session: Session, merchant_id: str, details: BankAccountDetails, *, now: datetime,
    directory: BankDirectory | None = None,
) -> MerchantBankAccount:
    """Validate ``details`` and store them as the merchant's payout account.

    The holder name is stored in Zengin form (half-width katakana, small kana enlarged), as
    the transfer file carries it. Cash-outs already requested keep the account they copied.
    """
    get_merchant(session, merchant_id)
    checked = check_details(details, directory or default_directory())
    row = session.get(MerchantBankAccount, merchant_id)
    if row is None:
        row = MerchantBankAccount(merchant_id=merchant_id, updated_at=now, **checked.__dict__)
        session.add(row)
    else:
        for name, value in checked.__dict__.items():
            setattr(row, name, value)
        row.updated_at = now
    session.flush()
    logger.info("bank account of merchant %s set: bank %s branch %s", merchant_id,
                checked.bank_code, checked.branch_code)
    return row


def check_details(details: BankAccountDetails, directory: BankDirectory) -> BankAccountDetails:
    """Return ``details`` normalised (account number zero-filled, name in Zengin form)."""
    bank_code = _digits(details.bank_code, "bank_code", 4, "0001")
    if directory.bank(bank_code) is None:
        raise invalid(f"bank_code {bank_code} is not a known bank; check the 4-digit code on"
                      " the passbook or the bank's website")
    branch_code = _digits(details.branch_code, "branch_code", 3, "001")
    if directory.branch(bank_code, branch_code) is None:
        raise invalid(f"branch_code {branch_code} is not a known branch of bank {bank_code};"
                      " check the 3-digit branch code")
    if details.account_type not in ACCOUNT_TYPES:
        allowed = ", ".join(f"{code} {name}" for code, name in ACCOUNT_TYPES.items())
        raise invalid(f"account_type {details.account_type!r} is invalid; use {allowed}")
    if re.fullmatch(r"[0-9]{1,7}", details.account_number, re.ASCII) is None:
        raise invalid(f"account_number {details.account_number!r} is invalid; use 1 to 7 digits")
    try:
        holder_name = zengin.to_zengin_kana(details.holder_name, max_length=HOLDER_NAME_CHARS,
                                            field="holder_name", hint=_HOLDER_NAME_HINT)
    except zengin.ZenginNameError as exc:
        raise invalid(str(exc)) from None
    return BankAccountDetails(bank_code, branch_code, details.account_type,
                              details.account_number.zfill(7), holder_name)


def bank_account_for_cash_out(session: Session, merchant_id: str) -> MerchantBankAccount:
    """Return the merchant's payout account, or raise ``bank_account_missing``."""
    row = session.get(MerchantBankAccount, merchant_id)
    if row is None:
        raise ServerError(
            ErrorCode.BANK_ACCOUNT_MISSING,
            f"merchant {merchant_id} has no bank account for cash-outs; the operator registers"
            " it with chiiki-settle set-bank-account",
        )
    return row


def summary(bank_code: str, branch_code: str, account_type: int, account_number: str,
            holder_name: str) -> protocol.BankAccountSummary:
    """Describe an account for the terminal's screen, showing the last four digits only."""
    directory = default_directory()
    bank = directory.bank(bank_code)
    branch = directory.branch(bank_code, branch_code)
    return protocol.BankAccountSummary(
        bank_code=bank_code, branch_code=branch_code,
        account_type=account_type,  # type: ignore[arg-type]
        account_number_last4=account_number[-4:], holder_name=holder_name,
        bank_name=bank.name if bank is not None else "",
        branch_name=branch.name if branch is not None else "",
    )


def _digits(value: str, field: str, width: int, example: str) -> str:
    if re.fullmatch(f"[0-9]{{{width}}}", value, re.ASCII) is None:
        raise invalid(f"{field} {value!r} is invalid; use exactly {width} digits, e.g. {example}")
    return value
