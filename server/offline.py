"""Offline payments: certificates, the reserves that cover them, settlement and fraud records.

Issuing a certificate moves its allowance from the wallet's account into the wallet's offline
reserve account (``offline:<wallet id>``), so every offline payment a terminal accepts is
already covered. A wallet has at most one certificate that is still usable: one is usable
until ``valid_until`` plus ``offline_max_age_s``, because a terminal accepts a code that long
after it was signed. After that, ``release_offline_reserves`` returns the unused part.

Settling a synced code pays the merchant in two transfers in one transaction. The amount goes
from the reserve back to the wallet, then from the wallet to the merchant as an ordinary
payment, so a refund returns to the wallet's own account. Two kinds of fraud are recorded and
block the wallet: a counter already used by another entry (one code shown twice), and
payments beyond what is left of the reserve. The merchant is paid while the reserve lasts.

Lock order: the wallet row first (``SELECT ... FOR UPDATE``), then ledger accounts, so
certificate requests, settlements and releases of one wallet queue behind each other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from server import issuer, ledger, payments
from server.errors import IdempotencyConflict, InsufficientFunds, ServerError, invalid
from server.models import Account, OfflineCertificateRow, OfflineSpend, Terminal, Wallet, table_of
from server.models import Payment as PaymentRow
from server.settings import Settings, iso_utc
from terminal import offline_code, protocol
from terminal.protocol import ErrorCode

logger = logging.getLogger(__name__)

PROBLEM_COUNTER_REUSED = "counter_reused"
PROBLEM_OVER_ALLOWANCE = "over_allowance"
PROBLEM_AFTER_RELEASE = "after_release"
# Problems that show the wallet made codes it was not entitled to make.
FRAUD_PROBLEMS = frozenset({PROBLEM_COUNTER_REUSED, PROBLEM_OVER_ALLOWANCE})

_WALLETS = table_of(Wallet)
_CERTIFICATES = table_of(OfflineCertificateRow)
_SPENDS = table_of(OfflineSpend)
_ACCOUNTS = table_of(Account)

_LOCK_WALLET = (
    select(_WALLETS.c.id, _WALLETS.c.account_id, _WALLETS.c.blocked_at)
    .where(_WALLETS.c.id == bindparam("wallet_id"))
    .with_for_update()
)
_BLOCK_WALLET = (
    update(_WALLETS)
    .where(_WALLETS.c.id == bindparam("blocked_wallet_id"), _WALLETS.c.blocked_at.is_(None))
    .values(blocked_at=bindparam("now"), blocked_reason=bindparam("reason"))
)
_CERTIFICATE = select(_CERTIFICATES).where(_CERTIFICATES.c.serial == bindparam("serial"))
_ADD_SPENT = (
    update(_CERTIFICATES)
    .where(_CERTIFICATES.c.serial == bindparam("spent_serial"))
    .values(spent_yen=_CERTIFICATES.c.spent_yen + bindparam("spent_amount_yen"))
)
_COUNTER_USED = select(_SPENDS.c.entry_id).where(
    _SPENDS.c.serial == bindparam("serial"), _SPENDS.c.counter == bindparam("counter")
).limit(1)


@dataclass(frozen=True)
class OfflineOutcome:
    """Result of settling one offline code: the payment, or the reason it was declined."""

    payment: PaymentRow | None
    reason: ErrorCode | None = None
    message: str = ""


@dataclass(frozen=True)
class ReleasedReserve:
    serial: int
    wallet_id: str
    released_yen: int


@dataclass(frozen=True)
class ExcessRecord:
    """An offline payment the operator must look at, for ``chiiki-settle offline-report``."""

    created_at: datetime
    wallet_id: str
    serial: int
    counter: int
    terminal_id: str
    entry_id: str
    amount_yen: int
    paid: bool
    problem: str


@dataclass(frozen=True)
class _LockedWallet:
    id: str
    account_id: str
    blocked_at: datetime | None


def reserve_account_id(wallet_id: str) -> str:
    return f"offline:{wallet_id}"


def _lock_wallet(session: Session, wallet_id: str) -> _LockedWallet | None:
    row = session.connection().execute(_LOCK_WALLET, {"wallet_id": wallet_id}).first()
    return None if row is None else _LockedWallet(row.id, row.account_id, row.blocked_at)


# --- certificates --------------------------------------------------------------------------


def issue_certificate(
    session: Session, wallet: Wallet, request: protocol.OfflineCertificateRequest,
    settings: Settings,
) -> OfflineCertificateRow:
    """Reserve the allowance and sign a certificate; the same key again returns the same one."""
    now = settings.clock()
    locked = _lock_wallet(session, wallet.id)
    assert locked is not None, "the wallet authenticated this request"
    existing = session.scalars(select(OfflineCertificateRow).where(
        OfflineCertificateRow.wallet_id == wallet.id,
        OfflineCertificateRow.idempotency_key == request.idempotency_key,
    )).one_or_none()
    if existing is not None:
        _check_same_certificate(existing, request)
        return existing

    if locked.blocked_at is not None:
        raise ServerError(ErrorCode.WALLET_BLOCKED,
                          f"wallet {wallet.id} is blocked for offline payments since"
                          f" {iso_utc(locked.blocked_at)}; contact the operator")
    public_key_raw = _check_certificate_request(request, settings)
    _check_no_usable_certificate(session, wallet.id, now, settings)
    _release_wallet_reserves(session, wallet.id, locked.account_id, now, settings)
    _reserve(session, wallet, request, now, settings)
    return _sign_new_certificate(session, wallet, request, public_key_raw, now, settings)


def certificate_model(row: OfflineCertificateRow) -> protocol.OfflineCertificate:
    return protocol.OfflineCertificate(
        certificate=row.certificate,
        serial=row.serial,
        allowance_yen=row.allowance_yen,
        valid_until=iso_utc(row.valid_until),
    )


def _check_same_certificate(
    existing: OfflineCertificateRow, request: protocol.OfflineCertificateRequest
) -> None:
    if (existing.allowance_yen, existing.wallet_public_key) == (
        request.allowance_yen, request.public_key
    ):
        return
    raise IdempotencyConflict(
        f"idempotency_key {request.idempotency_key} already issued certificate"
        f" {existing.serial} for {existing.allowance_yen} yen with another request;"
        " repeat the first request unchanged, or use a new key for a new certificate"
    )


def _check_certificate_request(
    request: protocol.OfflineCertificateRequest, settings: Settings
) -> bytes:
    """Check the allowance and the wallet key; return the raw key."""
    if request.allowance_yen > settings.offline_max_allowance_yen:
        raise invalid(
            f"allowance_yen {request.allowance_yen} is out of range; allowed: 1 to"
            f" {settings.offline_max_allowance_yen} yen"
        )
    try:
        raw = protocol.b64decode(request.public_key)
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise invalid(
            "public_key is not a raw Ed25519 public key; send its 32 bytes as URL-safe base64"
        ) from None
    return raw


def _check_no_usable_certificate(
    session: Session, wallet_id: str, now: datetime, settings: Settings
) -> None:
    grace = timedelta(seconds=settings.offline_max_age_s)
    newest = session.scalars(
        select(OfflineCertificateRow)
        .where(OfflineCertificateRow.wallet_id == wallet_id)
        .order_by(OfflineCertificateRow.valid_until.desc())
        .limit(1)
    ).first()
    if newest is None or now >= newest.valid_until + grace:
        return
    raise ServerError(
        ErrorCode.CERTIFICATE_ACTIVE,
        f"certificate {newest.serial} is valid until {iso_utc(newest.valid_until)}, and its"
        f" codes can reach the server until {iso_utc(newest.valid_until + grace)}; keep using"
        " it, or request a new certificate after that time",
    )


def _reserve(
    session: Session, wallet: Wallet, request: protocol.OfflineCertificateRequest, now: datetime,
    settings: Settings,
) -> None:
    # Only value that stays unexpired until the reserve is released is set aside, so no code
    # settled before the release finds its reserve shrunk by an expired lot. And only value
    # every shop may receive: the certificate does not say where the wallet will pay.
    settle_until = _certificate_valid_until(now, settings) + timedelta(
        seconds=settings.offline_max_age_s
    )
    reserve_id = reserve_account_id(wallet.id)
    exists = session.execute(select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.id == reserve_id)).first()
    if exists is None:
        ledger.open_account(session, reserve_id, "offline_reserve", now=now)
    try:
        ledger.pay(session, transfer_id=f"offline-reserve:{wallet.id}:{request.idempotency_key}",
                   source_id=wallet.account_id, destination_id=reserve_id,
                   amount_yen=request.allowance_yen, now=now, unexpired_until=settle_until,
                   acceptance=ledger.UNRESTRICTED)
    except InsufficientFunds as exc:
        logger.info("offline reserve for wallet %s rejected: %s", wallet.id, exc.message)
        raise InsufficientFunds(
            f"the wallet's balance that stays valid until {iso_utc(settle_until)} does not"
            f" cover an offline allowance of {request.allowance_yen} yen; request a smaller"
            " allowance or top up the wallet"
        ) from None


def _certificate_valid_until(now: datetime, settings: Settings) -> datetime:
    return now.replace(microsecond=0) + timedelta(seconds=settings.offline_certificate_validity_s)


def _sign_new_certificate(
    session: Session, wallet: Wallet, request: protocol.OfflineCertificateRequest,
    public_key_raw: bytes, now: datetime, settings: Settings,
) -> OfflineCertificateRow:
    key_id, private_key = issuer.signing_key(session, now)
    valid_until = _certificate_valid_until(now, settings)
    row = OfflineCertificateRow(
        wallet_id=wallet.id, idempotency_key=request.idempotency_key, issuer_key_id=key_id,
        wallet_public_key=request.public_key, allowance_yen=request.allowance_yen, spent_yen=0,
        certificate="", valid_until=valid_until, created_at=now,
    )
    session.add(row)
    # The serial comes from the database and is part of the signed bytes.
    session.flush()
    body = offline_code.CertificateBody(
        serial=row.serial, issuer_key_id=key_id, wallet_id=wallet.id,
        wallet_public_key=public_key_raw, allowance_yen=request.allowance_yen,
        valid_until=valid_until,
    )
    row.certificate = protocol.b64encode(offline_code.sign_certificate(body, private_key))
    session.flush()
    logger.info("offline certificate %d issued to wallet %s: %d yen until %s by issuer key %s",
                row.serial, wallet.id, row.allowance_yen, iso_utc(valid_until), key_id)
    return row


# --- reserves ------------------------------------------------------------------------------


def release_offline_reserves(session: Session, settings: Settings) -> list[ReleasedReserve]:
    """Return the unused reserve of every certificate past valid_until + offline_max_age_s."""
    now = settings.clock()
    cutoff = now - timedelta(seconds=settings.offline_max_age_s)
    wallet_ids = sorted(set(session.scalars(
        select(OfflineCertificateRow.wallet_id).where(
            OfflineCertificateRow.released_at.is_(None),
            OfflineCertificateRow.valid_until <= cutoff,
        )
    )))
    released: list[ReleasedReserve] = []
    for wallet_id in wallet_ids:
        locked = _lock_wallet(session, wallet_id)
        assert locked is not None, "a certificate's wallet is never deleted"
        released += _release_wallet_reserves(session, wallet_id, locked.account_id, now, settings)
    return released


def _release_wallet_reserves(
    session: Session, wallet_id: str, wallet_account_id: str, now: datetime, settings: Settings
) -> list[ReleasedReserve]:
    """Release one wallet's expired certificates; the caller holds the wallet row lock."""
    cutoff = now - timedelta(seconds=settings.offline_max_age_s)
    rows = session.scalars(
        select(OfflineCertificateRow)
        .where(OfflineCertificateRow.wallet_id == wallet_id,
               OfflineCertificateRow.released_at.is_(None),
               OfflineCertificateRow.valid_until <= cutoff)
        .order_by(OfflineCertificateRow.serial)
        .execution_options(populate_existing=True)
    ).all()
    released: list[ReleasedReserve] = []
    for row in rows:
        unused_yen = row.allowance_yen - row.spent_yen
        if unused_yen > 0:
            ledger.pay(session, transfer_id=f"offline-return:{row.serial}",
                       source_id=reserve_account_id(wallet_id), destination_id=wallet_account_id,
                       amount_yen=unused_yen, now=now)
        row.released_at = now
        row.released_yen = unused_yen
        released.append(ReleasedReserve(row.serial, wallet_id, unused_yen))
        logger.info("offline certificate %d released: %d yen back to wallet %s", row.serial,
                    unused_yen, wallet_id)
    session.flush()
    return released


# --- settlement ----------------------------------------------------------------------------


def settle_offline_code(
    session: Session, terminal: Terminal, entry: protocol.SyncEntry, *,
    captured_at: datetime, settings: Settings,
) -> OfflineOutcome:
    """Verify a synced offline code and pay the merchant from the wallet's reserve.

    ``captured_at`` is the capture time on the server's clock; the code's age is checked
    against it, so a code synced days later still settles. Invalid codes raise
    ``ServerError``. A payment beyond the reserve returns a declined outcome instead of
    raising, because the fraud record and the wallet block it writes must be committed.
    """
    payments.check_amount(entry.amount_yen, settings)
    payments.check_tax_lines(entry.tax_lines, entry.amount_yen, entry.coupon)
    code = _verify(session, entry, captured_at, settings)
    body = code.certificate
    connection = session.connection()
    wallet = _lock_wallet(session, body.wallet_id)
    certificate = connection.execute(_CERTIFICATE, {"serial": body.serial}).first()
    if wallet is None or certificate is None or not _matches(certificate, body):
        raise ServerError(ErrorCode.OFFLINE_CODE_INVALID,
                          f"offline code {code.counter} names certificate {body.serial} of"
                          f" wallet {body.wallet_id}, which this server did not issue")

    problem = _find_problem(connection, certificate, code.counter, entry.amount_yen)
    payment = None
    if problem in (None, PROBLEM_COUNTER_REUSED):
        payment = _pay_from_reserve(session, terminal, entry, wallet, body.serial, settings)
    _record_spend(session, terminal, entry, code, payment, problem, settings.clock())
    if problem in FRAUD_PROBLEMS:
        _block_wallet(session, body.wallet_id, problem, code.counter, body.serial,
                      settings.clock())
    if payment is not None:
        return OfflineOutcome(payment)
    return OfflineOutcome(None, ErrorCode.OFFLINE_ALLOWANCE_EXCEEDED,
                          _exceeded_message(certificate, entry.amount_yen, problem))


def _verify(
    session: Session, entry: protocol.SyncEntry, captured_at: datetime, settings: Settings
) -> offline_code.OfflineCode:
    if not entry.offline_code:
        raise invalid(f"entry {entry.entry_id} is an offline_payment without offline_code;"
                      " send the scanned code")
    try:
        return offline_code.verify_offline_code(
            entry.offline_code, issuer.public_keys(session), now=captured_at,
            max_age=timedelta(seconds=settings.offline_max_age_s),
        )
    except offline_code.OfflineCodeError as exc:
        masked = offline_code.mask_offline_code(entry.offline_code)
        raise ServerError(ErrorCode.OFFLINE_CODE_INVALID,
                          f"offline code {masked} is invalid: {exc}") from None


def _matches(certificate: Row[Any], body: offline_code.CertificateBody) -> bool:
    return bool(
        certificate.wallet_id == body.wallet_id
        and certificate.issuer_key_id == body.issuer_key_id
        and certificate.wallet_public_key == protocol.b64encode(body.wallet_public_key)
        and certificate.allowance_yen == body.allowance_yen
    )


def _find_problem(
    connection: Connection, certificate: Row[Any], counter: int, amount_yen: int
) -> str | None:
    if certificate.released_at is not None:
        return PROBLEM_AFTER_RELEASE
    remaining_yen = certificate.allowance_yen - certificate.spent_yen
    if amount_yen > remaining_yen:
        return PROBLEM_OVER_ALLOWANCE
    used = connection.execute(
        _COUNTER_USED, {"serial": certificate.serial, "counter": counter}
    ).first()
    return None if used is None else PROBLEM_COUNTER_REUSED


def _pay_from_reserve(
    session: Session, terminal: Terminal, entry: protocol.SyncEntry, wallet: _LockedWallet,
    serial: int, settings: Settings,
) -> PaymentRow:
    now = settings.clock()
    connection = session.connection()
    # NOTE: the released lot lands in the wallet beside its older lots, and the payment below
    # spends the oldest first. So each offline payment leaves one more small lot behind, and
    # settling slows as one wallet's count grows: about 280 entries/s at 500 payments and 39/s
    # at 10,000 (benchmarks/bench_offline.py). The ledger stays correct.
    ledger.pay(session, transfer_id=f"offline-release:{terminal.id}:{entry.entry_id}",
               source_id=reserve_account_id(wallet.id), destination_id=wallet.account_id,
               amount_yen=entry.amount_yen, now=now)
    connection.execute(_ADD_SPENT, {"spent_serial": serial, "spent_amount_yen": entry.amount_yen})
    merchant = payments.receiving_merchant(connection, terminal.merchant_id)
    # An offline receipt was printed before the payment reached the server, so it never shows
    # the wallet's remaining value.
    return payments.book_payment(
        session, wallet_id=wallet.id, wallet_account_id=wallet.account_id,
        merchant_id=terminal.merchant_id, merchant_account_id=merchant.account_id,
        terminal_id=terminal.id, transfer_id=f"offline:{terminal.id}:{entry.entry_id}",
        amount_yen=entry.amount_yen, method="offline",
        tax_lines=[line.model_dump() for line in entry.tax_lines], now=now,
        acceptance=merchant.acceptance, show_balance_on_receipt=False,
    )


def _record_spend(
    session: Session, terminal: Terminal, entry: protocol.SyncEntry,
    code: offline_code.OfflineCode, payment: PaymentRow | None, problem: str | None,
    now: datetime,
) -> None:
    session.connection().execute(insert(_SPENDS), {
        "wallet_id": code.certificate.wallet_id, "serial": code.certificate.serial,
        "counter": code.counter, "terminal_id": terminal.id, "entry_id": entry.entry_id,
        "fingerprint": code.fingerprint, "amount_yen": entry.amount_yen,
        "payment_id": None if payment is None else payment.id, "problem": problem,
        "created_at": now,
    })
    if problem is not None:
        logger.warning("offline code %d of certificate %d from terminal %s entry %s: %s,"
                       " %d yen, %s", code.counter, code.certificate.serial, terminal.id,
                       entry.entry_id, problem, entry.amount_yen,
                       "paid" if payment is not None else "declined")


def _block_wallet(
    session: Session, wallet_id: str, problem: str, counter: int, serial: int, now: datetime
) -> None:
    reason = f"{problem}: offline code {counter} of certificate {serial}"
    blocked = session.connection().execute(
        _BLOCK_WALLET, {"blocked_wallet_id": wallet_id, "now": now, "reason": reason}
    ).rowcount
    if blocked:
        logger.warning("wallet %s blocked for offline payments: %s", wallet_id, reason)


def _exceeded_message(certificate: Row[Any], amount_yen: int, problem: str | None) -> str:
    if problem == PROBLEM_AFTER_RELEASE:
        return (f"the reserve of offline certificate {certificate.serial} was already returned"
                f" to the wallet, so {amount_yen} yen cannot be paid from it; ask the customer"
                " to pay this amount another way")
    remaining_yen = certificate.allowance_yen - certificate.spent_yen
    return (f"offline payment of {amount_yen} yen exceeds the {remaining_yen} yen left of"
            f" offline certificate {certificate.serial}; the wallet is blocked and the amount is"
            " reported to the operator")


# --- operator report -----------------------------------------------------------------------


def offline_report(session: Session) -> list[ExcessRecord]:
    """List every offline payment with a problem, oldest first."""
    rows = session.scalars(
        select(OfflineSpend).where(OfflineSpend.problem.is_not(None)).order_by(OfflineSpend.seq)
    )
    return [
        ExcessRecord(
            created_at=row.created_at, wallet_id=row.wallet_id, serial=row.serial,
            counter=row.counter, terminal_id=row.terminal_id, entry_id=row.entry_id,
            amount_yen=row.amount_yen, paid=row.payment_id is not None,
            problem=row.problem or "",
        )
        for row in rows
    ]


def blocked_wallets(session: Session) -> list[tuple[str, datetime, str]]:
    """Return (wallet id, blocked at, reason) of every blocked wallet, oldest block first."""
    rows = session.execute(
        select(Wallet.id, Wallet.blocked_at, Wallet.blocked_reason)
        .where(Wallet.blocked_at.is_not(None))
        .order_by(Wallet.blocked_at, Wallet.id)
    ).all()
    return [(wallet_id, blocked_at, reason or "") for wallet_id, blocked_at, reason in rows
            if blocked_at is not None]
