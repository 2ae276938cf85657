"""A fake settlement server behind httpx.MockTransport, implementing the terminal endpoints
as terminal/protocol.py describes them, with hooks to inject failures."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from terminal import protocol
from terminal.api_client import ApiClient
from terminal.keys import Signer
from terminal.paycode import new_payment_code
from terminal.protocol import ErrorCode

TERMINAL_ID = "term-0001"
ACTIVATION_CODE = "ACT-2024-0001"
NOW = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
INTENT_LIFETIME = timedelta(seconds=180)

MERCHANT = protocol.MerchantInfo(
    merchant_id="m-1",
    name="さくら商店",
    name_ascii="SAKURA SHOTEN",
    city_ascii="KAMAKURA",
    address="神奈川県鎌倉市小町1-2-3",
    phone="0467-00-0000",
    invoice_registration_number="T7000012050002",
)
TERMINAL = protocol.TerminalInfo(
    terminal_id=TERMINAL_ID, label="レジ1", merchant=MERCHANT, max_amount_yen=100_000
)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def error_response(code: ErrorCode, message: str = "rejected") -> httpx.Response:
    body = protocol.ErrorResponse(error=protocol.ErrorBody(code=code, message=message))
    return httpx.Response(protocol.ERROR_STATUS[code], json=body.model_dump(mode="json"))


class FakeServer:
    """Keeps wallets, intents and payments in dicts; every request is recorded."""

    def __init__(self, public_key: Ed25519PublicKey | None) -> None:
        self.public_key = public_key
        self.requests: list[httpx.Request] = []
        self.intents: dict[str, protocol.Intent] = {}
        self.intent_lines: dict[str, list[protocol.TaxLine]] = {}
        self.payments: dict[str, protocol.Payment] = {}
        self.results_by_key: dict[str, httpx.Response] = {}
        self.used_codes: set[str] = set()
        self.expired_codes: set[str] = set()
        self.balance_yen = 50_000
        self.redeem_count = 0
        # Raised before the request is handled, as if the server was unreachable.
        self.failures_before: list[Exception] = []
        # Raised after the request was handled, as if the response was lost on the way back.
        self.failures_after: list[Exception] = []
        self.next_error: ErrorCode | None = None
        self.next_response: httpx.Response | None = None

    # --- transport ---

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures_before:
            raise self.failures_before.pop(0)
        response = self._route(request)
        if self.failures_after:
            raise self.failures_after.pop(0)
        return response

    def _route(self, request: httpx.Request) -> httpx.Response:
        if self.next_response is not None:
            response, self.next_response = self.next_response, None
            return response
        path = request.url.path
        if path == "/v1/health":
            return httpx.Response(200, json={"status": "ok", "server_time": iso(NOW)})
        if path == "/v1/terminals/enrol":
            return self._enrol(request)
        if not self._signature_valid(request):
            return error_response(ErrorCode.UNAUTHENTICATED, "bad signature")
        if self.next_error is not None:
            code, self.next_error = self.next_error, None
            return error_response(code)
        for pattern, method, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if match and request.method == method:
                return handler(request, *match.groups())
        return error_response(ErrorCode.NOT_FOUND, f"no route {request.method} {path}")

    def _routes(self) -> list[tuple[str, str, Callable[..., httpx.Response]]]:
        return [
            (r"/v1/terminal", "GET", lambda request: ok(TERMINAL)),
            (r"/v1/intents", "POST", self._create_intent),
            (r"/v1/intents/([^/]+)", "GET", lambda request, intent_id: self._get_intent(intent_id)),
            (r"/v1/intents/([^/]+)/cancel", "POST", self._cancel_intent),
            (r"/v1/payments/cpm", "POST", self._redeem),
            (r"/v1/payments", "GET", self._list_payments),
            (r"/v1/payments/([^/]+)", "GET", self._get_payment),
            (r"/v1/payments/([^/]+)/refunds", "POST", self._refund),
        ]

    def _signature_valid(self, request: httpx.Request) -> bool:
        if self.public_key is None or request.headers.get(protocol.HEADER_TERMINAL) != TERMINAL_ID:
            return False
        message = protocol.signing_message(
            request.method,
            request.url.raw_path.decode("ascii"),
            request.headers[protocol.HEADER_TIMESTAMP],
            request.content,
        )
        try:
            signature = protocol.b64decode(request.headers[protocol.HEADER_SIGNATURE])
            self.public_key.verify(signature, message)
        except (InvalidSignature, KeyError, ValueError):
            return False
        return True

    # --- endpoints ---

    def _enrol(self, request: httpx.Request) -> httpx.Response:
        enrol = protocol.EnrolRequest.model_validate_json(request.content)
        if enrol.activation_code != ACTIVATION_CODE:
            return error_response(ErrorCode.ACTIVATION_INVALID)
        self.public_key = Ed25519PublicKey.from_public_bytes(protocol.b64decode(enrol.public_key))
        return ok(TERMINAL)

    def _create_intent(self, request: httpx.Request) -> httpx.Response:
        create = protocol.IntentCreate.model_validate_json(request.content)
        if create.idempotency_key in self.results_by_key:
            return self.results_by_key[create.idempotency_key]
        intent = protocol.Intent(
            intent_id=f"in-{len(self.intents) + 1}",
            amount_yen=create.amount_yen,
            status="pending",
            payload="000201010212",
            created_at=iso(NOW),
            expires_at=iso(NOW + INTENT_LIFETIME),
            server_time=iso(NOW),
        )
        self.intents[intent.intent_id] = intent
        self.intent_lines[intent.intent_id] = create.tax_lines
        response = ok(intent)
        self.results_by_key[create.idempotency_key] = response
        return response

    def _get_intent(self, intent_id: str) -> httpx.Response:
        if intent_id not in self.intents:
            return error_response(ErrorCode.NOT_FOUND)
        return ok(self.intents[intent_id])

    def _cancel_intent(self, request: httpx.Request, intent_id: str) -> httpx.Response:
        intent = self.intents.get(intent_id)
        if intent is None:
            return error_response(ErrorCode.NOT_FOUND)
        if intent.status == "approved":
            return error_response(ErrorCode.INTENT_ALREADY_PAID)
        if intent.status == "expired":
            return error_response(ErrorCode.INTENT_EXPIRED)
        self.intents[intent_id] = intent.model_copy(update={"status": "cancelled"})
        return ok(self.intents[intent_id])

    def _redeem(self, request: httpx.Request) -> httpx.Response:
        redeem = protocol.CpmRedeem.model_validate_json(request.content)
        if redeem.idempotency_key in self.results_by_key:
            return self.results_by_key[redeem.idempotency_key]
        if redeem.code in self.expired_codes:
            return error_response(ErrorCode.CODE_EXPIRED)
        if redeem.code in self.used_codes:
            return error_response(ErrorCode.CODE_USED)
        if redeem.amount_yen > self.balance_yen:
            return error_response(ErrorCode.INSUFFICIENT_FUNDS)

        self.redeem_count += 1
        self.used_codes.add(redeem.code)
        self.balance_yen -= redeem.amount_yen
        payment = self._new_payment(redeem.amount_yen, "cpm", redeem.tax_lines)
        response = ok(payment)
        self.results_by_key[redeem.idempotency_key] = response
        return response

    def _list_payments(self, request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params.get("limit", "50"))
        payments = list(self.payments.values())[-limit:]
        return ok(protocol.PaymentList(payments=payments))

    def _get_payment(self, request: httpx.Request, payment_id: str) -> httpx.Response:
        if payment_id not in self.payments:
            return error_response(ErrorCode.NOT_FOUND)
        return ok(self.payments[payment_id])

    def _refund(self, request: httpx.Request, payment_id: str) -> httpx.Response:
        create = protocol.RefundCreate.model_validate_json(request.content)
        if create.idempotency_key in self.results_by_key:
            return self.results_by_key[create.idempotency_key]
        payment = self.payments.get(payment_id)
        if payment is None:
            return error_response(ErrorCode.NOT_FOUND)
        if create.amount_yen > payment.amount_yen - payment.refunded_yen:
            return error_response(ErrorCode.REFUND_EXCEEDS_PAYMENT)

        refunded_yen = payment.refunded_yen + create.amount_yen
        payment = payment.model_copy(update={"refunded_yen": refunded_yen})
        self.payments[payment_id] = payment
        refund = protocol.Refund(
            refund_id=f"rf-{len(self.results_by_key) + 1}",
            payment_id=payment_id,
            amount_yen=create.amount_yen,
            created_at=iso(NOW),
            payment=payment,
        )
        response = ok(refund)
        self.results_by_key[create.idempotency_key] = response
        return response

    # --- test controls ---

    def _new_payment(
        self, amount_yen: int, method: str, tax_lines: list[protocol.TaxLine]
    ) -> protocol.Payment:
        payment = protocol.Payment(
            payment_id=f"pay-{len(self.payments) + 1}",
            merchant_id=MERCHANT.merchant_id,
            terminal_id=TERMINAL_ID,
            amount_yen=amount_yen,
            refunded_yen=0,
            method=method,  # type: ignore[arg-type]
            created_at=iso(NOW),
            tax_lines=tax_lines,
        )
        self.payments[payment.payment_id] = payment
        return payment

    def pay_intent(self, intent_id: str) -> protocol.Payment:
        """Act as the wallet: pay a pending intent."""
        intent = self.intents[intent_id]
        payment = self._new_payment(intent.amount_yen, "mpm", self.intent_lines[intent_id])
        update = {"status": "approved", "payment": payment}
        self.intents[intent_id] = intent.model_copy(update=update)
        return payment

    def set_intent_status(self, intent_id: str, status: protocol.IntentStatus) -> None:
        self.intents[intent_id] = self.intents[intent_id].model_copy(update={"status": status})

    def json_bodies(self, path: str) -> list[dict[str, object]]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path]


def ok(model: protocol.BaseModel) -> httpx.Response:
    return httpx.Response(200, json=model.model_dump(mode="json"))


@pytest.fixture
def private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def signer(private_key: Ed25519PrivateKey) -> Signer:
    return Signer(private_key)


@pytest.fixture
def server(private_key: Ed25519PrivateKey) -> FakeServer:
    return FakeServer(private_key.public_key())


@pytest.fixture
def blank_server() -> FakeServer:
    """A server that has not enrolled this terminal yet."""
    return FakeServer(public_key=None)


@pytest.fixture
def activation_code() -> str:
    return ACTIVATION_CODE


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., ApiClient]]:
    """Build ApiClients talking to a FakeServer: make_client(server, signer, terminal_id)."""
    clients: list[ApiClient] = []

    def make(
        server: FakeServer, signer: Signer, terminal_id: str | None = TERMINAL_ID
    ) -> ApiClient:
        api = ApiClient(
            "http://127.0.0.1:8000",
            terminal_id,
            signer,
            transport=httpx.MockTransport(server.handle),
            sleep=sleeps.append,
        )
        clients.append(api)
        return api

    yield make
    for api in clients:
        api.close()


@pytest.fixture
def client(make_client: Callable[..., ApiClient], server: FakeServer, signer: Signer) -> ApiClient:
    return make_client(server, signer)


@pytest.fixture
def payment_code() -> str:
    return new_payment_code()
