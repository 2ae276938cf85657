"""Benefit value at the counter: spent only at shops of the programme's categories, until expiry."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

import httpx
from settle_helpers import Server, TerminalClient, WalletClient

from server import benefits, ledger
from server.benefits import ProgrammeTerms
from server.demo import DEMO_MERCHANT
from server.merchants import create_merchant
from terminal.protocol import ValueKind

GROCERY_MCC = "5411"  # grocery stores, supermarkets
PHARMACY_MCC = "5912"  # drug stores and pharmacies
RESTAURANT_MCC = "5812"  # eating places, restaurants


def _shop(server: Server, mcc: str) -> TerminalClient:
    details = dataclasses.replace(DEMO_MERCHANT, merchant_category_code=mcc)
    with server.state.db.write() as session:
        merchant_id = create_merchant(session, details, now=server.clock()).id
    return server.new_terminal(merchant_id)


def _programme(server: Server, *, valid_days: int | None = None) -> str:
    terms = ProgrammeTerms(name="出産応援給付", budget_yen=100_000, max_per_recipient_yen=50_000,
                           categories=frozenset({GROCERY_MCC, PHARMACY_MCC}),
                           valid_days=valid_days)
    with server.state.db.write() as session:
        return benefits.create_programme(session, terms, now=server.clock()).id


def _pay_benefit(server: Server, programme_id: str, wallet: WalletClient, amount_yen: int
                 ) -> None:
    data = f"wallet_id,amount_yen\n{wallet.wallet_id},{amount_yen}\n".encode()
    result = benefits.import_file(server.state.db, programme_id, data, source="benefit.csv",
                                  clock=server.clock)
    assert result.count("paid") == 1


def _sell(terminal: TerminalClient, wallet: WalletClient, amount_yen: int) -> httpx.Response:
    code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    return terminal.post("/v1/payments/cpm", {
        "code": code, "amount_yen": amount_yen, "idempotency_key": f"sale-{uuid.uuid4().hex}",
    })


def _kinds(server: Server, wallet: WalletClient) -> dict[ValueKind, int]:
    with server.state.db.read() as session:
        return ledger.balance(session, wallet.wallet_id, now=server.clock())


def test_benefit_spent_at_allowed_category(server: Server) -> None:
    grocery = _shop(server, GROCERY_MCC)
    programme_id = _programme(server)
    wallet = server.new_wallet()
    _pay_benefit(server, programme_id, wallet, 5_000)

    response = _sell(grocery, wallet, 3_000)

    assert response.status_code == 200, response.text
    assert response.json()["kinds"] == {"benefit": 3_000}
    assert _kinds(server, wallet) == {ValueKind.BENEFIT: 2_000}
    assert server.merchant_balance_yen(grocery.merchant_id) == 3_000


def test_benefit_refused_outside_categories(server: Server) -> None:
    restaurant = _shop(server, RESTAURANT_MCC)
    programme_id = _programme(server)
    wallet = server.new_wallet()
    _pay_benefit(server, programme_id, wallet, 5_000)

    response = _sell(restaurant, wallet, 3_000)

    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert _kinds(server, wallet) == {ValueKind.BENEFIT: 5_000}
    assert server.merchant_balance_yen(restaurant.merchant_id) == 0


def test_restricted_shop_takes_only_coin(server: Server) -> None:
    restaurant = _shop(server, RESTAURANT_MCC)
    grocery = _shop(server, GROCERY_MCC)
    programme_id = _programme(server)
    wallet = server.new_wallet(1_000)
    _pay_benefit(server, programme_id, wallet, 5_000)

    at_restaurant = _sell(restaurant, wallet, 800)
    at_grocery = _sell(grocery, wallet, 3_000)

    assert at_restaurant.status_code == 200, at_restaurant.text
    assert at_restaurant.json()["kinds"] == {"coin": 800}
    # Benefit is more restricted than coin, so the grocery takes it first.
    assert at_grocery.json()["kinds"] == {"benefit": 3_000}
    assert _kinds(server, wallet) == {ValueKind.COIN: 200, ValueKind.BENEFIT: 2_000}


def test_expired_benefit_not_spendable(server: Server) -> None:
    grocery = _shop(server, GROCERY_MCC)
    programme_id = _programme(server, valid_days=30)
    wallet = server.new_wallet()
    _pay_benefit(server, programme_id, wallet, 5_000)
    with server.state.db.read() as session:
        (payout,) = benefits.list_payouts(session, programme_id)
    assert payout.expires_at is not None

    server.clock.now = payout.expires_at
    response = _sell(grocery, wallet, 1_000)

    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert _kinds(server, wallet) == {}


def test_benefit_spendable_until_expiry(server: Server) -> None:
    grocery = _shop(server, GROCERY_MCC)
    programme_id = _programme(server, valid_days=30)
    wallet = server.new_wallet()
    _pay_benefit(server, programme_id, wallet, 5_000)
    with server.state.db.read() as session:
        (payout,) = benefits.list_payouts(session, programme_id)
    assert payout.expires_at is not None

    server.clock.now = payout.expires_at - timedelta(seconds=1)
    response = _sell(grocery, wallet, 1_000)

    assert response.status_code == 200, response.text
    assert response.json()["kinds"] == {"benefit": 1_000}


def test_expired_benefit_returns_to_funding(server: Server) -> None:
    grocery = _shop(server, GROCERY_MCC)
    programme_id = _programme(server, valid_days=30)
    wallet = server.new_wallet()
    _pay_benefit(server, programme_id, wallet, 5_000)
    assert _sell(grocery, wallet, 1_500).status_code == 200
    with server.state.db.read() as session:
        (payout,) = benefits.list_payouts(session, programme_id)
        funding_id = benefits.get_programme(session, programme_id).funding_account_id
    assert payout.expires_at is not None

    server.clock.now = payout.expires_at
    with server.state.db.write() as session:
        swept = ledger.sweep_expired(session, now=server.clock())

    assert [result.amount_yen for result in swept] == [3_500]
    assert [result.destination_account_id for result in swept] == [funding_id]
    with server.state.db.read() as session:
        assert ledger.held_balance(session, wallet.wallet_id) == {}
        # The funding account issued 5,000 yen and got 3,500 back: 1,500 was spent.
        assert ledger.balance(session, funding_id, now=server.clock()) == {
            ValueKind.BENEFIT: -1_500}
    server.assert_conserved()


def test_refund_returns_restricted_benefit(server: Server) -> None:
    grocery = _shop(server, GROCERY_MCC)
    restaurant = _shop(server, RESTAURANT_MCC)
    programme_id = _programme(server, valid_days=30)
    wallet = server.new_wallet()
    _pay_benefit(server, programme_id, wallet, 5_000)
    sale = _sell(grocery, wallet, 5_000)
    assert sale.status_code == 200, sale.text

    refund = grocery.post(f"/v1/payments/{sale.json()['payment_id']}/refunds",
                          {"amount_yen": 2_000, "idempotency_key": "refund-0001"})

    assert refund.status_code == 200, refund.text
    assert _kinds(server, wallet) == {ValueKind.BENEFIT: 2_000}
    assert _sell(restaurant, wallet, 1_000).status_code == 402
    assert _sell(grocery, wallet, 2_000).json()["kinds"] == {"benefit": 2_000}
