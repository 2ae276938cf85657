"""The terminal's Ed25519 key and the request signatures made with it.

The private key is created once, at enrolment, in ``<data dir>/terminal_key.pem`` (PKCS#8 PEM,
unencrypted, file mode 0600). The server stores the matching public key and verifies every
signed request with it, so losing the file means enrolling the terminal again.

Errors: ``KeyStoreError`` when the key file cannot be created or read.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from terminal import protocol

logger = logging.getLogger(__name__)

KEY_FILE_NAME = "terminal_key.pem"
KEY_FILE_MODE = 0o600


class KeyStoreError(Exception):
    """The terminal key file cannot be created, read or parsed."""


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


def create_private_key(path: Path) -> Ed25519PrivateKey:
    """Generate a key and write it to ``path`` with mode 0600, never replacing an existing file."""
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL with the mode set at creation: the key is never readable by others, not even
        # for the moment between writing it and a later chmod.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError as exc:
        raise KeyStoreError(f"terminal key {path} already exists; load it instead") from exc
    except OSError as exc:
        raise KeyStoreError(f"cannot create terminal key {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as key_file:
        key_file.write(pem)
        key_file.flush()
        os.fsync(key_file.fileno())

    logger.info("created terminal key %s", path)
    return private_key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read the key at ``path``, first tightening its mode to 0600 if others could read it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            logger.warning("terminal key %s had mode %o; setting it to 600", path, mode)
            path.chmod(KEY_FILE_MODE)
        pem = path.read_bytes()
    except OSError as exc:
        raise KeyStoreError(f"cannot read terminal key {path}: {exc.strerror}") from exc

    try:
        private_key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyStoreError(f"terminal key {path} is not a valid PEM private key") from exc
    if not isinstance(private_key, Ed25519PrivateKey):
        raise KeyStoreError(f"terminal key {path} is not an Ed25519 key")
    return private_key


def load_or_create_private_key(data_dir: Path) -> Ed25519PrivateKey:
    path = key_path(data_dir)
    if path.exists():
        return load_private_key(path)
    return create_private_key(path)


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    """Return the raw 32-byte public key as URL-safe base64, as ``EnrolRequest`` expects."""
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return protocol.b64encode(raw)


def utc_timestamp(now: datetime | None = None) -> str:
    """Format ``now`` (default: the current time) as ISO 8601 UTC with second precision."""
    moment = now if now is not None else datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class Signer:
    """Signs terminal requests with the terminal's private key.

    ``clock`` supplies the timestamp of each signature. Pass ``terminal.clock.ServerClock.now``
    so that a terminal whose own clock is wrong still signs with a time the server accepts.
    """

    def __init__(
        self, private_key: Ed25519PrivateKey, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._private_key = private_key
        self.clock = clock

    @property
    def public_key_b64(self) -> str:
        return public_key_b64(self._private_key)

    def sign(self, message: bytes) -> str:
        return protocol.b64encode(self._private_key.sign(message))

    def headers(
        self,
        terminal_id: str,
        method: str,
        path_with_query: str,
        body: bytes,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """Build the three authentication headers for one request."""
        if now is None and self.clock is not None:
            now = self.clock()
        timestamp = utc_timestamp(now)
        message = protocol.signing_message(method, path_with_query, timestamp, body)
        return {
            protocol.HEADER_TERMINAL: terminal_id,
            protocol.HEADER_TIMESTAMP: timestamp,
            protocol.HEADER_SIGNATURE: self.sign(message),
        }
