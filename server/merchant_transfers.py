"""Payments in coin from one merchant to another, such as a shop paying its supplier.

The payer's terminal sends the recipient's merchant id, the amount and an idempotency key.
The ledger moves the amount from the payer's account to the recipient's, spending the payer's
oldest lots first, expired premium points included (value never expires in a merchant's
hands, see ``ledger.pay_held``). The recipient receives the lots with their kinds and expiries.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import ledger, payments, tokens
from server.errors import IdempotencyConflict, InsufficientFunds, invalid, not_found, shorten
from server.models import Merchant, MerchantTransferRow, Terminal
from server.settings import Settings, iso_utc
from terminal import protocol

logger = logging.getLogger(__name__)


def pay_merchant(
    session: Session, terminal: Terminal, request: protocol.MerchantTransferCreate,
    settings: Settings,
) -> MerchantTransferRow:
    """Pay another merchant; the same idempotency key again returns the first transfer."""
    payments.check_amount(request.amount_yen, settings)
    payer = session.get(Merchant, terminal.merchant_id)
    assert payer is not None, "terminals reference their merchant by foreign key"
    recipient = session.get(Merchant, request.recipient_merchant_id)
    if recipient is None:
        raise not_found(f"recipient_merchant_id {shorten(request.recipient_merchant_id)!r} is"
                        " not a merchant; check the id on the recipient's statement or terminal")
    if recipient.id == payer.id:
        raise invalid(f"recipient_merchant_id {recipient.id} is this shop itself; choose"
                      " another merchant")

    existing = _find(session, payer.id, request.idempotency_key)
    if existing is not None:
        _check_same(existing, request)
        return existing

    transfer_id = f"mtransfer:{payer.id}:{request.idempotency_key}"
    now = settings.clock()
    try:
        ledger.pay_held(session, transfer_id=transfer_id, source_id=payer.account_id,
                        destination_id=recipient.account_id, amount_yen=request.amount_yen,
                        now=now)
    except InsufficientFunds:
        balance_yen = sum(ledger.held_balance(session, payer.account_id).values())
        raise InsufficientFunds(
            f"transfer of {request.amount_yen} yen exceeds the balance of {balance_yen} yen;"
            f" send at most {balance_yen} yen"
        ) from None
    row = MerchantTransferRow(
        id=tokens.new_id("mt"), merchant_id=payer.id, recipient_merchant_id=recipient.id,
        terminal_id=terminal.id, idempotency_key=request.idempotency_key,
        transfer_id=transfer_id, amount_yen=request.amount_yen, note=request.note,
        created_at=now,
    )
    session.add(row)
    session.flush()
    logger.info("merchant transfer %s: %d yen from merchant %s to merchant %s", row.id,
                request.amount_yen, payer.id, recipient.id)
    return row


def transfer_model(session: Session, row: MerchantTransferRow) -> protocol.MerchantTransfer:
    recipient = session.get(Merchant, row.recipient_merchant_id)
    payer = session.get(Merchant, row.merchant_id)
    assert recipient is not None and payer is not None
    balance_yen = sum(ledger.held_balance(session, payer.account_id).values())
    return protocol.MerchantTransfer(
        transfer_id=row.id, merchant_id=row.merchant_id,
        recipient_merchant_id=row.recipient_merchant_id, recipient_name=recipient.name,
        amount_yen=row.amount_yen, note=row.note, created_at=iso_utc(row.created_at),
        balance_yen=balance_yen,
    )


def _find(session: Session, merchant_id: str, idempotency_key: str) -> MerchantTransferRow | None:
    return session.scalars(
        select(MerchantTransferRow).where(MerchantTransferRow.merchant_id == merchant_id,
                                          MerchantTransferRow.idempotency_key == idempotency_key)
    ).one_or_none()


def _check_same(existing: MerchantTransferRow, request: protocol.MerchantTransferCreate) -> None:
    if (existing.recipient_merchant_id, existing.amount_yen, existing.note) == (
            request.recipient_merchant_id, request.amount_yen, request.note):
        return
    raise IdempotencyConflict(
        f"idempotency_key {request.idempotency_key} already paid {existing.amount_yen} yen to"
        f" merchant {existing.recipient_merchant_id} (transfer {existing.id}); repeat the first"
        " request unchanged, or use a new key for a new transfer"
    )
