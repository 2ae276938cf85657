"""Issuer keys, offline certificates and the reserves behind them."""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from offline_helpers import (
    OfflineWallet,
    certificate_row,
    offline_entry,
    offline_wallet,
    request_certificate,
    send_batch,
)
from settle_helpers import Server

from server import issuer, ledger, offline
from server.models import ISSUANCE_ACCOUNT_ID
from server.settings import iso_utc
from terminal import offline_code, protocol
from terminal.protocol import ValueKind

WEEK_S = 7 * 24 * 3600
DAY_S = 24 * 3600


def _issuer_keys(server: Server) -> dict[str, Ed25519PublicKey]:
    response = server.client.get("/v1/issuer-keys")
    assert response.status_code == 200, response.text
    return {
        key["key_id"]: Ed25519PublicKey.from_public_bytes(protocol.b64decode(key["public_key"]))
        for key in response.json()["keys"]
    }


def test_issuer_key_created_once(server: Server) -> None:
    first = server.client.get("/v1/issuer-keys").json()
    second = server.client.get("/v1/issuer-keys").json()

    assert len(first["keys"]) == 1
    assert first["keys"] == second["keys"]
    key = first["keys"][0]
    assert key["key_id"] == offline_code.issuer_key_id(protocol.b64decode(key["public_key"]))
    assert key["valid_until"] == "2026-04-09T01:00:00+00:00"


def test_certificate_reserves_allowance(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=3_000)

    body = offline_code.verify_certificate(holder.certificate, _issuer_keys(server))
    assert body.serial == holder.serial
    assert body.wallet_id == holder.wallet.wallet_id
    assert body.allowance_yen == 3_000
    assert body.valid_until == server.clock() + timedelta(seconds=WEEK_S)
    assert holder.wallet.balance_yen() == 7_000
    assert server.merchant_balance_yen(offline.reserve_account_id(holder.wallet.wallet_id)) == 3_000


def test_certificate_repeat_returns_first(server: Server) -> None:
    wallet = server.new_wallet(10_000)
    key = Ed25519PrivateKey.generate()

    first = request_certificate(wallet, 2_000, key, idempotency_key="cert-repeat-1")
    second = request_certificate(wallet, 2_000, key, idempotency_key="cert-repeat-1")
    changed = request_certificate(wallet, 2_500, key, idempotency_key="cert-repeat-1")

    assert first.status_code == 200, first.text
    assert second.json() == first.json()
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "idempotency_conflict"
    assert wallet.balance_yen() == 8_000


def test_second_certificate_conflicts(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=3_000)

    during = request_certificate(holder.wallet, 1_000)
    server.clock.advance(WEEK_S + DAY_S - 1)
    grace = request_certificate(holder.wallet, 1_000)

    assert during.status_code == 409
    assert during.json()["error"]["code"] == "certificate_active"
    assert grace.status_code == 409


def test_next_certificate_releases_old_reserve(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=3_000)
    results = send_batch(server.new_terminal(),
                         [offline_entry(holder.code(server.clock()), 500, server.clock())])
    assert results[0]["status"] == "applied"
    server.clock.advance(WEEK_S + DAY_S)

    response = request_certificate(holder.wallet, 4_000)

    assert response.status_code == 200, response.text
    assert response.json()["serial"] != holder.serial
    old = certificate_row(server, holder.serial)
    assert old.released_yen == 2_500
    assert holder.wallet.balance_yen() == 10_000 - 500 - 4_000
    assert server.merchant_balance_yen(offline.reserve_account_id(holder.wallet.wallet_id)) == 4_000


def test_allowance_over_cap_rejected(server: Server) -> None:
    wallet = server.new_wallet(50_000)

    response = request_certificate(wallet, 30_001)

    assert response.status_code == 422
    assert "allowed: 1 to 30000 yen" in response.json()["error"]["message"]
    assert wallet.balance_yen() == 50_000


def test_allowance_beyond_balance(server: Server) -> None:
    wallet = server.new_wallet(1_000)

    response = request_certificate(wallet, 2_000)

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_funds"


def test_bad_public_key_rejected(server: Server) -> None:
    wallet = server.new_wallet(1_000)

    response = wallet.post("/v1/wallet/offline-certificate", {
        "allowance_yen": 500, "public_key": protocol.b64encode(b"short"),
        "idempotency_key": "cert-bad-key",
    })

    assert response.status_code == 422
    assert "raw Ed25519 public key" in response.json()["error"]["message"]


def test_certificate_needs_bearer(server: Server) -> None:
    response = server.client.post("/v1/wallet/offline-certificate", json={
        "allowance_yen": 500, "public_key": "x", "idempotency_key": "cert-no-auth",
    })

    assert response.status_code == 401


def test_rotation_keeps_old_key_valid(server: Server) -> None:
    before = offline_wallet(server, balance_yen=5_000, allowance_yen=2_000)
    with server.state.db.write() as session:
        new_key_id, retired = issuer.rotate_issuer_key(session, server.settings)
    after = offline_wallet(server, balance_yen=5_000, allowance_yen=2_000)

    keys = _issuer_keys(server)
    assert set(keys) == {new_key_id, *retired}
    assert len(retired) == 1
    assert offline_code.read_certificate(after.certificate)[0].issuer_key_id == new_key_id
    assert offline_code.read_certificate(before.certificate)[0].issuer_key_id == retired[0]
    results = send_batch(server.new_terminal(),
                         [offline_entry(before.code(server.clock()), 700, server.clock())])
    assert results[0]["status"] == "applied"


def test_retired_key_leaves_list(server: Server) -> None:
    server.client.get("/v1/issuer-keys")
    with server.state.db.write() as session:
        new_key_id, _ = issuer.rotate_issuer_key(session, server.settings)
    server.clock.advance(WEEK_S + DAY_S + 1)

    keys = server.client.get("/v1/issuer-keys").json()["keys"]

    assert [key["key_id"] for key in keys] == [new_key_id]


def test_release_returns_unused_reserve(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=3_000)
    send_batch(server.new_terminal(),
               [offline_entry(holder.code(server.clock()), 1_200, server.clock())])

    server.clock.advance(WEEK_S + DAY_S - 1)
    with server.state.db.write() as session:
        early = offline.release_offline_reserves(session, server.settings)
    server.clock.advance(1)
    with server.state.db.write() as session:
        released = offline.release_offline_reserves(session, server.settings)
    with server.state.db.write() as session:
        again = offline.release_offline_reserves(session, server.settings)

    assert early == []
    assert released == [offline.ReleasedReserve(holder.serial, holder.wallet.wallet_id, 1_800)]
    assert again == []
    assert holder.wallet.balance_yen() == 10_000 - 1_200
    assert server.merchant_balance_yen(offline.reserve_account_id(holder.wallet.wallet_id)) == 0


def _give_premium(server: Server, wallet_id: str, amount_yen: int, expires_at: datetime) -> None:
    with server.state.db.write() as session:
        ledger.issue(
            session, transfer_id=f"premium-{wallet_id}", issuer_id=ISSUANCE_ACCOUNT_ID,
            destination_id=server.wallet_row(wallet_id).account_id, amount_yen=amount_yen,
            now=server.clock(), kind=ValueKind.PREMIUM_LOCAL, expires_at=expires_at,
        )


def test_reserve_skips_value_expiring_before_release(server: Server) -> None:
    wallet = server.new_wallet(2_000)
    _give_premium(server, wallet.wallet_id, 4_000, server.clock() + timedelta(days=2))

    response = request_certificate(wallet, 3_000)

    assert response.status_code == 402, response.text
    message = response.json()["error"]["message"]
    settle_until = server.clock() + timedelta(seconds=WEEK_S + server.settings.offline_max_age_s)
    assert f"stays valid until {iso_utc(settle_until)}" in message
    assert wallet.balance_yen() == 6_000


def test_reserve_outlives_expiring_premium(server: Server) -> None:
    wallet = server.new_wallet(3_000)
    _give_premium(server, wallet.wallet_id, 4_000, server.clock() + timedelta(days=2))
    key = Ed25519PrivateKey.generate()
    response = request_certificate(wallet, 3_000, key)
    assert response.status_code == 200, response.text
    body = response.json()
    holder = OfflineWallet(wallet, key, protocol.b64decode(body["certificate"]), body["serial"])
    captured_at = server.clock()
    entry = offline_entry(holder.code(captured_at), 3_000, captured_at)

    # The terminal stays offline until the premium points have expired, then syncs.
    server.clock.advance(3 * DAY_S)
    terminal = server.new_terminal()
    results = send_batch(terminal, [entry], device_time=server.clock())

    assert results[0]["status"] == "applied"
    assert server.merchant_balance_yen(terminal.merchant_id) == 3_000
    assert wallet.balance_yen() == 0
    server.assert_conserved()
