"""write_config refuses a config file this user may not write and keeps a file's mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from terminal.config import ConfigError, TerminalConfig, load_config, with_mode, write_config


def written_config(tmp_path: Path) -> tuple[TerminalConfig, Path]:
    path = tmp_path / "terminal.toml"
    config = write_config(TerminalConfig(data_dir=tmp_path / "data"), path)
    return config, path


def file_mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_read_only_file_refused(tmp_path: Path) -> None:
    config, path = written_config(tmp_path)
    path.chmod(0o444)
    if os.access(path, os.W_OK):
        pytest.skip("this user (root) may write a file of mode 444")
    before = path.read_bytes()

    with pytest.raises(ConfigError, match="read-only") as caught:
        write_config(with_mode(config, "stamp"), path)

    assert str(path) in str(caught.value)
    assert path.read_bytes() == before
    assert file_mode(path) == 0o444
    assert load_config(path).mode == "sale"


def test_unwritable_file_refused_for_any_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root passes os.access for a file of mode 444, so the check is driven directly here.
    config, path = written_config(tmp_path)
    before = path.read_bytes()
    real_access = os.access

    def access(target: object, mode: int, **kwargs: object) -> bool:
        if Path(str(target)) == path and mode == os.W_OK:
            return False
        return real_access(target, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "access", access)

    with pytest.raises(ConfigError, match="read-only") as caught:
        write_config(with_mode(config, "stamp"), path)

    assert str(path) in str(caught.value)
    assert path.read_bytes() == before
    assert not path.with_name(path.name + ".partial").exists()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664], ids=["600", "640", "664"])
def test_replacement_keeps_file_mode(tmp_path: Path, mode: int) -> None:
    config, path = written_config(tmp_path)
    path.chmod(mode)

    write_config(with_mode(config, "stamp"), path)

    assert load_config(path).mode == "stamp"
    assert file_mode(path) == mode


def test_new_file_written(tmp_path: Path) -> None:
    path = tmp_path / "new" / "terminal.toml"

    write_config(TerminalConfig(data_dir=tmp_path / "data", mode="stamp"), path)

    assert load_config(path).mode == "stamp"
