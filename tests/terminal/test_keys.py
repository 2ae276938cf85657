from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from terminal import protocol
from terminal.keys import (
    KeyStoreError,
    Signer,
    create_private_key,
    key_path,
    load_or_create_private_key,
    load_private_key,
)


def test_key_file_created_with_mode_600(tmp_path: Path) -> None:
    load_or_create_private_key(tmp_path / "data")

    mode = stat.S_IMODE(key_path(tmp_path / "data").stat().st_mode)
    assert mode == 0o600


def test_key_loaded_again_is_same(tmp_path: Path) -> None:
    first = Signer(load_or_create_private_key(tmp_path))
    second = Signer(load_or_create_private_key(tmp_path))

    assert first.public_key_b64 == second.public_key_b64
    assert len(protocol.b64decode(first.public_key_b64)) == 32


def test_create_never_overwrites(tmp_path: Path) -> None:
    create_private_key(key_path(tmp_path))

    with pytest.raises(KeyStoreError, match="already exists"):
        create_private_key(key_path(tmp_path))


def test_loose_mode_tightened(tmp_path: Path) -> None:
    path = key_path(tmp_path)
    create_private_key(path)
    path.chmod(0o644)

    load_private_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_garbage_key_rejected(tmp_path: Path) -> None:
    path = key_path(tmp_path)
    path.write_bytes(b"not a key")
    path.chmod(0o600)

    with pytest.raises(KeyStoreError, match="not a valid PEM"):
        load_private_key(path)


def test_headers_sign_message(tmp_path: Path) -> None:
    private_key = load_or_create_private_key(tmp_path)
    now = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

    headers = Signer(private_key).headers("term-1", "post", "/v1/intents", b"{}", now=now)

    assert headers[protocol.HEADER_TERMINAL] == "term-1"
    assert headers[protocol.HEADER_TIMESTAMP] == "2024-05-01T09:00:00+00:00"
    message = protocol.signing_message("POST", "/v1/intents", "2024-05-01T09:00:00+00:00", b"{}")
    signature = protocol.b64decode(headers[protocol.HEADER_SIGNATURE])
    private_key.public_key().verify(signature, message)
    assert "=" not in headers[protocol.HEADER_SIGNATURE]
