"""Clerk names in the configuration, and the clerk carried from a sale to its capture."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from terminal import protocol
from terminal.config import ConfigError, TerminalConfig, load_config, write_config
from terminal.protocol import TaxLine
from terminal.store import NewRedemption, open_store

NOW = datetime(2024, 5, 1, 1, 0, tzinfo=UTC)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_clerks_read_in_order(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'clerks = ["佐藤", "鈴木"]\n'))

    assert config.clerks == ("佐藤", "鈴木")


def test_clerks_default_empty(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, 'language = "ja"\n')).clerks == ()


@pytest.mark.parametrize(
    "text, expected",
    [
        ('clerks = "佐藤"\n', "use a list of quoted names"),
        ("clerks = [1, 2]\n", "use a list of quoted names"),
        ('clerks = ["佐藤", ""]\n', "1 to 40 characters"),
        ('clerks = ["佐藤", "佐藤"]\n', "list each clerk once"),
        ("clerks = [" + ", ".join(f'"c{n}"' for n in range(13)) + "]\n", "at most 12"),
    ],
)
def test_bad_clerks_rejected(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text))

    assert "clerks" in str(raised.value)
    assert expected in str(raised.value)


def test_clerks_written_and_read_back(tmp_path: Path) -> None:
    written = write_config(TerminalConfig(clerks=("佐藤", "鈴木")), tmp_path / "out.toml")

    assert written.clerks == ("佐藤", "鈴木")
    assert load_config(tmp_path / "out.toml").clerks == ("佐藤", "鈴木")


def test_recovered_payment_keeps_redemption_clerk(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    lines = (TaxLine(rate_percent=10, amount_yen=900),)
    store.open_redemption(NewRedemption("key-00000001", "cpm", 900, lines, NOW, "1234", "鈴木"))
    payment = protocol.Payment(
        payment_id="pay-1", merchant_id="m-1", terminal_id="t-1", amount_yen=900,
        refunded_yen=0, method="cpm", created_at=NOW.isoformat(), tax_lines=list(lines),
    )

    capture = store.complete_redemption("key-00000001", payment, NOW, recovered=True)

    assert capture.clerk == "鈴木"
