"""Store and forward against the real server on loopback: offline payments taken during an
outage reach the ledger in capture order, followed by online payments made after it."""

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
from terminal import offline_code, protocol
from terminal.api_client import ApiClient
from terminal.clock import ServerClock
from terminal.config import OfflineConfig
from terminal.keys import Signer
from terminal.offline import OfflineAcceptor
from terminal.sale import Key, Sale, SaleState
from terminal.store import Store, open_store
from terminal.sync import SyncEngine, SyncWorker


class SwitchableTransport(httpx.BaseTransport):
    """A real HTTP transport that can fail to connect, or drop the connection after the
    server has handled a request and before its response arrives."""

    def __init__(self) -> None:
        self.down = False
        self.cut_responses = 0
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("network cable unplugged", request=request)
        response = self._inner.handle_request(request)
        if self.cut_responses and request.url.path.endswith("/sync"):
            self.cut_responses -= 1
            response.read()
            response.close()
            raise httpx.RemoteProtocolError("server disconnected mid-response", request=request)
        return response

    def close(self) -> None:
        self._inner.close()


@dataclass
class OfflineWallet:
    private_key: Ed25519PrivateKey
    certificate: bytes
    counters: Iterator[int]

    def code(self) -> str:
        now = datetime.now(UTC)
        return offline_code.make_offline_code(
            self.certificate, self.private_key, next(self.counters), now
        )


@dataclass
class Counter:
    db_url: str
    server: EmbeddedServer
    seed: DemoSeed
    store: Store
    api: ApiClient
    sync_transport: SwitchableTransport
    worker: SyncWorker
    acceptor: OfflineAcceptor


@pytest.fixture
def counter(tmp_path: Path) -> Iterator[Counter]:
    db_url = f"sqlite:///{tmp_path / 'settle.db'}"
    seed = seed_demo(init_db(db_url), wallet_balance_yen=50_000)
    with start_embedded_server(db_url, port=0, demo=True) as server:
        clock = ServerClock()
        signer = Signer(Ed25519PrivateKey.generate(), clock=clock.now)
        api = ApiClient(server.url, None, signer)
        info = api.enrol(seed.activation_code)
        transport = SwitchableTransport()
        sync_api = ApiClient(
            server.url, info.terminal_id, signer, transport=transport, retry_delays_s=()
        )
        store = open_store(tmp_path / "terminal")
        engine = SyncEngine(store, sync_api, clock, random=lambda: 0.0)
        acceptor = OfflineAcceptor(
            store,
            OfflineConfig(),
            clock,
            lambda: uuid.uuid4().hex,
            merchant_id=info.merchant.merchant_id,
            terminal_id=info.terminal_id,
        )
        yield Counter(
            db_url, server, seed, store, api, transport, SyncWorker(engine), acceptor
        )
        api.close()
        sync_api.close()
        store.close()


def wallet_request(server: EmbeddedServer, seed: DemoSeed, path: str, body: object) -> object:
    response = httpx.post(
        f"{server.url}/v1{path}",
        json=body,
        headers={"Authorization": f"Bearer {seed.wallet_token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def offline_wallet(counter: Counter) -> OfflineWallet:
    private_key = Ed25519PrivateKey.generate()
    public_key = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    request = protocol.OfflineCertificateRequest(
        allowance_yen=10_000,
        public_key=protocol.b64encode(public_key),
        idempotency_key=uuid.uuid4().hex,
    )
    issued = protocol.OfflineCertificate.model_validate(
        wallet_request(
            counter.server,
            counter.seed,
            "/wallet/offline-certificate",
            request.model_dump(mode="json"),
        )
    )
    return OfflineWallet(private_key, protocol.b64decode(issued.certificate), itertools.count(1))


def ring_up(sale: Sale, amount: str) -> None:
    for digit in amount:
        sale.press(digit)
    sale.press(Key.RATE_10)
    sale.start_cpm()


def server_entries(db_url: str) -> list[tuple[str, str, str]]:
    engine = create_engine(db_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT entry_id, kind, status FROM sync_results ORDER BY seq")
        ).all()
    engine.dispose()
    return [(row[0], row[1], row[2]) for row in rows]


def test_offline_a_b_then_online_c_in_order(counter: Counter) -> None:
    worker = counter.worker
    assert worker.run_once().online is True
    assert counter.store.issuer_keys()
    wallet = offline_wallet(counter)

    counter.sync_transport.down = True
    assert worker.run_once().online is False
    offline_sales = []
    for amount in ("1100", "2200"):
        sale = Sale(100_000, offline=counter.acceptor, is_offline=lambda: worker.offline)
        ring_up(sale, amount)
        assert sale.submit_code(counter.api, wallet.code()) is None
        assert sale.state is SaleState.APPROVED
        offline_sales.append(sale)
    assert worker.run_once().waiting_count == 2

    counter.sync_transport.down = False
    assert worker.run_once().waiting_count == 0

    online_sale = Sale(100_000, store=counter.store, offline=counter.acceptor,
                       is_offline=lambda: worker.offline)
    ring_up(online_sale, "3300")
    code = wallet_request(counter.server, counter.seed, "/wallet/payment-codes", None)
    assert isinstance(code, dict)
    assert online_sale.submit_code(counter.api, code["code"]) is None
    assert online_sale.state is SaleState.APPROVED
    assert online_sale.payment is not None and online_sale.payment.method == "cpm"
    final = worker.run_once()

    captures = counter.store.captures()
    expected = [(capture.capture_id, capture.kind, "applied") for capture in captures]
    assert [capture.amount_yen for capture in captures] == [1_100, 2_200, 3_300]
    assert server_entries(counter.db_url) == expected
    assert [capture.state for capture in captures] == ["confirmed"] * 3
    assert (final.waiting_count, final.declined_count, final.online) == (0, 0, True)

    booked = {payment.payment_id: payment for payment in counter.api.list_payments()}
    for capture in captures[:2]:
        assert capture.payment_id is not None
        assert booked[capture.payment_id].method == "offline"
        assert booked[capture.payment_id].amount_yen == capture.amount_yen
    assert captures[2].payment_id == online_sale.payment.payment_id


def test_lost_response_resent_as_duplicate(counter: Counter) -> None:
    worker = counter.worker
    worker.run_once()
    wallet = offline_wallet(counter)
    capture_id = counter.acceptor.accept(wallet.code(), 700).capture.capture_id
    counter.sync_transport.cut_responses = 1

    assert worker.engine.drain().failed
    assert counter.store.outbox_state(capture_id) == "pending"
    assert server_entries(counter.db_url) == [(capture_id, "offline_payment", "applied")]

    assert not worker.engine.drain().failed
    capture = counter.store.capture(capture_id)
    assert capture is not None and capture.state == "confirmed"
    assert capture.payment_id is not None
    assert len(server_entries(counter.db_url)) == 1
