"""Coupons used in offline payments: first use at sync wins, a second use is declined."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from offline_helpers import offline_entry, offline_wallet, send_batch
from settle_helpers import Server, TerminalClient
from sqlalchemy import func, select
from test_coupon_flows import issue, make_campaign, usable_code

from server import ledger
from server.coupon_models import CouponDecline, CouponUseRow


def coupon_entry(code: str, coupon: str, total_yen: int, discount_yen: int,
                 captured_at: Any) -> dict[str, Any]:
    entry = offline_entry(code, total_yen - discount_yen, captured_at)
    entry["coupon"] = {"code": coupon, "total_yen": total_yen, "discount_yen": discount_yen}
    return entry


def two_shops(server: Server) -> tuple[TerminalClient, TerminalClient]:
    first, second = server.new_terminal(), server.new_terminal()
    make_campaign(server, [first.merchant_id, second.merchant_id])
    return first, second


def test_offline_coupon_twice_pays_one_discount(server: Server) -> None:
    first, second = two_shops(server)
    holder = offline_wallet(server, 5_000, 3_000)
    issue(server)
    coupon = usable_code(holder.wallet)
    captured_at = server.clock()
    entry_a = coupon_entry(holder.code(captured_at), coupon, 1_000, 100, captured_at)
    entry_b = coupon_entry(holder.code(captured_at), coupon, 1_000, 100, captured_at)

    result_a = send_batch(first, [entry_a])[0]
    result_b = send_batch(second, [entry_b])[0]

    assert result_a["status"] == "applied"
    assert result_a["coupon_declined"] is None
    assert result_b["status"] == "applied"
    assert result_b["coupon_declined"]["reason"] == "coupon_used"
    assert result_b["coupon_declined"]["missing_yen"] == 100
    assert server.merchant_balance_yen(first.merchant_id) == 1_000
    assert server.merchant_balance_yen(second.merchant_id) == 900
    assert holder.wallet.balance_yen() == 5_000 - 3_000
    assert server.merchant_balance_yen(f"offline:{holder.wallet.wallet_id}") == 3_000 - 1_800
    assert server.merchant_balance_yen("coupons:aki") == 10_000 - 100
    assert _count(server, CouponUseRow) == 1
    with server.state.db.read() as session:
        assert ledger.verify_ledger(session).problems == []


def test_offline_decline_listed_for_shop(server: Server) -> None:
    first, second = two_shops(server)
    holder = offline_wallet(server, 5_000, 3_000)
    issue(server)
    coupon = usable_code(holder.wallet)
    now = server.clock()
    send_batch(first, [coupon_entry(holder.code(now), coupon, 800, 100, now)])
    entry = coupon_entry(holder.code(now), coupon, 800, 100, now)
    result = send_batch(second, [entry])[0]

    listed = second.get("/v1/coupons/declined")
    repeated = send_batch(second, [entry])[0]

    assert listed.status_code == 200
    declines = listed.json()["declines"]
    assert len(declines) == 1
    assert declines[0]["payment_id"] == result["payment_id"]
    assert declines[0]["missing_yen"] == 100
    assert declines[0]["total_yen"] == 800
    assert declines[0]["reason"] == "coupon_used"
    assert first.get("/v1/coupons/declined").json()["declines"] == []
    assert repeated["status"] == "duplicate"
    assert repeated["coupon_declined"]["missing_yen"] == 100
    assert _count(server, CouponDecline) == 1


def test_offline_coupon_synced_after_expiry_applies(server: Server) -> None:
    first, _second = two_shops(server)
    holder = offline_wallet(server, 5_000, 3_000)
    make_campaign(server, [first.merchant_id], id="short", valid_days=1)
    issue(server, "short")
    coupon = usable_code(holder.wallet, "short")
    captured_at = server.clock() + timedelta(hours=20)
    entry = coupon_entry(holder.code(captured_at), coupon, 1_000, 100, captured_at)
    server.clock.advance(30 * 3_600)

    result = send_batch(first, [entry], device_time=server.clock())[0]

    assert result["status"] == "applied"
    assert result["coupon_declined"] is None
    assert server.merchant_balance_yen(first.merchant_id) == 1_000


def test_offline_coupon_of_other_wallet_declined(server: Server) -> None:
    first, _second = two_shops(server)
    owner = server.new_wallet()
    payer = offline_wallet(server, 5_000, 3_000)
    issue(server)
    coupon = usable_code(owner, "aki")
    now = server.clock()

    result = send_batch(first, [coupon_entry(payer.code(now), coupon, 1_000, 100, now)])[0]

    assert result["status"] == "applied"
    assert result["coupon_declined"]["reason"] == "coupon_wrong_wallet"
    assert server.merchant_balance_yen(first.merchant_id) == 900
    assert _count(server, CouponUseRow) == 0


def _count(server: Server, model: Any) -> int:
    with server.state.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
