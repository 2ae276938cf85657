"""The ``clerks`` list in the terminal configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.config import ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml_value", "shown_entry"),
    [
        ('["佐\\n藤", "鈴木"]', '"佐\\n藤"'),
        ('["鈴木", "a\\u0000b"]', '"a\\u0000b"'),
        ('["a\\u007fb"]', '"a\\u007fb"'),
        ('["佐藤\\u202e"]', '"佐藤\\u202e"'),
        ('["\\u2066佐藤"]', '"\\u2066佐藤"'),
    ],
)
def test_clerk_control_character_rejected(
    tmp_path: Path, toml_value: str, shown_entry: str
) -> None:
    path = write(tmp_path, f"clerks = {toml_value}\n")

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    message = str(raised.value)
    assert f"clerk {shown_entry} contains a control character" in message
    assert "\n" not in message
    assert "\u202e" not in message
    assert "\u2066" not in message


def test_clerk_error_shows_toml_list(tmp_path: Path) -> None:
    path = write(tmp_path, 'clerks = ["佐藤", " "]\n')

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert str(raised.value).startswith(f'clerks = ["佐藤", " "] in {path}: ')


def test_clerk_names_kept(tmp_path: Path) -> None:
    path = write(tmp_path, 'clerks = ["佐藤", "Tanaka Ken", "鈴木・花子"]\n')

    assert load_config(path).clerks == ("佐藤", "Tanaka Ken", "鈴木・花子")
