"""chiiki-wallet offline-code --coupon with the coupon stored in the wallet file, used when the
server cannot be reached, against the real server on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import httpx
import pytest
from offline_helpers import send_batch
from PIL import Image
from pyzbar.pyzbar import decode as decode_barcodes
from settle_helpers import Server, TerminalClient
from sqlalchemy import func, select
from test_coupon_flows import issue, pay_cpm, usable_code
from test_coupon_offline import coupon_entry, two_shops
from wallet_cli_helpers import SERVER_URL, route_wallet_cli

from server import wallet_cli
from server.coupon_models import CouponUseRow
from server.wallet_cli import WalletClient, WalletCredentials, save_credentials
from terminal import coupon_code, coupon_pairing, offline_code


class Wallet:
    """A wallet file whose wallet has one usable coupon valid at two shops, and switches
    that cut the wallet off from the server or restore its connection."""

    def __init__(self, path: Path, server: Server, monkeypatch: pytest.MonkeyPatch,
                 closed_url: str) -> None:
        self.path = path
        self.server = server
        self.monkeypatch = monkeypatch
        self.closed_url = closed_url
        self.shops = two_shops(server)
        self.server_wallet = server.new_wallet(5_000)
        issue(server)
        self.coupon = usable_code(self.server_wallet)
        self.coupon_id = coupon_code.parse_coupon_code(self.coupon).coupon_id
        self.server_args: list[str] = []
        save_credentials(path, WalletCredentials(
            SERVER_URL, self.server_wallet.wallet_id, self.server_wallet.token))

    def run(self, *args: str) -> int:
        return wallet_cli.main(["--wallet-file", str(self.path), *self.server_args, *args])

    def server_down(self) -> None:
        """Send the wallet's requests to a loopback port that refuses connections."""
        self.monkeypatch.setattr(wallet_cli, "WalletClient", WalletClient)
        self.server_args = ["--server", self.closed_url]

    def server_up(self) -> None:
        route_wallet_cli(self.server, self.monkeypatch)
        self.server_args = []

    def answer_with(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        """Send the wallet's requests to ``handler`` instead of the server."""
        transport = httpx.MockTransport(handler)
        self.monkeypatch.setattr(wallet_cli, "WalletClient",
                                 functools.partial(WalletClient, transport=transport))

    def data(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return loaded


@pytest.fixture
def closed_url() -> Iterator[str]:
    """A loopback URL whose port is bound but not listening, so connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"


@pytest.fixture
def wallet(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           closed_url: str, capsys: pytest.CaptureFixture[str]) -> Wallet:
    route_wallet_cli(server, monkeypatch)

    class ServerTime(datetime):
        """The server's fake clock, so the wallet's clock moves with it."""

        @classmethod
        def now(cls, tz: tzinfo | None = None) -> ServerTime:  # type: ignore[override]
            moment = server.clock()
            return cls.fromtimestamp(moment.timestamp(), tz)

    monkeypatch.setattr(wallet_cli, "datetime", ServerTime)
    created = Wallet(tmp_path / "wallet.json", server, monkeypatch, closed_url)
    assert created.run("offline-cert", "--allowance", "3000") == 0
    capsys.readouterr()
    return created


def offline_pair(wallet: Wallet, capsys: pytest.CaptureFixture[str]) -> tuple[
        coupon_pairing.PairedCode, str]:
    """Run offline-code --coupon, check that it printed a paired code, and return the code
    with the command's standard error."""
    status = wallet.run("offline-code", "--coupon", wallet.coupon_id)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return coupon_pairing.check(captured.out.strip()), captured.err


def rejection(wallet: Wallet, capsys: pytest.CaptureFixture[str]) -> str:
    """Run offline-code --coupon, check that it printed nothing and took no counter, and
    return its standard error."""
    counter_before = wallet.data()["offline_counter"]
    capsys.readouterr()
    status = wallet.run("offline-code", "--coupon", wallet.coupon_id)
    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert wallet.data()["offline_counter"] == counter_before
    return captured.err


def offline_counter(paired: coupon_pairing.PairedCode) -> int:
    _certificate, counter, *_rest = offline_code.parse_offline_code(paired.payment_code)
    return counter


# --- storing -------------------------------------------------------------------------------


def test_coupons_listing_stores_copies(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    assert wallet.run("coupons") == 0

    stored = wallet.data()["coupons"]
    assert list(stored) == [wallet.coupon_id]
    assert stored[wallet.coupon_id]["code"] == wallet.coupon
    assert stored[wallet.coupon_id]["campaign_id"] == "aki"
    assert stored[wallet.coupon_id]["status"] == "usable"
    assert stored[wallet.coupon_id]["discount"] == "100 yen"
    assert stored[wallet.coupon_id]["seen_at"] == wallet.server.clock().isoformat()
    assert wallet.path.stat().st_mode & 0o777 == 0o600
    assert "offline_certificate" in wallet.data()


@pytest.mark.parametrize("fetching_command", [
    ["coupons"], ["coupons", "--coupon", "{id}"], ["code", "--coupon", "{id}"],
    ["offline-code", "--coupon", "{id}"],
])
def test_each_fetch_stores_for_offline(
    wallet: Wallet, fetching_command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert wallet.run(*[arg.format(id=wallet.coupon_id) for arg in fetching_command]) == 0
    capsys.readouterr()
    wallet.server_down()

    paired, _err = offline_pair(wallet, capsys)

    assert paired.coupon_code == wallet.coupon


# --- fallback ------------------------------------------------------------------------------


def test_refused_connection_uses_stored_copy(
    wallet: Wallet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert wallet.run("coupons") == 0
    listed_at = wallet.server.clock().isoformat()
    wallet.server.clock.advance(3_600)
    capsys.readouterr()
    wallet.server_down()
    qr_path = tmp_path / "paired.png"

    status = wallet.run("offline-code", "--coupon", wallet.coupon_id, "--qr-file", str(qr_path))

    captured = capsys.readouterr()
    assert status == 0, captured.err
    paired = coupon_pairing.check(captured.out.strip())
    assert paired.offline
    assert paired.coupon_code == wallet.coupon
    assert offline_counter(paired) == 1
    decoded = decode_barcodes(Image.open(qr_path))
    assert [result.data.decode("ascii") for result in decoded] == [captured.out.strip()]
    assert f"cannot reach the server at {wallet.closed_url}" in captured.err
    assert f"coupon {wallet.coupon_id} is used as stored at {listed_at}" in captured.err
    assert "last listed as usable" in captured.err
    assert f"with coupon {wallet.coupon_id} (秋の100円引き: 100 yen)" in captured.err


@pytest.mark.parametrize("timeout", [httpx.ConnectTimeout, httpx.ReadTimeout])
def test_timeout_uses_stored_copy(
    wallet: Wallet, timeout: type[httpx.TimeoutException], capsys: pytest.CaptureFixture[str]
) -> None:
    assert wallet.run("coupons") == 0
    capsys.readouterr()

    def time_out(request: httpx.Request) -> httpx.Response:
        raise timeout("timed out", request=request)

    wallet.answer_with(time_out)

    paired, err = offline_pair(wallet, capsys)

    assert paired.coupon_code == wallet.coupon
    assert f"coupon {wallet.coupon_id} is used as stored at" in err


def test_no_stored_copy_rejected(wallet: Wallet, capsys: pytest.CaptureFixture[str]) -> None:
    wallet.server_down()

    err = rejection(wallet, capsys)

    assert f"cannot reach the server at {wallet.closed_url}" in err
    assert f"this wallet has no stored copy of coupon {wallet.coupon_id}" in err
    assert "run 'chiiki-wallet coupons' while the server can be reached" in err


def test_expired_stored_copy_rejected(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    assert wallet.run("coupons") == 0
    valid_until = wallet.data()["coupons"][wallet.coupon_id]["valid_until"]
    wallet.server.clock.now = datetime.fromisoformat(valid_until)
    wallet.server_down()

    err = rejection(wallet, capsys)

    assert f"coupon {wallet.coupon_id} expired at {valid_until} by this device's clock" in err


def test_stored_copy_last_seen_used_rejected(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    first_shop, _second_shop = wallet.shops
    used = pay_cpm(first_shop, wallet.server_wallet, wallet.coupon, 1_000, 100)
    assert used.status_code == 200, used.text
    assert wallet.run("coupons") == 0
    listed_at = wallet.server.clock().isoformat()
    wallet.server_down()

    err = rejection(wallet, capsys)

    assert f"coupon {wallet.coupon_id} was already used when the server last listed it at" \
        f" {listed_at}" in err
    assert "show the code without --coupon" in err


def test_server_used_status_wins(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    assert wallet.run("coupons") == 0
    assert wallet.data()["coupons"][wallet.coupon_id]["status"] == "usable"
    first_shop, _second_shop = wallet.shops
    used = pay_cpm(first_shop, wallet.server_wallet, wallet.coupon, 1_000, 100)
    assert used.status_code == 200, used.text

    err = rejection(wallet, capsys)

    assert f"coupon {wallet.coupon_id} was already used" in err
    assert "stored" not in err
    assert wallet.data()["coupons"][wallet.coupon_id]["status"] == "used"
    wallet.server_down()
    assert "was already used when the server last listed it" in rejection(wallet, capsys)


def test_server_error_response_no_fallback(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    assert wallet.run("coupons") == 0
    assert wallet.data()["coupons"][wallet.coupon_id]["status"] == "usable"

    def unavailable(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, text="Service Unavailable")

    wallet.answer_with(unavailable)

    err = rejection(wallet, capsys)

    assert "the server returned HTTP 503 without an error body" in err
    assert "stored" not in err


def test_damaged_stored_coupons_explained(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    assert wallet.run("coupons") == 0
    data = wallet.data()
    data["coupons"][wallet.coupon_id]["valid_until"] = "soon"
    wallet.path.write_text(json.dumps(data), encoding="utf-8")
    wallet.server_down()

    err = rejection(wallet, capsys)

    assert f"the stored copy of coupon {wallet.coupon_id} in wallet file {wallet.path} is" \
        " damaged ('soon' is not an ISO 8601 time)" in err


def test_wallet_file_without_coupons_loads(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    older = wallet.data()
    assert "coupons" not in older
    wallet.server_down()

    err = rejection(wallet, capsys)
    assert f"this wallet has no stored copy of coupon {wallet.coupon_id}" in err
    assert wallet.run("offline-code") == 0
    capsys.readouterr()

    wallet.server_up()
    assert wallet.run("coupons") == 0
    newer = wallet.data()
    for key in ("server_url", "wallet_id", "token", "offline_private_key", "offline_certificate"):
        assert newer[key] == older[key], key
    assert newer["offline_counter"] == 1
    assert list(newer["coupons"]) == [wallet.coupon_id]


# --- at the terminals ----------------------------------------------------------------------


def test_stored_copy_second_use_declined_at_sync(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    first_shop, second_shop = wallet.shops
    assert wallet.run("coupons") == 0
    capsys.readouterr()
    wallet.server_down()
    first, _err = offline_pair(wallet, capsys)
    second, _err = offline_pair(wallet, capsys)
    captured_at = wallet.server.clock()

    result_a = sync_paired(first_shop, first, captured_at)
    result_b = sync_paired(second_shop, second, captured_at)

    assert (offline_counter(first), offline_counter(second)) == (1, 2)
    assert second.coupon_code == first.coupon_code == wallet.coupon
    assert result_a["status"] == "applied"
    assert result_a["coupon_declined"] is None
    assert result_b["status"] == "applied"
    assert result_b["coupon_declined"]["reason"] == "coupon_used"
    assert result_b["coupon_declined"]["missing_yen"] == 100
    assert wallet.server.merchant_balance_yen(first_shop.merchant_id) == 1_000
    assert wallet.server.merchant_balance_yen(second_shop.merchant_id) == 900
    assert wallet.server.merchant_balance_yen("coupons:aki") == 10_000 - 100
    assert count_coupon_uses(wallet.server) == 1


def sync_paired(shop: TerminalClient, paired: coupon_pairing.PairedCode,
                captured_at: datetime) -> dict[str, Any]:
    entry = coupon_entry(paired.payment_code, paired.coupon_code, 1_000, 100, captured_at)
    return send_batch(shop, [entry])[0]


def count_coupon_uses(server: Server) -> int:
    with server.state.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(CouponUseRow)) or 0)
