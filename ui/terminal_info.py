"""The shop's details at startup: from the server when it responds, else from the last copy.

The terminal needs ``TerminalInfo`` (shop name, address, registration number, amount limit)
to print receipts. Each successful fetch is saved in the data directory, so a terminal that
starts while the server is unreachable uses the saved copy and can take offline payments. A
terminal that never reached the server has no copy and cannot start.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from terminal.api_client import ApiError, Declined
from terminal.protocol import TerminalInfo

log = logging.getLogger(__name__)

INFO_FILE_NAME = "terminal-info.json"


class TerminalInfoError(Exception):
    """The shop's details are neither available from the server nor saved on the terminal."""


class TerminalInfoSource(Protocol):
    def terminal_info(self) -> TerminalInfo: ...


def info_path(data_dir: Path) -> Path:
    return data_dir / INFO_FILE_NAME


def load_terminal_info(api: TerminalInfoSource, data_dir: Path, server_url: str) -> TerminalInfo:
    """Fetch the shop's details and save them, or read the saved copy when the server is down.

    A ``Declined`` response (for example an unknown terminal) is raised as it is: the server
    responded, so an old copy would hide a real problem.
    """
    try:
        info = api.terminal_info()
    except Declined:
        raise
    except ApiError as exc:
        return _saved_info(data_dir, server_url, exc)
    save_terminal_info(data_dir, info)
    return info


def save_terminal_info(data_dir: Path, info: TerminalInfo) -> None:
    """Write ``info`` atomically, so a power cut leaves the old copy or the new one."""
    path = info_path(data_dir)
    partial = path.with_suffix(".json.partial")
    try:
        partial.write_text(info.model_dump_json(indent=2), encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        # The terminal still runs; only a later start without the server is affected.
        log.warning("could not save the shop's details to %s: %s", path, exc)


def _saved_info(data_dir: Path, server_url: str, error: ApiError) -> TerminalInfo:
    path = info_path(data_dir)
    try:
        info = TerminalInfo.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TerminalInfoError(
            f"the server at {server_url} is unreachable ({error}) and this terminal has never "
            "received its shop details; connect the terminal to the network and start it "
            "again (the first start needs the server)"
        ) from exc
    except (OSError, ValidationError) as exc:
        raise TerminalInfoError(
            f"the server at {server_url} is unreachable ({error}) and the saved shop details "
            f"in {path} cannot be read ({exc}); connect the terminal to the network and start "
            "it again"
        ) from exc
    log.warning(
        "server %s unreachable (%s); using the shop details saved in %s", server_url, error, path
    )
    return info
