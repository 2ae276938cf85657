"""Files that operator commands create and never overwrite: seed files, draw records, reports.

An operator may keep a file that exists nowhere else, such as a lottery seed file, in the
folder a command writes to. So that a mistyped path cannot destroy it, these files are opened
with ``O_CREAT | O_EXCL``. The open fails on any existing path, and a symbolic link at the path
is never followed, even when the file it points to is missing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from server.errors import ServerError, invalid


@dataclass(frozen=True)
class NewFile:
    """Names that messages use for a file a command creates.

    ``noun`` ("seed file") names the file, ``command`` ("premium-commit") the command that
    creates it and ``option`` ("--seed-file") the option that gives its path. ``reason``
    completes "never overwrites a file because ...".
    """

    noun: str
    command: str
    option: str
    reason: str


@contextmanager
def new_file(path: Path, kind: NewFile, *, outcome: str, mode: int | None = None,
             encoding: str = "utf-8", newline: str | None = None) -> Iterator[TextIO]:
    """Create ``path``, yield it for writing, and flush it to disk when the block ends.

    Raise ``invalid``, ending with ``outcome``, when anything exists at ``path`` or the file
    cannot be created. ``mode`` is applied exactly, whatever the umask. None gives the usual
    0666 less the umask. When the block or the flush fails, the file is deleted and the error
    is raised again. An ``OSError`` raised then means the file could not be written, and
    ``write_failed`` describes it.
    """
    file = _create(path, kind, outcome=outcome, mode=mode, encoding=encoding, newline=newline)
    try:
        try:
            if mode is not None:
                # The umask may have cleared bits of the mode given to os.open.
                os.fchmod(file.fileno(), mode)
            yield file
            file.flush()
            os.fsync(file.fileno())
        finally:
            file.close()
        _sync_folder(path.parent)
    except BaseException:
        # O_EXCL guarantees that the file at ``path`` is the one this call created.
        path.unlink(missing_ok=True)
        raise


def write_failed(path: Path, kind: NewFile, error: OSError, outcome: str) -> ServerError:
    """Describe an ``OSError`` raised while ``new_file`` wrote ``path``."""
    return invalid(f"{kind.noun} {path} could not be written: {error.strerror}; free space or"
                   f" choose another path for {kind.option}. {outcome}")


def file_type(mode: int) -> str:
    """Name the type of a file that is not a regular file, from its ``st_mode``."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _create(path: Path, kind: NewFile, *, outcome: str, mode: int | None, encoding: str,
            newline: str | None) -> TextIO:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags, 0o666 if mode is None else mode)
    except FileExistsError:
        raise _existing(path, kind, outcome) from None
    except OSError as exc:
        raise invalid(f"{kind.noun} {path} cannot be created: {exc.strerror}; give"
                      f" {kind.option} a path in an existing folder you can write to."
                      f" {outcome}") from None
    return os.fdopen(descriptor, "w", encoding=encoding, newline=newline)


def _existing(path: Path, kind: NewFile, outcome: str) -> ServerError:
    """Describe what is at ``path``, where ``O_EXCL`` found something."""
    try:
        mode = os.lstat(path).st_mode
        target = os.readlink(path) if stat.S_ISLNK(mode) else ""
    except OSError:
        # The path was removed or replaced since the open, so report it as a file.
        mode = stat.S_IFREG

    if stat.S_ISREG(mode):
        return invalid(f"{kind.noun} {path} already exists, and {kind.command} never overwrites"
                       f" a file because {kind.reason}; choose a new path for {kind.option}."
                       f" {outcome}")
    if stat.S_ISDIR(mode):
        return invalid(f"{kind.noun} {path} is a folder; give {kind.option} the path of a new"
                       f" file. {outcome}")
    if stat.S_ISLNK(mode):
        missing = "" if path.exists() else ", which does not exist"
        return invalid(f"{kind.noun} {path} is a symbolic link to {target}{missing}, and"
                       f" {kind.command} never writes through a symbolic link; choose a new"
                       f" path for {kind.option}. {outcome}")
    return invalid(f"{kind.noun} {path} already exists as {file_type(mode)}; choose a new path"
                   f" for {kind.option}. {outcome}")


def _sync_folder(folder: Path) -> None:
    """Flush the folder entry of a new file, so the file survives a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
