"""Offline wallets and sync batches for the offline payment and sync tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from money_helpers import sell
from settle_helpers import Server, TerminalClient, WalletClient
from sqlalchemy import select

from server.models import OfflineCertificateRow
from terminal import offline_code, protocol


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass
class OfflineWallet:
    """A wallet with an offline certificate and the private key that signs its codes."""

    wallet: WalletClient
    key: Ed25519PrivateKey
    certificate: bytes
    serial: int
    counter: int = 0

    def code(self, signed_at: datetime, counter: int | None = None) -> str:
        """Make the next code, or the code with ``counter`` (to show one code twice)."""
        if counter is None:
            self.counter += 1
            counter = self.counter
        return offline_code.make_offline_code(self.certificate, self.key, counter, signed_at)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    return protocol.b64encode(raw)


def request_certificate(
    wallet: WalletClient, allowance_yen: int, key: Ed25519PrivateKey | None = None,
    idempotency_key: str | None = None,
) -> httpx.Response:
    return wallet.post("/v1/wallet/offline-certificate", {
        "allowance_yen": allowance_yen,
        "public_key": public_key_b64(key or Ed25519PrivateKey.generate()),
        "idempotency_key": idempotency_key or f"cert-{uuid.uuid4().hex}",
    })


def offline_wallet(server: Server, balance_yen: int, allowance_yen: int) -> OfflineWallet:
    wallet = server.new_wallet(balance_yen)
    key = Ed25519PrivateKey.generate()
    response = request_certificate(wallet, allowance_yen, key)
    assert response.status_code == 200, response.text
    body = response.json()
    return OfflineWallet(wallet, key, protocol.b64decode(body["certificate"]), body["serial"])


def offline_entry(code: str, amount_yen: int, captured_at: datetime, seq: int = 1,
                  entry_id: str | None = None) -> dict[str, Any]:
    return {
        "entry_id": entry_id or f"e-{uuid.uuid4().hex}", "seq": seq, "kind": "offline_payment",
        "captured_at": iso(captured_at), "amount_yen": amount_yen, "offline_code": code,
    }


def payment_entry(kind: str, payment_id: str, amount_yen: int, captured_at: datetime,
                  seq: int = 1, entry_id: str | None = None) -> dict[str, Any]:
    return {
        "entry_id": entry_id or f"e-{uuid.uuid4().hex}", "seq": seq, "kind": kind,
        "captured_at": iso(captured_at), "amount_yen": amount_yen, "payment_id": payment_id,
    }


def send_batch(terminal: TerminalClient, entries: list[dict[str, Any]],
               device_time: datetime | None = None) -> list[dict[str, Any]]:
    """POST /v1/sync and return the per-entry results."""
    response = terminal.post("/v1/sync", {
        "entries": entries, "device_time": iso(device_time or terminal.clock()),
    })
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def certificate_row(server: Server, serial: int) -> OfflineCertificateRow:
    with server.state.db.read() as session:
        row = session.scalars(
            select(OfflineCertificateRow).where(OfflineCertificateRow.serial == serial)
        ).one()
    return row


def cpm_payment(server: Server, terminal: TerminalClient, amount_yen: int) -> str:
    """Pay ``amount_yen`` online with a consumer-presented code; return the payment id."""
    return sell(server, terminal, amount_yen)
