"""Database tables of the settlement server (SQLAlchemy 2 ORM).

Times are stored as naive UTC in the database and handed to Python as aware UTC datetimes,
so SQLite and PostgreSQL behave the same. Public ids are random strings; tables that need a
stable order also carry an integer ``seq``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ISSUANCE_ACCOUNT_ID = "issuance"
# The operator's account that receives merchant fees.
FEE_ACCOUNT_ID = "fees"
# Holds cashed-out coin until the bank reports the payout paid (then it is retired to the
# issuance account) or failed (then it returns to the merchant).
PAYOUT_CLEARING_ACCOUNT_ID = "payout-clearing"

# SQLite only autoincrements INTEGER PRIMARY KEY, PostgreSQL gets a 64-bit sequence.
SeqType = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime stored as a naive UTC timestamp."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored; pass an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """Return the Core table of a mapped class, for statements that bypass the ORM."""
    return Base.metadata.tables[model.__tablename__]


class Account(Base):
    """A holder of value: a wallet, a merchant, the issuance account or a fee account."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(16))
    # Issuing accounts may go below zero; they carry the negative side of all issued value.
    is_issuing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Transfer(Base):
    """One movement of value between two accounts, keyed by a client-chosen id."""

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    source_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    destination_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    # Canonical JSON of the remaining request parameters, compared on a repeated id.
    parameters: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (CheckConstraint("amount_yen > 0", name="amount_positive"),)


class Posting(Base):
    """The signed change of one value kind on one account made by one transfer."""

    __tablename__ = "postings"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    value_kind: Mapped[str] = mapped_column(String(16))
    amount_yen: Mapped[int] = mapped_column(BigInteger)


class Lot(Base):
    """A quantity of one value kind with one expiry, held by one account.

    A lot is created by the transfer that delivered it; spending lowers ``remaining_yen``.
    Issuing accounts hold negative lots that are never spent.
    """

    __tablename__ = "lots"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), index=True)
    value_kind: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    initial_yen: Mapped[int] = mapped_column(BigInteger)
    remaining_yen: Mapped[int] = mapped_column(BigInteger)
    # Comma-joined, sorted merchant category codes where this value may be spent (benefits
    # restricted to, say, food shops); NULL means any shop.
    restriction: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The account this value returns to when it expires in a wallet; set when it is issued.
    funding_account_id: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (
        CheckConstraint(
            "(initial_yen > 0 AND remaining_yen >= 0 AND remaining_yen <= initial_yen)"
            " OR (initial_yen < 0 AND remaining_yen = initial_yen)",
            name="remaining_within_initial",
        ),
        Index("ix_lots_account_kind", "account_id", "value_kind"),
    )


class Merchant(Base):
    __tablename__ = "merchants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_ascii: Mapped[str] = mapped_column(String(25))
    city_ascii: Mapped[str] = mapped_column(String(15))
    address: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(30), default="")
    invoice_registration_number: Mapped[str] = mapped_column(String(14))
    merchant_category_code: Mapped[str] = mapped_column(String(4))
    # Local shops take premium_local points; a shop outside the scheme (a national chain)
    # never receives them.
    is_local: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Terminal(Base):
    """A counter terminal; it exists from the activation code on and enrols once."""

    __tablename__ = "terminals"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    label: Mapped[str] = mapped_column(String(25))
    activation_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    activation_expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    public_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enrolled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Wallet(Base):
    __tablename__ = "wallets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set when sync finds offline fraud: a code counter used twice, or offline payments beyond
    # the reserved allowance. A blocked wallet gets no new offline certificate.
    blocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    blocked_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Held by the operator, imported from the city's records: residency gates premium sales,
    # the household groups proxy applications, and the free attributes target coupons.
    is_resident: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    household_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The wallet holder's choice to print what remains of each kind on receipts.
    show_balance_on_receipt: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class Payment(Base):
    __tablename__ = "payments"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"))
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), unique=True)
    method: Mapped[str] = mapped_column(String(8))
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    refunded_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_lines: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    kinds: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # What the wallet held after this payment, when its holder allows receipts to show it.
    wallet_remaining: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        CheckConstraint("refunded_yen >= 0 AND refunded_yen <= amount_yen", name="refund_bounds"),
        Index("ix_payments_merchant_created", "merchant_id", "created_at"),
    )


class Intent(Base):
    """A merchant-presented payment request, shown as a QR code until paid or gone."""

    __tablename__ = "intents"

    id: Mapped[str] = mapped_column(String(25), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    tax_lines: Mapped[list[dict[str, int]]] = mapped_column(JSON, default=list)
    payload: Mapped[str] = mapped_column(String(512))
    # pending, approved or cancelled; "expired" is derived from expires_at when read.
    status: Mapped[str] = mapped_column(String(16))
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The latest rejected wallet pay call while pending: an ErrorCode value and when it came.
    # Only the code is kept, so the shop never learns who the wallet was or what it holds.
    last_rejection_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_rejection_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (UniqueConstraint("terminal_id", "idempotency_key"),)


class Refund(Base):
    __tablename__ = "refunds"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), unique=True)
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (UniqueConstraint("terminal_id", "idempotency_key"),)


class PaymentCodeRow(Base):
    """A one-time consumer-presented code, stored only as its SHA-256 hash."""

    __tablename__ = "payment_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), nullable=True)


class IssuerKeyRow(Base):
    """An Ed25519 key that signs offline certificates; the newest unretired key signs.

    NOTE: the private key is stored in this table so that the embedded server works alone.
    A production deployment keeps it in a KMS or HSM and stores only the public key here.
    """

    __tablename__ = "issuer_keys"

    # Hex of the first 4 bytes of SHA-256 of the raw public key (terminal.offline_code).
    id: Mapped[str] = mapped_column(String(8), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))
    private_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set by rotation: the key signs no more certificates, and verifies codes until
    # ``verify_until``, when every certificate it signed has expired and its codes are too old.
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    verify_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class OfflineCertificateRow(Base):
    """A signed offline certificate and the state of the reserve that covers it.

    ``allowance_yen`` moved from the wallet into its reserve account at issue. Offline payments
    add to ``spent_yen``; release returns ``allowance_yen - spent_yen`` and sets ``released_at``.
    """

    __tablename__ = "offline_certificates"

    serial: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    issuer_key_id: Mapped[str] = mapped_column(ForeignKey("issuer_keys.id"))
    wallet_public_key: Mapped[str] = mapped_column(String(64))
    allowance_yen: Mapped[int] = mapped_column(BigInteger)
    spent_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    # URL-safe base64 of the signed certificate bytes; empty only inside the issuing transaction.
    certificate: Mapped[str] = mapped_column(String(256), default="")
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    released_yen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (
        UniqueConstraint("wallet_id", "idempotency_key"),
        CheckConstraint("spent_yen >= 0 AND spent_yen <= allowance_yen", name="reserve_bounds"),
    )


class OfflineSpend(Base):
    """One synced offline payment code: which counter of which certificate, and its outcome.

    ``problem`` is None for a normal payment, ``counter_reused`` when another entry already
    used the counter, ``over_allowance`` when the amount exceeded what was left of the reserve,
    and ``after_release`` when the reserve had already been returned to the wallet.
    """

    __tablename__ = "offline_spends"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"))
    serial: Mapped[int] = mapped_column(ForeignKey("offline_certificates.serial"))
    counter: Mapped[int] = mapped_column(BigInteger)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    entry_id: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), nullable=True)
    problem: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("terminal_id", "entry_id"),
        Index("ix_offline_spends_serial_counter", "serial", "counter"),
    )


class SyncResultRow(Base):
    """The first result of one store-and-forward entry, keyed by (terminal, entry id).

    ``status`` is ``pending`` only inside the transaction that applies the entry, then
    ``applied``, ``duplicate`` or ``declined``.
    """

    __tablename__ = "sync_results"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    entry_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    message: Mapped[str] = mapped_column(String(400), default="")
    payment_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    refund_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    business_day: Mapped[str | None] = mapped_column(String(10), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("terminal_id", "entry_id"),
        Index("ix_sync_results_terminal_payment", "terminal_id", "payment_id"),
    )


# --- fees, cash-outs and payouts ------------------------------------------------------------


class FeePlanRow(Base):
    """A named fee plan, loaded from a TOML file by ``chiiki-settle fee-plan-load``.

    ``tiers`` is a list of ``{"from_yen": int, "rate_bp": int}`` sorted by ``from_yen``, the
    first starting at 0; ``monthly_cap_yen`` None means no cap.
    """

    __tablename__ = "fee_plans"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    fixed_monthly_yen: Mapped[int] = mapped_column(BigInteger)
    monthly_cap_yen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tiers: Mapped[list[dict[str, int]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MerchantFeePlan(Base):
    """The fee plan assigned to a merchant; merchants without one use the plan "default"."""

    __tablename__ = "merchant_fee_plans"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    plan_name: Mapped[str] = mapped_column(ForeignKey("fee_plans.name"))
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MerchantBankAccount(Base):
    """The bank account a merchant's cash-outs are paid to, in Zengin form."""

    __tablename__ = "merchant_bank_accounts"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), primary_key=True)
    bank_code: Mapped[str] = mapped_column(String(4))
    branch_code: Mapped[str] = mapped_column(String(3))
    # 1 ordinary (普通), 2 current (当座), 4 savings (貯蓄).
    account_type: Mapped[int] = mapped_column(Integer)
    account_number: Mapped[str] = mapped_column(String(7))
    # Half-width katakana as the bank records it, at most 30 characters (the Zengin field).
    holder_name: Mapped[str] = mapped_column(String(30))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PayoutBatch(Base):
    """One Zengin transfer file written for one sending bank account and transfer date."""

    __tablename__ = "payout_batches"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    transfer_date: Mapped[date] = mapped_column(Date)
    sender_bank_code: Mapped[str] = mapped_column(String(4))
    consignor_code: Mapped[str] = mapped_column(String(10))
    file_name: Mapped[str] = mapped_column(String(400))
    # The file as written, so it can be checked against what the bank received.
    content: Mapped[bytes] = mapped_column(LargeBinary)
    cash_out_count: Mapped[int] = mapped_column(Integer)
    total_yen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CashOut(Base):
    """A merchant's request to turn coin into yen on its bank account.

    ``status`` moves requested -> in_file (a payout batch wrote it) -> paid or failed.
    ``amount_yen`` left the merchant's balance: ``fee_yen`` to the fee account and ``net_yen``
    to the payout clearing account, to be paid to the bank account copied into this row.
    """

    __tablename__ = "cash_outs"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    terminal_id: Mapped[str | None] = mapped_column(ForeignKey("terminals.id"), nullable=True)
    # The donation cause whose held value this cash-out pays to the cause's own bank account
    # (``server.donation_payouts``); None for a merchant's cash-out of its own sales.
    cause_id: Mapped[str | None] = mapped_column(ForeignKey("donation_causes.id"), nullable=True,
                                                 index=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    # YYYY-MM in Japan time: the month whose volume and fixed fee this cash-out counts in.
    month: Mapped[str] = mapped_column(String(7))
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    fee_yen: Mapped[int] = mapped_column(BigInteger)
    fixed_fee_yen: Mapped[int] = mapped_column(BigInteger)
    metered_fee_yen: Mapped[int] = mapped_column(BigInteger)
    net_yen: Mapped[int] = mapped_column(BigInteger)
    fee_plan: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    payout_date: Mapped[date] = mapped_column(Date)
    bank_code: Mapped[str] = mapped_column(String(4))
    branch_code: Mapped[str] = mapped_column(String(3))
    account_type: Mapped[int] = mapped_column(Integer)
    account_number: Mapped[str] = mapped_column(String(7))
    holder_name: Mapped[str] = mapped_column(String(30))
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("payout_batches.id"), nullable=True)
    failure_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    in_file_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("merchant_id", "idempotency_key"),
        CheckConstraint("net_yen > 0 AND fee_yen >= 0 AND amount_yen = fee_yen + net_yen",
                        name="amount_split"),
        Index("ix_cash_outs_merchant_month", "merchant_id", "month"),
        Index("ix_cash_outs_status_payout_date", "status", "payout_date"),
    )


class MerchantTransferRow(Base):
    """A payment in coin from one merchant to another, e.g. a shop paying its supplier."""

    __tablename__ = "merchant_transfers"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    recipient_merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), unique=True)
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("merchant_id", "idempotency_key"),
        Index("ix_merchant_transfers_merchant_created", "merchant_id", "created_at"),
        Index("ix_merchant_transfers_recipient_created", "recipient_merchant_id", "created_at"),
    )


# Campaign rows live in their own modules; importing them here registers their tables on
# ``Base.metadata`` for ``init_db`` and Alembic.
from server import (  # noqa: E402, F401  (those modules import Base from this one)
    benefit_models,
    coupon_models,
    donation_models,
    premium_models,
    rally_models,
)
