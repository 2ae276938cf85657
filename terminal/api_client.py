"""A synchronous client for the settlement server's terminal API.

Every call blocks, so the UI runs it on a worker thread. Requests other than enrolment and the
health check are signed with the terminal key (see ``terminal.keys.Signer``).

Exceptions raised by this module, all from ``ApiError``::

    ApiError                         base class with ``code`` (an ErrorCode or None) and ``message``
    ├── Declined                     the server rejected the request, for the reason in ``code``
    ├── Unreachable                  no usable response: connect error, DNS failure, timeout,
    │                                or HTTP 502/503/504 from a proxy; ``code`` is None
    └── ProtocolError                the server sent a response this client cannot read:
                                     invalid JSON, a body that does not match protocol.py, or
                                     an error status without an error body; ``code`` is None

httpx and pydantic errors never leave this module; they are chained as ``__cause__``. The
constructor raises ValueError for a server URL that httpx cannot parse.

Retries: a request is retried with the same body when nothing was sent (connect errors), and
also after a lost response (read timeout, dropped connection) when repeating it is harmless:
reads, cancellations, and requests that carry an idempotency key. A request that moves money
therefore keeps its idempotency key on every attempt, and the server applies it at most once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pydantic

from terminal import protocol
from terminal.keys import Signer
from terminal.paycode import mask_payment_code
from terminal.protocol import ErrorCode

logger = logging.getLogger(__name__)

Model = TypeVar("Model", bound=pydantic.BaseModel)

DEFAULT_TIMEOUT_S = 10.0
# Extra read time on top of the long-poll wait, for the server's response to arrive.
LONG_POLL_MARGIN_S = 5.0
# Pauses before the second and third attempt. Short, because a clerk and a customer are waiting.
RETRY_DELAYS_S = (0.3, 1.0)
PROXY_UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


class ApiError(Exception):
    """A request to the settlement server failed."""

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Declined(ApiError):
    """The server understood the request and rejected it with an ``ErrorCode``."""

    code: ErrorCode

    def __init__(self, message: str, code: ErrorCode, status_code: int) -> None:
        super().__init__(message, code)
        self.status_code = status_code


class Unreachable(ApiError):
    """The server could not be reached, or did not respond in time."""


class ProtocolError(ApiError):
    """The server's response does not follow the wire format."""


# Payment codes in logs show the last four digits only. The server masks them the same way,
# so a log line on either side can be matched by those digits. terminal.sale imports this name.
mask_code = mask_payment_code


@dataclass(frozen=True)
class Health:
    status: str
    server_time: str


class _TerminalAuth(httpx.Auth):
    """Signs each request as it is sent, so a retried request gets a fresh timestamp."""

    requires_request_body = True

    def __init__(self, signer: Signer, terminal_id: str) -> None:
        self._signer = signer
        self._terminal_id = terminal_id

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        path_with_query = request.url.raw_path.decode("ascii")
        headers = self._signer.headers(
            self._terminal_id, request.method, path_with_query, request.content
        )
        request.headers.update(headers)
        yield request


@dataclass(frozen=True)
class _Call:
    """One logical request: what to send, how to retry it, and what to log about it."""

    method: str
    path: str
    json_body: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    signed: bool = True
    # True when sending the request twice has the effect of sending it once.
    repeatable: bool = True
    read_timeout_s: float | None = None
    log_ids: str = ""


class ApiClient:
    """Calls the terminal endpoints of one server on behalf of one terminal."""

    def __init__(
        self,
        base_url: str,
        terminal_id: str | None,
        signer: Signer,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.terminal_id = terminal_id
        self._signer = signer
        self._timeout_s = timeout_s
        self._retry_delays_s = tuple(retry_delays_s)
        self._sleep = sleep
        try:
            self._http = httpx.Client(
                base_url=base_url.rstrip("/"), transport=transport, timeout=timeout_s
            )
        except httpx.InvalidURL as exc:
            raise ValueError(f"server URL {base_url!r} is invalid: {exc}") from exc

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- endpoints -------------------------------------------------------------------

    def health(self) -> Health:
        call = _Call("GET", "/health", signed=False)
        body = self._json_object(self._send(call), call)
        status, server_time = body.get("status"), body.get("server_time")
        if not isinstance(status, str) or not isinstance(server_time, str):
            raise ProtocolError(
                f"GET /v1/health returned {body!r}, expected status and server_time"
            )
        return Health(status=status, server_time=server_time)

    def enrol(self, activation_code: str) -> protocol.TerminalInfo:
        """Register this terminal's public key; on success the client signs as the new terminal."""
        request = protocol.EnrolRequest(
            activation_code=activation_code, public_key=self._signer.public_key_b64
        )
        # The activation code is single-use, so a request that may have arrived is not repeated.
        call = _Call(
            "POST",
            "/terminals/enrol",
            request.model_dump(mode="json"),
            signed=False,
            repeatable=False,
        )
        info = self._parse(self._send(call), protocol.TerminalInfo, call)
        self.terminal_id = info.terminal_id
        return info

    def terminal_info(self) -> protocol.TerminalInfo:
        call = _Call("GET", "/terminal")
        return self._parse(self._send(call), protocol.TerminalInfo, call)

    def create_intent(
        self,
        amount_yen: int,
        tax_lines: Sequence[protocol.TaxLine],
        idempotency_key: str,
        coupon: protocol.CouponUse | None = None,
    ) -> protocol.Intent:
        """Create an intent; with ``coupon``, ``amount_yen`` is the total less its discount."""
        request = protocol.IntentCreate(
            amount_yen=amount_yen,
            idempotency_key=idempotency_key,
            tax_lines=list(tax_lines),
            coupon=coupon,
        )
        call = _Call(
            "POST",
            "/intents",
            _without_empty_coupon(request),
            log_ids=f"idempotency_key={idempotency_key} amount_yen={amount_yen}",
        )
        return self._parse(self._send(call), protocol.Intent, call)

    def wait_intent(
        self, intent_id: str, wait_s: float, seen_rejection_at: str = protocol.NO_REJECTION_SEEN
    ) -> protocol.Intent:
        """Long-poll an intent: return when it is no longer pending, when a rejection newer
        than ``seen_rejection_at`` is recorded, or after ``wait_s``."""
        wait_s = min(max(wait_s, 0.0), protocol.LONG_POLL_MAX_S)
        call = _Call(
            "GET",
            f"/intents/{quote(intent_id, safe='')}",
            params={"wait": _format_seconds(wait_s), "seen_rejection_at": seen_rejection_at},
            read_timeout_s=wait_s + LONG_POLL_MARGIN_S,
            log_ids=f"intent_id={intent_id}",
        )
        return self._parse(self._send(call), protocol.Intent, call)

    def cancel_intent(self, intent_id: str) -> protocol.Intent:
        call = _Call(
            "POST", f"/intents/{quote(intent_id, safe='')}/cancel", log_ids=f"intent_id={intent_id}"
        )
        return self._parse(self._send(call), protocol.Intent, call)

    def redeem_cpm(
        self,
        code: str,
        amount_yen: int,
        tax_lines: Sequence[protocol.TaxLine],
        idempotency_key: str,
        coupon: protocol.CouponUse | None = None,
    ) -> protocol.Payment:
        """Redeem a payment code; with ``coupon``, ``amount_yen`` is the total less its discount."""
        request = protocol.CpmRedeem(
            code=code,
            amount_yen=amount_yen,
            idempotency_key=idempotency_key,
            tax_lines=list(tax_lines),
            coupon=coupon,
        )
        call = _Call(
            "POST",
            "/payments/cpm",
            _without_empty_coupon(request),
            log_ids=(
                f"code={mask_code(code)} idempotency_key={idempotency_key} amount_yen={amount_yen}"
            ),
        )
        return self._parse(self._send(call), protocol.Payment, call)

    def quote_coupon(self, code: str, total_yen: int) -> protocol.CouponQuote:
        """Ask the server whether a coupon applies to a sale of ``total_yen``, and its discount.

        Books nothing. A coupon that cannot be used raises Declined with a coupon error code.
        """
        request = protocol.CouponQuoteRequest(code=code, total_yen=total_yen)
        call = _Call(
            "POST",
            "/coupons/quote",
            request.model_dump(mode="json"),
            log_ids=f"total_yen={total_yen}",
        )
        return self._parse(self._send(call), protocol.CouponQuote, call)

    def coupon_campaigns(self) -> protocol.CouponCampaignList:
        """Fetch the campaigns this shop takes part in, for campaign-wide coupons offline."""
        call = _Call("GET", "/coupons/campaigns")
        return self._parse(self._send(call), protocol.CouponCampaignList, call)

    def rally_booth(self) -> protocol.RallyInfo:
        """Fetch the rally this terminal is a booth of."""
        call = _Call("GET", "/rally/booth")
        return self._parse(self._send(call), protocol.RallyInfo, call)

    def booth_today(self) -> protocol.BoothDay:
        """Fetch how many stamps this booth gave today."""
        call = _Call("GET", "/rally/booth/today")
        return self._parse(self._send(call), protocol.BoothDay, call)

    def give_stamp(self, request: protocol.StampGive) -> protocol.StampOutcome:
        call = _Call("POST", "/rally/stamps", request.model_dump(mode="json"),
                     log_ids=f"entry_id={request.entry_id}")
        return self._parse(self._send(call), protocol.StampOutcome, call)

    def list_payments(self, limit: int = 50) -> list[protocol.Payment]:
        call = _Call("GET", "/payments", params={"limit": str(limit)})
        return self._parse(self._send(call), protocol.PaymentList, call).payments

    def get_payment(self, payment_id: str) -> protocol.Payment:
        call = _Call(
            "GET", f"/payments/{quote(payment_id, safe='')}", log_ids=f"payment_id={payment_id}"
        )
        return self._parse(self._send(call), protocol.Payment, call)

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund:
        request = protocol.RefundCreate(amount_yen=amount_yen, idempotency_key=idempotency_key)
        call = _Call(
            "POST",
            f"/payments/{quote(payment_id, safe='')}/refunds",
            request.model_dump(mode="json"),
            log_ids=(
                f"payment_id={payment_id} idempotency_key={idempotency_key} amount_yen={amount_yen}"
            ),
        )
        return self._parse(self._send(call), protocol.Refund, call)

    def day_report(self, business_day: str) -> protocol.ServerDayReport:
        """Fetch the server's totals of ``business_day`` (YYYY-MM-DD) for the day close."""
        call = _Call(
            "GET",
            "/reports/day",
            params={"business_day": business_day},
            log_ids=f"business_day={business_day}",
        )
        return self._parse(self._send(call), protocol.ServerDayReport, call)

    # --- money: balance, cash-outs, statements -------------------------------------------

    def merchant_balance(self) -> protocol.MerchantBalance:
        call = _Call("GET", "/merchant/balance")
        return self._parse(self._send(call), protocol.MerchantBalance, call)

    def preview_cash_out(self, amount_yen: int) -> protocol.CashOutPreview:
        """Ask for the fee, net amount and payout date of a cash-out; books nothing."""
        call = _Call(
            "GET",
            "/cash-outs/preview",
            params={"amount_yen": str(amount_yen)},
            log_ids=f"amount_yen={amount_yen}",
        )
        return self._parse(self._send(call), protocol.CashOutPreview, call)

    def request_cash_out(self, amount_yen: int, idempotency_key: str) -> protocol.CashOut:
        """Book a cash-out; the same key again returns the first one instead of a second."""
        request = protocol.CashOutCreate(amount_yen=amount_yen, idempotency_key=idempotency_key)
        call = _Call(
            "POST",
            "/cash-outs",
            request.model_dump(mode="json"),
            log_ids=f"idempotency_key={idempotency_key} amount_yen={amount_yen}",
        )
        return self._parse(self._send(call), protocol.CashOut, call)

    def list_cash_outs(self, limit: int = 50) -> list[protocol.CashOut]:
        call = _Call("GET", "/cash-outs", params={"limit": str(limit)})
        return self._parse(self._send(call), protocol.CashOutList, call).cash_outs

    def statement_csv(self, month: str) -> str:
        """Fetch the merchant's statement of ``month`` (YYYY-MM) as CSV text."""
        call = _Call("GET", f"/statements/{quote(month, safe='')}", log_ids=f"month={month}")
        response = self._send(call)
        try:
            return response.content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(
                f"{call.method} {_full_path(call)} returned a body that is not UTF-8"
            ) from exc

    def issuer_keys(self) -> protocol.IssuerKeyList:
        """Fetch the public keys that sign offline certificates; no signature needed."""
        call = _Call("GET", "/issuer-keys", signed=False)
        return self._parse(self._send(call), protocol.IssuerKeyList, call)

    def sync(self, batch: protocol.SyncBatch) -> protocol.SyncResponse:
        """Send outbox entries; the server applies each entry id once, so a resend is harmless."""
        entries = batch.entries
        call = _Call(
            "POST",
            "/sync",
            batch.model_dump(mode="json"),
            log_ids=f"entries={len(entries)} seq={entries[0].seq}-{entries[-1].seq}",
        )
        return self._parse(self._send(call), protocol.SyncResponse, call)

    # --- transport, retries, errors ----------------------------------------------------

    def _send(self, call: _Call) -> httpx.Response:
        """Send ``call``, retrying per the module rules, and return a 2xx response."""
        attempts = len(self._retry_delays_s) + 1
        attempt = 1
        while True:
            try:
                response = self._send_once(call)
                break
            except httpx.TransportError as exc:
                if attempt == attempts or not _may_retry(call, exc):
                    raise _unreachable(call, exc) from exc
                delay_s = self._retry_delays_s[attempt - 1]
                attempt += 1
                logger.warning(
                    "%s %s failed (%s: %s), attempt %d of %d in %.1f s%s",
                    call.method,
                    _full_path(call),
                    type(exc).__name__,
                    exc,
                    attempt,
                    attempts,
                    delay_s,
                    _ids_suffix(call),
                )
                self._sleep(delay_s)

        error = _error_for(response, call)
        outcome = str(response.status_code)
        if error is not None and error.code is not None:
            outcome += f" {error.code}"
        logger.info("%s %s -> %s%s", call.method, _full_path(call), outcome, _ids_suffix(call))
        if error is not None:
            raise error
        return response

    def _send_once(self, call: _Call) -> httpx.Response:
        timeout = httpx.Timeout(self._timeout_s)
        if call.read_timeout_s is not None:
            timeout = httpx.Timeout(self._timeout_s, read=call.read_timeout_s)
        return self._http.request(
            call.method,
            protocol.API_PREFIX + call.path,
            json=call.json_body,
            params=call.params,
            auth=self._auth(call),
            timeout=timeout,
        )

    def _auth(self, call: _Call) -> httpx.Auth | None:
        if not call.signed:
            return None
        if self.terminal_id is None:
            raise ValueError(f"{call.method} {call.path} needs a terminal id; enrol first")
        return _TerminalAuth(self._signer, self.terminal_id)

    def _parse(self, response: httpx.Response, model: type[Model], call: _Call) -> Model:
        try:
            return model.model_validate_json(response.content)
        except pydantic.ValidationError as exc:
            raise ProtocolError(
                f"{call.method} {_full_path(call)} returned a body that is not a valid "
                f"{model.__name__}: {exc.error_count()} errors, first: {exc.errors()[0]['msg']}"
            ) from exc

    def _json_object(self, response: httpx.Response, call: _Call) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise ProtocolError(f"{call.method} {_full_path(call)} returned invalid JSON") from exc
        if not isinstance(body, dict):
            raise ProtocolError(
                f"{call.method} {_full_path(call)} returned {body!r}, not an object"
            )
        return body


def _without_empty_coupon(request: protocol.IntentCreate | protocol.CpmRedeem) -> dict[str, Any]:
    """Dump a payment request; one without a coupon has the body it had before coupons."""
    excluded = {"coupon"} if request.coupon is None else None
    return request.model_dump(mode="json", exclude=excluded)


def _full_path(call: _Call) -> str:
    return protocol.API_PREFIX + call.path


def _ids_suffix(call: _Call) -> str:
    return f" {call.log_ids}" if call.log_ids else ""


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if seconds == int(seconds) else f"{seconds:.1f}"


def _may_retry(call: _Call, exc: httpx.TransportError) -> bool:
    # A connect error means no byte of the request reached the server.
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return True
    return call.repeatable


def _unreachable(call: _Call, exc: httpx.TransportError) -> Unreachable:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return Unreachable(f"{call.method} {_full_path(call)} {kind}: {type(exc).__name__}: {exc}")


def _error_for(response: httpx.Response, call: _Call) -> ApiError | None:
    """Return the ApiError that a non-2xx response stands for, or None for a 2xx response."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    where = f"{call.method} {_full_path(call)}"
    if status in PROXY_UNAVAILABLE_STATUSES:
        return Unreachable(f"{where} returned HTTP {status}; the server is unavailable")

    try:
        error = protocol.ErrorResponse.model_validate_json(response.content).error
    except pydantic.ValidationError:
        return ProtocolError(
            f"{where} returned HTTP {status} without a valid error body: {response.text[:200]!r}"
        )
    return Declined(error.message, error.code, status)
