"""Wire format between terminals, wallets and the settlement server.

Both sides import this module, so a field renamed here is renamed everywhere. Amounts are
integer yen. Times are ISO 8601 strings in UTC. Every request that moves money carries an
``idempotency_key`` chosen by the client: repeating the request with the same key returns the
first result and moves nothing.

Errors come back as ``{"error": {"code": ..., "message": ...}}`` with an HTTP status from
``ERROR_STATUS``. ``code`` is one of the ``ErrorCode`` values. The terminal turns the code into a
Japanese message for the clerk; ``message`` is English detail for logs and developers.
The server rejects a request body larger than ``MAX_BODY_BYTES`` with 413 ``payload_too_large``.

Terminal authentication: a terminal enrols once with an activation code and its Ed25519 public
key, then signs every request. The signature covers ``signing_message()`` and travels in the
``X-Chiiki-Terminal``, ``X-Chiiki-Timestamp`` and ``X-Chiiki-Signature`` headers. Wallets send
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

API_PREFIX = "/v1"

HEADER_TERMINAL = "X-Chiiki-Terminal"
HEADER_TIMESTAMP = "X-Chiiki-Timestamp"
HEADER_SIGNATURE = "X-Chiiki-Signature"

# Maximum time a long-poll request waits on the server before it returns the unchanged state.
LONG_POLL_MAX_S = 30.0

IdempotencyKey = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")

# An amount in whole yen. Strict, so JSON true, "100", 1e3 and 100.0 are rejected instead of
# being converted to an integer.
Yen = Annotated[int, Field(strict=True)]

# Bidirectional embedding, override and isolate controls, which can make stored text print
# in a misleading order on statements.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _reject_control_characters(text: str) -> str:
    for position, char in enumerate(text):
        if unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS:
            raise PydanticCustomError(
                "control_character",
                "control character U+{code_point} at position {position} is not allowed;"
                " send printable text only",
                {"code_point": f"{ord(char):04X}", "position": position},
            )
    return text


# Text from a client: ids, notes, codes. Control characters (Unicode category Cc, such as NUL
# or a newline) and bidi controls are rejected, so they never reach the database, a CSV or a
# printed statement.
PlainText = Annotated[str, AfterValidator(_reject_control_characters)]

# Most department lines one sale may carry. A simple register has a few department keys, so
# 50 leaves room and keeps a request body small.
MAX_TAX_LINES = 50

# Largest request body the server reads, in bytes. A sale with MAX_TAX_LINES lines is under
# 4 KiB of JSON, so 64 KiB leaves room while keeping a hostile body cheap to reject.
MAX_BODY_BYTES = 64 * 1024


class ErrorCode(StrEnum):
    """Machine-readable reasons a request failed."""

    INVALID_REQUEST = "invalid_request"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    CODE_INVALID = "code_invalid"
    CODE_EXPIRED = "code_expired"
    CODE_USED = "code_used"
    INTENT_EXPIRED = "intent_expired"
    INTENT_CANCELLED = "intent_cancelled"
    INTENT_ALREADY_PAID = "intent_already_paid"
    AMOUNT_MISMATCH = "amount_mismatch"
    REFUND_EXCEEDS_PAYMENT = "refund_exceeds_payment"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    ACTIVATION_INVALID = "activation_invalid"
    DEMO_DISABLED = "demo_disabled"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    OFFLINE_CODE_INVALID = "offline_code_invalid"
    OFFLINE_ALLOWANCE_EXCEEDED = "offline_allowance_exceeded"
    WALLET_BLOCKED = "wallet_blocked"
    CERTIFICATE_ACTIVE = "certificate_active"
    BANK_ACCOUNT_MISSING = "bank_account_missing"
    FEE_PLAN_MISSING = "fee_plan_missing"
    AMOUNT_BELOW_FEE = "amount_below_fee"


ERROR_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INSUFFICIENT_FUNDS: 402,
    ErrorCode.CODE_INVALID: 422,
    ErrorCode.CODE_EXPIRED: 410,
    ErrorCode.CODE_USED: 409,
    ErrorCode.INTENT_EXPIRED: 410,
    ErrorCode.INTENT_CANCELLED: 409,
    ErrorCode.INTENT_ALREADY_PAID: 409,
    ErrorCode.AMOUNT_MISMATCH: 422,
    ErrorCode.REFUND_EXCEEDS_PAYMENT: 409,
    ErrorCode.IDEMPOTENCY_CONFLICT: 409,
    ErrorCode.ACTIVATION_INVALID: 403,
    ErrorCode.DEMO_DISABLED: 403,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.OFFLINE_CODE_INVALID: 422,
    ErrorCode.OFFLINE_ALLOWANCE_EXCEEDED: 402,
    ErrorCode.WALLET_BLOCKED: 403,
    ErrorCode.CERTIFICATE_ACTIVE: 409,
    ErrorCode.BANK_ACCOUNT_MISSING: 409,
    ErrorCode.FEE_PLAN_MISSING: 409,
    ErrorCode.AMOUNT_BELOW_FEE: 422,
}


class ValueKind(StrEnum):
    """Kinds of value the ledger holds, in the order a payment spends them."""

    PREMIUM_LOCAL = "premium_local"
    BENEFIT = "benefit"
    PREMIUM_ALL = "premium_all"
    COIN = "coin"


class ErrorBody(BaseModel):
    code: ErrorCode
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


# --- terminals ---------------------------------------------------------------------------


class EnrolRequest(BaseModel):
    activation_code: PlainText = Field(min_length=1, max_length=64)
    public_key: PlainText = Field(description="Raw Ed25519 public key, URL-safe base64")


class MerchantInfo(BaseModel):
    merchant_id: str
    name: str = Field(description="Japanese shop name, printed on receipts")
    name_ascii: str = Field(description="Shop name for EMV tag 59, ASCII, at most 25 characters")
    city_ascii: str = Field(description="City for EMV tag 60, ASCII, at most 15 characters")
    address: str
    phone: str = ""
    invoice_registration_number: str = Field(description="T followed by 13 digits")
    merchant_category_code: str = "5499"


class TerminalInfo(BaseModel):
    terminal_id: str
    label: str = Field(description="Short terminal label for EMV tag 62.07 and receipts")
    merchant: MerchantInfo
    max_amount_yen: Yen


class TaxLine(BaseModel):
    """One department-key entry: an amount including tax at one rate."""

    rate_percent: Literal[10, 8]
    amount_yen: Yen = Field(ge=1)


class IntentCreate(BaseModel):
    amount_yen: Yen = Field(ge=1)
    idempotency_key: str = IdempotencyKey
    tax_lines: list[TaxLine] = Field(default_factory=list, max_length=MAX_TAX_LINES)


IntentStatus = Literal["pending", "approved", "cancelled", "expired"]


class Payment(BaseModel):
    payment_id: str
    merchant_id: str
    terminal_id: str
    amount_yen: Yen
    refunded_yen: Yen
    method: Literal["mpm", "cpm", "offline"]
    created_at: str
    tax_lines: list[TaxLine] = Field(default_factory=list)
    kinds: dict[ValueKind, Yen] = Field(
        default_factory=dict, description="How much of each value kind paid for it"
    )


class Intent(BaseModel):
    intent_id: str
    amount_yen: Yen
    status: IntentStatus
    payload: str = Field(description="EMV merchant-presented QR payload")
    created_at: str
    expires_at: str
    server_time: str
    payment: Payment | None = None


class CpmRedeem(BaseModel):
    code: PlainText = Field(min_length=1, max_length=128)
    amount_yen: Yen = Field(ge=1)
    idempotency_key: str = IdempotencyKey
    tax_lines: list[TaxLine] = Field(default_factory=list, max_length=MAX_TAX_LINES)


class RefundCreate(BaseModel):
    amount_yen: Yen = Field(ge=1)
    idempotency_key: str = IdempotencyKey


class Refund(BaseModel):
    refund_id: str
    payment_id: str
    amount_yen: Yen
    created_at: str
    payment: Payment


class PaymentList(BaseModel):
    payments: list[Payment]


# --- wallets -----------------------------------------------------------------------------


class WalletCreated(BaseModel):
    wallet_id: str
    token: str


class Balance(BaseModel):
    wallet_id: str
    total_yen: Yen
    kinds: dict[ValueKind, Yen]


class TopUp(BaseModel):
    amount_yen: Yen = Field(ge=1)
    idempotency_key: str = IdempotencyKey


class PaymentCode(BaseModel):
    code: str
    expires_at: str


class IntentPay(BaseModel):
    amount_yen: Yen = Field(ge=1, description="Amount read from the QR, checked by the server")
    idempotency_key: str = IdempotencyKey


# --- offline payments ------------------------------------------------------------------
#
# A wallet keeps an offline certificate signed by the server's issuer key. Each offline
# payment code it shows is signed by the wallet's own key and embeds that certificate, so a
# terminal without a connection can verify it. The binary layout of certificates and codes,
# and their text form for QR codes and wedge scanners, live in terminal/offline_code.py.


class IssuerKey(BaseModel):
    key_id: str = Field(description="Hex of the first 4 bytes of SHA-256 of the public key")
    public_key: str = Field(description="Raw Ed25519 public key, URL-safe base64")
    valid_from: str
    valid_until: str


class IssuerKeyList(BaseModel):
    keys: list[IssuerKey]
    server_time: str


class OfflineCertificateRequest(BaseModel):
    allowance_yen: Yen = Field(ge=1)
    public_key: PlainText = Field(
        description="The wallet's raw Ed25519 public key, URL-safe base64")
    idempotency_key: str = IdempotencyKey


class OfflineCertificate(BaseModel):
    certificate: str = Field(description="Signed certificate, URL-safe base64 of its bytes")
    serial: int
    allowance_yen: Yen
    valid_until: str


# --- store and forward -------------------------------------------------------------------
#
# A terminal commits every sale and refund locally together with an outbox entry, then sends
# the outbox in capture order. The server applies each entry once by (terminal, entry_id) and
# returns a result per entry. "duplicate" means an earlier send was applied, and counts as
# acknowledged.

MAX_SYNC_BATCH = 100

SyncKind = Literal["offline_payment", "online_payment", "refund"]
SyncStatus = Literal["applied", "duplicate", "declined"]


class SyncEntry(BaseModel):
    entry_id: str = IdempotencyKey
    seq: int = Field(strict=True, ge=1, description="The terminal's capture order, from 1")
    kind: SyncKind
    captured_at: PlainText = Field(description="Device time of capture, ISO 8601")
    amount_yen: Yen = Field(ge=1)
    tax_lines: list[TaxLine] = Field(default_factory=list, max_length=MAX_TAX_LINES)
    offline_code: PlainText | None = Field(
        default=None, max_length=2048, description="offline_payment: the scanned code"
    )
    payment_id: PlainText | None = Field(
        default=None, description="online_payment: the payment the server approved; refund: "
        "the payment refunded"
    )


class SyncBatch(BaseModel):
    entries: list[SyncEntry] = Field(min_length=1, max_length=MAX_SYNC_BATCH)
    device_time: PlainText = Field(description="The terminal's clock when it sent the batch")


class SyncResult(BaseModel):
    entry_id: str
    status: SyncStatus
    reason: ErrorCode | None = None
    message: str = ""
    payment_id: str | None = None
    refund_id: str | None = None
    business_day: str | None = Field(default=None, description="YYYY-MM-DD in Japan time")


class SyncResponse(BaseModel):
    results: list[SyncResult]
    server_time: str


# --- cash-outs and merchant payments ----------------------------------------------------
#
# A merchant's balance is everything it was paid, premium points included: value never expires
# in a shop's hands. A cash-out takes ``amount_yen`` from that balance, keeps the fee and sends
# the rest (``net_yen``) to the shop's bank account on ``payout_date`` (YYYY-MM-DD, a bank
# business day in Japan). Its status moves requested -> in_file -> paid or failed; a failed
# payout returns the whole amount, fee included, to the balance.

CashOutStatus = Literal["requested", "in_file", "paid", "failed"]

# Most cash-outs one list returns.
MAX_CASH_OUT_LIST = 200


class MerchantBalance(BaseModel):
    merchant_id: str
    total_yen: Yen
    kinds: dict[ValueKind, Yen]
    pending_payout_yen: Yen = Field(
        description="Net amount of cash-outs requested or in a transfer file, not yet paid"
    )


class BankAccountSummary(BaseModel):
    bank_code: str = Field(description="4-digit Zengin bank code")
    branch_code: str = Field(description="3-digit branch code")
    account_type: Literal[1, 2, 4] = Field(description="1 ordinary, 2 current, 4 savings")
    account_number_last4: str = Field(description="Last four digits, for display")
    holder_name: str = Field(description="Account holder in half-width katakana")
    bank_name: str = Field("", description="Bank name from the Zengin code data; empty if unknown")
    branch_name: str = Field("", description="Branch name from the Zengin code data; empty if unknown")


class CashOutPreview(BaseModel):
    amount_yen: Yen
    balance_yen: Yen
    fee_yen: Yen = Field(description="fixed_fee_yen + metered_fee_yen")
    fixed_fee_yen: Yen = Field(
        description="The plan's monthly part, charged on the month's first cash-out"
    )
    metered_fee_yen: Yen
    net_yen: Yen = Field(description="amount_yen - fee_yen, paid to the bank account")
    payout_date: str
    fee_plan: str
    month: str = Field(description="YYYY-MM in Japan time")
    month_volume_yen: Yen = Field(description="The month's cash-outs before this one")
    bank_account: BankAccountSummary


class CashOutCreate(BaseModel):
    amount_yen: Yen = Field(ge=1, description="Taken from the balance; the fee comes out of it")
    idempotency_key: str = IdempotencyKey


class CashOut(BaseModel):
    cash_out_id: str
    status: CashOutStatus
    amount_yen: Yen
    fee_yen: Yen
    fixed_fee_yen: Yen
    metered_fee_yen: Yen
    net_yen: Yen
    payout_date: str
    month: str
    created_at: str
    settled_at: str | None = None
    failure_reason: str | None = None
    bank_account: BankAccountSummary


class CashOutList(BaseModel):
    cash_outs: list[CashOut]


class MerchantTransferCreate(BaseModel):
    recipient_merchant_id: PlainText = Field(min_length=1, max_length=40)
    amount_yen: Yen = Field(ge=1)
    idempotency_key: str = IdempotencyKey
    note: PlainText = Field(default="", max_length=40, description="Shown on both statements")


class MerchantTransfer(BaseModel):
    transfer_id: str
    merchant_id: str
    recipient_merchant_id: str
    recipient_name: str
    amount_yen: Yen
    note: str
    created_at: str
    balance_yen: Yen = Field(description="The paying merchant's balance after the transfer")


# --- day reports ------------------------------------------------------------------------


class CountTotal(BaseModel):
    """How many entries of one kind, and their sum in yen."""

    count: int = Field(default=0, strict=True, ge=0)
    amount_yen: Yen = 0


class DayTotals(BaseModel):
    """A business day's payments and refunds as the server applied them."""

    payments_by_method: dict[Literal["mpm", "cpm", "offline"], CountTotal]
    payments: CountTotal
    refunds: CountTotal
    net_yen: Yen = Field(description="payments.amount_yen - refunds.amount_yen")
    ledger_net_yen: Yen = Field(
        description="What the payments and refunds moved on the merchant's ledger account"
    )
    ledger_kinds: dict[ValueKind, Yen] = Field(
        description="ledger_net_yen by value kind (coin, premium points)"
    )


class ServerDayReport(BaseModel):
    """GET /reports/day: the server's totals of one business day for the calling terminal.

    Counted are sync entries the server applied with this business day: online payments the
    terminal confirmed, offline payments and refunds. ``terminal`` covers the calling terminal,
    ``merchant`` every terminal of its merchant.
    """

    business_day: str = Field(description="YYYY-MM-DD in Japan time")
    merchant_id: str
    terminal_id: str
    terminal: DayTotals
    merchant: DayTotals
    server_time: str


# --- request signing ---------------------------------------------------------------------


def b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_message(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """Build the bytes a terminal signs: method, path with query, timestamp and body hash."""
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), path, timestamp, body_hash]).encode("ascii")
