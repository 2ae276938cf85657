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

from pydantic import AfterValidator, BaseModel, Field, model_validator
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
    RALLY_CODE_INVALID = "rally_code_invalid"
    RALLY_NOT_OPEN = "rally_not_open"
    STAMP_ALREADY_GIVEN = "stamp_already_given"
    # Coupon rejections; the same values as terminal.coupon_code.CouponRejection.
    COUPON_MALFORMED = "coupon_malformed"
    COUPON_UNKNOWN_ISSUER = "coupon_unknown_issuer"
    COUPON_BAD_SIGNATURE = "coupon_bad_signature"
    COUPON_NOT_YET_VALID = "coupon_not_yet_valid"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_WRONG_SHOP = "coupon_wrong_shop"
    COUPON_WRONG_WALLET = "coupon_wrong_wallet"
    COUPON_BELOW_MINIMUM = "coupon_below_minimum"
    COUPON_NOT_FOUND = "coupon_not_found"
    COUPON_USED = "coupon_used"
    COUPON_WITHDRAWN = "coupon_withdrawn"
    COUPON_DISCOUNT_MISMATCH = "coupon_discount_mismatch"


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
    ErrorCode.RALLY_CODE_INVALID: 422,
    ErrorCode.RALLY_NOT_OPEN: 409,
    ErrorCode.STAMP_ALREADY_GIVEN: 409,
    ErrorCode.COUPON_MALFORMED: 422,
    ErrorCode.COUPON_UNKNOWN_ISSUER: 422,
    ErrorCode.COUPON_BAD_SIGNATURE: 422,
    ErrorCode.COUPON_NOT_YET_VALID: 409,
    ErrorCode.COUPON_EXPIRED: 410,
    ErrorCode.COUPON_WRONG_SHOP: 409,
    ErrorCode.COUPON_WRONG_WALLET: 409,
    ErrorCode.COUPON_BELOW_MINIMUM: 409,
    ErrorCode.COUPON_NOT_FOUND: 404,
    ErrorCode.COUPON_USED: 409,
    ErrorCode.COUPON_WITHDRAWN: 410,
    ErrorCode.COUPON_DISCOUNT_MISMATCH: 422,
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
    is_local: bool = Field(default=True, description="Whether the shop takes premium_local points")


class TerminalInfo(BaseModel):
    terminal_id: str
    label: str = Field(description="Short terminal label for EMV tag 62.07 and receipts")
    merchant: MerchantInfo
    max_amount_yen: Yen


class TaxLine(BaseModel):
    """One department-key entry: an amount including tax at one rate."""

    rate_percent: Literal[10, 8]
    amount_yen: Yen = Field(ge=1)


class CouponUse(BaseModel):
    """A coupon the terminal applied to a sale; the payment's amount_yen is total - discount."""

    code: PlainText = Field(min_length=1, max_length=1024, description="The scanned coupon code")
    total_yen: Yen = Field(ge=1, description="The sale total before the discount")
    discount_yen: Yen = Field(ge=1, description="The discount the terminal computed")


class NextCoupon(BaseModel):
    """The coupon a used coupon issued, to send the customer on to another shop."""

    shop_name: str
    title: str
    valid_until: str


class CouponApplied(BaseModel):
    coupon_id: str
    title: str
    issuer_name: str
    total_yen: Yen
    discount_yen: Yen
    next_coupon: NextCoupon | None = None


class DonationLine(BaseModel):
    cause: str
    amount_yen: Yen


class RemainingValue(BaseModel):
    """What a wallet holds of one kind after a payment, with the earliest expiry."""

    kind: ValueKind
    amount_yen: Yen
    expires_at: str | None = None


class IntentCreate(BaseModel):
    amount_yen: Yen = Field(ge=1)
    idempotency_key: str = IdempotencyKey
    tax_lines: list[TaxLine] = Field(default_factory=list, max_length=MAX_TAX_LINES)
    coupon: CouponUse | None = None


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
    coupon: CouponApplied | None = None
    donations: list[DonationLine] = Field(default_factory=list)
    remaining: list[RemainingValue] | None = Field(
        default=None, description="The wallet's value left per kind, when its holder allows it"
    )


# The ``seen_rejection_at`` a long poll sends while it has seen no rejection of the intent.
NO_REJECTION_SEEN = "none"


class IntentRejection(BaseModel):
    """The latest wallet pay call the server rejected while the intent was pending.

    It carries the reason and the time only, never the wallet or its balance. ``code`` is an
    ``ErrorCode`` value kept as text, so a terminal older than a new code still reads the intent.
    """

    code: str
    at: str


class Intent(BaseModel):
    intent_id: str
    amount_yen: Yen
    status: IntentStatus
    payload: str = Field(description="EMV merchant-presented QR payload")
    created_at: str
    expires_at: str
    server_time: str
    payment: Payment | None = None
    last_rejection: IntentRejection | None = None


class CpmRedeem(BaseModel):
    code: PlainText = Field(min_length=1, max_length=128)
    amount_yen: Yen = Field(ge=1)
    idempotency_key: str = IdempotencyKey
    tax_lines: list[TaxLine] = Field(default_factory=list, max_length=MAX_TAX_LINES)
    coupon: CouponUse | None = None


class RefundCreate(BaseModel):
    amount_yen: Yen = Field(ge=1)
    idempotency_key: str = IdempotencyKey


class Refund(BaseModel):
    refund_id: str
    payment_id: str
    amount_yen: Yen
    created_at: str
    payment: Payment
    kinds: dict[ValueKind, Yen] = Field(
        default_factory=dict, description="How much of each value kind went back to the wallet"
    )


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
# Longest participant code a terminal sends: a code with a 32-character rally id and wallet id
# is 225 characters (terminal/rally_code.py), so 512 leaves room for a longer layout.
MAX_PARTICIPANT_CODE_CHARS = 512

SyncKind = Literal["offline_payment", "online_payment", "refund", "stamp"]
SyncStatus = Literal["applied", "duplicate", "declined"]


class SyncEntry(BaseModel):
    entry_id: str = IdempotencyKey
    seq: int = Field(strict=True, ge=1, description="The terminal's capture order, from 1")
    kind: SyncKind
    captured_at: PlainText = Field(description="Device time of capture, ISO 8601")
    amount_yen: Yen = Field(ge=0, description="At least 1, except 0 for a stamp")
    tax_lines: list[TaxLine] = Field(default_factory=list, max_length=MAX_TAX_LINES)
    offline_code: PlainText | None = Field(
        default=None, max_length=2048, description="offline_payment: the scanned code"
    )
    payment_id: PlainText | None = Field(
        default=None, description="online_payment: the payment the server approved; refund: "
        "the payment refunded"
    )
    coupon: CouponUse | None = Field(default=None, description="offline_payment: a coupon used")
    participant_code: PlainText | None = Field(
        default=None, max_length=MAX_PARTICIPANT_CODE_CHARS,
        description="stamp: the scanned rally participant code",
    )

    @model_validator(mode="after")
    def _check_stamp_amount(self) -> SyncEntry:
        # A stamp moves no money, so only a stamp may carry 0 yen, and a stamp always does.
        if self.kind == "stamp" and self.amount_yen != 0:
            raise ValueError(f"a stamp entry carries amount_yen 0, not {self.amount_yen}")
        if self.kind != "stamp" and self.amount_yen < 1:
            raise ValueError(f"a {self.kind} entry needs amount_yen of at least 1, got"
                             f" {self.amount_yen}")
        return self


class SyncBatch(BaseModel):
    entries: list[SyncEntry] = Field(min_length=1, max_length=MAX_SYNC_BATCH)
    device_time: PlainText = Field(description="The terminal's clock when it sent the batch")


class CouponDeclined(BaseModel):
    """A coupon an applied offline payment used that the server did not honour.

    The wallet paid the discounted amount, and nobody pays the discount to the shop.
    """

    coupon_id: str
    reason: ErrorCode
    missing_yen: Yen = Field(description="The discount the shop gave and is not paid")
    message: str = ""


class SyncResult(BaseModel):
    entry_id: str
    status: SyncStatus
    reason: ErrorCode | None = None
    message: str = ""
    payment_id: str | None = None
    refund_id: str | None = None
    business_day: str | None = Field(default=None, description="YYYY-MM-DD in Japan time")
    coupon_declined: CouponDeclined | None = None


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


# --- stamp rallies ----------------------------------------------------------------------
#
# A booth is a terminal assigned to a rally. The participant shows a code from the wallet (see
# terminal/rally_code.py), signed with the server's issuer key so a booth can check it offline.
# A participant gets at most one stamp per booth per Japan calendar day; the stamp that reaches
# the rally's goal books the reward once. Days are YYYY-MM-DD in Japan time.

RallyRewardKind = Literal["premium_all", "benefit", "coupon"]
StampStatus = Literal["given", "already_today"]


class RallyInfo(BaseModel):
    """GET /rally/booth: the rally the calling terminal runs a booth of."""

    rally_id: str
    name: str
    booth_name: str
    starts_on: str = Field(description="First day, YYYY-MM-DD in Japan time")
    ends_on: str = Field(description="Last day, YYYY-MM-DD in Japan time")
    goal_stamps: int = Field(strict=True, ge=1)
    reward_kind: RallyRewardKind
    reward_yen: Yen = Field(ge=0, description="Points at the goal; 0 for a coupon reward")
    reward_expires_at: str
    server_time: str


class StampGive(BaseModel):
    """POST /rally/stamps: give the participant of ``participant_code`` a stamp at this booth."""

    entry_id: str = IdempotencyKey
    participant_code: PlainText = Field(min_length=1, max_length=MAX_PARTICIPANT_CODE_CHARS)
    captured_at: PlainText = Field(description="Device time of the scan, ISO 8601")


class StampOutcome(BaseModel):
    """The result of a stamp: given (also for a repeated entry_id) or already given today."""

    entry_id: str
    status: StampStatus
    rally_id: str
    stamp_day: str = Field(description="YYYY-MM-DD in Japan time")
    stamp_count: int = Field(strict=True, ge=0, description="The participant's stamps now")
    goal_stamps: int = Field(strict=True, ge=1)
    goal_reached: bool
    reward_yen: Yen = Field(default=0, description="Booked by this stamp; 0 for other stamps")
    reward_coupon: str | None = Field(
        default=None, description="Title of the coupon this stamp issued to the wallet")


class BoothDay(BaseModel):
    """GET /rally/booth/today: stamps the calling booth gave on one Japan day."""

    rally_id: str
    day: str
    stamps: int = Field(strict=True, ge=0)


class ParticipantCode(BaseModel):
    """A wallet's code for one rally and its progress."""

    rally_id: str
    rally_name: str
    code: str
    starts_on: str
    ends_on: str
    stamp_count: int = Field(strict=True, ge=0)
    goal_stamps: int = Field(strict=True, ge=1)
    goal_reached: bool


class ParticipantCodeList(BaseModel):
    """GET /wallet/rallies: the rallies open now or later, each with the wallet's code."""

    rallies: list[ParticipantCode]


# --- donation totals ----------------------------------------------------------------------
#
# GET /donation-causes/{cause_id}/totals: what a donation cause received, read with the token
# the operator issued to it (``Authorization: Bearer <token>``). Only sums: no payment, wallet
# or merchant ids. ``key`` is a campaign id, or a day (YYYY-MM-DD) or month (YYYY-MM) in Japan
# time. ``since`` and ``until`` (query, YYYY-MM-DD Japan time, until excluded) bound the
# moment of each donation and return.

DonationGroup = Literal["campaign", "day", "month"]


class DonationTotalLine(BaseModel):
    key: str
    label: str = Field(description="Campaign name, or the key for days and months")
    donated_yen: Yen
    returned_yen: Yen = Field(description="Given back because payments were refunded")
    net_yen: Yen
    payment_count: int = Field(strict=True, ge=0)


class DonationTotals(BaseModel):
    cause_id: str
    cause_name: str
    group: DonationGroup
    lines: list[DonationTotalLine]
    donated_yen: Yen
    returned_yen: Yen
    net_yen: Yen
    held_yen: Yen = Field(description="What the cause's account holds now")
    owed_yen: Yen = Field(description="Operator-funded donations not yet transferred")
    in_payout_yen: Yen = Field(description="Yen the cause gave to cash-outs not yet paid")
    paid_out_yen: Yen = Field(description="Yen of the cause's cash-outs the bank has paid")
    server_time: str


# --- coupons -------------------------------------------------------------------------------
#
# The coupon code's layout, signature and discount rule live in terminal/coupon_code.py.


class CouponQuoteRequest(BaseModel):
    code: PlainText = Field(min_length=1, max_length=1024, description="The scanned coupon code")
    total_yen: Yen = Field(ge=1, description="The sale total before the discount")


class CouponQuote(BaseModel):
    coupon_id: str
    title: str
    issuer_name: str
    total_yen: Yen
    discount_yen: Yen
    pay_yen: Yen = Field(description="What the wallet pays: total_yen - discount_yen")
    valid_until: str


class CouponCampaignList(BaseModel):
    """Campaigns the terminal's shop takes part in, for coupons valid at all their shops."""

    campaign_ids: list[str]
    server_time: str


class CouponDeclineRecord(BaseModel):
    """A coupon the shop accepted offline that was already used; the shop misses its discount."""

    coupon_id: str
    payment_id: str
    terminal_id: str
    entry_id: str
    total_yen: Yen
    missing_yen: Yen
    reason: ErrorCode
    message: str
    created_at: str


class CouponDeclineList(BaseModel):
    declines: list[CouponDeclineRecord]


CouponStatus = Literal["usable", "used", "expired", "withdrawn", "not_yet_valid"]


class WalletCoupon(BaseModel):
    coupon_id: str
    campaign_id: str
    title: str
    code: str = Field(description="The signed coupon code to show as a QR code")
    discount: str = Field(description="Such as '100 yen' or '10 percent'")
    minimum_spend_yen: Yen
    max_discount_yen: Yen = Field(description="0 when only the sale total limits it")
    valid_from: str
    valid_until: str
    shops: list[str] = Field(description="Shop names; empty means every shop of the campaign")
    status: CouponStatus


class WalletCouponList(BaseModel):
    coupons: list[WalletCoupon]


# --- premium point sales -------------------------------------------------------------------
#
# Wallet routes under /premium (bearer token). Times are ISO 8601 UTC. A sale's ``phase`` is
# one of upcoming, applications, awaiting_draw, results, purchase, awaiting_second_draw,
# second_results, second_purchase, usage, ended.

# Most sets one application may ask for; every sale's own per-person limit is lower.
MAX_PREMIUM_SETS = 1000


class PremiumSale(BaseModel):
    sale_id: str
    name: str
    phase: str
    apply_from: str
    apply_until: str
    purchase_from: str
    purchase_until: str
    second_purchase_from: str | None = None
    second_purchase_until: str | None = None
    usage_until: str = Field(description="The points of every set expire at this time")
    price_yen: Yen = Field(description="What one set costs, in coin")
    local_yen: Yen = Field(description="premium_local points per set (local shops only)")
    all_yen: Yen = Field(description="premium_all points per set (every shop)")
    total_sets: int
    per_person_max_sets: int
    household_max_people: int
    household_max_sets: int
    residents_only: bool
    commitments: dict[str, str] = Field(
        description="Round number to the SHA-256 commitment of its lottery seed")
    eligible: bool = Field(description="Whether the calling wallet may apply for itself")


class PremiumSaleList(BaseModel):
    sales: list[PremiumSale]


class PremiumApply(BaseModel):
    """POST /premium/sales/{sale_id}/applications: apply for yourself or a household member."""

    sets: int = Field(strict=True, ge=1, le=MAX_PREMIUM_SETS)
    for_wallet_id: PlainText | None = Field(
        default=None, min_length=1, max_length=40,
        description="A household member's wallet id, for a proxy application")
    idempotency_key: str = IdempotencyKey


class PremiumApplication(BaseModel):
    application_id: str
    sale_id: str
    wallet_id: str = Field(description="Who receives the points")
    applicant_wallet_id: str = Field(description="Who sent the application")
    status: Literal["applied", "cancelled", "won", "lost", "purchased"]
    sets_requested: int
    sets_won: int
    round_won: int | None = None
    draw_position: int | None = None
    pay_yen: Yen = Field(description="What buying the sets won costs, in coin")
    purchase_from: str | None = None
    purchase_until: str | None = None
    purchased_at: str | None = None
    created_at: str


class PremiumApplicationList(BaseModel):
    applications: list[PremiumApplication]


class PremiumPurchase(BaseModel):
    """POST /premium/applications/{application_id}/purchase; repeating it moves nothing."""

    application: PremiumApplication
    paid_yen: Yen
    local_yen: Yen
    all_yen: Yen
    expires_at: str


class ValueLot(BaseModel):
    """An amount of one kind with one expiry that a wallet holds."""

    kind: ValueKind
    amount_yen: Yen
    expires_at: str | None = None


class WalletValue(BaseModel):
    """GET /wallet/value: the wallet's spendable value by kind and expiry, in spend order."""

    wallet_id: str
    total_yen: Yen
    lots: list[ValueLot]
