"""A terminal's identity: its Ed25519 key and the terminal id the server assigned at enrolment.

Both live in the configured data directory. Enrolment runs once per terminal, with the
activation code the operator issued (``chiiki-settle issue-activation``); afterwards every
request is signed with the key.
"""

from __future__ import annotations

import logging
from pathlib import Path

from terminal.api_client import ApiClient, ApiError
from terminal.config import TerminalConfig
from terminal.keys import KeyStoreError, Signer, key_path, load_or_create_private_key, load_private_key
from terminal.protocol import TerminalInfo

logger = logging.getLogger(__name__)

TERMINAL_ID_FILE = "terminal_id"


class EnrolmentError(RuntimeError):
    """The terminal is not enrolled, or enrolment failed; the message names what to do."""


def terminal_id_path(data_dir: Path) -> Path:
    return data_dir / TERMINAL_ID_FILE


def save_terminal_id(data_dir: Path, terminal_id: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    terminal_id_path(data_dir).write_text(terminal_id + "\n", encoding="utf-8")


def load_enrolment(config: TerminalConfig) -> tuple[Signer, str]:
    """Read the terminal's key and id from the data directory, written when it was enrolled."""
    id_path = terminal_id_path(config.data_dir)
    try:
        signer = Signer(load_private_key(key_path(config.data_dir)))
        terminal_id = id_path.read_text(encoding="utf-8").strip()
    except (KeyStoreError, OSError) as exc:
        raise EnrolmentError(
            f"this terminal is not enrolled ({exc}); run 'chiiki-pos enrol --activation-code "
            f"CODE', which writes {key_path(config.data_dir)} and {id_path}"
        ) from exc
    if not terminal_id:
        raise EnrolmentError(f"{id_path} is empty; enrol the terminal again")
    return signer, terminal_id


def enrol(config: TerminalConfig, activation_code: str, api: ApiClient | None = None) -> TerminalInfo:
    """Enrol this terminal with ``activation_code`` and store the id the server assigns.

    The key is created on first use and kept, so a retried enrolment sends the same public key.
    """
    if terminal_id_path(config.data_dir).exists():
        raise EnrolmentError(
            f"this terminal is already enrolled ({terminal_id_path(config.data_dir)} exists); "
            "delete that file only if the operator has issued a new activation code for it"
        )
    signer = Signer(load_or_create_private_key(config.data_dir))
    client = api or ApiClient(config.server_url, None, signer)
    try:
        info = client.enrol(activation_code)
    except ApiError as exc:
        raise EnrolmentError(f"enrolment at {config.server_url} failed: {exc}") from exc
    finally:
        if api is None:
            client.close()
    save_terminal_id(config.data_dir, info.terminal_id)
    logger.info("enrolled as terminal %s of merchant %s", info.terminal_id, info.merchant.merchant_id)
    return info
