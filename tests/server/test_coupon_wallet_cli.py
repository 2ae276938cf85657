"""chiiki-wallet coupons: list the wallet's coupons and show one code as text and QR."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode as decode_barcodes
from settle_helpers import Server
from test_coupon_flows import coupon_setup
from wallet_cli_helpers import SERVER_URL, route_wallet_cli

from server import wallet_cli
from server.wallet_cli import WalletCredentials, save_credentials


@pytest.fixture
def wallet_file(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A wallet file for a wallet holding one coupon, with requests sent to ``server``."""
    _terminal, wallet, _code = coupon_setup(server)
    route_wallet_cli(server, monkeypatch)
    path = tmp_path / "wallet.json"
    save_credentials(path, WalletCredentials(SERVER_URL, wallet.wallet_id, wallet.token))
    return path


def test_wallet_cli_lists_coupons(wallet_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = wallet_cli.main(["--wallet-file", str(wallet_file), "coupons"])

    out = capsys.readouterr().out
    assert status == 0
    assert out.count("\n") == 1
    assert "\tusable\t秋の100円引き\t100 yen\tfrom 0 yen\tuntil 2026-" in out


def test_wallet_cli_shows_coupon_qr(
    wallet_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wallet_cli.main(["--wallet-file", str(wallet_file), "coupons"])
    coupon_id = capsys.readouterr().out.split("\t")[0]
    qr_path = tmp_path / "coupon.png"

    status = wallet_cli.main(["--wallet-file", str(wallet_file), "coupons", "--coupon", coupon_id,
                              "--qr-file", str(qr_path)])

    code = capsys.readouterr().out.strip()
    assert status == 0
    assert code.startswith("CKC1")
    decoded = decode_barcodes(Image.open(qr_path))
    assert [result.data.decode("ascii") for result in decoded] == [code]


def test_wallet_cli_unknown_coupon_explains(
    wallet_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = wallet_cli.main(["--wallet-file", str(wallet_file), "coupons", "--coupon", "c_nope"])

    assert status != 0
    assert "coupon c_nope is not among this wallet's coupons" in capsys.readouterr().err
