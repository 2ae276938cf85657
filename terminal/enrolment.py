"""A terminal's identity: its Ed25519 key and the terminal id the server assigned at enrolment.

Both live in the configured data directory. Enrolment runs once per terminal, with the
activation code the operator issued (``chiiki-settle issue-activation``); afterwards every
request is signed with the key.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pydantic

from terminal.api_client import ApiClient, ApiError, Declined, Unreachable
from terminal.config import TerminalConfig
from terminal.keys import KeyStoreError, Signer, key_path, load_or_create_private_key, load_private_key
from terminal.protocol import EnrolRequest, ErrorCode, TerminalInfo

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
    Every failure raises EnrolmentError with a one-line message naming the next step.
    """
    _check_activation_code(activation_code)
    signer = _prepare_data_dir(config)
    client = api or _client_for(config, signer)
    try:
        info = client.enrol(activation_code)
    except ApiError as exc:
        raise _enrolment_failed(config, exc) from exc
    finally:
        if api is None:
            client.close()
    _save_terminal_id_or_explain(config, info.terminal_id)
    logger.info("enrolled as terminal %s of merchant %s", info.terminal_id, info.merchant.merchant_id)
    return info


def _check_activation_code(activation_code: str) -> None:
    # The wire format fixes the allowed length, so the request model checks it.
    try:
        EnrolRequest(activation_code=activation_code, public_key="")
    except pydantic.ValidationError as exc:
        excerpt = activation_code if len(activation_code) <= 20 else activation_code[:20] + "..."
        raise EnrolmentError(
            f"activation code {excerpt!r} ({len(activation_code)} characters) is invalid: "
            f"{exc.errors()[0]['msg']}; copy the code exactly as the operator issued it"
        ) from exc


def _prepare_data_dir(config: TerminalConfig) -> Signer:
    """Create the data directory if needed and load or create the key in it."""
    data_dir = config.data_dir
    try:
        if terminal_id_path(data_dir).exists():
            raise EnrolmentError(
                f"this terminal is already enrolled ({terminal_id_path(data_dir)} exists); "
                "delete that file only if the operator has issued a new activation code for it"
            )
        data_dir.mkdir(parents=True, exist_ok=True)
        return Signer(load_or_create_private_key(data_dir))
    except (OSError, ValueError) as exc:
        # ValueError is what pathlib raises for a path that contains a NUL character.
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise EnrolmentError(
            f"data_dir {str(data_dir)!r} cannot be used ({reason}); set data_dir{_in_source(config)} "
            "to a directory this user may write to"
        ) from exc
    except KeyStoreError as exc:
        raise EnrolmentError(
            f"{exc}; check data_dir{_in_source(config)} and the permissions of {data_dir}"
        ) from exc


def _client_for(config: TerminalConfig, signer: Signer) -> ApiClient:
    try:
        return ApiClient(config.server_url, None, signer)
    except ValueError as exc:
        raise EnrolmentError(
            f"{exc}; set server_url{_in_source(config)} to a URL such as https://coin.example.jp"
        ) from exc


def _enrolment_failed(config: TerminalConfig, exc: ApiError) -> EnrolmentError:
    where = f"enrolment at {config.server_url} failed"
    if isinstance(exc, Unreachable):
        return EnrolmentError(
            f"{where}: the server could not be reached ({exc}); check that the server is "
            f"running, that the network cable is connected and that server_url"
            f"{_in_source(config)} is right, then run enrol again"
        )
    if isinstance(exc, Declined):
        return EnrolmentError(f"{where}: {exc.code}: {exc}; {_declined_advice(exc)}")
    return EnrolmentError(f"{where}: {exc}; ask the operator to check the server, then run enrol again")


def _declined_advice(exc: Declined) -> str:
    if exc.code == ErrorCode.ACTIVATION_INVALID:
        return "ask the operator for a new activation code"
    return "give this message to the operator and run enrol again once they have checked it"


def _save_terminal_id_or_explain(config: TerminalConfig, terminal_id: str) -> None:
    try:
        save_terminal_id(config.data_dir, terminal_id)
    except OSError as exc:
        # The server has already used the code, so the id must be written down by hand.
        raise EnrolmentError(
            f"enrolled as terminal {terminal_id}, but writing {terminal_id_path(config.data_dir)} "
            f"failed ({exc.strerror}); create that file with the id {terminal_id} in it"
        ) from exc


def _in_source(config: TerminalConfig) -> str:
    return f" in {config.source}" if config.source is not None else ""
