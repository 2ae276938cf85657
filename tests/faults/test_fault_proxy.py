"""The fault proxy itself, against the real server on loopback: each fault does what it claims,
and the server's idempotency holds when a response is lost or a request is replayed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fault_proxy import FaultPlan, FaultProxy

from server.db import init_db
from server.embedded import EmbeddedServer, start_embedded_server
from server.wallet_cli import WalletClient, WalletError


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    db_url = f"sqlite:///{tmp_path / 'settle.db'}"
    init_db(db_url).dispose()
    with start_embedded_server(db_url, port=0, demo=True) as running:
        yield running


def _upstream(server: EmbeddedServer) -> tuple[str, int]:
    url = httpx.URL(server.url)
    assert url.port is not None
    return url.host, url.port


def _wallet_via(proxy_url: str, server: EmbeddedServer) -> tuple[WalletClient, WalletClient]:
    direct = WalletClient(server.url)
    credentials = direct.create()
    return WalletClient(proxy_url, credentials), direct


def test_pass_relays_responses(server: EmbeddedServer) -> None:
    with FaultProxy(_upstream(server), FaultPlan(seed=1)) as proxy:
        responses = [httpx.get(f"{proxy.url}/v1/health") for _ in range(5)]

    assert [response.status_code for response in responses] == [200] * 5
    assert proxy.counts["pass"] == 5


def test_drop_closes_without_answer(server: EmbeddedServer) -> None:
    with FaultProxy(_upstream(server), FaultPlan(seed=2, drop=1.0)) as proxy:
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{proxy.url}/v1/health")

    assert proxy.counts["drop"] == 1


def test_lost_response_then_retry_books_once(server: EmbeddedServer) -> None:
    key = uuid.uuid4().hex
    with FaultProxy(_upstream(server), FaultPlan(seed=3, cut_response=1.0)) as proxy:
        through_proxy, direct = _wallet_via(proxy.url, server)
        with pytest.raises(WalletError):
            through_proxy.topup(700, idempotency_key=key)

    retried = direct.topup(700, idempotency_key=key)

    assert retried.total_yen == 700
    assert direct.balance().total_yen == 700


def test_duplicated_request_books_once(server: EmbeddedServer) -> None:
    key = uuid.uuid4().hex
    with FaultProxy(_upstream(server), FaultPlan(seed=4, duplicate=1.0)) as proxy:
        through_proxy, direct = _wallet_via(proxy.url, server)
        answered = through_proxy.topup(300, idempotency_key=key)

    assert proxy.counts["duplicate"] == 1
    assert answered.total_yen == 300
    assert direct.balance().total_yen == 300


def test_cut_request_never_applies(server: EmbeddedServer) -> None:
    with FaultProxy(_upstream(server), FaultPlan(seed=5, cut_request=1.0)) as proxy:
        through_proxy, direct = _wallet_via(proxy.url, server)
        with pytest.raises(WalletError):
            through_proxy.topup(900)

    assert direct.balance().total_yen == 0


def test_same_seed_same_faults(server: EmbeddedServer) -> None:
    plan = {"drop": 0.3, "delay": 0.2, "duplicate": 0.2, "delay_s": 0.0}
    sequences = []
    for _ in range(2):
        with FaultProxy(_upstream(server), FaultPlan(seed=42, **plan)) as proxy:
            for _ in range(12):
                try:
                    httpx.get(f"{proxy.url}/v1/health")
                except httpx.TransportError:
                    pass
            sequences.append(dict(proxy.counts))

    assert sequences[0] == sequences[1]
    assert sum(sequences[0].values()) == 12


def test_weights_over_one_rejected() -> None:
    with pytest.raises(ValueError, match="more than 1"):
        FaultPlan(seed=0, drop=0.7, duplicate=0.5)
