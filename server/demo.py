"""Demo data: one shop with a terminal activation code and a funded wallet."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server import merchants, wallets
from server.db import Database
from server.settings import utc_now

logger = logging.getLogger(__name__)

DEMO_MERCHANT = merchants.NewMerchant(
    name="会津コイン商店",
    name_ascii="AIZU COIN SHOTEN",
    city_ascii="AIZUWAKAMATSU",
    address="福島県会津若松市中央1-2-3",
    phone="0242-00-1234",
    # A made-up corporate number whose check digit is valid (1 for base 380001002345).
    invoice_registration_number="T1380001002345",
    merchant_category_code="5499",
)
DEMO_TERMINAL_LABEL = "REGI-1"
DEMO_WALLET_BALANCE_YEN = 10_000
# Long enough for a demo session that is left running for days.
DEMO_ACTIVATION_TTL_S = 30 * 24 * 3600


@dataclass(frozen=True)
class DemoSeed:
    merchant_id: str
    terminal_id: str
    activation_code: str
    wallet_id: str
    wallet_token: str
    wallet_balance_yen: int


def seed_demo(
    target: Session | Engine | Database, *, wallet_balance_yen: int = DEMO_WALLET_BALANCE_YEN
) -> DemoSeed:
    """Create the demo shop, a terminal activation code and a wallet holding coin.

    A ``Session`` is used as it is and left for the caller to commit; an ``Engine`` or
    ``Database`` gets its own committed transaction.
    """
    if isinstance(target, Session):
        return _seed(target, wallet_balance_yen)
    database = target if isinstance(target, Database) else Database(target)
    with database.write() as session:
        return _seed(session, wallet_balance_yen)


def _seed(session: Session, wallet_balance_yen: int) -> DemoSeed:
    now = utc_now()
    merchant = merchants.create_merchant(session, DEMO_MERCHANT, now=now)
    activation = merchants.issue_activation(
        session, merchant.id, DEMO_TERMINAL_LABEL, now=now, ttl_s=DEMO_ACTIVATION_TTL_S
    )
    wallet = wallets.create_wallet(session, now=now)
    wallet_row = wallets.get_wallet(session, wallet.wallet_id)
    if wallet_balance_yen > 0:
        wallets.top_up(session, wallet_row, wallet_balance_yen, "demo-seed", now=now)
    logger.info("demo data seeded: merchant %s, terminal %s, wallet %s", merchant.id,
                activation.terminal_id, wallet.wallet_id)
    return DemoSeed(
        merchant_id=merchant.id,
        terminal_id=activation.terminal_id,
        activation_code=activation.activation_code,
        wallet_id=wallet.wallet_id,
        wallet_token=wallet.token,
        wallet_balance_yen=wallet_balance_yen,
    )
