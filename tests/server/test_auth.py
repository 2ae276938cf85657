from __future__ import annotations

import json

import pytest

from settle_helpers import Server

from terminal import protocol


def _intent_body(amount_yen: int = 500) -> bytes:
    return json.dumps({"amount_yen": amount_yen, "idempotency_key": "sale-0001"}).encode()


def test_unsigned_request_rejected(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    code = wallet.post("/v1/wallet/payment-codes").json()["code"]

    response = server.client.post("/v1/payments/cpm", json={
        "code": code, "amount_yen": 500, "idempotency_key": "scan-00001",
    })

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert "missing X-Chiiki-Terminal" in response.json()["error"]["message"]
    assert wallet.balance_yen() == 1000
    assert server.merchant_balance_yen(terminal.merchant_id) == 0


def test_tampered_body_rejected(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    signed = json.dumps({"code": code, "amount_yen": 5, "idempotency_key": "scan-00001"}).encode()
    sent = signed.replace(b'"amount_yen": 5', b'"amount_yen": 500')
    headers = terminal.key.headers(terminal.terminal_id, "POST", "/v1/payments/cpm", signed,
                                   server.clock())

    response = server.client.post("/v1/payments/cpm", content=sent,
                                  headers={**headers, "Content-Type": "application/json"})

    assert response.status_code == 401
    assert "signature does not match" in response.json()["error"]["message"]
    assert wallet.balance_yen() == 1000


def test_signature_covers_query(server: Server) -> None:
    terminal = server.new_terminal()
    headers = terminal.key.headers(terminal.terminal_id, "GET", "/v1/payments?limit=1", b"",
                                   server.clock())

    response = server.client.get("/v1/payments?limit=50", headers=headers)

    assert response.status_code == 401


def test_other_key_rejected(server: Server) -> None:
    terminal = server.new_terminal()
    impostor = server.new_terminal()
    headers = impostor.key.headers(terminal.terminal_id, "POST", "/v1/intents", _intent_body(),
                                   server.clock())

    response = server.client.post("/v1/intents", content=_intent_body(), headers=headers)

    assert response.status_code == 401


def test_stale_timestamp_rejected(server: Server) -> None:
    terminal = server.new_terminal()
    headers = terminal.key.headers(terminal.terminal_id, "GET", "/v1/terminal", b"",
                                   server.clock())

    server.clock.advance(server.settings.signature_window_s + 1)
    late = server.client.get("/v1/terminal", headers=headers)

    assert late.status_code == 401
    assert "set the terminal clock" in late.json()["error"]["message"]


def test_timestamp_without_zone_rejected(server: Server) -> None:
    terminal = server.new_terminal()
    headers = terminal.key.headers(terminal.terminal_id, "GET", "/v1/terminal", b"",
                                   server.clock())
    headers[protocol.HEADER_TIMESTAMP] = server.clock().replace(tzinfo=None).isoformat()

    response = server.client.get("/v1/terminal", headers=headers)

    assert response.status_code == 401
    assert "no time zone" in response.json()["error"]["message"]


def test_unknown_terminal_rejected(server: Server) -> None:
    terminal = server.new_terminal()
    headers = terminal.key.headers("t_nobody", "GET", "/v1/terminal", b"", server.clock())

    response = server.client.get("/v1/terminal", headers=headers)

    assert response.status_code == 401
    assert "not enrolled" in response.json()["error"]["message"]


def test_unsigned_invalid_body_is_401(server: Server) -> None:
    response = server.client.post("/v1/intents", json={"amount_yen": 0})

    assert response.status_code == 401


def test_terminal_info_signed(server: Server) -> None:
    terminal = server.new_terminal()

    info = terminal.get("/v1/terminal").json()

    assert info["terminal_id"] == terminal.terminal_id
    assert info["label"] == "REGI-1"
    assert info["merchant"]["name"] == "会津コイン商店"
    assert info["max_amount_yen"] == 1_000_000


def test_wallet_token_required(server: Server) -> None:
    missing = server.client.get("/v1/wallet")
    wrong = server.client.get("/v1/wallet", headers={"Authorization": "Bearer not-a-token"})

    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_extreme_timestamp_rejected(server: Server, timestamp: str) -> None:
    terminal = server.new_terminal()
    headers = terminal.key.headers(terminal.terminal_id, "GET", "/v1/terminal", b"",
                                   server.clock())
    headers[protocol.HEADER_TIMESTAMP] = timestamp

    response = server.client.get("/v1/terminal", headers=headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert f"X-Chiiki-Timestamp {timestamp} is" in response.json()["error"]["message"]


def test_long_timestamp_shortened(server: Server) -> None:
    terminal = server.new_terminal()
    headers = terminal.key.headers(terminal.terminal_id, "GET", "/v1/terminal", b"",
                                   server.clock())
    headers[protocol.HEADER_TIMESTAMP] = "2026-04-01T01:00:00" + "9" * 3000

    response = server.client.get("/v1/terminal", headers=headers)

    assert response.status_code == 401
    assert len(response.json()["error"]["message"]) < 200
