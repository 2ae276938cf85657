"""Qualified invoice issuer registration numbers (適格請求書発行事業者登録番号).

A registration number is ``T`` followed by 13 digits. For a corporation the digits are its
corporate number (法人番号), whose first digit is a check digit over the 12 base digits:
``9 - (sum(Pn * Qn) mod 9)``, where Pn is the n-th base digit counted from the right and Qn is
1 for odd n and 2 for even n. Example: T7000012050002 is valid. Numbers of sole proprietors
are checked with the same rule here.
"""

from __future__ import annotations

import re

_FORMAT = re.compile(r"T[0-9]{13}")


class InvoiceNumberError(ValueError):
    """The text is not a valid registration number; the message says why."""


def corporate_check_digit(base_digits: str) -> int:
    """Compute the check digit of a corporate number from its 12 base digits."""
    if len(base_digits) != 12 or not base_digits.isdigit():
        raise ValueError(f"expected 12 base digits, got {base_digits!r}")
    total = 0
    for position, digit in enumerate(reversed(base_digits), start=1):
        weight = 1 if position % 2 == 1 else 2
        total += int(digit) * weight
    return 9 - total % 9


def validate_invoice_number(text: str) -> str:
    """Return ``text`` if it is a well-formed registration number, else raise InvoiceNumberError."""
    if not _FORMAT.fullmatch(text):
        raise InvoiceNumberError(
            f"invoice registration number {text!r} is invalid: expected T followed by 13 digits,"
            " for example T7000012050002"
        )
    digits = text[1:]
    expected = corporate_check_digit(digits[1:])
    if int(digits[0]) != expected:
        raise InvoiceNumberError(
            f"invoice registration number {text!r} has check digit {digits[0]},"
            f" but its other 12 digits give {expected}; check the number on the registration notice"
        )
    return text
