"""Offline payment codes: a wallet's signed code that a terminal verifies without the server.

The server's issuer key signs an offline *certificate* for a wallet: the wallet's id, its
Ed25519 public key, the allowance reserved for offline payments and the end of validity. For
each payment the wallet makes a *code*: the certificate, a counter that increases by 1 per
code, the signing time, and the wallet's signature over all three. A terminal that has the
issuer public keys can verify a code alone, and the server later settles it from the reserve.

Binary layout (all integers unsigned big-endian, times are Unix seconds UTC, n = wallet id
length)::

    certificate
      0     4  serial
      4     4  issuer key id (first 4 bytes of SHA-256 of the raw issuer public key)
      8     1  n, 1 to 32
      9     n  wallet id, ASCII
      9+n  32  wallet public key, raw Ed25519
      41+n  4  allowance in yen
      45+n  4  valid until
      49+n 64  issuer signature over CERT_DOMAIN + bytes 0 to 49+n
    code
      0        113+n  certificate
      113+n    4      counter
      117+n    4      signed at
      121+n   64      wallet signature over CODE_DOMAIN + bytes 0 to 121+n
      185+n    4      CRC-32 (zlib) of bytes 0 to 185+n

Text form: ``CKO1`` followed by the code bytes in Base32 (RFC 4648 alphabet, no padding), so
a code contains only A-Z and 0-9 and fits a QR code in alphanumeric mode. Input is read
case-insensitively, because a wedge scanner types lower case while Caps Lock is on. The
prefix contains the digit 1, which Base32 never uses, and online payment codes are 20 digits
starting with 91, so neither kind is ever taken for the other. The CRC makes a mangled scan
fail as ``MalformedCode`` ("scan again") before any signature is checked. For an 18-character
wallet id a code is 207 bytes, which is 336 characters of text.

The 32-bit times last until 2106, and serials, counters and allowances are at most 2**32 - 1.

Errors: ``OfflineCodeError`` (a ValueError) and its subclasses ``MalformedCode``,
``UnknownIssuer``, ``BadCertificateSignature``, ``BadCodeSignature``, ``CertificateExpired``,
``CodeTooOld`` and ``CodeFromFuture``. Invalid arguments to the signing functions raise a
plain ValueError.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CERT_DOMAIN = b"chiiki-offline-cert-v1"
CODE_DOMAIN = b"chiiki-offline-code-v1"
CODE_PREFIX = "CKO1"

MAX_WALLET_ID_LENGTH = 32
MAX_U32 = 2**32 - 1
PUBLIC_KEY_LENGTH = 32
SIGNATURE_LENGTH = 64
CHECK_LENGTH = 4
ISSUER_KEY_ID_LENGTH = 4

_CERT_HEAD = struct.Struct(">I4sB")  # serial, issuer key id, wallet id length
_CERT_TAIL = struct.Struct(">32sII")  # wallet public key, allowance, valid until
_CODE_FIELDS = struct.Struct(">II")  # counter, signed at
_CHECK = struct.Struct(">I")

MIN_CERTIFICATE_LENGTH = _CERT_HEAD.size + 1 + _CERT_TAIL.size + SIGNATURE_LENGTH
MAX_CERTIFICATE_LENGTH = MIN_CERTIFICATE_LENGTH - 1 + MAX_WALLET_ID_LENGTH
_CODE_OVERHEAD = _CODE_FIELDS.size + SIGNATURE_LENGTH + CHECK_LENGTH
MIN_CODE_LENGTH = MIN_CERTIFICATE_LENGTH + _CODE_OVERHEAD
MAX_CODE_LENGTH = MAX_CERTIFICATE_LENGTH + _CODE_OVERHEAD

_BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_TEXT_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Characters of a code that logs may show after the prefix.
MASK_KEEP_CHARS = 4


class OfflineCodeError(ValueError):
    """A scanned offline code cannot be accepted."""


class MalformedCode(OfflineCodeError):
    """The text is not a well-formed offline code: wrong characters, length or check."""


class UnknownIssuer(OfflineCodeError):
    """The certificate names an issuer key that is not among the verifier's keys."""


class BadCertificateSignature(OfflineCodeError):
    """The certificate's signature does not verify with its issuer key."""


class BadCodeSignature(OfflineCodeError):
    """The code's signature does not verify with the wallet key in its certificate."""


class CertificateExpired(OfflineCodeError):
    """The code was signed after its certificate's valid_until."""


class CodeTooOld(OfflineCodeError):
    """The code was signed longer ago than the verifier's maximum age."""


class CodeFromFuture(OfflineCodeError):
    """The code's signing time is ahead of the verifier's clock by more than the allowed skew."""


@dataclass(frozen=True)
class CertificateBody:
    """The signed fields of an offline certificate; valid_until is normalised to UTC."""

    serial: int
    issuer_key_id: str
    wallet_id: str
    wallet_public_key: bytes
    allowance_yen: int
    valid_until: datetime

    def __post_init__(self) -> None:
        _check_u32("serial", self.serial)
        _check_u32("allowance_yen", self.allowance_yen)
        if not _is_key_id(self.issuer_key_id):
            raise ValueError(
                f"issuer_key_id {self.issuer_key_id!r} is not 8 lower-case hex digits"
            )
        if not (self.wallet_id.isascii() and 1 <= len(self.wallet_id) <= MAX_WALLET_ID_LENGTH):
            raise ValueError(
                f"wallet_id {self.wallet_id!r} must be 1 to {MAX_WALLET_ID_LENGTH} ASCII "
                "characters"
            )
        if len(self.wallet_public_key) != PUBLIC_KEY_LENGTH:
            raise ValueError(
                f"wallet_public_key has {len(self.wallet_public_key)} bytes, "
                f"expected {PUBLIC_KEY_LENGTH}"
            )
        object.__setattr__(self, "valid_until", _whole_utc("valid_until", self.valid_until))


@dataclass(frozen=True)
class OfflineCode:
    """A verified offline code; fingerprint is the hex SHA-256 of the code bytes."""

    certificate: CertificateBody
    counter: int
    signed_at: datetime
    fingerprint: str


# --- certificates ------------------------------------------------------------------------


def issuer_key_id(public_key_raw: bytes) -> str:
    """Return the key id of a raw issuer public key: hex of the first 4 bytes of its SHA-256."""
    return hashlib.sha256(public_key_raw).digest()[:ISSUER_KEY_ID_LENGTH].hex()


def sign_certificate(body: CertificateBody, issuer_private_key: Ed25519PrivateKey) -> bytes:
    """Encode ``body`` and append the issuer's signature over CERT_DOMAIN + the encoded body."""
    wallet_id = body.wallet_id.encode("ascii")
    signed_part = (
        _CERT_HEAD.pack(body.serial, bytes.fromhex(body.issuer_key_id), len(wallet_id))
        + wallet_id
        + _CERT_TAIL.pack(
            body.wallet_public_key, body.allowance_yen, int(body.valid_until.timestamp())
        )
    )
    return signed_part + issuer_private_key.sign(CERT_DOMAIN + signed_part)


def read_certificate(raw: bytes) -> tuple[CertificateBody, bytes, bytes]:
    """Decode a certificate without verifying it; return (body, signed part, signature).

    Raises MalformedCode when ``raw`` is not a certificate of the layout above.
    """
    if len(raw) < MIN_CERTIFICATE_LENGTH:
        raise MalformedCode(f"certificate has {len(raw)} bytes, at least {MIN_CERTIFICATE_LENGTH}")
    serial, key_id, wallet_id_length = _CERT_HEAD.unpack_from(raw)
    expected_length = MIN_CERTIFICATE_LENGTH - 1 + wallet_id_length
    if len(raw) != expected_length:
        raise MalformedCode(f"certificate has {len(raw)} bytes, expected {expected_length}")

    wallet_id_end = _CERT_HEAD.size + wallet_id_length
    public_key, allowance_yen, valid_until = _CERT_TAIL.unpack_from(raw, wallet_id_end)
    signed_end = wallet_id_end + _CERT_TAIL.size
    try:
        body = CertificateBody(
            serial=serial,
            issuer_key_id=key_id.hex(),
            wallet_id=raw[_CERT_HEAD.size : wallet_id_end].decode("ascii"),
            wallet_public_key=public_key,
            allowance_yen=allowance_yen,
            valid_until=datetime.fromtimestamp(valid_until, UTC),
        )
    except ValueError as exc:
        raise MalformedCode(f"certificate fields are invalid: {exc}") from exc
    return body, raw[:signed_end], raw[signed_end:]


def verify_certificate(raw: bytes, issuer_keys: Mapping[str, Ed25519PublicKey]) -> CertificateBody:
    """Decode a certificate and verify its issuer signature; validity times are not checked.

    ``issuer_keys`` maps key ids (see issuer_key_id) to issuer public keys.
    """
    body, signed_part, signature = read_certificate(raw)
    issuer_key = issuer_keys.get(body.issuer_key_id)
    if issuer_key is None:
        raise UnknownIssuer(
            f"certificate {body.serial} names issuer key {body.issuer_key_id}, which is not known"
        )
    try:
        issuer_key.verify(signature, CERT_DOMAIN + signed_part)
    except InvalidSignature as exc:
        raise BadCertificateSignature(
            f"certificate {body.serial} is not signed by issuer key {body.issuer_key_id}"
        ) from exc
    return body


# --- codes -------------------------------------------------------------------------------


def make_offline_code(
    certificate: bytes, wallet_private_key: Ed25519PrivateKey, counter: int, signed_at: datetime
) -> str:
    """Make an offline code signed by the wallet key, with ``signed_at`` cut to whole seconds.

    Raises ValueError when the wallet key is not the one in ``certificate`` or the counter
    is outside 0 to 2**32 - 1, and MalformedCode when ``certificate`` cannot be decoded.
    """
    body, _, _ = read_certificate(certificate)
    if _raw_public_key(wallet_private_key.public_key()) != body.wallet_public_key:
        raise ValueError(f"the wallet key does not match certificate {body.serial}")
    _check_u32("counter", counter)
    signed_seconds = int(_utc("signed_at", signed_at).timestamp())
    _check_u32("signed_at", signed_seconds)

    code_body = certificate + _CODE_FIELDS.pack(counter, signed_seconds)
    signed = code_body + wallet_private_key.sign(CODE_DOMAIN + code_body)
    checked = signed + _CHECK.pack(zlib.crc32(signed))
    return CODE_PREFIX + base64.b32encode(checked).decode("ascii").rstrip("=")


def parse_offline_code(text: str) -> tuple[bytes, int, datetime, bytes, bytes]:
    """Decode a code's text without verifying signatures.

    Returns (certificate, counter, signed_at, signature, code_body), where code_body is the
    part the wallet signed after CODE_DOMAIN. Raises MalformedCode on a bad prefix, alphabet,
    length or check.
    """
    raw = _decode_text(text)
    certificate_length = MIN_CERTIFICATE_LENGTH - 1 + raw[_CERT_HEAD.size - 1]
    expected_length = certificate_length + _CODE_OVERHEAD
    if len(raw) != expected_length:
        raise MalformedCode(f"offline code has {len(raw)} bytes, expected {expected_length}")

    counter, signed_seconds = _CODE_FIELDS.unpack_from(raw, certificate_length)
    body_end = certificate_length + _CODE_FIELDS.size
    signature = raw[body_end : body_end + SIGNATURE_LENGTH]
    signed_at = datetime.fromtimestamp(signed_seconds, UTC)
    return raw[:certificate_length], counter, signed_at, signature, raw[:body_end]


def verify_offline_code(
    text: str,
    issuer_keys: Mapping[str, Ed25519PublicKey],
    *,
    now: datetime,
    max_age: timedelta,
    max_future_skew: timedelta = timedelta(minutes=5),
) -> OfflineCode:
    """Verify a scanned code completely and return its contents.

    The checks run in this order: the text form and its CRC, the issuer key, the certificate
    signature and the wallet signature. Then the code must have been signed by valid_until,
    and its signing time must lie within [now - max_age, now + max_future_skew]. Each
    failure raises its own OfflineCodeError subclass. Replays are not detected here: the
    caller records (wallet id, serial, counter).
    """
    certificate, counter, signed_at, signature, code_body = parse_offline_code(text)
    body = verify_certificate(certificate, issuer_keys)
    try:
        wallet_key = Ed25519PublicKey.from_public_bytes(body.wallet_public_key)
        wallet_key.verify(signature, CODE_DOMAIN + code_body)
    except (InvalidSignature, ValueError) as exc:
        raise BadCodeSignature(
            f"offline code {counter} of certificate {body.serial} is not signed by its wallet key"
        ) from exc

    _check_times(body, counter, signed_at, _utc("now", now), max_age, max_future_skew)
    fingerprint = hashlib.sha256(_decode_text(text)).hexdigest()
    return OfflineCode(body, counter, signed_at, fingerprint)


def looks_like_offline_code(text: str) -> bool:
    """Tell whether ``text`` has the prefix and alphabet of an offline code, before decoding."""
    normalised = text.strip().upper()
    return (
        normalised.startswith(CODE_PREFIX)
        and len(normalised) > len(CODE_PREFIX)
        and normalised.isascii()
        and set(normalised) <= _TEXT_ALPHABET
    )


def mask_offline_code(text: str) -> str:
    """Shorten a code for logs to its prefix, its last four characters and its length."""
    normalised = text.strip().upper()
    head = normalised[: len(CODE_PREFIX)]
    return f"{head}...{normalised[-MASK_KEEP_CHARS:]} ({len(normalised)} chars)"


# --- helpers -----------------------------------------------------------------------------


def _decode_text(text: str) -> bytes:
    normalised = text.strip().upper()
    if not normalised.startswith(CODE_PREFIX):
        raise MalformedCode(f"offline code does not start with {CODE_PREFIX}")
    encoded = normalised[len(CODE_PREFIX) :]
    if not set(encoded) <= _BASE32_ALPHABET:
        raise MalformedCode(
            "offline code contains characters outside A-Z and 2-7 after its prefix"
        )
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except binascii.Error as exc:
        raise MalformedCode(f"offline code has an impossible length of {len(normalised)}") from exc
    # The last Base32 character can carry up to 4 unused bits. A change there would decode to
    # the same bytes, so only the canonical text is accepted.
    if base64.b32encode(raw).decode("ascii").rstrip("=") != encoded:
        raise MalformedCode("offline code has non-zero padding bits")
    if not MIN_CODE_LENGTH <= len(raw) <= MAX_CODE_LENGTH:
        raise MalformedCode(
            f"offline code has {len(raw)} bytes, expected {MIN_CODE_LENGTH} to {MAX_CODE_LENGTH}"
        )

    (check,) = _CHECK.unpack_from(raw, len(raw) - CHECK_LENGTH)
    if zlib.crc32(raw[:-CHECK_LENGTH]) != check:
        raise MalformedCode("offline code check does not match; scan it again")
    return raw


def _check_times(
    body: CertificateBody,
    counter: int,
    signed_at: datetime,
    now: datetime,
    max_age: timedelta,
    max_future_skew: timedelta,
) -> None:
    name = f"offline code {counter} of certificate {body.serial}"
    if signed_at > body.valid_until:
        raise CertificateExpired(
            f"{name} was signed at {signed_at.isoformat()}, after the certificate expired at "
            f"{body.valid_until.isoformat()}"
        )
    if now - signed_at > max_age:
        raise CodeTooOld(
            f"{name} was signed at {signed_at.isoformat()}, more than {max_age} before "
            f"{now.isoformat()}"
        )
    if signed_at - now > max_future_skew:
        raise CodeFromFuture(
            f"{name} was signed at {signed_at.isoformat()}, more than {max_future_skew} after "
            f"{now.isoformat()}"
        )


def _raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _is_key_id(text: str) -> bool:
    return len(text) == 2 * ISSUER_KEY_ID_LENGTH and all(c in "0123456789abcdef" for c in text)


def _check_u32(name: str, value: int) -> None:
    if not 0 <= value <= MAX_U32:
        raise ValueError(f"{name} {value} is outside 0 to {MAX_U32}")


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
