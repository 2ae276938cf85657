"""Point chiiki-wallet's HTTP client at an in-process test server."""

from __future__ import annotations

import functools

import httpx
import pytest
from settle_helpers import Server

from server import wallet_cli
from server.wallet_cli import WalletClient

SERVER_URL = "http://wallet.test"


def route_wallet_cli(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send every request the wallet CLI makes to ``server``, whatever host its file names."""
    def forward(request: httpx.Request) -> httpx.Response:
        response = server.client.request(request.method, request.url.path,
                                         headers=dict(request.headers), content=request.content)
        return httpx.Response(response.status_code, content=response.content,
                              headers=response.headers)

    transport = httpx.MockTransport(forward)
    monkeypatch.setattr(wallet_cli, "WalletClient",
                        functools.partial(WalletClient, transport=transport))
