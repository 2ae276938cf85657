"""chiiki-wallet premium-* commands and the balance by expiry, against the real server app."""

from __future__ import annotations

import functools
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from settle_helpers import Server, WalletClient as ApiWallet

from server import premium, seed_files, wallet_cli
from server.models import Wallet
from server.premium import SaleConfig
from server.wallet_cli import WalletClient, WalletCredentials, save_credentials

SALE = "cli-sale"
DAY_S = 24 * 3600


@pytest.fixture
def wallet_files(server: Server, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[Path, ApiWallet]]:
    """Two residents of one household with wallet files, and a sale open for applications."""
    transport = server.client._transport
    monkeypatch.setattr(wallet_cli, "WalletClient",
                        functools.partial(WalletClient, transport=transport))
    now = server.clock()
    with server.state.db.write() as session:
        sale = premium.create_sale(session, SaleConfig(
            sale_id=SALE, name="テスト商品券", apply_from=now,
            apply_until=now + timedelta(days=10), purchase_from=now + timedelta(days=12),
            purchase_until=now + timedelta(days=20), usage_until=now + timedelta(days=100),
            price_yen=5_000, local_yen=3_000, all_yen=3_000, total_sets=10,
            per_person_max_sets=3, household_max_people=2, household_max_sets=4), now=now)
        seeds = premium.commit_seeds(session, sale.id, now=now)
        seed_files.write_premium_seeds(tmp_path / "seeds.json", sale.id, seeds,
                                       committed_at=now)

    files = {}
    for name in ("parent", "child"):
        wallet = server.new_wallet(20_000 if name == "parent" else 0)
        with server.state.db.write() as session:
            row = session.get(Wallet, wallet.wallet_id)
            assert row is not None
            row.is_resident = True
            row.household_id = "H-7"
        path = tmp_path / f"{name}.json"
        save_credentials(path, WalletCredentials("http://testserver", wallet.wallet_id,
                                                 wallet.token))
        files[name] = (path, wallet)
    return files


def run(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = wallet_cli.main(["--wallet-file", str(path), *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_sales_listed(wallet_files: dict[str, tuple[Path, ApiWallet]],
                      capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = wallet_files["parent"]

    status, out, _ = run(path, capsys, "premium-sales")

    assert status == 0
    assert out.startswith(f"{SALE}\tapplications\tテスト商品券\t5000 yen buys 3000 local")
    assert out.rstrip().endswith("you may apply")


def test_apply_proxy_buy_and_balance(server: Server,
                                     wallet_files: dict[str, tuple[Path, ApiWallet]],
                                     capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    parent_path, _ = wallet_files["parent"]
    child_path, child = wallet_files["child"]

    applied = run(parent_path, capsys, "premium-apply", SALE, "--sets", "2", "--for",
                  child.wallet_id, "--idempotency-key", "proxy-key-01")
    application_id = applied[1].split()[1].rstrip(":")
    server.clock.advance(12 * DAY_S)
    with server.state.db.write() as session:
        seed = seed_files.read_premium_seed(tmp_path / "seeds.json", SALE, 1)
        premium.draw(session, SALE, 1, seed=seed, now=server.clock())
    status = run(child_path, capsys, "premium-status")
    bought = run(parent_path, capsys, "premium-buy", application_id)
    again = run(parent_path, capsys, "premium-buy", application_id)
    balance = run(child_path, capsys, "balance")

    assert applied[0] == 0
    assert f"2 sets of sale {SALE} for wallet {child.wallet_id}" in applied[1]
    assert "\twon\t2 of 2 sets\tpay 10000 yen from" in status[1]
    assert bought[0] == 0
    assert bought[1].startswith("paid 10000 yen for 2 sets")
    assert again[0] == 0
    assert again[1].startswith(f"application {application_id} was already paid at 20")
    assert "10000 yen for 2 sets; nothing was charged now" in again[1]
    shown = json.loads(balance[1])
    assert shown["total_yen"] == 12_000
    assert [(lot["kind"], lot["amount_yen"]) for lot in shown["lots"]] == [
        ("premium_local", 6_000), ("premium_all", 6_000)]
    assert all(lot["expires_at"] for lot in shown["lots"])


def test_apply_rejected_is_explained(wallet_files: dict[str, tuple[Path, ApiWallet]],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = wallet_files["parent"]

    status, _, err = run(path, capsys, "premium-apply", SALE, "--sets", "4")

    assert status == 2
    assert "declined: invalid_request: sets = 4 is invalid" in err


def test_cancel_from_cli(wallet_files: dict[str, tuple[Path, ApiWallet]],
                         capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = wallet_files["parent"]
    applied = run(path, capsys, "premium-apply", SALE, "--sets", "1",
                  "--idempotency-key", uuid.uuid4().hex)
    application_id = applied[1].split()[1].rstrip(":")

    status, out, _ = run(path, capsys, "premium-cancel", application_id)

    assert status == 0
    assert out.strip() == f"application {application_id} is cancelled"


@pytest.mark.parametrize("sets", ["0", "-1"])
def test_apply_without_sets_explained(wallet_files: dict[str, tuple[Path, ApiWallet]],
                                      capsys: pytest.CaptureFixture[str], sets: str) -> None:
    path, _ = wallet_files["parent"]

    status, out, err = run(path, capsys, "premium-apply", SALE, "--sets", sets)

    assert status == 1
    assert out == ""
    assert err == f"error: --sets {sets} is invalid; give a number of sets from 1 to 1000\n"


def test_closed_sale_not_offered(server: Server,
                                 wallet_files: dict[str, tuple[Path, ApiWallet]],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = wallet_files["parent"]
    server.clock.advance(11 * DAY_S)

    status, out, _ = run(path, capsys, "premium-sales")

    assert status == 0
    assert out.startswith(f"{SALE}\tawaiting_draw\t")
    assert out.rstrip().endswith("applications closed")
    assert "you may apply" not in out
