"""The demo's coupon: one usable coupon for the demo wallet at the demo shop."""

from __future__ import annotations

from sqlalchemy import select

from server import coupons, ledger, wallets
from server.coupon_models import Coupon, CouponCampaign
from server.db import Database
from server.demo import (
    DEMO_COUPON_BUDGET_YEN,
    DEMO_COUPON_CAMPAIGN_ID,
    DEMO_COUPON_TITLE,
    DEMO_MERCHANT,
    renew_demo_coupon,
    seed_demo,
    seed_demo_campaigns,
)
from server.settings import utc_now
from terminal import coupon_code


def test_demo_wallet_gets_one_usable_coupon(database: Database) -> None:
    seed = seed_demo(database)
    with database.write() as session:
        demo_wallet = wallets.create_wallet(session, now=utc_now())

    seed_demo_campaigns(database, seed.merchant_id, demo_wallet.wallet_id)

    with database.read() as session:
        listed = coupons.wallet_coupons(session, demo_wallet.wallet_id, utc_now()).coupons
        other = coupons.wallet_coupons(session, seed.wallet_id, utc_now()).coupons
        campaign_balance = ledger.balance(
            session, coupons.campaign_account_id(DEMO_COUPON_CAMPAIGN_ID), now=utc_now()
        )
        ledger.verify_ledger(session)
    [coupon] = listed
    assert coupon.status == "usable"
    assert coupon.title == DEMO_COUPON_TITLE
    assert coupon.discount == "100 yen"
    assert coupon.minimum_spend_yen == 500
    assert coupon.shops == [DEMO_MERCHANT.name]
    assert other == []
    assert sum(campaign_balance.values()) == DEMO_COUPON_BUDGET_YEN


def test_demo_coupon_code_names_shop_and_wallet(database: Database) -> None:
    seed = seed_demo(database)

    seed_demo_campaigns(database, seed.merchant_id, seed.wallet_id)

    with database.read() as session:
        [coupon] = coupons.wallet_coupons(session, seed.wallet_id, utc_now()).coupons
    code = coupon_code.parse_coupon_code(coupon.code)
    assert code.merchant_ids == (seed.merchant_id,)
    assert code.wallet_id == seed.wallet_id
    assert coupon_code.discount_yen(code, 500) == 100
    assert coupon_code.discount_yen(code, 499) == 0


def test_renew_keeps_usable_coupon(database: Database) -> None:
    seed = seed_demo(database)
    seed_demo_campaigns(database, seed.merchant_id, seed.wallet_id)

    renewed = renew_demo_coupon(database, seed.wallet_id)

    with database.read() as session:
        listed = coupons.wallet_coupons(session, seed.wallet_id, utc_now()).coupons
    assert renewed is False
    assert len(listed) == 1


def test_renew_replaces_unusable_coupon(database: Database) -> None:
    seed = seed_demo(database)
    seed_demo_campaigns(database, seed.merchant_id, seed.wallet_id)
    with database.write() as session:
        [coupon] = session.scalars(select(Coupon)).all()
        coupon.withdrawn_at = utc_now()

    renewed = renew_demo_coupon(database, seed.wallet_id)

    with database.read() as session:
        statuses = sorted(c.status for c in
                          coupons.wallet_coupons(session, seed.wallet_id, utc_now()).coupons)
        campaign = session.get(CouponCampaign, DEMO_COUPON_CAMPAIGN_ID)
        assert campaign is not None
        committed_yen = campaign.committed_yen
    assert renewed is True
    assert statuses == ["usable", "withdrawn"]
    assert committed_yen == 200


def test_renew_without_campaign_issues_nothing(database: Database) -> None:
    seed = seed_demo(database)

    renewed = renew_demo_coupon(database, seed.wallet_id)

    with database.read() as session:
        listed = coupons.wallet_coupons(session, seed.wallet_id, utc_now()).coupons
    assert renewed is False
    assert listed == []
