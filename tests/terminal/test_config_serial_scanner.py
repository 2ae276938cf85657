"""The [scanner] keys of serial scanners: terminator, inter_byte_timeout_ms, a required port."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.config import ConfigError, ScannerConfig, TerminalConfig, load_config, write_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_serial_keys_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[scanner]\nkind = "serial"\nport = "/dev/serial/by-id/usb-Scanner-if00"\n'
        'terminator = "etx"\ninter_byte_timeout_ms = 120\n',
    )

    scanner = load_config(path).scanner

    assert scanner.kind == "serial"
    assert scanner.port == "/dev/serial/by-id/usb-Scanner-if00"
    assert scanner.terminator == "etx"
    assert scanner.inter_byte_timeout_ms == 120


def test_serial_defaults_read_any_terminator() -> None:
    assert ScannerConfig().terminator == "any"
    assert ScannerConfig().inter_byte_timeout_ms == 50


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'terminator = "nul"',
            'scanner.terminator = "nul" in {path}: use "any" or "cr" or "lf" or "crlf" or "tab"'
            ' or "etx" or "none"',
        ),
        (
            "inter_byte_timeout_ms = 5",
            "scanner.inter_byte_timeout_ms = 5 in {path}: use a whole number from 10 to 2000",
        ),
        (
            'kind = "serial"',
            'scanner.port = "" in {path}: a serial scanner needs its port, such as '
            '"/dev/serial/by-id/usb-…-if00" (stays the same when replugged) or "/dev/ttyACM0"',
        ),
    ],
)
def test_bad_serial_values_name_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, f"[scanner]\n{text}\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert str(caught.value) == expected.format(path=path)


def test_serial_keys_survive_write_and_read(tmp_path: Path) -> None:
    scanner = ScannerConfig(
        kind="serial", port="/dev/ttyACM0", terminator="crlf", inter_byte_timeout_ms=75
    )
    path = tmp_path / "terminal.toml"

    written = write_config(TerminalConfig(data_dir=tmp_path, scanner=scanner), path)

    assert written.scanner == scanner
    assert load_config(path).scanner == scanner
