"""A payment code and a coupon in one scan: the wallet shows both in one QR code.

Text form::

    <payment part>/<coupon part>

- The payment part is an online payment code (20 digits, ``terminal.paycode``) or an offline
  payment code (``CKO1`` and Base32, ``terminal.offline_code``).
- The coupon part is a coupon code (``CKC1`` and Base32, ``terminal.coupon_code``).
- The separator is one ``/``.

Every character is in the QR alphanumeric set (0-9, A-Z and ``/`` among its symbols), so the
whole text fits one QR code in alphanumeric mode. A keyboard-wedge scanner types ``/`` with the
same key and without Shift on US and JIS layouts, so the layout repairs of
``drivers.scanner.base`` leave it alone, and NFKC folds the full-width ``／`` an input method
may type back to ``/``. Input is read case-insensitively like the codes it carries (Caps Lock
makes a wedge scanner type lower case). Neither part can contain ``/``. A text is taken for a
paired code only when it has exactly one ``/``, the part before it is all digits or starts with
``CKO1``, and the part after it starts with ``CKC1``.

Length: an offline code of an 18-character wallet id (336 characters) with a one-shop coupon
(302 characters) is 639 characters. The longest possible is 803 characters (358 + 1 + 444).

Each part keeps its own check (MOD 97-10 check digits or a CRC-32), so ``check`` rejects a
damaged scan with ``PairedCodeError``, whose ``message_key`` is the clerk's "scan again" text,
before anything is sent or accepted offline. The coupon's signature, shop and holder are
checked later, exactly as for a coupon scanned on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal import coupon_code, messages, offline_code
from terminal.paycode import PaymentCodeError, validate_payment_code

SEPARATOR = "/"


class PairedCodeError(ValueError):
    """A paired code whose payment or coupon part fails its own check: scan it again."""

    message_key = messages.CODE_MALFORMED

    def __init__(self, part: str, detail: str) -> None:
        super().__init__(f"{part} part of the paired code is damaged: {detail}")
        self.part = part


@dataclass(frozen=True)
class PairedCode:
    """The two parts of a checked paired code, upper-cased."""

    payment_code: str
    coupon_code: str

    @property
    def offline(self) -> bool:
        """True when the payment part is an offline payment code."""
        return self.payment_code.startswith(offline_code.CODE_PREFIX)


def join(payment_code: str, coupon_text: str) -> str:
    """Return the paired text of a payment code and a coupon code; raise PairedCodeError.

    Both parts are checked first, so a wallet never shows a pair a terminal would reject.
    """
    payment = payment_code.strip().upper()
    coupon = coupon_text.strip().upper()
    _check_payment_part(payment)
    _check_coupon_part(coupon)
    return f"{payment}{SEPARATOR}{coupon}"


def split(text: str) -> tuple[str, str] | None:
    """Return the upper-cased payment and coupon parts, or None when ``text`` is not paired.

    Only the shape is looked at: one separator, a payment part of digits or with the offline
    prefix, and a coupon part with the coupon prefix. ``check`` verifies the parts.
    """
    normalised = text.strip().upper()
    if normalised.count(SEPARATOR) != 1:
        return None
    payment, coupon = normalised.split(SEPARATOR)
    if not _payment_shaped(payment) or not coupon.startswith(coupon_code.CODE_PREFIX):
        return None
    return payment, coupon


def looks_like_paired_code(text: str) -> bool:
    """Tell whether ``text`` has the shape of a paired code, before its parts are checked."""
    return split(text) is not None


def check(text: str) -> PairedCode:
    """Split ``text`` and verify each part's own check; raise PairedCodeError when one fails."""
    parts = split(text)
    if parts is None:
        raise PairedCodeError(
            "whole", f"expected <payment code>{SEPARATOR}<coupon code>, got {len(text)} characters"
        )
    payment, coupon = parts
    _check_payment_part(payment)
    _check_coupon_part(coupon)
    return PairedCode(payment, coupon)


def mask_paired_code(text: str) -> str:
    """Shorten a paired code for logs: each part masked the way its own module does it."""
    parts = split(text)
    if parts is None:
        return f"({len(text)} chars)"
    payment, coupon = parts
    if payment.startswith(offline_code.CODE_PREFIX):
        payment_shown = offline_code.mask_offline_code(payment)
    else:
        payment_shown = f"...{payment[-4:]} ({len(payment)} digits)"
    return f"{payment_shown}{SEPARATOR}{coupon_code.mask_coupon_code(coupon)}"


def _payment_shaped(part: str) -> bool:
    digits = part.isascii() and part.isdigit()
    return digits or part.startswith(offline_code.CODE_PREFIX)


def _check_payment_part(part: str) -> None:
    try:
        if part.startswith(offline_code.CODE_PREFIX):
            offline_code.parse_offline_code(part)
        else:
            validate_payment_code(part)
    except (PaymentCodeError, offline_code.OfflineCodeError) as exc:
        raise PairedCodeError("payment", str(exc)) from exc


def _check_coupon_part(part: str) -> None:
    try:
        coupon_code.parse_coupon_code(part)
    except coupon_code.CouponCodeError as exc:
        raise PairedCodeError("coupon", str(exc)) from exc
