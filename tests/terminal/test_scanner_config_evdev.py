from __future__ import annotations

from pathlib import Path

import pytest

from terminal.config import ConfigError, ScannerConfig, load_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_evdev_scanner_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[scanner]\nkind = "evdev"\n'
        'device = "/dev/input/by-id/usb-DENSO_WAVE_Scanner-event-kbd"\nkeymap = "jis"\n',
    )

    scanner = load_config(path).scanner

    assert scanner.kind == "evdev"
    assert scanner.device == "/dev/input/by-id/usb-DENSO_WAVE_Scanner-event-kbd"
    assert scanner.keymap == "jis"


def test_evdev_keymap_defaults_to_us() -> None:
    assert ScannerConfig().keymap == "us"
    assert ScannerConfig().device == ""


def test_evdev_without_device_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, '[scanner]\nkind = "evdev"\n')

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert "scanner.device" in message
    assert str(path) in message
    assert "/dev/input/by-id/" in message


def test_unknown_keymap_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[scanner]\nkind = "evdev"\ndevice = "/dev/input/event3"\nkeymap = "de"\n'
    )

    with pytest.raises(ConfigError, match='scanner.keymap = "de"'):
        load_config(path)


def test_wedge_ignores_empty_device(tmp_path: Path) -> None:
    path = write(tmp_path, '[scanner]\nkind = "wedge"\nlayout = "us_on_jis"\n')

    scanner = load_config(path).scanner

    assert scanner.kind == "wedge"
    assert scanner.layout == "us_on_jis"
