"""The day close against the real server on loopback: online and offline payments and a
refund are synced, the Z report is closed, and its totals equal the server's day report and
the merchant's ledger postings."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from server.db import init_db
from server.demo import DemoSeed, seed_demo
from server.embedded import EmbeddedServer, start_embedded_server
from terminal import day_close, offline_code, protocol, refunds
from terminal.api_client import ApiClient, Declined
from terminal.clock import ServerClock
from terminal.config import OfflineConfig
from terminal.keys import Signer
from terminal.offline import OfflineAcceptor
from terminal.protocol import CountTotal
from terminal.sale import Key, Sale, SaleState
from terminal.store import DayAlreadyClosed, Store, open_store
from terminal.sync import SyncEngine, SyncWorker


@dataclass
class Shop:
    db_url: str
    server: EmbeddedServer
    seed: DemoSeed
    store: Store
    api: ApiClient
    clock: ServerClock
    worker: SyncWorker
    acceptor: OfflineAcceptor


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    db_url = f"sqlite:///{tmp_path / 'settle.db'}"
    seed = seed_demo(init_db(db_url), wallet_balance_yen=50_000)
    with start_embedded_server(db_url, port=0, demo=True) as server:
        clock = ServerClock()
        signer = Signer(Ed25519PrivateKey.generate(), clock=clock.now)
        info = ApiClient(server.url, None, signer).enrol(seed.activation_code)
        api = ApiClient(server.url, info.terminal_id, signer, retry_delays_s=())
        store = open_store(tmp_path / "terminal")
        acceptor = OfflineAcceptor(
            store, OfflineConfig(), clock, lambda: uuid.uuid4().hex,
            merchant_id=info.merchant.merchant_id, terminal_id=info.terminal_id,
        )
        worker = SyncWorker(SyncEngine(store, api, clock, random=lambda: 0.0))
        yield Shop(db_url, server, seed, store, api, clock, worker, acceptor)
        api.close()
        store.close()


def wallet_post(shop: Shop, path: str, body: object) -> dict[str, object]:
    response = httpx.post(f"{shop.server.url}/v1{path}", json=body,
                          headers={"Authorization": f"Bearer {shop.seed.wallet_token}"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert isinstance(result, dict)
    return result


def offline_codes(shop: Shop) -> Iterator[str]:
    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    request = protocol.OfflineCertificateRequest(
        allowance_yen=10_000, public_key=protocol.b64encode(public_key),
        idempotency_key=uuid.uuid4().hex,
    )
    issued = protocol.OfflineCertificate.model_validate(
        wallet_post(shop, "/wallet/offline-certificate", request.model_dump(mode="json"))
    )
    certificate = protocol.b64decode(issued.certificate)
    for counter in itertools.count(1):
        yield offline_code.make_offline_code(certificate, private_key, counter, datetime.now(UTC))


def new_sale(shop: Shop, amount: str, clerk: str) -> Sale:
    sale = Sale(100_000, store=shop.store, offline=shop.acceptor)
    sale.clerk = clerk
    for digit in amount:
        sale.press(digit)
    sale.press(Key.RATE_10)
    return sale


def pay_cpm(shop: Shop, amount: str, clerk: str) -> protocol.Payment:
    sale = new_sale(shop, amount, clerk)
    sale.start_cpm()
    code = wallet_post(shop, "/wallet/payment-codes", None)["code"]
    assert sale.submit_code(shop.api, str(code)) is None
    assert sale.state is SaleState.APPROVED
    assert sale.payment is not None
    return sale.payment


def pay_mpm(shop: Shop, amount: str, clerk: str) -> protocol.Payment:
    sale = new_sale(shop, amount, clerk)
    assert sale.start_mpm(shop.api) is None
    assert sale.intent is not None
    wallet_post(shop, f"/intents/{sale.intent.intent_id}/pay",
                {"amount_yen": sale.total_yen, "idempotency_key": uuid.uuid4().hex})
    sale.poll_mpm(shop.api, 0)
    assert sale.state is SaleState.APPROVED
    assert sale.payment is not None
    return sale.payment


def pay_offline(shop: Shop, codes: Iterator[str], amount: str, clerk: str) -> None:
    sale = Sale(100_000, offline=shop.acceptor, is_offline=lambda: True)
    sale.clerk = clerk
    for digit in amount:
        sale.press(digit)
    sale.press(Key.RATE_10)
    sale.start_cpm()
    assert sale.submit_code(shop.api, next(codes)) is None
    assert sale.state is SaleState.APPROVED


def merchant_ledger(db_url: str, merchant_id: str) -> dict[str, int]:
    """Sum the postings on the merchant's ledger account by value kind, read from the database."""
    engine = create_engine(db_url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT p.value_kind, SUM(p.amount_yen) FROM postings p"
            " JOIN merchants m ON m.account_id = p.account_id"
            " WHERE m.id = :merchant_id GROUP BY p.value_kind"
        ), {"merchant_id": merchant_id}).all()
    engine.dispose()
    return {row[0]: int(row[1]) for row in rows}


def test_z_report_matches_server_and_ledger(shop: Shop) -> None:
    assert shop.worker.run_once().online
    codes = offline_codes(shop)
    cpm = pay_cpm(shop, "1200", "佐藤")
    pay_mpm(shop, "3300", "鈴木")
    pay_offline(shop, codes, "800", "佐藤")
    refunds.record_refund(shop.store, cpm.payment_id, 200, uuid.uuid4().hex, shop.clock.now())
    assert shop.worker.run_once().waiting_count == 0
    day = day_close.japan_day(shop.clock.now())

    server = shop.api.day_report(day)
    report = day_close.close_day(shop.store, day, shop.clock.now(), per_clerk=True,
                                 server=server)
    check = day_close.reconcile(report)

    assert report.z_number == 1
    assert report.payments == CountTotal(count=3, amount_yen=5_300)
    assert report.refunds == CountTotal(count=1, amount_yen=200)
    assert report.net_yen == 5_100
    assert report.waiting.payments.count == 0
    for method in ("mpm", "cpm", "offline"):
        assert report.payments_by_method[method] == server.terminal.payments_by_method[method]
    assert server.terminal.payments == report.confirmed.payments
    assert server.terminal.refunds == report.confirmed.refunds
    assert server.terminal.net_yen == report.net_yen
    assert server.terminal.ledger_net_yen == report.net_yen
    assert sum(merchant_ledger(shop.db_url, shop.seed.merchant_id).values()) == report.net_yen
    assert {str(kind): amount for kind, amount in server.terminal.ledger_kinds.items()} == {
        kind: amount for kind, amount in merchant_ledger(shop.db_url, shop.seed.merchant_id).items()
        if amount
    }
    assert check is not None
    assert check.matches
    assert check.difference_yen == 0
    assert {line.clerk: line.payments.amount_yen for line in report.clerks} == {
        "佐藤": 2_000, "鈴木": 3_300, None: 0,
    }


def test_waiting_payment_confirmed_after_sync(shop: Shop) -> None:
    assert shop.worker.run_once().online
    codes = offline_codes(shop)
    pay_cpm(shop, "1000", "佐藤")
    shop.worker.run_once()
    pay_offline(shop, codes, "500", "佐藤")
    day = day_close.japan_day(shop.clock.now())

    before = day_close.x_report(shop.store, day, shop.clock.now(), server=shop.api.day_report(day))
    shop.worker.run_once()
    after = day_close.x_report(shop.store, day, shop.clock.now(), server=shop.api.day_report(day))

    assert before.waiting.payments == CountTotal(count=1, amount_yen=500)
    assert before.server is not None and before.server.terminal.payments.amount_yen == 1_000
    check_before, check_after = day_close.reconcile(before), day_close.reconcile(after)
    assert check_before is not None and check_before.matches
    assert after.waiting.payments.count == 0
    assert check_after is not None and check_after.matches
    assert after.confirmed.payments == CountTotal(count=2, amount_yen=1_500)
    assert day_close.close_day(shop.store, day, shop.clock.now()).z_number == 1
    with pytest.raises(DayAlreadyClosed):
        day_close.close_day(shop.store, day, shop.clock.now())


def test_day_report_rejects_bad_date(shop: Shop) -> None:
    with pytest.raises(Declined) as raised:
        shop.api.day_report("2024-13-01")

    assert raised.value.code is protocol.ErrorCode.INVALID_REQUEST
    assert "YYYY-MM-DD" in str(raised.value)
