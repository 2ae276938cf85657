"""Coupon codes: a store coupon the wallet shows as a QR code and the clerk scans.

The server signs the coupon's terms with its issuer key (the Ed25519 key that signs offline
certificates, ``server.issuer``), so a terminal that has cached the issuer public keys can
verify a coupon without the server.

Binary layout (integers unsigned big-endian, times are Unix seconds UTC; every text field is
one length byte followed by that many bytes)::

    0    4  issuer key id (first 4 bytes of SHA-256 of the raw issuer public key)
    4    1  discount kind: 1 = fixed yen, 2 = percent
    5    4  discount value: yen, or percent from 1 to 100
    9    4  minimum spend in yen (0 = none)
    13   4  maximum discount in yen (0 = no limit below the sale total)
    17   4  valid from (inclusive)
    21   4  valid until (exclusive)
    25   .  coupon id, ASCII, 1 to 24 bytes
    .    .  campaign id, ASCII, 1 to 24 bytes
    .    .  wallet id of the holder, ASCII, 1 to 24 bytes
    .    1  number of shops, 0 to MAX_SHOPS; 0 means every participating shop of the campaign
    .    .  each shop's merchant id, ASCII, 1 to 24 bytes
    .    .  title, UTF-8, 1 to MAX_TITLE_BYTES bytes
    .   64  issuer signature over COUPON_DOMAIN + every byte above
    .    4  CRC-32 (zlib) of every byte above

Text form: ``CKC1`` followed by the bytes in Base32 (RFC 4648 alphabet, no padding). A code
therefore contains only A-Z and 0-9, which a keyboard-wedge scanner types the same way on US
and JIS layouts, and it fits a QR code in alphanumeric mode. Input is read case-insensitively
(Caps Lock makes a wedge scanner type lower case). Offline payment codes start with ``CKO1``
and payment codes are 20 digits, so no kind is taken for another. The CRC makes a damaged scan
fail as ``MalformedCouponCode`` ("scan again") before the signature is checked.

Length: a coupon for one shop, with a 14-character coupon id, a 13-character campaign id, the
server's wallet and merchant id shapes (18 characters) and an 8-character Japanese title, is
186 bytes, so 302 characters. The maximum the limits allow is 275 bytes, 444 characters.
For comparison, an offline payment code is 336 characters.

``verify`` (signature and validity window), ``check_shop``, ``check_wallet`` and
``discount_yen`` need only the code, so a terminal runs them offline. Only the server knows
whether the coupon was already used or withdrawn.

Errors: ``CouponCodeError`` (a ValueError) and its subclasses. Each carries ``reason``, a
``CouponRejection`` whose value is also the wire error code the server returns, so the terminal
maps one set of codes to Japanese texts.
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from terminal.offline_code import issuer_key_id as _issuer_key_id_of

COUPON_DOMAIN = b"chiiki-coupon-v1"
CODE_PREFIX = "CKC1"

MAX_COUPON_ID_LENGTH = 24
MAX_CAMPAIGN_ID_LENGTH = 24
# The server makes wallet and merchant ids of 18 characters (server.tokens.new_id).
MAX_WALLET_ID_LENGTH = 24
MAX_MERCHANT_ID_LENGTH = 24
# More shops than this make the QR code too dense for a phone screen. A coupon for more shops
# names its campaign instead (shop count 0).
MAX_SHOPS = 3
# Ten Japanese characters in UTF-8. The title is for the clerk's screen and the receipt.
MAX_TITLE_BYTES = 30
MAX_PERCENT = 100
MAX_U32 = 2**32 - 1
SIGNATURE_LENGTH = 64
CHECK_LENGTH = 4
MASK_KEEP_CHARS = 4

# Key id, discount kind, value, minimum spend, maximum discount, valid from, valid until.
_HEAD = struct.Struct(">4sBIIIII")
_CHECK = struct.Struct(">I")
_BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_TEXT_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Head, four length bytes (three ids and the title), the shop count, one byte of each text,
# the signature and the CRC.
MIN_CODE_BYTES = _HEAD.size + 4 + 1 + 4 + SIGNATURE_LENGTH + CHECK_LENGTH
MAX_CODE_BYTES = (
    _HEAD.size + 5 + MAX_COUPON_ID_LENGTH + MAX_CAMPAIGN_ID_LENGTH + MAX_WALLET_ID_LENGTH
    + MAX_SHOPS * (1 + MAX_MERCHANT_ID_LENGTH) + MAX_TITLE_BYTES + SIGNATURE_LENGTH
    + CHECK_LENGTH
)


class CouponRejection(StrEnum):
    """Reason a coupon cannot be used. The values are the server's wire error codes."""

    MALFORMED = "coupon_malformed"
    UNKNOWN_ISSUER = "coupon_unknown_issuer"
    BAD_SIGNATURE = "coupon_bad_signature"
    NOT_YET_VALID = "coupon_not_yet_valid"
    EXPIRED = "coupon_expired"
    WRONG_SHOP = "coupon_wrong_shop"
    WRONG_WALLET = "coupon_wrong_wallet"
    BELOW_MINIMUM = "coupon_below_minimum"
    # Only the server decides the rejections below.
    NOT_FOUND = "coupon_not_found"
    USED = "coupon_used"
    WITHDRAWN = "coupon_withdrawn"
    DISCOUNT_MISMATCH = "coupon_discount_mismatch"


class DiscountKind(IntEnum):
    YEN = 1
    PERCENT = 2


class CouponCodeError(ValueError):
    """A coupon code cannot be accepted, for the wire code in ``reason``."""

    reason = CouponRejection.MALFORMED

    def __init__(self, message: str) -> None:
        super().__init__(message)


class MalformedCouponCode(CouponCodeError):
    """The text is not a well-formed coupon code: wrong prefix, characters, length or check."""


class UnknownIssuer(CouponCodeError):
    """The code names an issuer key the verifier does not have."""

    reason = CouponRejection.UNKNOWN_ISSUER


class BadSignature(CouponCodeError):
    """The issuer signature does not verify, so the terms were changed or forged."""

    reason = CouponRejection.BAD_SIGNATURE


class NotYetValid(CouponCodeError):
    reason = CouponRejection.NOT_YET_VALID


class CouponExpired(CouponCodeError):
    reason = CouponRejection.EXPIRED


class WrongShop(CouponCodeError):
    reason = CouponRejection.WRONG_SHOP


class WrongWallet(CouponCodeError):
    reason = CouponRejection.WRONG_WALLET


@dataclass(frozen=True)
class CouponTerms:
    """The signed contents of a coupon; times are whole seconds in UTC.

    ``merchant_ids`` empty means every shop that participates in ``campaign_id``.
    """

    issuer_key_id: str
    coupon_id: str
    campaign_id: str
    wallet_id: str
    discount_kind: DiscountKind
    discount_value: int
    minimum_spend_yen: int
    max_discount_yen: int
    valid_from: datetime
    valid_until: datetime
    merchant_ids: tuple[str, ...]
    title: str

    def __post_init__(self) -> None:
        if not _is_key_id(self.issuer_key_id):
            raise ValueError(f"issuer_key_id {self.issuer_key_id!r} is not 8 lower-case hex digits")
        _check_ascii("coupon_id", self.coupon_id, MAX_COUPON_ID_LENGTH)
        _check_ascii("campaign_id", self.campaign_id, MAX_CAMPAIGN_ID_LENGTH)
        _check_ascii("wallet_id", self.wallet_id, MAX_WALLET_ID_LENGTH)
        _check_discount(DiscountKind(self.discount_kind), self.discount_value)
        _check_u32("minimum_spend_yen", self.minimum_spend_yen)
        _check_u32("max_discount_yen", self.max_discount_yen)
        _check_shops(self.merchant_ids)
        _check_title(self.title)
        object.__setattr__(self, "discount_kind", DiscountKind(self.discount_kind))
        object.__setattr__(self, "merchant_ids", tuple(self.merchant_ids))
        object.__setattr__(self, "valid_from", _whole_utc("valid_from", self.valid_from))
        object.__setattr__(self, "valid_until", _whole_utc("valid_until", self.valid_until))
        if self.valid_until <= self.valid_from:
            raise ValueError(
                f"valid_until {self.valid_until.isoformat()} is not after valid_from "
                f"{self.valid_from.isoformat()}"
            )

    @property
    def for_all_campaign_shops(self) -> bool:
        return not self.merchant_ids

    def describe_discount(self) -> str:
        """Return the discount in operator English, such as ``100 yen`` or ``10 percent``."""
        unit = "yen" if self.discount_kind is DiscountKind.YEN else "percent"
        return f"{self.discount_value} {unit}"


@dataclass(frozen=True)
class CouponCode(CouponTerms):
    """A parsed coupon code; its signature is not verified until ``verify`` passes."""

    signature: bytes = field(default=b"", repr=False)
    text: str = field(default="", repr=False)


# --- making codes ------------------------------------------------------------------------


def encode_terms(terms: CouponTerms) -> bytes:
    """Encode the signed part of a coupon in the layout of the module docstring."""
    head = _HEAD.pack(
        bytes.fromhex(terms.issuer_key_id),
        terms.discount_kind,
        terms.discount_value,
        terms.minimum_spend_yen,
        terms.max_discount_yen,
        int(terms.valid_from.timestamp()),
        int(terms.valid_until.timestamp()),
    )
    parts = [head]
    for text in (terms.coupon_id, terms.campaign_id, terms.wallet_id):
        parts.append(_length_prefixed(text.encode("ascii")))
    parts.append(bytes([len(terms.merchant_ids)]))
    parts.extend(_length_prefixed(merchant.encode("ascii")) for merchant in terms.merchant_ids)
    parts.append(_length_prefixed(terms.title.encode("utf-8")))
    return b"".join(parts)


def make_coupon_code(terms: CouponTerms, issuer_private_key: Ed25519PrivateKey) -> str:
    """Sign ``terms`` with the issuer key and return the code's text.

    Raises ValueError when the key is not the one ``terms.issuer_key_id`` names.
    """
    public_raw = issuer_private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    if _issuer_key_id_of(public_raw) != terms.issuer_key_id:
        raise ValueError(f"the signing key is not issuer key {terms.issuer_key_id}")
    signed_part = encode_terms(terms)
    signed = signed_part + issuer_private_key.sign(COUPON_DOMAIN + signed_part)
    checked = signed + _CHECK.pack(zlib.crc32(signed))
    return CODE_PREFIX + base64.b32encode(checked).decode("ascii").rstrip("=")


# --- reading codes -----------------------------------------------------------------------


def looks_like_coupon_code(text: str) -> bool:
    """Tell whether ``text`` has the prefix and alphabet of a coupon code, before decoding."""
    normalised = text.strip().upper()
    return (
        normalised.startswith(CODE_PREFIX)
        and len(normalised) > len(CODE_PREFIX)
        and normalised.isascii()
        and set(normalised) <= _TEXT_ALPHABET
    )


def parse_coupon_code(text: str) -> CouponCode:
    """Decode a coupon code's text without verifying its signature.

    Raises MalformedCouponCode on a bad prefix, alphabet, length, check or field.
    """
    raw = _decode_text(text)
    signed_end = len(raw) - CHECK_LENGTH - SIGNATURE_LENGTH
    reader = _Reader(raw[:signed_end])
    try:
        key_id, kind, value, minimum, maximum, valid_from, valid_until = reader.head()
        coupon_id = reader.ascii("coupon id")
        campaign_id = reader.ascii("campaign id")
        wallet_id = reader.ascii("wallet id")
        merchant_ids = tuple(reader.ascii("merchant id") for _ in range(reader.byte()))
        title = reader.utf8("title")
        reader.finish()
        return CouponCode(
            issuer_key_id=key_id.hex(),
            coupon_id=coupon_id,
            campaign_id=campaign_id,
            wallet_id=wallet_id,
            discount_kind=_discount_kind(kind),
            discount_value=value,
            minimum_spend_yen=minimum,
            max_discount_yen=maximum,
            valid_from=datetime.fromtimestamp(valid_from, UTC),
            valid_until=datetime.fromtimestamp(valid_until, UTC),
            merchant_ids=merchant_ids,
            title=title,
            signature=raw[signed_end : signed_end + SIGNATURE_LENGTH],
            text=text.strip().upper(),
        )
    except MalformedCouponCode:
        raise
    except ValueError as exc:
        raise MalformedCouponCode(f"coupon code fields are invalid: {exc}") from exc


def verify(code: CouponCode, issuer_keys: Mapping[str, Ed25519PublicKey], now: datetime) -> None:
    """Verify the issuer signature and that ``now`` lies in [valid_from, valid_until).

    ``issuer_keys`` maps key ids (``terminal.offline_code.issuer_key_id``) to public keys.
    Raises UnknownIssuer, BadSignature, NotYetValid or CouponExpired.
    """
    issuer_key = issuer_keys.get(code.issuer_key_id)
    if issuer_key is None:
        raise UnknownIssuer(
            f"coupon {code.coupon_id} names issuer key {code.issuer_key_id}, which is not known;"
            " fetch the issuer keys again"
        )
    try:
        issuer_key.verify(code.signature, COUPON_DOMAIN + encode_terms(code))
    except InvalidSignature as exc:
        raise BadSignature(
            f"coupon {code.coupon_id} is not signed by issuer key {code.issuer_key_id}"
        ) from exc

    moment = _utc("now", now)
    if moment < code.valid_from:
        raise NotYetValid(
            f"coupon {code.coupon_id} is valid from {code.valid_from.isoformat()}, "
            f"not yet at {moment.isoformat()}"
        )
    if moment >= code.valid_until:
        raise CouponExpired(
            f"coupon {code.coupon_id} expired at {code.valid_until.isoformat()}"
        )


def check_shop(code: CouponTerms, merchant_id: str, campaign_ids: Collection[str]) -> None:
    """Raise WrongShop unless the coupon may be used at ``merchant_id``.

    ``campaign_ids`` are the campaigns the merchant participates in; they decide a coupon
    that names its campaign instead of shops.
    """
    if code.for_all_campaign_shops:
        if code.campaign_id in campaign_ids:
            return
        raise WrongShop(
            f"coupon {code.coupon_id} is for shops of campaign {code.campaign_id}, and merchant "
            f"{merchant_id} does not participate in it"
        )
    if merchant_id not in code.merchant_ids:
        raise WrongShop(
            f"coupon {code.coupon_id} is for merchants {', '.join(code.merchant_ids)}, "
            f"not {merchant_id}"
        )


def check_wallet(code: CouponTerms, wallet_id: str) -> None:
    """Raise WrongWallet unless the paying wallet is the coupon's holder."""
    if wallet_id != code.wallet_id:
        raise WrongWallet(
            f"coupon {code.coupon_id} belongs to another wallet than the paying wallet"
        )


def discount_yen(code: CouponTerms, total_yen: int) -> int:
    """Return the discount on a sale of ``total_yen``, in whole yen.

    Zero below the minimum spend. A percentage is rounded down to whole yen. The discount never
    exceeds ``max_discount_yen`` (unless that is 0), and it leaves at least 1 yen of the total
    for the wallet to pay, because a payment moves at least 1 yen.
    """
    if total_yen < 0:
        raise ValueError(f"total_yen {total_yen} is negative")
    if total_yen < code.minimum_spend_yen or total_yen < 2:
        return 0
    if code.discount_kind is DiscountKind.PERCENT:
        discount = total_yen * code.discount_value // 100
    else:
        discount = code.discount_value
    if code.max_discount_yen:
        discount = min(discount, code.max_discount_yen)
    return min(discount, total_yen - 1)


def mask_coupon_code(text: str) -> str:
    """Shorten a code for logs to its prefix, its last four characters and its length.

    Text no longer than the prefix and those four characters is shown whole, because it cannot
    be a code and masking it would hide nothing.
    """
    normalised = text.strip().upper()
    if len(normalised) <= len(CODE_PREFIX) + MASK_KEEP_CHARS:
        return f"{text.strip()!r} ({len(normalised)} chars)"
    head = normalised[: len(CODE_PREFIX)]
    return f"{head}...{normalised[-MASK_KEEP_CHARS:]} ({len(normalised)} chars)"


# --- helpers -----------------------------------------------------------------------------


class _Reader:
    """Reads the signed part field by field, raising MalformedCouponCode when it runs out."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._offset = 0

    def take(self, length: int, field_name: str) -> bytes:
        end = self._offset + length
        if end > len(self._data):
            raise MalformedCouponCode(f"coupon code ends inside its {field_name}")
        chunk = self._data[self._offset : end]
        self._offset = end
        return chunk

    def head(self) -> tuple[bytes, int, int, int, int, int, int]:
        fields: tuple[bytes, int, int, int, int, int, int] = _HEAD.unpack(
            self.take(_HEAD.size, "fixed fields")
        )
        return fields

    def byte(self) -> int:
        return self.take(1, "shop count")[0]

    def ascii(self, field_name: str) -> str:
        chunk = self.take(self.take(1, field_name)[0], field_name)
        try:
            return chunk.decode("ascii")
        except UnicodeDecodeError as exc:
            raise MalformedCouponCode(f"coupon code {field_name} is not ASCII") from exc

    def utf8(self, field_name: str) -> str:
        chunk = self.take(self.take(1, field_name)[0], field_name)
        try:
            return chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedCouponCode(f"coupon code {field_name} is not UTF-8") from exc

    def finish(self) -> None:
        if self._offset != len(self._data):
            raise MalformedCouponCode(
                f"coupon code has {len(self._data) - self._offset} bytes after its title"
            )


def _decode_text(text: str) -> bytes:
    normalised = text.strip().upper()
    if not normalised.startswith(CODE_PREFIX):
        raise MalformedCouponCode(f"coupon code does not start with {CODE_PREFIX}")
    encoded = normalised[len(CODE_PREFIX) :]
    if not set(encoded) <= _BASE32_ALPHABET:
        raise MalformedCouponCode(
            "coupon code contains characters outside A-Z and 2-7 after its prefix"
        )
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except binascii.Error as exc:
        raise MalformedCouponCode(
            f"coupon code has an impossible length of {len(normalised)}"
        ) from exc
    # Unused bits in the last character would decode to the same bytes, so only the
    # canonical text is accepted and a coupon has exactly one text form.
    if base64.b32encode(raw).decode("ascii").rstrip("=") != encoded:
        raise MalformedCouponCode("coupon code has non-zero padding bits")
    if not MIN_CODE_BYTES <= len(raw) <= MAX_CODE_BYTES:
        raise MalformedCouponCode(
            f"coupon code has {len(raw)} bytes, expected {MIN_CODE_BYTES} to {MAX_CODE_BYTES}"
        )

    (check,) = _CHECK.unpack_from(raw, len(raw) - CHECK_LENGTH)
    if zlib.crc32(raw[:-CHECK_LENGTH]) != check:
        raise MalformedCouponCode("coupon code check does not match; scan it again")
    return raw


def _discount_kind(value: int) -> DiscountKind:
    try:
        return DiscountKind(value)
    except ValueError as exc:
        raise MalformedCouponCode(f"coupon code has unknown discount kind {value}") from exc


def _length_prefixed(data: bytes) -> bytes:
    return bytes([len(data)]) + data


def _check_ascii(name: str, text: str, max_length: int) -> None:
    if not (text.isascii() and text.isprintable() and 1 <= len(text) <= max_length):
        raise ValueError(
            f"{name} {text!r} must be 1 to {max_length} printable ASCII characters"
        )


def _check_discount(kind: DiscountKind, value: int) -> None:
    if kind is DiscountKind.PERCENT and not 1 <= value <= MAX_PERCENT:
        raise ValueError(f"discount of {value} percent is outside 1 to {MAX_PERCENT}")
    if kind is DiscountKind.YEN and not 1 <= value <= MAX_U32:
        raise ValueError(f"discount of {value} yen is outside 1 to {MAX_U32}")


def _check_shops(merchant_ids: Collection[str]) -> None:
    if len(merchant_ids) > MAX_SHOPS:
        raise ValueError(
            f"{len(merchant_ids)} shops is more than {MAX_SHOPS}; name the campaign instead"
        )
    for merchant_id in merchant_ids:
        _check_ascii("merchant id", merchant_id, MAX_MERCHANT_ID_LENGTH)


def _check_title(title: str) -> None:
    size = len(title.encode("utf-8"))
    if not 1 <= size <= MAX_TITLE_BYTES or not title.isprintable():
        raise ValueError(
            f"title {title!r} must be printable and 1 to {MAX_TITLE_BYTES} bytes of UTF-8, "
            f"not {size}"
        )


def _check_u32(name: str, value: int) -> None:
    if not 0 <= value <= MAX_U32:
        raise ValueError(f"{name} {value} is outside 0 to {MAX_U32}")


def _is_key_id(text: str) -> bool:
    return len(text) == 8 and all(c in "0123456789abcdef" for c in text)


def _utc(name: str, moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} {moment.isoformat()} has no time zone; pass an aware datetime")
    return moment.astimezone(UTC)


def _whole_utc(name: str, moment: datetime) -> datetime:
    utc = _utc(name, moment)
    if utc.microsecond:
        raise ValueError(f"{name} {moment.isoformat()} is not a whole second")
    _check_u32(name, int(utc.timestamp()))
    return utc
