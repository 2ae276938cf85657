"""What a wallet holds after a payment, per value kind with the earliest expiry, for receipts.

A wallet holder chooses whether receipts show this (``Wallet.show_balance_on_receipt``, off by
default, because a receipt left at the counter would tell anyone the balance). When it is on,
``book_payment`` stores the value on the payment row (``Payment.wallet_remaining``) and the
terminal prints it. Only unexpired value counts, as a payment would spend it. The offline
reserve is a separate account, so value set aside for offline payments is not included.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from server import ledger
from server.models import Lot, Wallet, table_of
from server.settings import iso_utc
from terminal.protocol import RemainingValue, ValueKind

logger = logging.getLogger(__name__)

_LOTS = table_of(Lot)
_WALLETS = table_of(Wallet)

_REMAINING_BY_KIND = (
    select(_LOTS.c.value_kind, func.sum(_LOTS.c.remaining_yen), func.min(_LOTS.c.expires_at))
    .where(
        _LOTS.c.account_id == bindparam("account_id"),
        _LOTS.c.remaining_yen > 0,
        _LOTS.c.expires_at.is_(None) | (_LOTS.c.expires_at > bindparam("now")),
    )
    .group_by(_LOTS.c.value_kind)
)
_SHOWS_BALANCE = select(_WALLETS.c.show_balance_on_receipt, _WALLETS.c.account_id).where(
    _WALLETS.c.id == bindparam("wallet_id")
)
_SET_SHOWS_BALANCE = (
    update(_WALLETS)
    .where(_WALLETS.c.id == bindparam("wallet_id"))
    .values(show_balance_on_receipt=bindparam("enabled"))
)


class WalletPreferences(BaseModel):
    """GET and PUT /wallet/preferences: the wallet holder's choices."""

    show_balance_on_receipt: bool = Field(strict=True)


def remaining_value(session: Session, account_id: str, *, now: datetime) -> list[RemainingValue]:
    """Return the account's unexpired value per kind, in spend order, with the earliest expiry.

    ``expires_at`` is the earliest expiry among the kind's lots, or None when none of them
    expires. Kinds the account does not hold are left out.
    """
    rows = session.connection().execute(_REMAINING_BY_KIND, {"account_id": account_id, "now": now})
    found = {
        ValueKind(kind): RemainingValue(kind=ValueKind(kind), amount_yen=int(total),
                                        expires_at=_iso_or_none(earliest))
        for kind, total, earliest in rows if total
    }
    return [found[kind] for kind in ledger.SPEND_ORDER if kind in found]


def remaining_for_receipt(
    session: Session, wallet_id: str, *, now: datetime
) -> list[dict[str, Any]] | None:
    """Return the wallet's remaining value as stored on a payment row, or None if it is off.

    The list holds ``RemainingValue`` objects as JSON, so the payment's wire model reads it back
    unchanged. An empty list means the wallet holds nothing; None means the holder did not allow
    receipts to show the balance.
    """
    row = session.connection().execute(_SHOWS_BALANCE, {"wallet_id": wallet_id}).first()
    if row is None or not row.show_balance_on_receipt:
        return None
    return stored_remaining(session, row.account_id, now=now)


def stored_remaining(session: Session, account_id: str, *, now: datetime) -> list[dict[str, Any]]:
    """Return the account's remaining value in the form a payment row stores it.

    The caller read the wallet's ``show_balance_on_receipt`` with the wallet's row and calls
    this only when it is on, so the setting is not read again here.
    """
    values = remaining_value(session, account_id, now=now)
    return [value.model_dump(mode="json") for value in values]


def preferences(wallet: Wallet) -> WalletPreferences:
    return WalletPreferences(show_balance_on_receipt=wallet.show_balance_on_receipt)


def set_preferences(
    session: Session, wallet: Wallet, requested: WalletPreferences
) -> WalletPreferences:
    """Store the wallet holder's choices; setting the same value again changes nothing."""
    session.connection().execute(_SET_SHOWS_BALANCE, {
        "wallet_id": wallet.id, "enabled": requested.show_balance_on_receipt,
    })
    logger.info("wallet %s: show_balance_on_receipt set to %s", wallet.id,
                requested.show_balance_on_receipt)
    return requested


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)
