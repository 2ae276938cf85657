"""Error bodies for requests the API cannot parse: oversized, not JSON, unknown routes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
from settle_helpers import Server

from terminal import protocol


def _error(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"error"}
    return dict(body["error"])


def _signed_post(server: Server, path: str, content: bytes) -> httpx.Response:
    terminal = server.new_terminal()
    headers = terminal.key.headers(terminal.terminal_id, "POST", path, content, server.clock())
    headers["Content-Type"] = "application/json"
    return server.client.post(path, content=content, headers=headers)


def _padded_intent(size_bytes: int) -> bytes:
    body = {"amount_yen": 100, "idempotency_key": "sale-0001", "note": ""}
    padding = size_bytes - len(json.dumps(body).encode())
    body["note"] = "x" * padding
    content = json.dumps(body).encode()
    assert len(content) == size_bytes
    return content


def test_body_at_limit_accepted(server: Server) -> None:
    response = _signed_post(server, "/v1/intents", _padded_intent(protocol.MAX_BODY_BYTES))

    assert response.status_code == 200
    assert response.json()["amount_yen"] == 100


def test_body_over_limit_413(server: Server) -> None:
    response = _signed_post(server, "/v1/intents", _padded_intent(protocol.MAX_BODY_BYTES + 1))

    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"
    assert f"more than the maximum of {protocol.MAX_BODY_BYTES} bytes" in (
        _error(response)["message"])


def test_streamed_body_over_limit_413(server: Server) -> None:
    chunk = b"x" * 4096
    chunk_count = protocol.MAX_BODY_BYTES // len(chunk) + 2

    def chunks() -> Iterator[bytes]:
        for _ in range(chunk_count):
            yield chunk

    # A generator body goes out chunked, without Content-Length, so only counting can stop it.
    response = server.client.post("/v1/wallet/topup", content=chunks(),
                                  headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"
    assert "Content-Length" not in response.request.headers


def test_declared_length_over_limit_413(server: Server) -> None:
    response = server.client.post(
        "/v1/wallets", content=b"{}",
        headers={"Content-Length": str(50 * 1024 * 1024), "Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert str(50 * 1024 * 1024) in _error(response)["message"]


def test_deep_nesting_invalid_json(server: Server) -> None:
    content = (b'{"amount_yen": 1, "idempotency_key": "sale-0001", "tax_lines": '
               + b"[" * 20_000 + b"]" * 20_000 + b"}")

    response = _signed_post(server, "/v1/intents", content)

    assert response.status_code == 422
    assert _error(response)["code"] == "invalid_request"
    assert _error(response)["message"].startswith("request body is not valid JSON")


def test_non_utf8_body_invalid_json(server: Server) -> None:
    response = _signed_post(server, "/v1/intents", b"\xff\xfe{}")

    assert response.status_code == 422
    assert _error(response)["code"] == "invalid_request"
    assert _error(response)["message"].startswith("request body is not valid JSON")


def test_truncated_json_position_named(server: Server) -> None:
    response = _signed_post(server, "/v1/intents", b'{"amount_yen": ')

    assert response.status_code == 422
    assert _error(response)["message"] == (
        "request body is not valid JSON; send one UTF-8 JSON object"
        " (Expecting value at character 15)"
    )


def test_unknown_route_path_shortened(server: Server) -> None:
    response = server.client.get("/v1/" + "z" * 5000)

    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"
    assert len(_error(response)["message"]) < 100
