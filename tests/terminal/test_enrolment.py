from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from terminal.api_client import ApiClient
from terminal.config import TerminalConfig
from terminal.enrolment import EnrolmentError, enrol, load_enrolment, terminal_id_path
from terminal.keys import Signer
from tests.terminal.conftest import ACTIVATION_CODE, TERMINAL_ID, FakeServer


def config_in(data_dir: Path, server_url: str = "http://127.0.0.1:9") -> TerminalConfig:
    return TerminalConfig(server_url=server_url, data_dir=data_dir, source=Path("/etc/t.toml"))


def test_enrol_stores_terminal_id(
    tmp_path: Path,
    blank_server: FakeServer,
    signer: Signer,
    make_client: Callable[..., ApiClient],
) -> None:
    config = config_in(tmp_path / "data")

    info = enrol(config, ACTIVATION_CODE, make_client(blank_server, signer, None))

    assert info.terminal_id == TERMINAL_ID
    assert load_enrolment(config)[1] == TERMINAL_ID


@pytest.mark.parametrize(("code", "shown"), [("", "''"), ("A" * 65, "'AAAAAAAAAAAAAAAAAAAA...'")])
def test_enrol_rejects_code_length(tmp_path: Path, code: str, shown: str) -> None:
    config = config_in(tmp_path / "data")

    with pytest.raises(EnrolmentError) as caught:
        enrol(config, code)

    message = str(caught.value)
    assert f"activation code {shown} ({len(code)} characters) is invalid" in message
    assert "copy the code exactly" in message
    assert not (tmp_path / "data").exists()


def test_enrol_data_dir_is_file(tmp_path: Path) -> None:
    existing_file = tmp_path / "afile"
    existing_file.write_text("", encoding="utf-8")

    with pytest.raises(EnrolmentError) as caught:
        enrol(config_in(existing_file), ACTIVATION_CODE)

    message = str(caught.value)
    assert f"data_dir '{existing_file}' cannot be used" in message
    assert "set data_dir in /etc/t.toml" in message


def test_enrol_data_dir_with_nul(tmp_path: Path) -> None:
    with pytest.raises(EnrolmentError, match="cannot be used .*embedded null"):
        enrol(config_in(tmp_path / "x\0y"), ACTIVATION_CODE)


def test_enrol_invalid_server_url(tmp_path: Path) -> None:
    with pytest.raises(EnrolmentError) as caught:
        enrol(config_in(tmp_path / "data", "http://:::"), ACTIVATION_CODE)

    message = str(caught.value)
    assert "server URL 'http://:::' is invalid" in message
    assert "set server_url in /etc/t.toml" in message


def test_enrol_unreachable_says_what_to_check(
    tmp_path: Path,
    blank_server: FakeServer,
    signer: Signer,
    make_client: Callable[..., ApiClient],
) -> None:
    blank_server.failures_before = [httpx.ConnectError("refused")] * 3

    with pytest.raises(EnrolmentError) as caught:
        enrol(config_in(tmp_path / "data"), ACTIVATION_CODE, make_client(blank_server, signer, None))

    message = str(caught.value)
    assert "could not be reached" in message
    assert "server_url in /etc/t.toml is right, then run enrol again" in message
    assert not terminal_id_path(tmp_path / "data").exists()


def test_enrol_bad_code_asks_operator(
    tmp_path: Path,
    blank_server: FakeServer,
    signer: Signer,
    make_client: Callable[..., ApiClient],
) -> None:
    with pytest.raises(EnrolmentError) as caught:
        enrol(config_in(tmp_path / "data"), "WRONG-CODE", make_client(blank_server, signer, None))

    message = str(caught.value)
    assert "activation_invalid" in message
    assert message.endswith("ask the operator for a new activation code")
