"""A fake of the server's store-and-forward endpoints behind httpx.MockTransport, following
terminal/protocol.py, with an issuer key, wallets that make offline codes, and failure hooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from terminal import offline_code, protocol
from terminal.api_client import ApiClient
from terminal.keys import Signer
from terminal.protocol import ErrorCode

TERMINAL_ID = "term-0001"
START = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
# The server accepts signatures whose timestamp is this close to its own clock.
SIGNATURE_WINDOW_S = 300


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def raw_public_key(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


class ManualClock:
    """A clock that moves only when a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Wallet:
    """A wallet holding an offline certificate; each code uses the next counter."""

    wallet_id: str
    private_key: Ed25519PrivateKey
    certificate: bytes
    counter: int = 0

    def code(self, signed_at: datetime) -> str:
        self.counter += 1
        return offline_code.make_offline_code(
            self.certificate, self.private_key, self.counter, signed_at
        )


@dataclass
class FakeSyncServer:
    """Applies sync entries once per entry id and records what it applied, in order."""

    terminal_key: Ed25519PublicKey
    clock: ManualClock = field(default_factory=lambda: ManualClock(START))
    issuer_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    results: dict[str, protocol.SyncResult] = field(default_factory=dict)
    applied: list[protocol.SyncEntry] = field(default_factory=list)
    batches: list[protocol.SyncBatch] = field(default_factory=list)
    known_payment_ids: set[str] = field(default_factory=set)
    # Raised before the request is handled, as if the server could not be reached.
    failures_before: list[Exception] = field(default_factory=list)
    # Raised after the entries were applied, as if the connection dropped mid-response.
    failures_after: list[Exception] = field(default_factory=list)
    # Returned before anything is applied, such as a 500 from a crashed handler.
    responses_before: list[httpx.Response] = field(default_factory=list)
    # A batch containing one of these entry ids is rejected whole as invalid_request.
    invalid_entry_ids: set[str] = field(default_factory=set)
    # Called with each batch before it is applied, to look at the terminal's state then.
    on_batch: Callable[[protocol.SyncBatch], None] | None = None
    next_wallet: int = 0

    @property
    def issuer_key_id(self) -> str:
        return offline_code.issuer_key_id(raw_public_key(self.issuer_key))

    def new_wallet(self, allowance_yen: int = 30_000, valid_days: int = 7) -> Wallet:
        self.next_wallet += 1
        wallet_key = Ed25519PrivateKey.generate()
        body = offline_code.CertificateBody(
            serial=self.next_wallet,
            issuer_key_id=self.issuer_key_id,
            wallet_id=f"w-{self.next_wallet}",
            wallet_public_key=raw_public_key(wallet_key),
            allowance_yen=allowance_yen,
            valid_until=self.clock.now.replace(microsecond=0) + timedelta(days=valid_days),
        )
        certificate = offline_code.sign_certificate(body, self.issuer_key)
        return Wallet(body.wallet_id, wallet_key, certificate)

    def issuer_key_list(self) -> protocol.IssuerKeyList:
        key = protocol.IssuerKey(
            key_id=self.issuer_key_id,
            public_key=protocol.b64encode(raw_public_key(self.issuer_key)),
            valid_from=iso(START - timedelta(days=30)),
            valid_until=iso(START + timedelta(days=365)),
        )
        return protocol.IssuerKeyList(keys=[key], server_time=iso(self.clock.now))

    # --- transport ---

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.failures_before:
            raise self.failures_before.pop(0)
        if request.url.path == "/v1/health":
            return httpx.Response(200, json={"status": "ok", "server_time": iso(self.clock.now)})
        if request.url.path == "/v1/issuer-keys":
            return httpx.Response(200, json=self.issuer_key_list().model_dump(mode="json"))
        if request.url.path != "/v1/sync" or request.method != "POST":
            return error_response(ErrorCode.NOT_FOUND)
        if not self._signature_valid(request):
            return error_response(ErrorCode.UNAUTHENTICATED)
        if self.responses_before:
            return self.responses_before.pop(0)

        batch = protocol.SyncBatch.model_validate_json(request.content)
        self.batches.append(batch)
        if any(entry.entry_id in self.invalid_entry_ids for entry in batch.entries):
            return error_response(ErrorCode.INVALID_REQUEST, "entry fails validation")
        if self.on_batch is not None:
            self.on_batch(batch)
        response = protocol.SyncResponse(
            results=[self._apply(entry) for entry in batch.entries],
            server_time=iso(self.clock.now),
        )
        if self.failures_after:
            raise self.failures_after.pop(0)
        return httpx.Response(200, json=response.model_dump(mode="json"))

    def _signature_valid(self, request: httpx.Request) -> bool:
        if request.headers.get(protocol.HEADER_TERMINAL) != TERMINAL_ID:
            return False
        timestamp = request.headers.get(protocol.HEADER_TIMESTAMP, "")
        try:
            signed_at = datetime.fromisoformat(timestamp)
            signature = protocol.b64decode(request.headers[protocol.HEADER_SIGNATURE])
            message = protocol.signing_message(
                request.method, request.url.raw_path.decode("ascii"), timestamp, request.content
            )
            self.terminal_key.verify(signature, message)
        except (InvalidSignature, KeyError, ValueError):
            return False
        return abs((signed_at - self.clock.now).total_seconds()) <= SIGNATURE_WINDOW_S

    def _apply(self, entry: protocol.SyncEntry) -> protocol.SyncResult:
        first = self.results.get(entry.entry_id)
        if first is not None:
            return first.model_copy(update={"status": "duplicate"})
        result = self._first_result(entry)
        self.results[entry.entry_id] = result
        if result.status == "applied":
            self.applied.append(entry)
        return result

    def _first_result(self, entry: protocol.SyncEntry) -> protocol.SyncResult:
        if entry.kind == "online_payment" and entry.payment_id not in self.known_payment_ids:
            return protocol.SyncResult(
                entry_id=entry.entry_id,
                status="declined",
                reason=ErrorCode.NOT_FOUND,
                message=f"payment {entry.payment_id} not found",
            )
        if entry.kind == "offline_payment":
            keys = {self.issuer_key_id: self.issuer_key.public_key()}
            try:
                offline_code.verify_offline_code(
                    entry.offline_code or "", keys, now=self.clock.now, max_age=timedelta(days=2)
                )
            except offline_code.OfflineCodeError as exc:
                return protocol.SyncResult(
                    entry_id=entry.entry_id,
                    status="declined",
                    reason=ErrorCode.OFFLINE_CODE_INVALID,
                    message=str(exc),
                )
        return protocol.SyncResult(
            entry_id=entry.entry_id,
            status="applied",
            payment_id=entry.payment_id or f"pay-{len(self.results) + 1}",
            business_day=entry.captured_at[:10],
        )

    def client(self, signer: Signer) -> ApiClient:
        """An ApiClient without its own retries, so each engine attempt is one request."""
        return ApiClient(
            "http://127.0.0.1:8000",
            TERMINAL_ID,
            signer,
            transport=httpx.MockTransport(self.handle),
            retry_delays_s=(),
        )


def error_response(code: ErrorCode, message: str = "rejected") -> httpx.Response:
    body = protocol.ErrorResponse(error=protocol.ErrorBody(code=code, message=message))
    return httpx.Response(protocol.ERROR_STATUS[code], json=body.model_dump(mode="json"))
