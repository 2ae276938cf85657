"""Turn every error into the protocol's ``{"error": {"code", "message"}}`` body."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.errors import ServerError, shorten
from terminal.protocol import ERROR_STATUS, ErrorBody, ErrorCode, ErrorResponse

logger = logging.getLogger(__name__)

_STATUS_CODES = {
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}
_MAX_VALUE_CHARS = 60
# Pydantic error types of a value that is not an integer, e.g. true, "100" or 1e3.
_NOT_INTEGER = ("int_type", "int_parsing", "int_from_float")
# FastAPI (0.165) returns this 400 detail for a body that json.loads cannot read, because its
# nesting exceeds Python's recursion limit or its bytes are not UTF-8.
_BODY_PARSE_DETAIL = "There was an error parsing the body"
_NOT_JSON_MESSAGE = "request body is not valid JSON; send one UTF-8 JSON object"


def error_response(code: ErrorCode, message: str, status: int | None = None) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message))
    return JSONResponse(body.model_dump(mode="json"), status_code=status or ERROR_STATUS[code])


def describe_validation_errors(errors: list[Any]) -> str:
    """Describe each invalid field as "<field> = <value> is invalid: <what is allowed>"."""
    parts = [_describe_error(error) for error in errors]
    return "; ".join(parts) or "request is invalid"


def _describe_error(error: Any) -> str:
    location = [str(item) for item in error.get("loc", ()) if item not in ("body", "query", "path")]
    field = ".".join(location) or "request body"
    kind = error.get("type", "")
    if kind == "missing":
        return f"{field} is missing"
    if kind == "json_invalid":
        reason = error.get("ctx", {}).get("error", "decode error")
        position = next((item for item in error.get("loc", ()) if isinstance(item, int)), None)
        where = "" if position is None else f" at character {position}"
        return f"{_NOT_JSON_MESSAGE} ({reason}{where})"
    value = _show_value(error.get("input"))
    return f"{field} = {value} is invalid: {_expected(field, kind, error)}"


def _expected(field: str, kind: str, error: Any) -> str:
    """Say what the field accepts, in the words of this API where pydantic's are vague."""
    if kind in _NOT_INTEGER and field.endswith("_yen"):
        return "expected a whole number of yen as a JSON integer, e.g. 500"
    if kind == "finite_number":
        return "expected a finite number, e.g. 10"
    if kind == "too_long" and "max_length" in error.get("ctx", {}):
        ctx = error["ctx"]
        return f"expected at most {ctx['max_length']} entries, got {ctx.get('actual_length')}"
    message = str(error.get("msg", "invalid value"))
    return message[:1].lower() + message[1:]


def _show_value(value: Any) -> str:
    """Show a rejected value as JSON (true, "100"), cut to a readable length."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return shorten(text, _MAX_VALUE_CHARS)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServerError)
    async def on_server_error(request: Request, exc: ServerError) -> JSONResponse:
        logger.info("%s %s failed: %s: %s", request.method, shorten(request.url.path), exc.code,
                    exc.message)
        return error_response(exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        message = describe_validation_errors(list(exc.errors()))
        logger.info("%s %s rejected: %s", request.method, shorten(request.url.path), message)
        return error_response(ErrorCode.INVALID_REQUEST, message)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path = shorten(request.url.path)
        if exc.status_code == 400 and exc.detail == _BODY_PARSE_DETAIL:
            logger.info("%s %s rejected: body is not valid JSON", request.method, path)
            return error_response(ErrorCode.INVALID_REQUEST, _NOT_JSON_MESSAGE)
        code = _STATUS_CODES.get(exc.status_code, ErrorCode.INVALID_REQUEST)
        message = f"{request.method} {path}: {exc.detail}"
        return error_response(code, message, status=exc.status_code)
