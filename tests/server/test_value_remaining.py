"""Value kinds through the payment path: spend order, shop acceptance, refunds, and the
remaining value a wallet may show on receipts."""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from settle_helpers import Server, TerminalClient, WalletClient
from sqlalchemy import select

from server import ledger, merchants, payments, value_remaining, wallet_cli, wallets
from server.db import Database
from server.demo import DEMO_MERCHANT
from server.errors import InsufficientFunds
from server.models import Lot, Terminal
from server.models import Payment as PaymentRow
from server.settings import Settings
from terminal.protocol import RefundCreate, RemainingValue, ValueKind

PREMIUM_FUND = "premium-2026"
BENEFIT_FUND = "city-benefit-2026"
GROCERY = "5411"
CAFE = "5814"
MISC = "5499"


# --- helpers -------------------------------------------------------------------------------


def _open_funds(server: Server) -> None:
    with server.state.db.write() as session:
        for fund in (PREMIUM_FUND, BENEFIT_FUND):
            ledger.open_account(session, fund, "campaign", now=server.clock(), is_issuing=True)


def _give(server: Server, wallet: WalletClient, kind: ValueKind, amount_yen: int,
          expires_at: datetime | None = None, categories: list[str] | None = None) -> None:
    fund = BENEFIT_FUND if kind is ValueKind.BENEFIT else PREMIUM_FUND
    with server.state.db.write() as session:
        ledger.issue(session, transfer_id=f"give:{uuid.uuid4().hex}", issuer_id=fund,
                     destination_id=wallet.wallet_id, amount_yen=amount_yen, now=server.clock(),
                     kind=kind, expires_at=expires_at, categories=categories)


def _shop(server: Server, *, local: bool = True, category: str = MISC) -> TerminalClient:
    details = replace(DEMO_MERCHANT, is_local=local, merchant_category_code=category)
    with server.state.db.write() as session:
        merchant_id = merchants.create_merchant(session, details, now=server.clock()).id
    return server.new_terminal(merchant_id)


def _pay(terminal: TerminalClient, wallet: WalletClient, amount_yen: int) -> httpx.Response:
    code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    return terminal.post("/v1/payments/cpm", {
        "code": code, "amount_yen": amount_yen, "idempotency_key": f"sale-{uuid.uuid4().hex}",
    })


def _paid(terminal: TerminalClient, wallet: WalletClient, amount_yen: int) -> dict[str, Any]:
    response = _pay(terminal, wallet, amount_yen)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _refund(terminal: TerminalClient, payment_id: str, amount_yen: int) -> dict[str, Any]:
    response = terminal.post(f"/v1/payments/{payment_id}/refunds", {
        "amount_yen": amount_yen, "idempotency_key": f"refund-{uuid.uuid4().hex}",
    })
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


LotKey = tuple[str, datetime | None, str | None, str | None]


def _lots(server: Server, account_id: str) -> Counter[LotKey]:
    """Yen held per (kind, expiry, restriction, funding account) on one account."""
    with server.state.db.read() as session:
        rows = session.execute(
            select(Lot.value_kind, Lot.expires_at, Lot.restriction, Lot.funding_account_id,
                   Lot.remaining_yen)
            .where(Lot.account_id == account_id, Lot.remaining_yen > 0)
        ).all()
    held: Counter[LotKey] = Counter()
    for kind, expires_at, restriction, funding, remaining_yen in rows:
        held[(kind, expires_at, restriction, funding)] += remaining_yen
    return held


def _set_receipt_balance(wallet: WalletClient, enabled: bool) -> httpx.Response:
    return wallet.client.put("/v1/wallet/preferences", headers=wallet.headers,
                             json={"show_balance_on_receipt": enabled})


@pytest.fixture
def funded(server: Server) -> Server:
    _open_funds(server)
    return server


# --- spend order through payments ------------------------------------------------------------


def test_local_shop_spends_kinds_in_order(funded: Server) -> None:
    later = funded.clock() + timedelta(days=60)
    wallet = funded.new_wallet(500)
    _give(funded, wallet, ValueKind.PREMIUM_ALL, 400, later)
    _give(funded, wallet, ValueKind.BENEFIT, 200, later)
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 300, later)
    grocer = _shop(funded, category=GROCERY)

    first = _paid(grocer, wallet, 600)
    second = _paid(grocer, wallet, 700)

    assert first["kinds"] == {"premium_local": 300, "benefit": 200, "premium_all": 100}
    assert second["kinds"] == {"premium_all": 300, "coin": 400}
    assert wallet.balance_yen() == 100


def test_earliest_expiry_first_within_kind(funded: Server) -> None:
    soon = funded.clock() + timedelta(days=5)
    later = funded.clock() + timedelta(days=60)
    wallet = funded.new_wallet()
    _give(funded, wallet, ValueKind.PREMIUM_ALL, 300, later)
    _give(funded, wallet, ValueKind.PREMIUM_ALL, 300, soon)
    shop = _shop(funded)

    payment = _paid(shop, wallet, 400)

    assert payment["kinds"] == {"premium_all": 400}
    assert _lots(funded, shop.merchant_id) == Counter({
        ("premium_all", soon, None, PREMIUM_FUND): 300,
        ("premium_all", later, None, PREMIUM_FUND): 100,
    })
    assert _lots(funded, wallet.wallet_id) == Counter({
        ("premium_all", later, None, PREMIUM_FUND): 200,
    })


def test_non_local_shop_never_receives_local_points(funded: Server) -> None:
    later = funded.clock() + timedelta(days=60)
    wallet = funded.new_wallet(500)
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 300, later)
    _give(funded, wallet, ValueKind.PREMIUM_ALL, 400, later)
    chain = _shop(funded, local=False, category=GROCERY)

    payment = _paid(chain, wallet, 900)
    declined = _pay(chain, wallet, 1)

    assert payment["kinds"] == {"premium_all": 400, "coin": 500}
    assert declined.status_code == 402
    assert declined.json()["error"]["code"] == "insufficient_funds"
    assert all(kind != "premium_local" for kind, *_ in _lots(funded, chain.merchant_id))
    assert wallet.balance_yen() == 300


def test_local_points_spent_at_local_shop_after_chain(funded: Server) -> None:
    later = funded.clock() + timedelta(days=60)
    wallet = funded.new_wallet(100)
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 300, later)
    chain = _shop(funded, local=False)
    local = _shop(funded, local=True)

    at_chain = _paid(chain, wallet, 100)
    at_local = _paid(local, wallet, 300)

    assert at_chain["kinds"] == {"coin": 100}
    assert at_local["kinds"] == {"premium_local": 300}


def test_restricted_benefit_skipped_elsewhere(funded: Server) -> None:
    later = funded.clock() + timedelta(days=60)
    wallet = funded.new_wallet(300)
    _give(funded, wallet, ValueKind.BENEFIT, 500, later, categories=[GROCERY])
    _give(funded, wallet, ValueKind.BENEFIT, 100, later)
    cafe = _shop(funded, category=CAFE)
    grocer = _shop(funded, category=GROCERY)

    at_cafe = _paid(cafe, wallet, 400)
    declined = _pay(cafe, wallet, 1)
    at_grocer = _paid(grocer, wallet, 500)

    assert at_cafe["kinds"] == {"benefit": 100, "coin": 300}
    assert declined.status_code == 402
    assert at_grocer["kinds"] == {"benefit": 500}
    assert _lots(funded, grocer.merchant_id) == Counter({
        ("benefit", later, GROCERY, BENEFIT_FUND): 500,
    })


def test_expired_points_not_spent(funded: Server) -> None:
    soon = funded.clock() + timedelta(days=1)
    wallet = funded.new_wallet(200)
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 500, soon)
    shop = _shop(funded)
    funded.clock.advance(2 * 86_400)

    payment = _paid(shop, wallet, 200)
    declined = _pay(shop, wallet, 1)

    assert payment["kinds"] == {"coin": 200}
    assert declined.status_code == 402


def test_full_refund_returns_same_lots(funded: Server) -> None:
    soon = funded.clock() + timedelta(days=5)
    later = funded.clock() + timedelta(days=60)
    wallet = funded.new_wallet(500)
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 300, soon)
    _give(funded, wallet, ValueKind.BENEFIT, 200, later, categories=[GROCERY])
    _give(funded, wallet, ValueKind.PREMIUM_ALL, 400, later)
    grocer = _shop(funded, category=GROCERY)
    before = _lots(funded, wallet.wallet_id)

    payment = _paid(grocer, wallet, 1100)
    refund = _refund(grocer, payment["payment_id"], 1100)

    assert refund["payment"]["refunded_yen"] == 1100
    assert _lots(funded, wallet.wallet_id) == before
    assert _lots(funded, grocer.merchant_id) == Counter()


def test_partial_refund_returns_least_restricted_first(funded: Server) -> None:
    soon = funded.clock() + timedelta(days=5)
    later = funded.clock() + timedelta(days=60)
    wallet = funded.new_wallet()
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 300, soon)
    _give(funded, wallet, ValueKind.BENEFIT, 200, later, categories=[GROCERY])
    _give(funded, wallet, ValueKind.PREMIUM_ALL, 100, later)
    grocer = _shop(funded, category=GROCERY)

    payment = _paid(grocer, wallet, 600)
    _refund(grocer, payment["payment_id"], 250)

    assert _lots(funded, wallet.wallet_id) == Counter({
        ("premium_all", later, None, PREMIUM_FUND): 100,
        ("benefit", later, GROCERY, BENEFIT_FUND): 150,
    })
    assert _lots(funded, grocer.merchant_id) == Counter({
        ("premium_local", soon, None, PREMIUM_FUND): 300,
        ("benefit", later, GROCERY, BENEFIT_FUND): 50,
    })


# --- remaining value -------------------------------------------------------------------------


def test_remaining_value_per_kind(funded: Server) -> None:
    soon = funded.clock() + timedelta(days=5)
    later = funded.clock() + timedelta(days=60)
    wallet = funded.new_wallet(700)
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 300, later)
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 200, soon)
    _give(funded, wallet, ValueKind.PREMIUM_ALL, 100, funded.clock() + timedelta(hours=1))
    funded.clock.advance(2 * 3600)

    with funded.state.db.read() as session:
        remaining = value_remaining.remaining_value(session, wallet.wallet_id,
                                                    now=funded.clock())

    assert remaining == [
        RemainingValue(kind=ValueKind.PREMIUM_LOCAL, amount_yen=500,
                       expires_at=soon.isoformat(timespec="seconds")),
        RemainingValue(kind=ValueKind.COIN, amount_yen=700, expires_at=None),
    ]


def test_receipt_balance_off_by_default(funded: Server) -> None:
    wallet = funded.new_wallet(1000)
    shop = _shop(funded)

    preferences = wallet.get("/v1/wallet/preferences")
    payment = _paid(shop, wallet, 300)

    assert preferences.json() == {"show_balance_on_receipt": False}
    assert payment["remaining"] is None
    with funded.state.db.read() as session:
        query = select(PaymentRow).where(PaymentRow.id == payment["payment_id"])
        row = session.scalars(query).one()
    assert row.wallet_remaining is None


def test_receipt_balance_on_fills_payment(funded: Server) -> None:
    later = funded.clock() + timedelta(days=60)
    wallet = funded.new_wallet(1000)
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 500, later)
    shop = _shop(funded)

    switched = _set_receipt_balance(wallet, True)
    payment = _paid(shop, wallet, 800)
    looked_up = shop.get(f"/v1/payments/{payment['payment_id']}").json()

    assert switched.json() == {"show_balance_on_receipt": True}
    expected = [
        {"kind": "coin", "amount_yen": 700, "expires_at": None},
    ]
    assert payment["kinds"] == {"premium_local": 500, "coin": 300}
    assert payment["remaining"] == expected
    assert looked_up["remaining"] == expected


def test_receipt_balance_shows_earliest_expiry(funded: Server) -> None:
    soon = funded.clock() + timedelta(days=5)
    later = funded.clock() + timedelta(days=60)
    wallet = funded.new_wallet()
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 500, later)
    _give(funded, wallet, ValueKind.PREMIUM_LOCAL, 500, soon)
    _give(funded, wallet, ValueKind.BENEFIT, 100, later, categories=[GROCERY])
    _set_receipt_balance(wallet, True)
    cafe = _shop(funded, category=CAFE)

    payment = _paid(cafe, wallet, 200)

    assert payment["remaining"] == [
        {"kind": "premium_local", "amount_yen": 800,
         "expires_at": soon.isoformat(timespec="seconds")},
        {"kind": "benefit", "amount_yen": 100,
         "expires_at": later.isoformat(timespec="seconds")},
    ]


def test_receipt_balance_empty_wallet(funded: Server) -> None:
    wallet = funded.new_wallet(300)
    _set_receipt_balance(wallet, True)

    payment = _paid(_shop(funded), wallet, 300)

    assert payment["remaining"] == []


def test_receipt_balance_switched_off_again(funded: Server) -> None:
    wallet = funded.new_wallet(1000)
    shop = _shop(funded)
    _set_receipt_balance(wallet, True)
    shown = _paid(shop, wallet, 100)

    switched = _set_receipt_balance(wallet, False)
    hidden = _paid(shop, wallet, 100)
    earlier = shop.get(f"/v1/payments/{shown['payment_id']}").json()

    assert switched.json() == {"show_balance_on_receipt": False}
    assert hidden["remaining"] is None
    # A receipt reprinted later shows what the wallet held at that sale.
    assert earlier["remaining"] == [{"kind": "coin", "amount_yen": 900, "expires_at": None}]


def test_mpm_payment_carries_remaining(funded: Server) -> None:
    wallet = funded.new_wallet(1000)
    _set_receipt_balance(wallet, True)
    shop = _shop(funded)
    intent = shop.post("/v1/intents", {"amount_yen": 400, "idempotency_key": "intent-0001"}).json()

    paid = wallet.post(f"/v1/intents/{intent['intent_id']}/pay",
                       {"amount_yen": 400, "idempotency_key": "pay-00001"})
    seen = shop.get(f"/v1/intents/{intent['intent_id']}").json()

    assert paid.json()["remaining"] == [{"kind": "coin", "amount_yen": 600, "expires_at": None}]
    assert seen["payment"]["remaining"] == [{"kind": "coin", "amount_yen": 600,
                                             "expires_at": None}]


@pytest.mark.parametrize("body", [
    {"show_balance_on_receipt": "yes"},
    {"show_balance_on_receipt": 1},
    {},
])
def test_preferences_bad_body_rejected(funded: Server, body: dict[str, Any]) -> None:
    wallet = funded.new_wallet()

    response = wallet.client.put("/v1/wallet/preferences", headers=wallet.headers, json=body)

    assert response.status_code == 422
    assert "show_balance_on_receipt" in response.json()["error"]["message"]
    assert wallet.get("/v1/wallet/preferences").json() == {"show_balance_on_receipt": False}


def test_preferences_need_wallet_token(funded: Server) -> None:
    response = funded.client.put("/v1/wallet/preferences",
                                 json={"show_balance_on_receipt": True})

    assert response.status_code == 401


def test_offline_payment_gets_no_remaining(database: Database) -> None:
    now = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
    with database.write() as session:
        created = wallets.create_wallet(session, now=now)
        wallet = wallets.get_wallet(session, created.wallet_id)
        value_remaining.set_preferences(
            session, wallet, value_remaining.WalletPreferences(show_balance_on_receipt=True))
        ledger.open_account(session, "fund", "campaign", now=now, is_issuing=True)
        ledger.issue(session, transfer_id="give-1", issuer_id="fund",
                     destination_id=wallet.account_id, amount_yen=500, now=now)
        shop = _shop_rows(session, local=True, category=MISC, now=now)

        offline = _book(session, wallet.id, shop, 100, "offline", now)
        online = _book(session, wallet.id, shop, 100, "cpm", now)

    assert offline.wallet_remaining is None
    assert online.wallet_remaining == [{"kind": "coin", "amount_yen": 300, "expires_at": None}]


def test_wallet_cli_switches_receipt_balance(
    funded: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wallet = funded.new_wallet()
    path = tmp_path / "wallet.json"
    wallet_cli.save_credentials(path, wallet_cli.WalletCredentials(
        "http://testserver", wallet.wallet_id, wallet.token))
    transport = httpx.MockTransport(functools.partial(_forward, funded))
    monkeypatch.setattr(wallet_cli, "WalletClient",
                        functools.partial(wallet_cli.WalletClient, transport=transport))

    on = wallet_cli.main(["--wallet-file", str(path), "receipt-balance", "on"])
    on_out = capsys.readouterr().out
    shown = wallet_cli.main(["--wallet-file", str(path), "receipt-balance", "show"])
    shown_out = capsys.readouterr().out
    off = wallet_cli.main(["--wallet-file", str(path), "receipt-balance", "off"])
    off_out = capsys.readouterr().out

    assert (on, shown, off) == (0, 0, 0)
    assert on_out.startswith("receipt balance on:")
    assert shown_out.startswith("receipt balance on:")
    assert off_out.startswith("receipt balance off:")
    assert wallet.get("/v1/wallet/preferences").json() == {"show_balance_on_receipt": False}


def test_wallet_cli_rejects_unknown_setting(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        wallet_cli.main(["receipt-balance", "maybe"])

    assert exit_info.value.code == 2
    assert "invalid choice: 'maybe'" in capsys.readouterr().err


def _forward(server: Server, request: httpx.Request) -> httpx.Response:
    """Send a wallet client's request to the test application."""
    response = server.client.request(request.method, request.url.path, content=request.content,
                                     headers=dict(request.headers))
    return httpx.Response(response.status_code, content=response.content,
                          headers=response.headers)


# --- property: what a shop may receive -------------------------------------------------------


@dataclass(frozen=True)
class ShopRows:
    merchant_id: str
    terminal_id: str
    local: bool
    category: str


def _shop_rows(session: Any, *, local: bool, category: str, now: datetime) -> ShopRows:
    details = replace(DEMO_MERCHANT, is_local=local, merchant_category_code=category)
    merchant = merchants.create_merchant(session, details, now=now)
    activation = merchants.issue_activation(session, merchant.id, "REGI-1", now=now, ttl_s=600)
    return ShopRows(merchant.id, activation.terminal_id, local, category)


def _book(session: Any, wallet_id: str, shop: ShopRows, amount_yen: int, method: str,
          now: datetime) -> PaymentRow:
    return payments.book_payment(
        session, wallet_id=wallet_id, wallet_account_id=wallet_id,
        merchant_id=shop.merchant_id, merchant_account_id=shop.merchant_id,
        terminal_id=shop.terminal_id, transfer_id=f"{method}:{uuid.uuid4().hex}",
        amount_yen=amount_yen, method=method, tax_lines=[], now=now,
    )


NOW = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
SHOP_KINDS = [(True, GROCERY), (True, CAFE), (False, GROCERY), (False, MISC)]
RANK = {kind: rank for rank, kind in enumerate(ledger.SPEND_ORDER)}


@st.composite
def lot_specs(draw: st.DrawFn) -> tuple[ValueKind, int, int | None, list[str] | None]:
    """A lot to issue: kind, yen, expiry in days from NOW (negative: expired), categories."""
    kind = draw(st.sampled_from(list(ValueKind)))
    amount_yen = draw(st.integers(1, 3000))
    expiry_days = draw(st.one_of(st.none(), st.integers(-30, 90).filter(lambda days: days != 0)))
    categories = None
    if kind is ValueKind.BENEFIT and draw(st.booleans()):
        categories = draw(st.lists(st.sampled_from([GROCERY, CAFE, MISC]), min_size=1,
                                   max_size=2, unique=True))
    return kind, amount_yen, expiry_days, categories


@dataclass
class _HeldLot:
    seq: int
    kind: ValueKind
    expires_at: datetime | None
    restriction: str | None
    remaining_yen: int


def _accepts(shop: ShopRows, lot: _HeldLot) -> bool:
    if lot.expires_at is not None and lot.expires_at <= NOW:
        return False
    if lot.kind is ValueKind.PREMIUM_LOCAL:
        return shop.local
    return lot.restriction is None or shop.category in lot.restriction.split(",")


def _held_lots(session: Any, account_id: str) -> list[_HeldLot]:
    rows = session.execute(
        select(Lot.seq, Lot.value_kind, Lot.expires_at, Lot.restriction, Lot.remaining_yen)
        .where(Lot.account_id == account_id, Lot.remaining_yen > 0)
    ).all()
    return [_HeldLot(seq, ValueKind(kind), expires_at, restriction, remaining)
            for seq, kind, expires_at, restriction, remaining in rows]


def _expected_kinds(shop: ShopRows, lots: list[_HeldLot], amount_yen: int) -> dict[str, int]:
    """Spend ``amount_yen`` from the acceptable lots by the documented order."""
    acceptable = [lot for lot in lots if _accepts(shop, lot)]
    acceptable.sort(key=lambda lot: (RANK[lot.kind], lot.expires_at is None,
                                     lot.expires_at or NOW, lot.seq))
    kinds: Counter[str] = Counter()
    left_yen = amount_yen
    for lot in acceptable:
        taken_yen = min(left_yen, lot.remaining_yen)
        if taken_yen:
            kinds[lot.kind.value] += taken_yen
        left_yen -= taken_yen
    return dict(kinds)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lots=st.lists(lot_specs(), min_size=1, max_size=6),
    sales=st.lists(st.tuples(st.integers(0, len(SHOP_KINDS) - 1), st.integers(1, 4000)),
                   min_size=1, max_size=6),
)
def test_payments_spend_only_acceptable_value(
    database: Database,
    lots: list[tuple[ValueKind, int, int | None, list[str] | None]],
    sales: list[tuple[int, int]],
) -> None:
    fund = f"fund-{uuid.uuid4().hex[:12]}"
    with database.write() as session:
        wallet_id = wallets.create_wallet(session, now=NOW).wallet_id
        ledger.open_account(session, fund, "campaign", now=NOW, is_issuing=True)
        shops = [_shop_rows(session, local=local, category=category, now=NOW)
                 for local, category in SHOP_KINDS]
        for index, (kind, amount_yen, expiry_days, categories) in enumerate(lots):
            expires_at = None if expiry_days is None else NOW + timedelta(days=expiry_days)
            ledger.issue(session, transfer_id=f"{fund}:{index}", issuer_id=fund,
                         destination_id=wallet_id, amount_yen=amount_yen, now=NOW, kind=kind,
                         expires_at=expires_at, categories=categories)
    issued_yen = sum(amount_yen for _, amount_yen, _, _ in lots)

    for shop_index, amount_yen in sales:
        shop = shops[shop_index]
        with database.read() as session:
            held = _held_lots(session, wallet_id)
        acceptable_yen = sum(lot.remaining_yen for lot in held if _accepts(shop, lot))

        if acceptable_yen < amount_yen:
            with pytest.raises(InsufficientFunds), database.write() as session:
                _book(session, wallet_id, shop, amount_yen, "cpm", NOW)
            with database.read() as session:
                assert _held_lots(session, wallet_id) == held
            continue

        expected = _expected_kinds(shop, held, amount_yen)
        with database.write() as session:
            payment = _book(session, wallet_id, shop, amount_yen, "cpm", NOW)
            transfer_id = payment.transfer_id
            kinds = dict(payment.kinds)
        assert kinds == expected
        with database.read() as session:
            received = session.execute(
                select(Lot.value_kind, Lot.expires_at, Lot.restriction, Lot.initial_yen)
                .where(Lot.transfer_id == transfer_id, Lot.account_id == shop.merchant_id)
            ).all()
        assert sum(initial_yen for *_, initial_yen in received) == amount_yen
        for kind_name, expires_at, restriction, _ in received:
            assert _accepts(shop, _HeldLot(0, ValueKind(kind_name), expires_at, restriction, 1))

    with database.read() as session:
        ledger.verify_ledger(session)
        left_yen = sum(lot.remaining_yen for lot in _held_lots(session, wallet_id))
        received_yen = sum(sum(ledger.held_balance(session, shop.merchant_id).values())
                           for shop in shops)
    assert left_yen + received_yen == issued_yen


def _lot_keys(session: Any, account_id: str) -> Counter[tuple[str, datetime | None, str | None,
                                                           str | None]]:
    rows = session.execute(
        select(Lot.value_kind, Lot.expires_at, Lot.restriction, Lot.funding_account_id,
               Lot.remaining_yen)
        .where(Lot.account_id == account_id, Lot.remaining_yen > 0)
    ).all()
    held: Counter[tuple[str, datetime | None, str | None, str | None]] = Counter()
    for kind, expires_at, restriction, funding, remaining_yen in rows:
        held[(kind, expires_at, restriction, funding)] += remaining_yen
    return held


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lots=st.lists(lot_specs(), min_size=1, max_size=6),
    shop_index=st.integers(0, len(SHOP_KINDS) - 1),
    amount_yen=st.integers(1, 4000),
    refund_share=st.fractions(min_value=0, max_value=1),
)
def test_refunds_return_paid_lots(
    database: Database,
    lots: list[tuple[ValueKind, int, int | None, list[str] | None]],
    shop_index: int, amount_yen: int, refund_share: Fraction,
) -> None:
    fund = f"fund-{uuid.uuid4().hex[:12]}"
    with database.write() as session:
        wallet_id = wallets.create_wallet(session, now=NOW).wallet_id
        ledger.open_account(session, fund, "campaign", now=NOW, is_issuing=True)
        local, category = SHOP_KINDS[shop_index]
        shop = _shop_rows(session, local=local, category=category, now=NOW)
        for index, (kind, lot_yen, expiry_days, categories) in enumerate(lots):
            expires_at = None if expiry_days is None else NOW + timedelta(days=expiry_days)
            ledger.issue(session, transfer_id=f"{fund}:{index}", issuer_id=fund,
                         destination_id=wallet_id, amount_yen=lot_yen, now=NOW, kind=kind,
                         expires_at=expires_at, categories=categories)
        before = _lot_keys(session, wallet_id)
        try:
            payment = _book(session, wallet_id, shop, amount_yen, "cpm", NOW)
        except InsufficientFunds:
            return
        payment_id = payment.id
        paid = _lot_keys(session, shop.merchant_id)

    refund_yen = int(amount_yen * refund_share)  # rounded down, so never above the payment
    settings_now = Settings(clock=lambda: NOW)
    if refund_yen:
        with database.write() as session:
            terminal = session.get(Terminal, shop.terminal_id)
            assert terminal is not None
            payments.refund_payment(session, terminal, payment_id,
                                    RefundCreate(amount_yen=refund_yen,
                                                 idempotency_key="refund-0001"),
                                    settings_now)

    with database.read() as session:
        after = _lot_keys(session, wallet_id)
        kept = _lot_keys(session, shop.merchant_id)
        ledger.verify_ledger(session)
    # Every lot the wallet got back is one it paid with: same kind, expiry, restriction, fund.
    returned = after - (before - paid)
    assert sum(returned.values()) == refund_yen
    assert all(returned[key] <= paid[key] for key in returned)
    assert kept + returned == paid
    if refund_yen == amount_yen:
        assert after == before
