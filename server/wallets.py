"""Wallets: bearer-token holders of a ledger account, their top-ups and payment codes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import ledger, tokens
from server.errors import IdempotencyConflict, ServerError
from server.models import ISSUANCE_ACCOUNT_ID, PaymentCodeRow, Wallet
from server.settings import iso_utc
from terminal import paycode, protocol
from terminal.protocol import ErrorCode

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewWallet:
    wallet_id: str
    token: str


def create_wallet(session: Session, *, now: datetime) -> NewWallet:
    """Create a wallet and its account; the token is returned once and stored only as a hash."""
    wallet_id = tokens.new_id("w")
    token = tokens.new_secret_token()
    ledger.open_account(session, wallet_id, "wallet", now=now)
    session.add(Wallet(id=wallet_id, account_id=wallet_id, token_hash=tokens.sha256_hex(token),
                       created_at=now))
    session.flush()
    logger.info("wallet %s created", wallet_id)
    return NewWallet(wallet_id=wallet_id, token=token)


def wallet_for_token(session: Session, token: str) -> Wallet | None:
    query = select(Wallet).where(Wallet.token_hash == tokens.sha256_hex(token))
    return session.scalars(query).one_or_none()


def get_wallet(session: Session, wallet_id: str) -> Wallet:
    wallet = session.get(Wallet, wallet_id)
    if wallet is None:
        raise ServerError(ErrorCode.NOT_FOUND, f"wallet {wallet_id} does not exist")
    return wallet


def wallet_balance(session: Session, wallet: Wallet, *, now: datetime) -> protocol.Balance:
    kinds = ledger.balance(session, wallet.account_id, now=now)
    return protocol.Balance(wallet_id=wallet.id, total_yen=sum(kinds.values()), kinds=kinds)


def top_up(
    session: Session, wallet: Wallet, amount_yen: int, idempotency_key: str, *, now: datetime
) -> protocol.Balance:
    """Issue ``amount_yen`` of coin from the issuance account into the wallet."""
    try:
        ledger.issue(
            session,
            transfer_id=f"topup:{wallet.id}:{idempotency_key}",
            issuer_id=ISSUANCE_ACCOUNT_ID,
            destination_id=wallet.account_id,
            amount_yen=amount_yen,
            now=now,
        )
    except IdempotencyConflict as exc:
        logger.info("top-up of wallet %s rejected: %s", wallet.id, exc.message)
        raise IdempotencyConflict(
            f"idempotency_key {idempotency_key} was already used for a top-up of a different"
            " amount; repeat the first request unchanged, or use a new key for a new top-up"
        ) from None
    return wallet_balance(session, wallet, now=now)


def create_payment_code(
    session: Session, wallet: Wallet, *, now: datetime, ttl_s: int
) -> protocol.PaymentCode:
    """Make a one-time consumer-presented code valid for ``ttl_s`` seconds."""
    code = paycode.new_payment_code()
    expires_at = now + timedelta(seconds=ttl_s)
    session.add(PaymentCodeRow(code_hash=tokens.sha256_hex(code), wallet_id=wallet.id,
                               created_at=now, expires_at=expires_at))
    session.flush()
    logger.info("payment code %s issued to wallet %s", paycode.mask_payment_code(code), wallet.id)
    return protocol.PaymentCode(code=code, expires_at=iso_utc(expires_at))
