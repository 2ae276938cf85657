"""Premium point sales through the wallet API: applications, limits, purchases and expiry."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from settle_helpers import Server, WalletClient
from sqlalchemy import func, select

from server import ledger, premium
from server.models import Lot, Transfer, Wallet
from server.premium import SaleConfig
from terminal.protocol import ValueKind

DAY_S = 24 * 3600
SALE = "2026-summer"
# The seeds commit_seeds returned, by database URL: what the operator's seed file holds.
SEEDS: dict[str, dict[int, str]] = {}


def make_sale(server: Server, **changes: Any) -> str:
    """Create a sale whose applications open now (apply 10 days, buy from day 12 to day 20)
    and commit its lottery seeds."""
    now = server.clock()
    values: dict[str, Any] = dict(
        sale_id=SALE, name="若松プレミアム商品券", apply_from=now,
        apply_until=now + timedelta(days=10), purchase_from=now + timedelta(days=12),
        purchase_until=now + timedelta(days=20), usage_until=now + timedelta(days=100),
        price_yen=10_000, local_yen=6_250, all_yen=6_250, total_sets=100,
        per_person_max_sets=5, household_max_people=4, household_max_sets=8,
        residents_only=True)
    values.update(changes)
    with server.state.db.write() as session:
        sale = premium.create_sale(session, SaleConfig(**values), now=now)
        seeds = premium.commit_seeds(session, sale.id, now=now)
        SEEDS[server.settings.database_url] = {item.round: item.seed for item in seeds}
        return sale.id


def resident(server: Server, household: str | None = None, balance_yen: int = 0,
             is_resident: bool = True) -> WalletClient:
    wallet = server.new_wallet(balance_yen)
    with server.state.db.write() as session:
        row = session.get(Wallet, wallet.wallet_id)
        assert row is not None
        row.is_resident = is_resident
        row.household_id = household
    return wallet


def apply(wallet: WalletClient, sets: int, for_wallet: str | None = None,
          key: str | None = None, sale: str = SALE) -> Any:
    body: dict[str, Any] = {"sets": sets, "idempotency_key": key or uuid.uuid4().hex}
    if for_wallet is not None:
        body["for_wallet_id"] = for_wallet
    return wallet.post(f"/v1/premium/sales/{sale}/applications", body)


def draw_round(server: Server, round_number: int = 1) -> None:
    with server.state.db.write() as session:
        seed = SEEDS[server.settings.database_url][round_number]
        premium.draw(session, SALE, round_number, seed=seed, now=server.clock())


def kinds(wallet: WalletClient) -> dict[str, int]:
    response = wallet.get("/v1/wallet")
    assert response.status_code == 200, response.text
    return {kind: int(amount) for kind, amount in response.json()["kinds"].items()}


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


# --- applications --------------------------------------------------------------------------


def test_apply_for_self_is_listed(server: Server) -> None:
    make_sale(server)
    wallet = resident(server)

    response = apply(wallet, 3)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "applied"
    assert body["sets_requested"] == 3
    assert body["wallet_id"] == wallet.wallet_id
    listed = wallet.get("/v1/premium/applications").json()["applications"]
    assert [item["application_id"] for item in listed] == [body["application_id"]]


def test_sale_list_shows_phase_and_eligibility(server: Server) -> None:
    make_sale(server)
    outsider = resident(server, is_resident=False)

    sales = outsider.get("/v1/premium/sales").json()["sales"]

    assert len(sales) == 1
    assert sales[0]["phase"] == "applications"
    assert sales[0]["eligible"] is False
    assert sales[0]["local_yen"] == 6_250


def test_non_resident_is_rejected(server: Server) -> None:
    make_sale(server)
    outsider = resident(server, is_resident=False)

    response = apply(outsider, 1)

    assert response.status_code == 403
    assert "residents only" in response.json()["error"]["message"]


def test_open_sale_accepts_non_resident(server: Server) -> None:
    make_sale(server, residents_only=False)
    outsider = resident(server, is_resident=False)

    assert apply(outsider, 1).status_code == 200


def test_apply_outside_period_is_rejected(server: Server) -> None:
    make_sale(server, apply_from=server.clock() + timedelta(days=1))
    wallet = resident(server)

    early = apply(wallet, 1)
    server.clock.advance(11 * DAY_S)
    late = apply(wallet, 1)

    assert early.status_code == 403
    assert "takes applications from" in early.json()["error"]["message"]
    assert late.status_code == 403


@pytest.mark.parametrize("sets, status", [(0, 422), (6, 422), (5, 200), (1001, 422)])
def test_per_person_limit(server: Server, sets: int, status: int) -> None:
    make_sale(server)

    response = apply(resident(server), sets)

    assert response.status_code == status, response.text


def test_second_application_for_same_person_rejected(server: Server) -> None:
    make_sale(server)
    wallet = resident(server)
    first = apply(wallet, 2).json()

    second = apply(wallet, 1)

    assert second.status_code == 422
    assert first["application_id"] in second.json()["error"]["message"]


def test_reapply_after_cancel(server: Server) -> None:
    make_sale(server)
    wallet = resident(server)
    first = apply(wallet, 2).json()

    cancelled = wallet.post(f"/v1/premium/applications/{first['application_id']}/cancel")
    again = apply(wallet, 4)

    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 200
    assert again.json()["sets_requested"] == 4


def test_apply_is_idempotent_by_key(server: Server) -> None:
    make_sale(server)
    wallet = resident(server)

    first = apply(wallet, 2, key="apply-key-0001")
    repeat = apply(wallet, 2, key="apply-key-0001")
    changed = apply(wallet, 3, key="apply-key-0001")

    assert repeat.json()["application_id"] == first.json()["application_id"]
    assert changed.status_code == 409
    assert error_code(changed) == "idempotency_conflict"


# --- households ----------------------------------------------------------------------------


def test_proxy_application_for_household_member(server: Server) -> None:
    make_sale(server)
    parent = resident(server, household="H-1")
    child = resident(server, household="H-1")

    response = apply(parent, 2, for_wallet=child.wallet_id)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["wallet_id"] == child.wallet_id
    assert body["applicant_wallet_id"] == parent.wallet_id
    seen_by_child = child.get(f"/v1/premium/applications/{body['application_id']}")
    assert seen_by_child.status_code == 200


def test_proxy_for_other_household_rejected(server: Server) -> None:
    make_sale(server)
    parent = resident(server, household="H-1")
    neighbour = resident(server, household="H-2")
    loner = resident(server)

    other_household = apply(parent, 1, for_wallet=neighbour.wallet_id)
    no_household = apply(loner, 1, for_wallet=neighbour.wallet_id)
    missing = apply(parent, 1, for_wallet="w_missing")

    assert other_household.status_code == 403
    assert no_household.status_code == 403
    assert missing.status_code == 403
    assert "not in your household" in missing.json()["error"]["message"]


def test_proxy_for_non_resident_member_rejected(server: Server) -> None:
    make_sale(server)
    parent = resident(server, household="H-1")
    lodger = resident(server, household="H-1", is_resident=False)

    assert apply(parent, 1, for_wallet=lodger.wallet_id).status_code == 403


def test_household_people_limit(server: Server) -> None:
    make_sale(server, household_max_people=2)
    members = [resident(server, household="H-1") for _ in range(3)]
    assert apply(members[0], 1).status_code == 200
    assert apply(members[0], 1, for_wallet=members[1].wallet_id).status_code == 200

    third = apply(members[0], 1, for_wallet=members[2].wallet_id)

    assert third.status_code == 422
    assert "most one household may have is 2" in third.json()["error"]["message"]


def test_household_sets_limit(server: Server) -> None:
    make_sale(server)
    members = [resident(server, household="H-1") for _ in range(3)]
    assert apply(members[0], 5).status_code == 200
    assert apply(members[1], 3).status_code == 200

    over = apply(members[2], 1)

    assert over.status_code == 422
    assert "has 0 left" in over.json()["error"]["message"]


def test_cancelled_application_frees_household_sets(server: Server) -> None:
    make_sale(server)
    members = [resident(server, household="H-1") for _ in range(2)]
    first = apply(members[0], 5).json()
    members[0].post(f"/v1/premium/applications/{first['application_id']}/cancel")

    assert apply(members[1], 5).status_code == 200


def test_cancel_after_period_rejected(server: Server) -> None:
    make_sale(server)
    wallet = resident(server)
    application = apply(wallet, 1).json()
    server.clock.advance(10 * DAY_S)

    response = wallet.post(f"/v1/premium/applications/{application['application_id']}/cancel")

    assert response.status_code == 403


def test_stranger_cannot_see_application(server: Server) -> None:
    make_sale(server)
    application = apply(resident(server), 1).json()
    stranger = resident(server)

    response = stranger.get(f"/v1/premium/applications/{application['application_id']}")

    assert response.status_code == 404


# --- purchases -----------------------------------------------------------------------------


def test_undersubscribed_everyone_wins_and_buys(server: Server) -> None:
    make_sale(server)
    buyers = [resident(server, balance_yen=50_000) for _ in range(3)]
    applications = [apply(wallet, 2).json() for wallet in buyers]
    server.clock.advance(10 * DAY_S)
    draw_round(server)
    server.clock.advance(2 * DAY_S)

    for wallet, application in zip(buyers, applications):
        result = wallet.get(f"/v1/premium/applications/{application['application_id']}").json()
        assert result["status"] == "won"
        assert result["sets_won"] == 2
        assert result["pay_yen"] == 20_000
        bought = wallet.post(f"/v1/premium/applications/{application['application_id']}/purchase")
        assert bought.status_code == 200, bought.text
        assert kinds(wallet) == {"coin": 30_000, "premium_local": 12_500, "premium_all": 12_500}

    with server.state.db.read() as session:
        sale = premium.get_sale(session, SALE)
        revenue = ledger.balance(session, sale.revenue_account_id, now=server.clock())
    assert revenue == {ValueKind.COIN: 60_000}


def test_purchase_points_expire_at_usage_end(server: Server) -> None:
    make_sale(server)
    wallet = resident(server, balance_yen=10_000)
    application = apply(wallet, 1).json()
    server.clock.advance(10 * DAY_S)
    draw_round(server)
    server.clock.advance(2 * DAY_S)
    wallet.post(f"/v1/premium/applications/{application['application_id']}/purchase")

    value = wallet.get("/v1/wallet/value").json()
    sale = wallet.get(f"/v1/premium/sales/{SALE}").json()

    assert [(lot["kind"], lot["amount_yen"]) for lot in value["lots"]] == [
        ("premium_local", 6_250), ("premium_all", 6_250)]
    assert {lot["expires_at"] for lot in value["lots"]} == {sale["usage_until"]}
    with server.state.db.read() as session:
        funding = set(session.scalars(select(Lot.funding_account_id).where(
            Lot.account_id == wallet.wallet_id, Lot.remaining_yen > 0)))
    assert funding == {f"premium-sale:{SALE}"}


def test_expired_points_return_to_sale(server: Server) -> None:
    make_sale(server)
    wallet = resident(server, balance_yen=10_000)
    application = apply(wallet, 1).json()
    server.clock.advance(10 * DAY_S)
    draw_round(server)
    server.clock.advance(2 * DAY_S)
    wallet.post(f"/v1/premium/applications/{application['application_id']}/purchase")
    server.clock.advance(90 * DAY_S)

    with server.state.db.write() as session:
        swept = ledger.sweep_expired(session, now=server.clock())
        issuer = ledger.balance(session, f"premium-sale:{SALE}", now=server.clock())

    assert sum(result.amount_yen for result in swept) == 12_500
    assert kinds(wallet) == {}
    assert sum(issuer.values()) == 0


def test_purchase_twice_moves_once(server: Server) -> None:
    make_sale(server)
    wallet = resident(server, balance_yen=30_000)
    application = apply(wallet, 2).json()
    server.clock.advance(10 * DAY_S)
    draw_round(server)
    server.clock.advance(2 * DAY_S)
    path = f"/v1/premium/applications/{application['application_id']}/purchase"

    first = wallet.post(path)
    second = wallet.post(path)

    assert first.status_code == 200
    assert second.status_code == 200
    assert second.json() == first.json()
    assert kinds(wallet) == {"coin": 10_000, "premium_local": 12_500, "premium_all": 12_500}
    with server.state.db.read() as session:
        count = session.scalar(select(func.count()).select_from(Transfer).where(
            Transfer.id.like(f"premium-%:{application['application_id']}")))
    assert count == 3


def test_purchase_outside_window_rejected(server: Server) -> None:
    make_sale(server)
    wallet = resident(server, balance_yen=10_000)
    application = apply(wallet, 1).json()
    path = f"/v1/premium/applications/{application['application_id']}/purchase"
    server.clock.advance(10 * DAY_S)
    draw_round(server)

    early = wallet.post(path)
    server.clock.advance(10 * DAY_S)
    late = wallet.post(path)

    assert early.status_code == 403
    assert "can be bought from" in early.json()["error"]["message"]
    assert late.status_code == 403
    assert kinds(wallet) == {"coin": 10_000}


def test_purchase_pays_from_coin_only(server: Server) -> None:
    make_sale(server)
    rich = resident(server, balance_yen=20_000)
    poor = resident(server, balance_yen=10_000)
    rich_app = apply(rich, 1).json()
    poor_app = apply(poor, 2).json()
    server.clock.advance(10 * DAY_S)
    draw_round(server)
    server.clock.advance(2 * DAY_S)
    rich.post(f"/v1/premium/applications/{rich_app['application_id']}/purchase")
    # The poor wallet receives premium points, but they cannot pay for premium sets.
    with server.state.db.write() as session:
        ledger.pay(session, transfer_id="gift-1", source_id=rich.wallet_id,
                   destination_id=poor.wallet_id, amount_yen=12_500, now=server.clock())

    response = poor.post(f"/v1/premium/applications/{poor_app['application_id']}/purchase")

    assert response.status_code == 402
    assert "coin only" in response.json()["error"]["message"]
    assert kinds(poor)["coin"] == 10_000


def test_proxy_pays_for_member(server: Server) -> None:
    make_sale(server)
    parent = resident(server, household="H-1", balance_yen=20_000)
    child = resident(server, household="H-1")
    application = apply(parent, 2, for_wallet=child.wallet_id).json()
    server.clock.advance(12 * DAY_S)
    draw_round(server)

    response = parent.post(f"/v1/premium/applications/{application['application_id']}/purchase")

    assert response.status_code == 200, response.text
    assert kinds(parent) == {}
    assert kinds(child) == {"premium_local": 12_500, "premium_all": 12_500}


def test_loser_cannot_buy(server: Server) -> None:
    make_sale(server, total_sets=1, per_person_max_sets=1)
    wallets = [resident(server, balance_yen=10_000) for _ in range(3)]
    applications = [apply(wallet, 1).json() for wallet in wallets]
    server.clock.advance(12 * DAY_S)
    draw_round(server)

    statuses = []
    for wallet, application in zip(wallets, applications):
        response = wallet.post(f"/v1/premium/applications/{application['application_id']}"
                               "/purchase")
        statuses.append(response.status_code)

    assert sorted(statuses) == [200, 403, 403]


def test_concurrent_household_applications_keep_limit(server: Server) -> None:
    make_sale(server, household_max_sets=5)
    members = [resident(server, household="H-1") for _ in range(4)]

    def apply_for_member(session: Any, index: int) -> None:
        wallet = session.get(Wallet, members[index].wallet_id)
        premium.apply(session, wallet, SALE, sets=2, for_wallet_id=None,
                      idempotency_key=f"member-{index}-key", now=server.clock())

    outcomes = server.write_concurrently(4, apply_for_member)

    assert sorted(outcomes) == ["invalid_request", "invalid_request", "ok", "ok"]
    with server.state.db.read() as session:
        rows = premium.applications_of(session, SALE)
    assert sum(row.sets_requested for row in rows) == 4


def test_sale_phase_follows_clock_and_draw(server: Server) -> None:
    make_sale(server)
    wallet = resident(server)
    path = f"/v1/premium/sales/{SALE}"
    phases = [wallet.get(path).json()["phase"]]
    server.clock.advance(10 * DAY_S)
    phases.append(wallet.get(path).json()["phase"])
    draw_round(server)
    phases.append(wallet.get(path).json()["phase"])
    server.clock.advance(2 * DAY_S)
    phases.append(wallet.get(path).json()["phase"])
    server.clock.advance(8 * DAY_S)
    phases.append(wallet.get(path).json()["phase"])
    server.clock.advance(80 * DAY_S)
    phases.append(wallet.get(path).json()["phase"])

    assert phases == ["applications", "awaiting_draw", "results", "purchase", "usage", "ended"]
    commitments = wallet.get(path).json()["commitments"]
    assert sorted(commitments) == ["1", "2"]
    assert all(len(value) == 64 for value in commitments.values())


def test_unknown_sale_is_not_found(server: Server) -> None:
    response = resident(server).get("/v1/premium/sales/nope")

    assert response.status_code == 404
    assert "premium sale nope does not exist" in response.json()["error"]["message"]


def test_concurrent_purchases_move_once(server: Server) -> None:
    make_sale(server)
    parent = resident(server, household="H-1", balance_yen=20_000)
    child = resident(server, household="H-1", balance_yen=20_000)
    application = apply(parent, 2, for_wallet=child.wallet_id).json()
    server.clock.advance(12 * DAY_S)
    draw_round(server)
    payers = [parent.wallet_id, child.wallet_id, parent.wallet_id, child.wallet_id]

    def buy(session: Any, index: int) -> None:
        wallet = session.get(Wallet, payers[index])
        premium.purchase(session, wallet, application["application_id"], now=server.clock())

    outcomes = server.write_concurrently(4, buy)

    assert outcomes == ["ok"] * 4
    paid = [kinds(parent).get("coin", 0), kinds(child).get("coin", 0)]
    assert sorted(paid) == [0, 20_000]
    assert kinds(child)["premium_local"] == 12_500
    assert kinds(child)["premium_all"] == 12_500
