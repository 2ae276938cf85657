"""Coupon campaigns: budget, audience, chaining, prize draws and refunds of coupon payments."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from settle_helpers import Server, TerminalClient, WalletClient
from sqlalchemy import select
from test_coupon_flows import (
    coupons_of,
    issue,
    make_campaign,
    pay_cpm,
    usable_code,
    wallet_coupons,
)

from server import coupon_cli, coupons, lottery
from server.coupon_models import (
    Coupon,
    CouponCampaign,
    CouponPrizeDraw,
    CouponPrizeEntry,
    CouponUseRow,
)
from server.errors import ServerError
from server.models import Wallet
from terminal import coupon_code


def campaign_row(server: Server, campaign_id: str = "aki") -> CouponCampaign:
    with server.state.db.read() as session:
        row = session.get(CouponCampaign, campaign_id)
    assert row is not None
    return row


def set_attributes(server: Server, wallet: WalletClient, *, resident: bool,
                   **attributes: str) -> None:
    with server.state.db.write() as session:
        row = session.get(Wallet, wallet.wallet_id)
        assert row is not None
        row.is_resident = resident
        row.attributes = dict(attributes)


def refund(terminal: TerminalClient, payment_id: str, amount_yen: int,
           key: str) -> httpx.Response:
    return terminal.post(f"/v1/payments/{payment_id}/refunds",
                         {"amount_yen": amount_yen, "idempotency_key": key})


# --- budget --------------------------------------------------------------------------------


def test_operator_campaign_funded_from_issuance(server: Server) -> None:
    terminal = server.new_terminal()

    make_campaign(server, [terminal.merchant_id], budget_yen=5_000)

    assert server.merchant_balance_yen("coupons:aki") == 5_000
    with server.state.db.write() as session:
        returned = coupon_cli.close_campaign(session, "aki", server.settings)
    assert returned == 5_000
    assert server.merchant_balance_yen("coupons:aki") == 0


def test_budget_stops_issuing(server: Server) -> None:
    terminal = server.new_terminal()
    wallets = [server.new_wallet() for _ in range(4)]
    make_campaign(server, [terminal.merchant_id], budget_yen=250)

    report = issue(server)

    assert report.issued == 2
    assert report.left_for_budget == 2
    assert campaign_row(server).committed_yen == 200
    assert sum(len(wallet_coupons(wallet)) for wallet in wallets) == 2


def test_budget_frees_unspent_percent_reservation(server: Server) -> None:
    terminal = server.new_terminal()
    wallets = [server.new_wallet(5_000) for _ in range(3)]
    make_campaign(server, [terminal.merchant_id], discount_percent=10, max_discount_yen=500,
                  budget_yen=1_200)
    assert issue(server).issued == 2
    holder = next(wallet for wallet in wallets if wallet_coupons(wallet))

    paid = pay_cpm(terminal, holder, usable_code(holder), 2_000, 200)
    second = issue(server)

    assert paid.status_code == 200, paid.text
    assert second.issued == 1
    assert campaign_row(server).committed_yen == 200 + 500 + 500
    assert all(len(wallet_coupons(wallet)) == 1 for wallet in wallets)


def test_budget_released_after_expiry_grace(server: Server) -> None:
    terminal = server.new_terminal()
    first = server.new_wallet()
    make_campaign(server, [terminal.merchant_id], budget_yen=100, valid_days=1)
    issue(server)
    second = server.new_wallet()
    assert issue(server).left_for_budget == 1

    grace = coupons.release_grace(server.settings.offline_max_age_s,
                                  server.settings.offline_certificate_validity_s)
    server.clock.advance(86_400 + grace.total_seconds())
    report = issue(server)

    assert report.issued == 1
    assert wallet_coupons(first)[0]["status"] == "expired"
    assert wallet_coupons(second)[0]["status"] == "usable"
    assert campaign_row(server).committed_yen == 100


def test_use_never_exceeds_budget(server: Server) -> None:
    terminal = server.new_terminal()
    wallets = [server.new_wallet(3_000) for _ in range(3)]
    make_campaign(server, [terminal.merchant_id], discount_percent=50, max_discount_yen=300,
                  budget_yen=900)
    issue(server)

    for wallet in wallets:
        assert pay_cpm(terminal, wallet, usable_code(wallet), 3_000, 300).status_code == 200

    assert campaign_row(server).committed_yen == 900
    assert server.merchant_balance_yen("coupons:aki") == 0
    assert server.merchant_balance_yen(terminal.merchant_id) == 3 * 3_000


# --- audience ------------------------------------------------------------------------------


def test_audience_selects_by_residency_and_attributes(server: Server) -> None:
    terminal = server.new_terminal()
    match = server.new_wallet()
    other_area = server.new_wallet()
    not_resident = server.new_wallet()
    set_attributes(server, match, resident=True, area="wakamatsu", age_band="60s")
    set_attributes(server, other_area, resident=True, area="kokura")
    set_attributes(server, not_resident, resident=False, area="wakamatsu")
    make_campaign(server, [terminal.merchant_id],
                  audience={"resident": True, "attributes": {"area": ["wakamatsu", "tobata"]}})

    report = issue(server)
    again = issue(server)

    assert report.issued == 1
    assert report.not_in_audience == 2
    assert [len(wallet_coupons(w)) for w in (match, other_area, not_resident)] == [1, 0, 0]
    assert again.issued == 0
    assert again.already_held == 1


def test_issue_order_is_fixed_hash_order(server: Server) -> None:
    terminal = server.new_terminal()
    wallets = [server.new_wallet() for _ in range(5)]
    make_campaign(server, [terminal.merchant_id], budget_yen=200)

    issue(server)

    expected = sorted(wallets, key=lambda w: coupons.audience_order_key("aki", w.wallet_id))[:2]
    holders = [wallet for wallet in wallets if wallet_coupons(wallet)]
    assert {w.wallet_id for w in holders} == {w.wallet_id for w in expected}


# --- chaining and prize entries ------------------------------------------------------------


def chain_of_three(server: Server) -> list[TerminalClient]:
    shops = [server.new_terminal() for _ in range(3)]
    for index, shop in enumerate(shops):
        make_campaign(server, [shop.merchant_id], id=f"street-{index}", chain_group="street",
                      title=f"商店街{index}")
    return shops


def test_chain_use_issues_coupon_at_other_shop(server: Server) -> None:
    shops = chain_of_three(server)
    wallet = server.new_wallet(2_000)
    issue(server, "street-0")

    paid = pay_cpm(shops[0], wallet, usable_code(wallet, "street-0"), 1_000, 100)

    assert paid.status_code == 200, paid.text
    next_coupon = paid.json()["coupon"]["next_coupon"]
    assert next_coupon is not None
    chained = [c for c in coupons_of(server, wallet.wallet_id) if c.issued_for == "chain"]
    assert len(chained) == 1
    assert chained[0].merchant_ids != [shops[0].merchant_id]
    assert chained[0].merchant_ids[0] in {shops[1].merchant_id, shops[2].merchant_id}
    assert next_coupon["title"] == campaign_row(server, chained[0].campaign_id).title


def test_chain_spreads_customers_over_shops(server: Server) -> None:
    shops = chain_of_three(server)
    wallets = [server.new_wallet(2_000) for _ in range(4)]
    issue(server, "street-0")

    for wallet in wallets:
        assert pay_cpm(shops[0], wallet, usable_code(wallet, "street-0"), 500, 100
                       ).status_code == 200

    with server.state.db.read() as session:
        chained = list(session.scalars(select(Coupon).where(Coupon.issued_for == "chain")))
    shops_sent = sorted(coupon.merchant_ids[0] for coupon in chained)
    assert len(chained) == 4
    assert shops_sent.count(shops[1].merchant_id) == 2
    assert shops_sent.count(shops[2].merchant_id) == 2


def test_chain_next_coupon_usable_and_chains_on(server: Server) -> None:
    shops = chain_of_three(server)
    wallet = server.new_wallet(3_000)
    issue(server, "street-0")
    pay_cpm(shops[0], wallet, usable_code(wallet, "street-0"), 500, 100)
    chained = [c for c in coupons_of(server, wallet.wallet_id) if c.issued_for == "chain"][0]
    shop = next(s for s in shops if s.merchant_id == chained.merchant_ids[0])

    paid = pay_cpm(shop, wallet, chained.code, 500, 100)

    assert paid.status_code == 200, paid.text
    third = [c for c in coupons_of(server, wallet.wallet_id) if c.chained_from == chained.id]
    assert len(third) == 1
    assert third[0].merchant_ids[0] != shop.merchant_id


def test_chain_skips_campaign_outside_audience(server: Server) -> None:
    first, second = server.new_terminal(), server.new_terminal()
    make_campaign(server, [first.merchant_id], id="open", chain_group="g")
    make_campaign(server, [second.merchant_id], id="residents", chain_group="g",
                  audience={"resident": True})
    wallet = server.new_wallet(1_000)
    issue(server, "open")

    paid = pay_cpm(first, wallet, usable_code(wallet, "open"), 500, 100)

    assert paid.status_code == 200
    assert paid.json()["coupon"]["next_coupon"] is None


def test_use_adds_prize_entry(server: Server) -> None:
    shops = chain_of_three(server)
    wallet = server.new_wallet(2_000)
    issue(server, "street-0")

    pay_cpm(shops[0], wallet, usable_code(wallet, "street-0"), 500, 100)

    with server.state.db.read() as session:
        entries = coupons.prize_entries(session, "street-0")
    assert entries == {wallet.wallet_id: 1}


def test_prize_commit_after_close_rejected(server: Server) -> None:
    chain_of_three(server)
    with server.state.db.write() as session:
        coupon_cli.close_campaign(session, "street-0", server.settings)

    with server.state.db.write() as session, pytest.raises(ServerError, match="closed at"):
        coupon_cli.commit_prize_draw(session, "street-0", 2, server.clock())

    with server.state.db.read() as session:
        assert session.get(CouponPrizeDraw, "street-0") is None


def test_prize_draw_commit_draw_publish(server: Server, tmp_path: Path) -> None:
    shops = chain_of_three(server)
    wallets = [server.new_wallet(2_000) for _ in range(3)]
    issue(server, "street-0")
    with server.state.db.write() as session:
        prize = coupon_cli.commit_prize_draw(session, "street-0", 2, server.clock())
    commitment = prize.commitment
    for wallet in wallets:
        pay_cpm(shops[0], wallet, usable_code(wallet, "street-0"), 500, 100)

    with server.state.db.write() as session, pytest.raises(ServerError, match="close"):
        coupon_cli.run_prize_draw(session, "street-0", server.clock(), seed=prize.seed)
    with server.state.db.write() as session:
        coupon_cli.close_campaign(session, "street-0", server.settings)
    with server.state.db.write() as session:
        winners = coupon_cli.run_prize_draw(session, "street-0", server.clock(), seed=prize.seed)
    with server.state.db.write() as session:
        record = coupon_cli.publish_prize_draw(session, "street-0", server.clock())

    assert len(winners) == 2
    assert record["commitment"] == commitment
    assert record["candidates"] == {wallet.wallet_id: 1 for wallet in wallets}
    check = lottery.verify(record["seed"], commitment, record["candidates"], winners)
    assert check.ok, check.problem
    assert json.loads(json.dumps(record, ensure_ascii=False))["winners"] == winners


# --- refunds -------------------------------------------------------------------------------


def test_partial_refund_returns_discount_share(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1_000)
    make_campaign(server, [terminal.merchant_id], discount_yen=300)
    issue(server)
    paid = pay_cpm(terminal, wallet, usable_code(wallet), 1_000, 300).json()

    first = refund(terminal, paid["payment_id"], 350, "refund-0001")
    after_first = server.merchant_balance_yen(terminal.merchant_id)
    second = refund(terminal, paid["payment_id"], 350, "refund-0002")

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    assert after_first == 1_000 - 350 - 150
    assert wallet.balance_yen() == 1_000
    assert server.merchant_balance_yen(terminal.merchant_id) == 0
    assert _use(server, paid["payment_id"]).returned_yen == 300
    assert campaign_row(server).committed_yen == 0


def test_refund_never_returns_more_than_paid(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1_000)
    make_campaign(server, [terminal.merchant_id], discount_yen=300)
    issue(server)
    paid = pay_cpm(terminal, wallet, usable_code(wallet), 1_000, 300).json()

    response = refund(terminal, paid["payment_id"], 701, "refund-0003")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "refund_exceeds_payment"
    assert wallet.balance_yen() == 300


def test_refund_uneven_share_rounds_down_then_completes(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1_000)
    make_campaign(server, [terminal.merchant_id], discount_yen=100)
    issue(server)
    paid = pay_cpm(terminal, wallet, usable_code(wallet), 400, 100).json()

    refund(terminal, paid["payment_id"], 1, "refund-0004")
    share_after_one = _use(server, paid["payment_id"]).returned_yen
    refund(terminal, paid["payment_id"], 299, "refund-0005")

    assert share_after_one == 0
    assert _use(server, paid["payment_id"]).returned_yen == 100
    assert server.merchant_balance_yen(terminal.merchant_id) == 0


def test_merchant_campaign_refund_returns_to_campaign(server: Server) -> None:
    terminal = server.new_terminal()
    funder = server.new_wallet(2_000)
    pay_cpm_plain = terminal.post("/v1/payments/cpm", {
        "code": funder.post("/v1/wallet/payment-codes").json()["code"], "amount_yen": 2_000,
        "idempotency_key": "sale-funding-01",
    })
    assert pay_cpm_plain.status_code == 200
    make_campaign(server, [terminal.merchant_id], issuer_merchant=terminal.merchant_id,
                  budget_yen=1_000, discount_yen=200)
    wallet = server.new_wallet(1_000)
    issue(server)
    paid = pay_cpm(terminal, wallet, usable_code(wallet), 1_000, 200).json()

    refund(terminal, paid["payment_id"], 800, "refund-0006")

    assert server.merchant_balance_yen("coupons:aki") == 1_000
    assert wallet.balance_yen() == 1_000


def _use(server: Server, payment_id: str) -> CouponUseRow:
    with server.state.db.read() as session:
        row = session.scalars(
            select(CouponUseRow).where(CouponUseRow.payment_id == payment_id)
        ).one()
    return row


def test_prize_entries_count_per_use(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1_000)
    make_campaign(server, [terminal.merchant_id])
    issue(server)
    pay_cpm(terminal, wallet, usable_code(wallet), 500, 100)

    with server.state.db.read() as session:
        rows = list(session.scalars(select(CouponPrizeEntry)))
    assert [(row.campaign_id, row.wallet_id) for row in rows] == [("aki", wallet.wallet_id)]
    assert coupon_code.parse_coupon_code(
        coupons_of(server, wallet.wallet_id)[0].code).coupon_id == rows[0].coupon_id
