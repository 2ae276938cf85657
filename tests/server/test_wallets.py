from __future__ import annotations

import pytest
from settle_helpers import FakeClock, Server, TestClient

from server.api import create_app
from server.settings import Settings


def test_new_wallet_empty(server: Server) -> None:
    wallet = server.new_wallet()

    balance = wallet.get("/v1/wallet").json()

    assert balance == {"wallet_id": wallet.wallet_id, "total_yen": 0, "kinds": {}}


def test_topup_idempotent(server: Server) -> None:
    wallet = server.new_wallet()
    body = {"amount_yen": 1500, "idempotency_key": "topup-0001"}

    first = wallet.post("/v1/wallet/topup", body)
    second = wallet.post("/v1/wallet/topup", body)

    assert first.json()["total_yen"] == 1500
    assert second.json()["total_yen"] == 1500
    assert second.json()["kinds"] == {"coin": 1500}


def test_topup_needs_demo_mode(db_url: str, clock: FakeClock) -> None:
    app = create_app(Settings(database_url=db_url, demo=False, clock=clock))
    with TestClient(app) as client:
        token = client.post("/v1/wallets").json()["token"]
        response = client.post("/v1/wallet/topup",
                               json={"amount_yen": 100, "idempotency_key": "topup-0001"},
                               headers={"Authorization": f"Bearer {token}"})
        balance = client.get("/v1/wallet", headers={"Authorization": f"Bearer {token}"}).json()
    app.state.chiiki.db.dispose()

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "demo_disabled"
    assert balance["total_yen"] == 0


def test_health(server: Server) -> None:
    response = server.client.get("/v1/health")

    assert response.json() == {"status": "ok", "server_time": "2026-04-01T01:00:00+00:00"}


def test_unknown_route_error_shape(server: Server) -> None:
    response = server.client.get("/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_settings_from_env() -> None:
    settings = Settings.from_env({"CHIIKI_DATABASE_URL": "sqlite://", "CHIIKI_DEMO": "1",
                                  "CHIIKI_MAX_AMOUNT_YEN": "50000"})

    assert settings.database_url == "sqlite://"
    assert settings.demo is True
    assert settings.max_amount_yen == 50000
    assert settings.intent_ttl_s == 180


@pytest.mark.parametrize("amount", [True, "100", 1e3, " 100 ", "1_000"])
def test_topup_amount_strict(server: Server, amount: object) -> None:
    wallet = server.new_wallet()

    response = wallet.post("/v1/wallet/topup", {"amount_yen": amount,
                                                "idempotency_key": "topup-0001"})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert "expected a whole number of yen" in response.json()["error"]["message"]
    assert wallet.balance_yen() == 0


def test_topup_key_reuse_message(server: Server) -> None:
    wallet = server.new_wallet()
    wallet.post("/v1/wallet/topup", {"amount_yen": 5, "idempotency_key": "topup-0001"})

    response = wallet.post("/v1/wallet/topup", {"amount_yen": 6, "idempotency_key": "topup-0001"})

    message = response.json()["error"]["message"]
    assert response.status_code == 409
    assert message == ("idempotency_key topup-0001 was already used for a top-up of a different"
                       " amount; repeat the first request unchanged, or use a new key for a new"
                       " top-up")
    assert wallet.balance_yen() == 5
