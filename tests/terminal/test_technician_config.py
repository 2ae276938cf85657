from __future__ import annotations

import io
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from terminal.config import (
    ConfigError,
    PrinterConfig,
    ScannerConfig,
    TerminalConfig,
    hash_pin,
    load_config,
    render_config,
    verify_pin,
    write_config,
)


def test_technician_pin_hash_loaded(tmp_path: Path) -> None:
    pin_hash = hash_pin("1357", iterations=1000)
    path = tmp_path / "terminal.toml"
    path.write_text(f'technician_pin_hash = "{pin_hash}"\n', encoding="utf-8")

    config = load_config(path)

    assert verify_pin("1357", config.technician_pin_hash)
    assert not verify_pin("1358", config.technician_pin_hash)
    assert config.manager_pin_hash == ""


def test_malformed_technician_hash_rejected(tmp_path: Path) -> None:
    path = tmp_path / "terminal.toml"
    path.write_text('technician_pin_hash = "1357"\n', encoding="utf-8")

    with pytest.raises(ConfigError, match="technician_pin_hash"):
        load_config(path)


def test_written_config_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "terminal.toml"
    config = TerminalConfig(
        server_url="https://coin.example.jp",
        data_dir=tmp_path / "data",
        language="en",
        technician_pin_hash=hash_pin("1357", iterations=1000),
        printer=PrinterConfig(url="serial:///dev/serial/by-id/usb-FTDI-if00-port0?baudrate=19200", paper_width_mm=80),
        scanner=replace(ScannerConfig(), kind="serial", port="/dev/ttyACM0", min_length=8),
    )

    written = write_config(config, path)

    assert written == replace(config, source=path)
    assert load_config(path) == written
    assert not path.with_name("terminal.toml.partial").exists()


def test_invalid_config_leaves_old_file(tmp_path: Path) -> None:
    path = tmp_path / "terminal.toml"
    path.write_text('server_url = "https://coin.example.jp"\n', encoding="utf-8")
    invalid = TerminalConfig(printer=PrinterConfig(url="lpt://1"))

    with pytest.raises(ConfigError, match="printer.url"):
        write_config(invalid, path)

    assert path.read_text(encoding="utf-8") == 'server_url = "https://coin.example.jp"\n'


def test_rendered_strings_escaped() -> None:
    config = TerminalConfig(scanner=replace(ScannerConfig(), prefix='"]\\\t'))

    document = tomllib.loads(render_config(config))

    assert document["scanner"]["prefix"] == '"]\\\t'


def test_unwritable_directory_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")

    with pytest.raises(ConfigError, match="cannot write"):
        write_config(TerminalConfig(), blocker / "terminal.toml")


def test_hash_pin_prints_technician_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from terminal import cli

    monkeypatch.setattr(sys, "stdin", io.StringIO("1357\n1357\n"))

    assert cli.hash_pin_main(["--technician"]) == 0

    line = capsys.readouterr().out.strip()
    name, _, value = line.partition(" = ")
    assert name == "technician_pin_hash"
    assert verify_pin("1357", value.strip('"'))


def test_hash_pin_rejects_other_options(capsys: pytest.CaptureFixture[str]) -> None:
    from terminal import cli

    assert cli.hash_pin_main(["--manager"]) == 2
    assert "--technician" in capsys.readouterr().err
