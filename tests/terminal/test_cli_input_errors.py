"""Bad input to the ``chiiki-pos`` commands: one line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from terminal import cli
from terminal.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
# A valid configuration whose comment an editor saved as Shift_JIS: 設定 starts with byte 0x90.
SHIFT_JIS_CONFIG = 'language = "ja"\n# 設定\n'.encode("shift_jis")


def write_shift_jis_config(tmp_path: Path) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_bytes(SHIFT_JIS_CONFIG)
    return path


def run_cli(args: list[str], env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "terminal.cli", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_shift_jis_config_names_byte(tmp_path: Path) -> None:
    path = write_shift_jis_config(tmp_path)

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert str(raised.value) == (
        f"configuration file {path} is not UTF-8 (invalid byte 0x90 at position 18); "
        "save it as UTF-8"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--config", "{path}"],
        ["run", "--config", "{path}"],
        ["enrol", "--activation-code", "ABCD-1234", "--config", "{path}"],
    ],
)
def test_shift_jis_config_one_line(tmp_path: Path, args: list[str]) -> None:
    path = write_shift_jis_config(tmp_path)

    result = run_cli([arg.format(path=path) for arg in args], {})

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: configuration file {path} is not UTF-8 "
        "(invalid byte 0x90 at position 18); save it as UTF-8"
    ]


@pytest.mark.parametrize(
    "args", [[], ["enrol", "--activation-code", "ABCD-1234"]], ids=["run", "enrol"]
)
def test_shift_jis_config_from_environment(tmp_path: Path, args: list[str]) -> None:
    path = write_shift_jis_config(tmp_path)

    result = run_cli(args, {"CHIIKI_POS_CONFIG": str(path)})

    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1
    assert "is not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr


def test_hash_pin_end_of_input_one_line() -> None:
    result = run_cli(["hash-pin"], {})

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["error: no PIN entered; nothing was written"]


def test_hash_pin_end_after_first_pin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("1357\n"))

    assert cli.hash_pin_main([]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["error: no PIN entered; nothing was written"]


class InterruptedStdin(io.StringIO):
    """Stdin on which the user presses Ctrl-C while a line is being read."""

    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def readline(self, size: int | None = -1, /) -> str:
        raise KeyboardInterrupt


@pytest.mark.parametrize("tty", [False, True], ids=["piped", "terminal"])
def test_hash_pin_ctrl_c_cancels(
    tty: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", InterruptedStdin(tty))
    if tty:
        # getpass reads the controlling terminal, not sys.stdin; Ctrl-C there raises the same.
        def interrupted_getpass(prompt: str) -> str:
            raise KeyboardInterrupt

        monkeypatch.setattr(cli.getpass, "getpass", interrupted_getpass)

    assert cli.hash_pin_main([]) == 130

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip().splitlines() == ["cancelled; nothing was written"]


def test_hash_pin_terminal_end_of_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", InterruptedStdin(tty=True))

    def ended_getpass(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr(cli.getpass, "getpass", ended_getpass)

    assert cli.hash_pin_main([]) == 1
    assert capsys.readouterr().err.splitlines() == ["error: no PIN entered; nothing was written"]
