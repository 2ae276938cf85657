"""The shop's details at startup: fetched and saved, or read back while the server is down."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminal.api_client import Declined, Unreachable
from terminal.protocol import ErrorCode, TerminalInfo
from tests.ui.conftest import make_info
from ui.terminal_info import TerminalInfoError, info_path, load_terminal_info

SERVER_URL = "http://127.0.0.1:9"


class Source:
    def __init__(self, result: TerminalInfo | Exception) -> None:
        self.result = result

    def terminal_info(self) -> TerminalInfo:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def test_fetched_info_saved(tmp_path: Path) -> None:
    info = make_info()

    loaded = load_terminal_info(Source(info), tmp_path, SERVER_URL)

    assert loaded == info
    assert TerminalInfo.model_validate_json(info_path(tmp_path).read_text("utf-8")) == info


def test_saved_info_used_offline(tmp_path: Path) -> None:
    load_terminal_info(Source(make_info()), tmp_path, SERVER_URL)

    loaded = load_terminal_info(Source(Unreachable("connection refused")), tmp_path, SERVER_URL)

    assert loaded == make_info()


def test_first_start_needs_server(tmp_path: Path) -> None:
    with pytest.raises(TerminalInfoError, match="first start needs the server"):
        load_terminal_info(Source(Unreachable("connection refused")), tmp_path, SERVER_URL)


def test_damaged_copy_reported(tmp_path: Path) -> None:
    info_path(tmp_path).write_text("{", encoding="utf-8")

    with pytest.raises(TerminalInfoError, match="cannot be read"):
        load_terminal_info(Source(Unreachable("connection refused")), tmp_path, SERVER_URL)


def test_declined_not_hidden(tmp_path: Path) -> None:
    load_terminal_info(Source(make_info()), tmp_path, SERVER_URL)
    declined = Declined("unknown terminal", ErrorCode.UNAUTHENTICATED, 401)

    with pytest.raises(Declined):
        load_terminal_info(Source(declined), tmp_path, SERVER_URL)
