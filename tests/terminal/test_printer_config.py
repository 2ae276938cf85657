"""The [printer] section: profile, kanji font, and the cash drawer settings."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from terminal.config import ConfigError, PrinterConfig, load_config, render_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_printer_defaults_keep_drawer_shut() -> None:
    config = PrinterConfig()

    assert (config.profile, config.kanji) == ("default", True)
    assert config.open_drawer == "never"
    assert (config.drawer_pin, config.drawer_on_ms, config.drawer_off_ms) == (2, 100, 100)


def test_printer_section_read_in_full(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[printer]\nurl = "cups://TM-T88V"\npaper_width_mm = 80\nprofile = "TM-T88V"\nkanji = false\n'
        'open_drawer = "on_sale"\ndrawer_pin = 5\ndrawer_on_ms = 120\ndrawer_off_ms = 510\n',
    )

    printer = load_config(path).printer

    assert printer == PrinterConfig(
        url="cups://TM-T88V",
        paper_width_mm=80,
        profile="TM-T88V",
        kanji=False,
        open_drawer="on_sale",
        drawer_pin=5,
        drawer_on_ms=120,
        drawer_off_ms=510,
    )


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('open_drawer = "always"', 'printer.open_drawer = "always" in {path}: use "never" or "on_sale"'),
        ("drawer_pin = 3", "printer.drawer_pin = 3 in {path}: use 2 or 5"),
        ('drawer_pin = "2"', 'printer.drawer_pin = "2" in {path}: use 2 or 5'),
        ("drawer_on_ms = 101", "printer.drawer_on_ms = 101 in {path}: use an even whole number of milliseconds from 2 to 510"),
        ("drawer_on_ms = 0", "printer.drawer_on_ms = 0 in {path}: use an even"),
        ("drawer_off_ms = 512", "printer.drawer_off_ms = 512 in {path}: use an even"),
        ("drawer_off_ms = true", "printer.drawer_off_ms = true in {path}: use an even"),
        ('kanji = "yes"', 'printer.kanji = "yes" in {path}: use true or false'),
        ('profile = "TM-X1"', "Unknown printer profile 'TM-X1'; known profiles: "),
        ("profile = 88", "use a quoted printer profile name"),
    ],
)
def test_bad_printer_value_named(tmp_path: Path, line: str, named: str) -> None:
    path = write(tmp_path, f"[printer]\n{line}\n")

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert named.format(path=path) in str(raised.value)


def test_printer_settings_written_and_read_back(tmp_path: Path) -> None:
    path = write(tmp_path, '[printer]\nopen_drawer = "on_sale"\ndrawer_pin = 5\nprofile = "TM-T20II"\n')
    config = load_config(path)

    text = render_config(config)

    assert tomllib.loads(text)["printer"]["open_drawer"] == "on_sale"
    assert load_config(write(tmp_path, text)).printer == config.printer
