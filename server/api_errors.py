"""Turn every error into the protocol's ``{"error": {"code", "message"}}`` body."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.errors import ServerError
from terminal.protocol import ERROR_STATUS, ErrorBody, ErrorCode, ErrorResponse

logger = logging.getLogger(__name__)

_STATUS_CODES = {
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
}
_MAX_VALUE_CHARS = 60


def error_response(code: ErrorCode, message: str, status: int | None = None) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message))
    return JSONResponse(body.model_dump(mode="json"), status_code=status or ERROR_STATUS[code])


def describe_validation_errors(errors: list[Any]) -> str:
    """Describe each invalid field as "<field> = <value> is invalid: <what is allowed>"."""
    parts = []
    for error in errors:
        location = [str(item) for item in error.get("loc", ()) if item not in ("body", "query", "path")]
        field = ".".join(location) or "request body"
        kind = error.get("type", "")
        message = error.get("msg", "invalid value")
        if kind == "missing":
            parts.append(f"{field} is missing")
        elif kind == "json_invalid":
            parts.append(f"request body is not valid JSON: {message}")
        else:
            value = repr(error.get("input"))
            if len(value) > _MAX_VALUE_CHARS:
                value = value[:_MAX_VALUE_CHARS] + "..."
            parts.append(f"{field} = {value} is invalid: {message}")
    return "; ".join(parts) or "request is invalid"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServerError)
    async def on_server_error(request: Request, exc: ServerError) -> JSONResponse:
        logger.info("%s %s failed: %s: %s", request.method, request.url.path, exc.code, exc.message)
        return error_response(exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message = describe_validation_errors(list(exc.errors()))
        logger.info("%s %s rejected: %s", request.method, request.url.path, message)
        return error_response(ErrorCode.INVALID_REQUEST, message)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, ErrorCode.INVALID_REQUEST)
        message = f"{request.method} {request.url.path}: {exc.detail}"
        return error_response(code, message, status=exc.status_code)
