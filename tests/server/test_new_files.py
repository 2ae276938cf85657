"""Files that operator commands create and never overwrite."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from server import new_files
from server.errors import ServerError

RECORD = new_files.NewFile(noun="record file", command="premium-publish", option="--out",
                           reason="it may be a seed file")


def test_new_file_writes_and_applies_mode(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    old_umask = os.umask(0o277)
    try:
        with new_files.new_file(path, RECORD, outcome="Nothing was changed",
                                mode=0o600) as file:
            file.write("{}\n")
    finally:
        os.umask(old_umask)

    assert path.read_text(encoding="utf-8") == "{}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_failed_block_deletes_file(tmp_path: Path) -> None:
    path = tmp_path / "record.json"

    with pytest.raises(KeyboardInterrupt), \
            new_files.new_file(path, RECORD, outcome="Nothing was changed") as file:
        file.write("{}\n")
        raise KeyboardInterrupt

    assert not path.exists()


def test_failed_flush_deletes_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "record.json"

    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError) as raised, \
            new_files.new_file(path, RECORD, outcome="Nothing was changed") as file:
        file.write("{}\n")
    error = new_files.write_failed(path, RECORD, raised.value, "Publish again.")

    assert not path.exists()
    assert error.message == (f"record file {path} could not be written: No space left on"
                             " device; free space or choose another path for --out."
                             " Publish again.")


def test_existing_fifo_named(tmp_path: Path) -> None:
    path = tmp_path / "pipe"
    os.mkfifo(path)

    with pytest.raises(ServerError) as raised:
        with new_files.new_file(path, RECORD, outcome="Nothing was changed"):
            pass

    assert raised.value.message == (f"record file {path} already exists as a named pipe"
                                    " (FIFO); choose a new path for --out. Nothing was changed")
    assert stat.S_ISFIFO(path.lstat().st_mode)
