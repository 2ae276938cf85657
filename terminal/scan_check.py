"""Classify a scanned text by the kind of code it is, after verifying that code's own check.

The terminal reads these kinds of code, and each carries a check of its own:

- ``PAYMENT``: an online payment code, 20 digits with ISO 7064 MOD 97-10 check digits
  (``terminal.paycode``). A dropped or extra digit changes the length, and any single wrong
  digit breaks the check digits.
- ``OFFLINE``: an offline payment code, ``CKO1`` and Base32 ending in a CRC-32
  (``terminal.offline_code``).
- ``PAYMENT_WITH_COUPON``: a payment code (either kind above), ``/`` and a coupon code
  (``terminal.coupon_pairing``). Both parts must pass their own check.
- ``EMV``: an EMV merchant-presented QR payload, ending in a CRC-16 (``terminal.emv``). The
  terminal never pays one, and rejects it with a message that asks for the payment code.

A text with the shape of one kind that fails that kind's check was damaged between the code and
the terminal: the scanner dropped or added a character, or a keyboard layout mismatch swapped a
symbol. ``classify_scan`` raises ``ScanCheckFailed`` for it. The exception's ``message_key``
asks the clerk to scan again, and the text must not be sent to the server or to offline
acceptance. Anything else is ``OTHER``, for example a product's JAN barcode.

The text is what the scanner driver delivers. The keyboard-wedge repairs (NFKC, layout swaps)
change only characters that none of these codes contain in their wedge-typed form, because a
wedge scanner can type ASCII only. So the CRC of an EMV payload is still computed over the
bytes the code carried.
"""

from __future__ import annotations

from enum import StrEnum

from terminal import coupon_pairing, emv, messages, offline_code
from terminal.paycode import CODE_LENGTH, PaymentCodeError, validate_payment_code

# An all-digit text within this many digits of a payment code's length is taken for a payment
# code that lost or gained digits on the way, not for some other barcode.
PAYMENT_CODE_LENGTH_SLACK = 3
EMV_PAYLOAD_START = emv.ID_PAYLOAD_FORMAT + "0201"  # object 00, length 02, value 01


class ScanKind(StrEnum):
    PAYMENT = "payment"
    OFFLINE = "offline"
    PAYMENT_WITH_COUPON = "payment_with_coupon"
    EMV = "emv"
    OTHER = "other"


class ScanCheckFailed(ValueError):
    """A scan has the shape of a known code but fails its check, so it must be scanned again."""

    def __init__(self, kind: ScanKind, detail: str) -> None:
        super().__init__(f"{kind.value} code failed its check: {detail}")
        self.kind = kind
        self.message_key = messages.CODE_MALFORMED


def classify_scan(text: str) -> ScanKind:
    """Return the kind of code ``text`` is, or raise ScanCheckFailed when its check fails."""
    kind = _shape_of(text)
    try:
        _verify(kind, text)
    except (
        PaymentCodeError, offline_code.OfflineCodeError, emv.EmvError,
        coupon_pairing.PairedCodeError,
    ) as exc:
        raise ScanCheckFailed(kind, str(exc)) from exc
    return kind


def _shape_of(text: str) -> ScanKind:
    if coupon_pairing.looks_like_paired_code(text):
        return ScanKind.PAYMENT_WITH_COUPON
    near_code_length = abs(len(text) - CODE_LENGTH) <= PAYMENT_CODE_LENGTH_SLACK
    if text.isascii() and text.isdigit() and near_code_length:
        return ScanKind.PAYMENT
    if offline_code.looks_like_offline_code(text):
        return ScanKind.OFFLINE
    if text.startswith(EMV_PAYLOAD_START):
        return ScanKind.EMV
    return ScanKind.OTHER


def _verify(kind: ScanKind, text: str) -> None:
    if kind is ScanKind.PAYMENT:
        validate_payment_code(text)
    elif kind is ScanKind.OFFLINE:
        offline_code.parse_offline_code(text)
    elif kind is ScanKind.PAYMENT_WITH_COUPON:
        coupon_pairing.check(text)
    elif kind is ScanKind.EMV:
        emv.parse_payload(text)
