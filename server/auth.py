"""Authentication of terminals (Ed25519 request signatures) and wallets (bearer tokens).

A terminal signs ``protocol.signing_message(method, path_with_query, timestamp, body)`` with
the key it enrolled, and sends the terminal id, the timestamp and the signature in the
``X-Chiiki-*`` headers. The server accepts a timestamp up to ``signature_window_s`` seconds
before or after its own clock.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from server import wallets
from server.errors import ServerError, shorten
from server.models import Terminal, Wallet
from terminal import protocol
from terminal.protocol import ErrorCode

logger = logging.getLogger(__name__)


def unauthenticated(message: str) -> ServerError:
    return ServerError(ErrorCode.UNAUTHENTICATED, message)


def verify_terminal_request(
    session: Session,
    *,
    headers: Mapping[str, str],
    method: str,
    path_with_query: str,
    body: bytes,
    now: datetime,
    window_s: int,
) -> Terminal:
    """Return the enrolled terminal that signed this request, or raise ``unauthenticated``."""
    terminal_id = _required_header(headers, protocol.HEADER_TERMINAL)
    timestamp = _required_header(headers, protocol.HEADER_TIMESTAMP)
    signature_b64 = _required_header(headers, protocol.HEADER_SIGNATURE)
    _check_timestamp(timestamp, now, window_s)

    terminal = session.get(Terminal, terminal_id)
    if terminal is None or terminal.public_key is None:
        raise unauthenticated(
            f"terminal {shorten(terminal_id)} is not enrolled; enrol it with an activation code"
        )

    message = protocol.signing_message(method, path_with_query, timestamp, body)
    try:
        signature = protocol.b64decode(signature_b64)
        key = Ed25519PublicKey.from_public_bytes(protocol.b64decode(terminal.public_key))
        key.verify(signature, message)
    except (InvalidSignature, ValueError):
        logger.warning("rejected bad signature from terminal %s on %s %s", terminal_id, method,
                       path_with_query)
        raise unauthenticated(
            f"signature does not match the request for terminal {terminal_id}; sign method,"
            " path with query, timestamp and body hash with the enrolled key"
        ) from None
    return terminal


def wallet_for_authorization(session: Session, authorization: str | None) -> Wallet:
    """Return the wallet whose bearer token is in the Authorization header value."""
    if not authorization:
        raise unauthenticated("missing Authorization header; send 'Bearer <wallet token>'")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("Authorization header must be 'Bearer <wallet token>'")
    wallet = wallets.wallet_for_token(session, token.strip())
    if wallet is None:
        raise unauthenticated("wallet token is not valid; create a wallet or use its saved token")
    return wallet


def _required_header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise unauthenticated(f"missing {name} header; terminal requests must be signed")
    return value


def _check_timestamp(timestamp: str, now: datetime, window_s: int) -> None:
    shown = shorten(timestamp)
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        raise unauthenticated(
            f"{protocol.HEADER_TIMESTAMP} {shown!r} is not an ISO 8601 time; send the current"
            " UTC time, e.g. 2026-04-01T10:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise unauthenticated(
            f"{protocol.HEADER_TIMESTAMP} {shown!r} has no time zone; send UTC, e.g. +00:00"
        )

    # Subtracting aware datetimes never leaves datetime's range (year 1 to 9999), unlike
    # converting 0001-01-01T00:00:00+14:00 to UTC, so no OverflowError reaches the client.
    skew_s = abs((moment - now).total_seconds())
    if skew_s > window_s:
        raise unauthenticated(
            f"{protocol.HEADER_TIMESTAMP} {shown} is {skew_s:.0f} s from server time"
            f" {now.isoformat(timespec='seconds')}, more than {window_s} s; set the terminal clock"
        )
