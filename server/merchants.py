"""Merchants, terminals and the one-time activation codes that enrol a terminal."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import ledger, tokens
from server.errors import ServerError, invalid, not_found
from server.invoice import InvoiceNumberError, validate_invoice_number
from server.models import Merchant, Terminal
from terminal import protocol
from terminal.protocol import ErrorCode

logger = logging.getLogger(__name__)

# Limits of the EMV merchant-presented QR fields the values end up in: tag 59 (name, 25),
# tag 60 (city, 15), tag 62.07 (terminal label, 25) and the Japanese name in tag 64 (25).
MAX_NAME_ASCII_CHARS = 25
MAX_CITY_ASCII_CHARS = 15
MAX_LABEL_CHARS = 25
MAX_NAME_CHARS = 25
_PHONE = re.compile(r"[0-9+][0-9-]{5,19}")
_LIST_MERCHANTS_HINT = "run chiiki-settle list-merchants to see the merchant ids"


@dataclass(frozen=True)
class NewMerchant:
    name: str
    name_ascii: str
    city_ascii: str
    address: str
    invoice_registration_number: str
    phone: str = ""
    merchant_category_code: str = "5499"
    is_local: bool = True


@dataclass(frozen=True)
class MerchantSummary:
    merchant_id: str
    name: str
    terminal_count: int


@dataclass(frozen=True)
class Activation:
    terminal_id: str
    activation_code: str
    expires_at: datetime


def create_merchant(session: Session, details: NewMerchant, *, now: datetime) -> Merchant:
    """Validate ``details`` and create the merchant with its ledger account."""
    _validate_merchant(details)
    merchant_id = tokens.new_id("m")
    ledger.open_account(session, merchant_id, "merchant", now=now)
    merchant = Merchant(
        id=merchant_id,
        account_id=merchant_id,
        name=details.name,
        name_ascii=details.name_ascii,
        city_ascii=details.city_ascii,
        address=details.address,
        phone=details.phone,
        invoice_registration_number=details.invoice_registration_number,
        merchant_category_code=details.merchant_category_code,
        is_local=details.is_local,
        created_at=now,
    )
    session.add(merchant)
    session.flush()
    logger.info("merchant %s created", merchant_id)
    return merchant


def issue_activation(
    session: Session, merchant_id: str, label: str, *, now: datetime, ttl_s: int
) -> Activation:
    """Create a terminal for ``merchant_id`` and return its one-time activation code."""
    if session.get(Merchant, merchant_id) is None:
        raise not_found(f"merchant {merchant_id} does not exist; {_LIST_MERCHANTS_HINT},"
                        " or create one with chiiki-settle create-merchant")
    _check_ascii(label, "label", MAX_LABEL_CHARS)

    code = tokens.new_activation_code()
    expires_at = now + timedelta(seconds=ttl_s)
    terminal = Terminal(
        id=tokens.new_id("t"),
        merchant_id=merchant_id,
        label=label,
        activation_code_hash=tokens.sha256_hex(tokens.normalize_activation_code(code)),
        activation_expires_at=expires_at,
        created_at=now,
    )
    session.add(terminal)
    session.flush()
    logger.info("activation issued for terminal %s of merchant %s", terminal.id, merchant_id)
    return Activation(terminal_id=terminal.id, activation_code=code, expires_at=expires_at)


def enrol_terminal(
    session: Session, activation_code: str, public_key_b64: str, *, now: datetime
) -> Terminal:
    """Bind a terminal's Ed25519 public key, consuming its activation code."""
    public_key = _parse_public_key(public_key_b64)
    code_hash = tokens.sha256_hex(tokens.normalize_activation_code(activation_code))
    query = select(Terminal).where(Terminal.activation_code_hash == code_hash).with_for_update()
    terminal = session.scalars(query).one_or_none()

    if terminal is None:
        raise ServerError(ErrorCode.ACTIVATION_INVALID,
                          "activation code is not known; check it or ask the operator for a new one")
    if terminal.public_key is not None:
        raise ServerError(ErrorCode.ACTIVATION_INVALID,
                          "activation code was already used; ask the operator for a new one")
    if now >= terminal.activation_expires_at:
        raise ServerError(ErrorCode.ACTIVATION_INVALID,
                          "activation code has expired; ask the operator for a new one")

    terminal.public_key = protocol.b64encode(public_key)
    terminal.enrolled_at = now
    session.flush()
    logger.info("terminal %s enrolled for merchant %s", terminal.id, terminal.merchant_id)
    return terminal


def merchant_info(merchant: Merchant) -> protocol.MerchantInfo:
    return protocol.MerchantInfo(
        merchant_id=merchant.id,
        name=merchant.name,
        name_ascii=merchant.name_ascii,
        city_ascii=merchant.city_ascii,
        address=merchant.address,
        phone=merchant.phone,
        invoice_registration_number=merchant.invoice_registration_number,
        merchant_category_code=merchant.merchant_category_code,
        is_local=merchant.is_local,
    )


def terminal_info(session: Session, terminal: Terminal, max_amount_yen: int) -> protocol.TerminalInfo:
    merchant = session.get(Merchant, terminal.merchant_id)
    assert merchant is not None, "terminals reference their merchant by foreign key"
    return protocol.TerminalInfo(
        terminal_id=terminal.id,
        label=terminal.label,
        merchant=merchant_info(merchant),
        max_amount_yen=max_amount_yen,
    )


def set_local(session: Session, merchant_id: str, is_local: bool) -> Merchant:
    """Say whether the merchant takes premium_local points from its next payment on."""
    merchant = get_merchant(session, merchant_id)
    merchant.is_local = is_local
    session.flush()
    logger.info("merchant %s is_local set to %s", merchant_id, is_local)
    return merchant


def get_merchant(session: Session, merchant_id: str) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise not_found(f"merchant {merchant_id} does not exist; {_LIST_MERCHANTS_HINT}")
    return merchant


def list_merchants(session: Session) -> list[MerchantSummary]:
    """Return every merchant, oldest first, with its number of terminals (enrolled or not)."""
    query = (
        select(Merchant.id, Merchant.name, func.count(Terminal.id))
        .outerjoin(Terminal, Terminal.merchant_id == Merchant.id)
        .group_by(Merchant.id, Merchant.name, Merchant.created_at)
        .order_by(Merchant.created_at, Merchant.id)
    )
    return [MerchantSummary(merchant_id, name, int(count))
            for merchant_id, name, count in session.execute(query)]


def _validate_merchant(details: NewMerchant) -> None:
    if not 1 <= len(details.name) <= MAX_NAME_CHARS:
        raise invalid(f"name {details.name!r} must be 1-{MAX_NAME_CHARS} characters")
    _check_ascii(details.name_ascii, "name_ascii", MAX_NAME_ASCII_CHARS)
    _check_ascii(details.city_ascii, "city_ascii", MAX_CITY_ASCII_CHARS)
    if not details.address.strip():
        raise invalid("address is empty; give the shop's street address")
    if details.phone and not _PHONE.fullmatch(details.phone):
        raise invalid(f"phone {details.phone!r} is invalid; use digits and hyphens, e.g. 0242-22-1234")
    mcc = details.merchant_category_code
    if len(mcc) != 4 or not mcc.isdigit():
        raise invalid(f"merchant_category_code {mcc!r} is invalid; use 4 digits, e.g. 5499")
    try:
        validate_invoice_number(details.invoice_registration_number)
    except InvoiceNumberError as exc:
        raise invalid(str(exc)) from None


def _check_ascii(value: str, field: str, max_chars: int) -> None:
    if not value or len(value) > max_chars:
        raise invalid(f"{field} {value!r} must be 1-{max_chars} characters")
    if not (value.isascii() and value.isprintable()):
        raise invalid(f"{field} {value!r} must use printable ASCII characters only")


def _parse_public_key(text: str) -> bytes:
    try:
        raw = protocol.b64decode(text)
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise invalid(
            f"public_key {text[:16]!r}... is not a raw 32-byte Ed25519 key in URL-safe base64"
        ) from None
    return raw
