"""chiiki-wallet code --coupon and offline-code --coupon against the real server."""

from __future__ import annotations

import uuid
from datetime import datetime, tzinfo
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode as decode_barcodes
from settle_helpers import Server, TerminalClient
from settle_helpers import WalletClient as ServerWalletClient
from test_coupon_flows import coupon_setup, pay_cpm
from wallet_cli_helpers import SERVER_URL, route_wallet_cli

from server import wallet_cli
from server.wallet_cli import WalletCredentials, save_credentials
from terminal import coupon_code, coupon_pairing, offline_code


class Wallet:
    """The wallet file of a wallet holding one usable coupon, and its server-side handles."""

    def __init__(self, path: Path, terminal: TerminalClient, server_wallet: ServerWalletClient,
                 coupon: str) -> None:
        self.path = path
        self.terminal = terminal
        self.server_wallet = server_wallet
        self.coupon = coupon
        self.coupon_id = coupon_code.parse_coupon_code(coupon).coupon_id

    def run(self, *args: str) -> int:
        return wallet_cli.main(["--wallet-file", str(self.path), *args])


@pytest.fixture
def wallet(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Wallet:
    terminal, server_wallet, coupon = coupon_setup(server)
    route_wallet_cli(server, monkeypatch)

    class ServerTime(datetime):
        """The server's fake clock, so offline codes are signed at the server's time."""

        @classmethod
        def now(cls, tz: tzinfo | None = None) -> ServerTime:  # type: ignore[override]
            moment = server.clock()
            return cls.fromtimestamp(moment.timestamp(), tz)

    monkeypatch.setattr(wallet_cli, "datetime", ServerTime)
    path = tmp_path / "wallet.json"
    save_credentials(
        path, WalletCredentials(SERVER_URL, server_wallet.wallet_id, server_wallet.token)
    )
    return Wallet(path, terminal, server_wallet, coupon)


def read_printed_pair(status: int, capsys: pytest.CaptureFixture[str],
                      qr_path: Path) -> tuple[coupon_pairing.PairedCode, str]:
    """Check that a command printed one paired code and wrote the same text as a QR image,
    and return the parsed code with the command's standard error."""
    captured = capsys.readouterr()
    text = captured.out.strip()
    assert status == 0
    paired = coupon_pairing.check(text)
    decoded = decode_barcodes(Image.open(qr_path))
    assert [result.data.decode("ascii") for result in decoded] == [text]
    return paired, captured.err


def test_code_with_coupon_prints_pair(
    wallet: Wallet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qr_path = tmp_path / "paired.png"

    status = wallet.run("code", "--coupon", wallet.coupon_id, "--qr-file", str(qr_path))

    paired, err = read_printed_pair(status, capsys, qr_path)
    assert paired.coupon_code == wallet.coupon
    assert len(paired.payment_code) == 20
    assert f"with coupon {wallet.coupon_id} (秋の100円引き: 100 yen)" in err


def test_paired_payment_part_redeems_with_coupon(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    wallet.run("code", "--coupon", wallet.coupon_id)
    paired = coupon_pairing.check(capsys.readouterr().out.strip())

    response = wallet.terminal.post("/v1/payments/cpm", {
        "code": paired.payment_code, "amount_yen": 900,
        "idempotency_key": f"sale-{uuid.uuid4().hex}",
        "coupon": {"code": paired.coupon_code, "total_yen": 1_000, "discount_yen": 100},
        "tax_lines": [],
    })

    assert response.status_code == 200, response.text
    assert response.json()["amount_yen"] == 900
    assert response.json()["coupon"]["coupon_id"] == wallet.coupon_id


def test_used_coupon_names_id_and_command(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    used = pay_cpm(wallet.terminal, wallet.server_wallet, wallet.coupon, 1_000, 100)
    assert used.status_code == 200, used.text

    status = wallet.run("code", "--coupon", wallet.coupon_id)

    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert f"coupon {wallet.coupon_id} was already used" in captured.err
    assert "choose a usable coupon from chiiki-wallet coupons" in captured.err


def test_expired_coupon_names_id(
    wallet: Wallet, server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    server.clock.advance(90 * 86_400)  # past the campaign's end on 2026-05-01

    status = wallet.run("code", "--coupon", wallet.coupon_id)

    captured = capsys.readouterr()
    assert status == 1
    assert f"coupon {wallet.coupon_id} has expired" in captured.err


def test_unknown_coupon_names_list_command(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    status = wallet.run("code", "--coupon", "c_nope")

    assert status == 1
    assert "coupon c_nope is not among this wallet's coupons; list them with chiiki-wallet" \
        " coupons" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["code", "offline-code", "coupons"])
def test_empty_coupon_id_refused_before_any_request(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        wallet_cli.main([command, "--coupon", " "])

    assert exited.value.code == 2
    assert ("the coupon id is empty; copy it from the first column of chiiki-wallet coupons"
            in capsys.readouterr().err)


def test_offline_code_with_coupon_prints_pair(
    wallet: Wallet, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert wallet.run("offline-cert", "--allowance", "500") == 0
    capsys.readouterr()
    qr_path = tmp_path / "offline-paired.png"

    status = wallet.run("offline-code", "--coupon", wallet.coupon_id, "--qr-file", str(qr_path))

    paired, err = read_printed_pair(status, capsys, qr_path)
    assert paired.offline
    assert paired.coupon_code == wallet.coupon
    certificate, *_rest = offline_code.parse_offline_code(paired.payment_code)
    body, _signature, _key = offline_code.read_certificate(certificate)
    assert body.wallet_id == wallet.server_wallet.wallet_id
    assert f"with coupon {wallet.coupon_id}" in err


def test_offline_code_unusable_coupon_keeps_counter(
    wallet: Wallet, capsys: pytest.CaptureFixture[str]
) -> None:
    assert wallet.run("offline-cert", "--allowance", "500") == 0
    assert wallet.run("offline-code") == 0
    capsys.readouterr()

    status = wallet.run("offline-code", "--coupon", "c_nope")
    assert status == 1
    assert "coupon c_nope is not among this wallet's coupons" in capsys.readouterr().err

    assert wallet.run("offline-code") == 0
    code = capsys.readouterr().out.strip()
    _certificate, counter, *_rest = offline_code.parse_offline_code(code)
    assert counter == 2
