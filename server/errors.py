"""Errors raised by the settlement server.

Every failure that a client can cause is a ``ServerError`` carrying a ``protocol.ErrorCode``;
the HTTP layer turns it into ``{"error": {"code", "message"}}`` with ``ERROR_STATUS[code]``.
The tree, drawn once:

    ServerError                       (code decides the HTTP status)
    +-- LedgerError                   (raised by server.ledger)
    |   +-- InsufficientFunds         insufficient_funds
    |   +-- IdempotencyConflict       idempotency_conflict
    |   +-- UnknownAccount            not_found
    +-- LedgerInconsistent            (conservation check failed; a bug, never a client error)

``LedgerInconsistent`` is not a ``ServerError``: it means the books do not balance and is
never shown to a client as a request problem.
"""

from __future__ import annotations

from terminal.protocol import ErrorCode


class ServerError(Exception):
    """A request failed for a reason the client can act on."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class LedgerError(ServerError):
    """A transfer could not be booked."""


class InsufficientFunds(LedgerError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INSUFFICIENT_FUNDS, message)


class IdempotencyConflict(LedgerError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.IDEMPOTENCY_CONFLICT, message)


class UnknownAccount(LedgerError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.NOT_FOUND, message)


class LedgerInconsistent(Exception):
    """Postings or lots do not add up; the ledger code or the database is broken."""


# Characters of a client-supplied id or value that a message repeats; the rest becomes "…".
MAX_ECHO_CHARS = 40


def shorten(text: str, max_chars: int = MAX_ECHO_CHARS) -> str:
    """Cut ``text`` to ``max_chars`` characters plus "…", for echoing client input in messages."""
    return text if len(text) <= max_chars else text[:max_chars] + "…"


def not_utf8(path: object, exc: UnicodeDecodeError) -> ServerError:
    """Describe a file that is not UTF-8 by its first invalid byte, with what to do."""
    byte = exc.object[exc.start]
    return invalid(f"file {path} is not UTF-8 (invalid byte 0x{byte:02x} at position"
                   f" {exc.start}); save it as UTF-8")


def invalid(message: str) -> ServerError:
    return ServerError(ErrorCode.INVALID_REQUEST, message)


def not_found(message: str) -> ServerError:
    return ServerError(ErrorCode.NOT_FOUND, message)
