"""One-time payment codes that a wallet shows and a clerk scans (consumer-presented mode).

A code is 20 decimal digits: the prefix ``91`` (scheme 9, format version 1), 16 random digits
and two check digits computed by ISO 7064 MOD 97-10, as in IBAN. Digits are the only characters
every keyboard-wedge scanner types the same way on US and JIS layouts, and a code this long
also fits a CODE128 barcode. MOD 97-10 detects every single-digit error and every swap of two
neighbouring digits, and a dropped or extra digit changes the length, so a mangled scan is
rejected instead of being looked up.
"""

from __future__ import annotations

import secrets

CODE_PREFIX = "91"
CODE_LENGTH = 20
RANDOM_DIGITS = CODE_LENGTH - len(CODE_PREFIX) - 2


class PaymentCodeError(ValueError):
    """A scanned text is not a well-formed payment code."""


def _check_digits(body: str) -> str:
    remainder = int(body + "00") % 97
    return f"{98 - remainder:02d}"


def new_payment_code() -> str:
    """Make a fresh random payment code with its check digits."""
    random_part = "".join(secrets.choice("0123456789") for _ in range(RANDOM_DIGITS))
    body = CODE_PREFIX + random_part
    return body + _check_digits(body)


def looks_like_payment_code(text: str) -> bool:
    """Tell whether ``text`` has the shape of a payment code, before its check is verified."""
    return len(text) == CODE_LENGTH and text.isascii() and text.startswith(CODE_PREFIX)


def validate_payment_code(text: str) -> str:
    """Return ``text`` if it is a well-formed payment code, else raise PaymentCodeError."""
    if not (text.isascii() and text.isdigit()):
        raise PaymentCodeError(f"payment code {text[:4]}... contains characters other than digits")
    if len(text) != CODE_LENGTH:
        raise PaymentCodeError(f"payment code has {len(text)} digits, expected {CODE_LENGTH}")
    if not text.startswith(CODE_PREFIX):
        raise PaymentCodeError(f"payment code starts with {text[:2]}, expected {CODE_PREFIX}")
    if int(text) % 97 != 1:
        raise PaymentCodeError("payment code check digits do not match; scan it again")
    return text


# Digits of a payment code that logs and messages may show: the last four, as on card slips.
MASK_KEEP_DIGITS = 4


def mask_payment_code(code: str) -> str:
    """Hide all but the last four characters of a payment code, for logs and messages."""
    hidden = max(len(code) - MASK_KEEP_DIGITS, 0)
    return "*" * hidden + code[hidden:]
