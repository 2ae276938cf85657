"""The [offline] table of the terminal configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.config import ConfigError, OfflineConfig, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_offline_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, 'language = "ja"\n'))

    assert config.offline == OfflineConfig()
    assert config.offline.max_payment_yen == 5_000
    assert config.offline.max_age_hours == 24


def test_offline_table_read(tmp_path: Path) -> None:
    text = (
        "[offline]\nmax_payment_yen = 3000\nmax_waiting_total_yen = 20000\n"
        "max_waiting_count = 10\nmax_age_hours = 12\n"
    )

    offline = load_config(write(tmp_path, text)).offline

    assert offline == OfflineConfig(
        max_payment_yen=3_000, max_waiting_total_yen=20_000, max_waiting_count=10, max_age_hours=12
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max_payment_yen = 0", "offline.max_payment_yen = 0"),
        ("max_payment_yen = 5000.0", "use a whole number from 1 to 1000000"),
        ("max_waiting_count = true", "offline.max_waiting_count = true"),
        ("max_age_hours = 200", "use a whole number from 1 to 168"),
        ("max_wait = 3", "offline.max_wait in"),
        ("max_payment_yen = 40000", "use at most offline.max_waiting_total_yen (30000)"),
    ],
)
def test_bad_offline_values_rejected(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, f"[offline]\n{text}\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert expected in str(caught.value)
    assert str(path) in str(caught.value)
