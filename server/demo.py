"""Demo data: one shop with a terminal activation code and a funded wallet.

The shop also gets a fee plan of its own (``demo``) and a payout bank account, so the
terminal's cash-out screen works in the demo. The plan is assigned to the demo shop only, so a
``default`` plan loaded by the operator stays as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server import (
    bank_accounts,
    coupon_cli,
    coupons,
    donation_models,
    donations,
    fees,
    ledger,
    merchants,
    wallets,
)
from server.coupon_models import CouponCampaign
from server.db import Database
from server.models import Wallet
from server.settings import utc_now
from terminal.protocol import ValueKind

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
# The demo shop's fee plan: 300 yen a month plus 2 % of the first 100,000 yen cashed out in a
# month, 1.5 % up to 1,000,000 yen and 1 % above, at most 30,000 yen metered a month.
DEMO_FEE_PLAN_TOML = """
[plans.demo]
fixed_monthly_yen = 300
monthly_cap_yen = 30000
tiers = [
  { from_yen = 0, rate_bp = 200 },
  { from_yen = 100000, rate_bp = 150 },
  { from_yen = 1000000, rate_bp = 100 },
]
"""
DEMO_FEE_PLAN_NAME = "demo"
# 東邦銀行 会津営業部 (bank 0126, branch 401), an ordinary account with a made-up number.
DEMO_BANK_ACCOUNT = bank_accounts.BankAccountDetails(
    bank_code="0126",
    branch_code="401",
    account_type=1,
    account_number="1234567",
    holder_name="アイヅコインシヨウテン",
)
DEMO_TERMINAL_LABEL = "REGI-1"
DEMO_WALLET_BALANCE_YEN = 10_000
# Premium points in the demo wallet, so a payment shows how it was split between kinds.
DEMO_PREMIUM_LOCAL_YEN = 800
DEMO_PREMIUM_ALL_YEN = 400
DEMO_PREMIUM_DAYS = 90
DEMO_PREMIUM_ACCOUNT = "demo-premium"
DEMO_CAUSE_NAME = "会津こども食堂"
DEMO_DONATION_BP = 100  # 1 % of each payment, funded by the shop
# An operator-funded coupon for the demo shop, so the phone can show a payment code paired
# with a coupon. The seed issues one coupon to the demo wallet, and each restart on the same
# data directory issues a new one once it is used. The demo has one shop, so a use issues no
# chained coupon. The budget covers 1,000 coupons.
DEMO_COUPON_CAMPAIGN_ID = "demo-100"
DEMO_COUPON_TITLE = "デモ 100円引き"
DEMO_COUPON_ISSUER = "会津コイン運営協議会"
DEMO_COUPON_DISCOUNT_YEN = 100
DEMO_COUPON_MINIMUM_SPEND_YEN = 500
DEMO_COUPON_DAYS = 365
DEMO_COUPON_BUDGET_YEN = 100_000
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
    """Create the demo shop with its fee plan and bank account, an activation code and a wallet.

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
    fees.save_plans(session, fees.parse_plans(DEMO_FEE_PLAN_TOML), now=now)
    fees.assign_plan(session, merchant.id, DEMO_FEE_PLAN_NAME, now=now)
    bank_accounts.set_bank_account(session, merchant.id, DEMO_BANK_ACCOUNT, now=now)
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


def seed_demo_campaigns(database: Database, merchant_id: str, wallet_id: str) -> None:
    """Give the demo wallet premium points and a coupon, and the demo shop a donation campaign.

    The wallet also allows receipts to show its remaining value, so a demo receipt has the
    kind split, the remaining points with their expiry and the donation line.
    """
    now = utc_now()
    with database.write() as session:
        wallet = session.get(Wallet, wallet_id)
        if wallet is None:
            raise ValueError(f"wallet {wallet_id} does not exist")
        wallet.show_balance_on_receipt = True
        ledger.open_account(session, DEMO_PREMIUM_ACCOUNT, "campaign", now=now, is_issuing=True)
        expires_at = now + timedelta(days=DEMO_PREMIUM_DAYS)
        for kind, amount_yen in ((ValueKind.PREMIUM_LOCAL, DEMO_PREMIUM_LOCAL_YEN),
                                 (ValueKind.PREMIUM_ALL, DEMO_PREMIUM_ALL_YEN)):
            ledger.issue(session, transfer_id=f"demo-premium:{wallet_id}:{kind.value}",
                         issuer_id=DEMO_PREMIUM_ACCOUNT, destination_id=wallet.account_id,
                         amount_yen=amount_yen, now=now, kind=kind, expires_at=expires_at)
        cause = donations.create_cause(session, DEMO_CAUSE_NAME, now=now)
        donations.create_campaign(session, donations.NewCampaign(
            cause_id=cause.id, name="demo", starts_at=now, ends_at=now + timedelta(days=365),
            funder=donation_models.FUNDER_MERCHANT, share_bp=DEMO_DONATION_BP,
            merchant_ids=(merchant_id,),
        ), now=now)
        _seed_coupon(session, merchant_id, wallet_id, now)
    logger.info("demo campaigns seeded: premium points and a coupon for wallet %s, donations at"
                " merchant %s", wallet_id, merchant_id)


def _seed_coupon(session: Session, merchant_id: str, wallet_id: str, now: datetime) -> None:
    """Create the operator's 100-yen coupon campaign for the demo shop and issue one coupon.

    Only the demo wallet gets it: ``seed_demo`` also creates a wallet the demo windows do not
    use, so issuing to the campaign's whole audience would spend budget on it.
    """
    starts = now.replace(microsecond=0)
    spec = coupon_cli.CampaignSpec(
        id=DEMO_COUPON_CAMPAIGN_ID, title=DEMO_COUPON_TITLE, issuer_merchant=None,
        issuer_name=DEMO_COUPON_ISSUER, discount_kind="yen",
        discount_value=DEMO_COUPON_DISCOUNT_YEN, max_discount_yen=0,
        minimum_spend_yen=DEMO_COUPON_MINIMUM_SPEND_YEN, starts=starts,
        ends=starts + timedelta(days=DEMO_COUPON_DAYS), valid_days=DEMO_COUPON_DAYS,
        budget_yen=DEMO_COUPON_BUDGET_YEN, shops=(merchant_id,), chain_group=None,
        audience_resident=None,
    )
    campaign = coupon_cli.create_campaign(session, spec, now=now)
    coupon = coupons.issue_coupon(session, campaign, wallet_id, [merchant_id],
                                  issued_for=coupons.ISSUED_FOR_AUDIENCE, now=now)
    if coupon is None:
        raise ValueError(f"the demo coupon budget of {DEMO_COUPON_BUDGET_YEN} yen cannot cover"
                         f" one coupon of {DEMO_COUPON_DISCOUNT_YEN} yen")


def renew_demo_coupon(database: Database, wallet_id: str) -> bool:
    """Issue the wallet a new demo coupon when it has no usable one; return whether one was issued.

    A demo restarted on its data directory keeps its database, so without a new coupon the
    phone would have none to show once the first is used. A database seeded before the demo
    had a coupon campaign has no campaign to issue from and gets none.
    """
    now = utc_now()
    with database.write() as session:
        campaign = session.scalars(
            select(CouponCampaign).where(CouponCampaign.id == DEMO_COUPON_CAMPAIGN_ID)
            .with_for_update()
        ).one_or_none()
        if campaign is None or not coupons.is_open(campaign, now):
            return False
        listed = coupons.wallet_coupons(session, wallet_id, now).coupons
        if any(coupon.campaign_id == campaign.id and coupon.status == "usable" for coupon in listed):
            return False
        shops = coupons.campaign_shops(session, campaign.id)
        issued = coupons.issue_coupon(session, campaign, wallet_id, shops,
                                      issued_for=coupons.ISSUED_FOR_AUDIENCE, now=now)
    return issued is not None
