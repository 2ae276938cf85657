"""ASGI middleware that rejects request bodies larger than a fixed number of bytes.

The middleware reads the whole body before it passes the request on, so the signature
check and the JSON parser only ever get a bounded body. A declared
``Content-Length`` above the limit is rejected before any byte is read. A chunked body, or
one whose declared length is wrong, is counted as it arrives and rejected once the count
passes the limit.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api_errors import error_response
from server.errors import shorten
from terminal.protocol import ErrorCode

logger = logging.getLogger(__name__)


class BodyLimitMiddleware:
    """Reject a request whose body exceeds ``max_body_bytes`` with 413 ``payload_too_large``."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        declared_bytes = _content_length(scope)
        if declared_bytes is not None and declared_bytes > self.max_body_bytes:
            await self._reject(scope, receive, send, declared_bytes)
            return

        chunks: list[bytes] = []
        received_bytes = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client disconnected, so pass the disconnect on to the application.
                await self.app(scope, _replay([message], receive), send)
                return
            chunk = message.get("body", b"")
            received_bytes += len(chunk)
            if received_bytes > self.max_body_bytes:
                await self._reject(scope, receive, send, received_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        body_message: Message = {"type": "http.request", "body": b"".join(chunks),
                                 "more_body": False}
        await self.app(scope, _replay([body_message], receive), send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, size_bytes: int) -> None:
        path = shorten(str(scope.get("path", "")))
        logger.info("%s %s rejected: body of at least %d bytes exceeds %d", scope.get("method"),
                    path, size_bytes, self.max_body_bytes)
        message = (
            f"request body has at least {size_bytes} bytes, more than the maximum of"
            f" {self.max_body_bytes} bytes; send a smaller request"
        )
        response = error_response(ErrorCode.PAYLOAD_TOO_LARGE, message)
        # Ask the client to close the connection, since the rest of its body is never read.
        response.headers["Connection"] = "close"
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """Return a ``receive`` that yields ``messages`` first and then reads from ``receive``."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
