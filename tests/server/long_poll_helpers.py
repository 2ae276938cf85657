"""Long polls on a payment intent, run in-process next to a wallet's pay call."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import httpx
from settle_helpers import Server, TerminalClient, WalletClient

POLL_WAIT_S = 30
# A poll that waits up to POLL_WAIT_S and ends within this time was woken or returned at once.
WOKEN_WITHIN_S = 10


def _signed_poll(client: httpx.AsyncClient, server: Server, terminal: TerminalClient,
                 intent_id: str, seen_rejection_at: str | None) -> asyncio.Task[httpx.Response]:
    path = f"/v1/intents/{intent_id}?wait={POLL_WAIT_S}"
    if seen_rejection_at is not None:
        path += f"&seen_rejection_at={quote(seen_rejection_at, safe='')}"
    headers = terminal.key.headers(terminal.terminal_id, "GET", path, b"", server.clock())
    return asyncio.create_task(client.get(path, headers=headers))


def poll_during_pay(server: Server, terminal: TerminalClient, wallet: WalletClient,
                    intent_id: str, amount_yen: int, *, key: str = "wallet-pay-during-poll",
                    seen_rejection_at: str | None = None) -> tuple[dict[str, Any], int]:
    """Start a long poll, pay the intent once the poll waits, and return the poll's body and
    the pay call's status code.

    The poll must end within WOKEN_WITHIN_S. On a server that re-reads the database less
    often than that, only a wake-up by the pay call achieves it.
    """
    notifier = server.state.notifier

    async def scenario() -> tuple[dict[str, Any], int]:
        transport = httpx.ASGITransport(app=server.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://settle") as client:
            poll = _signed_poll(client, server, terminal, intent_id, seen_rejection_at)
            while notifier.waiter_count(intent_id) == 0:
                await asyncio.sleep(0.01)
            assert not poll.done()

            paid = await client.post(
                f"/v1/intents/{intent_id}/pay", headers=wallet.headers,
                json={"amount_yen": amount_yen, "idempotency_key": key},
            )
            polled = await asyncio.wait_for(poll, timeout=WOKEN_WITHIN_S)
            return polled.json(), paid.status_code

    return asyncio.run(scenario())


def poll_once(server: Server, terminal: TerminalClient, intent_id: str,
              seen_rejection_at: str) -> dict[str, Any]:
    """Run one long poll that names the rejection already seen, and return its body.

    The poll must end within WOKEN_WITHIN_S. On a server that re-reads the database less
    often than that, only a poll that returns without waiting achieves it.
    """
    async def scenario() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=server.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://settle") as client:
            poll = _signed_poll(client, server, terminal, intent_id, seen_rejection_at)
            response = await asyncio.wait_for(poll, timeout=WOKEN_WITHIN_S)
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

    return asyncio.run(scenario())
