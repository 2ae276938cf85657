"""Rally participant codes: a wallet's code for one stamp rally, signed by the server.

The server's issuer key (the Ed25519 key that signs offline certificates, see
``terminal.offline_code``) signs the rally id and the wallet id. A booth that has cached the
issuer public keys verifies a code without the server, so stamps can be given offline. The
signature is deterministic (Ed25519), so a wallet's code for a rally stays the same until the
issuer key is rotated.

Binary layout (r = rally id length, w = wallet id length, both ASCII, 1 to 32)::

    0        4  issuer key id (first 4 bytes of SHA-256 of the raw issuer public key)
    4        1  r
    5        r  rally id
    5+r      1  w
    6+r      w  wallet id
    6+r+w   64  issuer signature over RALLY_DOMAIN + bytes 0 to 6+r+w
    70+r+w   4  CRC-32 (zlib) of bytes 0 to 70+r+w

Text form: ``CKR1`` followed by the bytes in Base32 (RFC 4648 alphabet, no padding). A code
therefore contains only digits and upper-case letters, which a keyboard-wedge scanner types the
same on US and JIS layouts, and fits a QR code in alphanumeric mode. Input is read
case-insensitively, as a scanner types lower case while Caps Lock is on. The prefix contains
the digit 1, which Base32 never uses, so a participant code is never taken for an offline
payment code (``CKO1``) or an online payment code (20 digits starting with 91). For ids of 18
characters a code is 110 bytes, which is 180 characters of text.

Errors: ``RallyCodeError`` (a ValueError) and its subclasses. ``MalformedRallyCode`` means a
wrong prefix, characters, length or check, so the code should be scanned again.
``UnknownRallyIssuer`` means a key the verifier does not have signed it: another region's code,
or the booth's cached keys are out of date. ``BadRallyCodeSignature`` means forged or altered.
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

RALLY_DOMAIN = b"chiiki-rally-participant-v1"
CODE_PREFIX = "CKR1"

MAX_ID_LENGTH = 32
ISSUER_KEY_ID_LENGTH = 4
SIGNATURE_LENGTH = 64
CHECK_LENGTH = 4
MIN_CODE_LENGTH = ISSUER_KEY_ID_LENGTH + 1 + 1 + 1 + 1 + SIGNATURE_LENGTH + CHECK_LENGTH
MAX_CODE_LENGTH = MIN_CODE_LENGTH - 2 + 2 * MAX_ID_LENGTH

_CHECK = struct.Struct(">I")
_BASE32_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_TEXT_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Characters of a code that logs may show after the prefix.
MASK_KEEP_CHARS = 4


class RallyCodeError(ValueError):
    """A scanned participant code cannot be accepted."""


class MalformedRallyCode(RallyCodeError):
    """The text is not a well-formed participant code: wrong prefix, characters, length or check."""


class UnknownRallyIssuer(RallyCodeError):
    """The code names an issuer key that is not among the verifier's keys."""


class BadRallyCodeSignature(RallyCodeError):
    """The signature does not verify with the issuer key the code names."""


@dataclass(frozen=True)
class ParticipantCode:
    """The signed contents of a verified participant code."""

    issuer_key_id: str
    rally_id: str
    wallet_id: str


def make_participant_code(
    rally_id: str, wallet_id: str, issuer_key_id: str, issuer_private_key: Ed25519PrivateKey
) -> str:
    """Encode and sign a participant code; raises ValueError for an id that does not fit."""
    key_id = _key_id_bytes(issuer_key_id)
    signed_part = key_id + _length_prefixed("rally_id", rally_id) + _length_prefixed(
        "wallet_id", wallet_id
    )
    signed = signed_part + issuer_private_key.sign(RALLY_DOMAIN + signed_part)
    checked = signed + _CHECK.pack(zlib.crc32(signed))
    return CODE_PREFIX + base64.b32encode(checked).decode("ascii").rstrip("=")


def read_participant_code(text: str) -> tuple[ParticipantCode, bytes, bytes]:
    """Decode a code without verifying it; return (contents, signed part, signature)."""
    raw = _decode_text(text)
    body = raw[:-CHECK_LENGTH]
    key_id = body[:ISSUER_KEY_ID_LENGTH].hex()
    rally_id, offset = _read_id(body, ISSUER_KEY_ID_LENGTH, "rally id")
    wallet_id, offset = _read_id(body, offset, "wallet id")
    if len(body) - offset != SIGNATURE_LENGTH:
        raise MalformedRallyCode(
            f"participant code has {len(body) - offset} signature bytes, expected"
            f" {SIGNATURE_LENGTH}"
        )
    contents = ParticipantCode(issuer_key_id=key_id, rally_id=rally_id, wallet_id=wallet_id)
    return contents, body[:offset], body[offset:]


def verify_participant_code(
    text: str, issuer_keys: Mapping[str, Ed25519PublicKey]
) -> ParticipantCode:
    """Decode a code and verify its issuer signature; ``issuer_keys`` maps key ids to keys."""
    contents, signed_part, signature = read_participant_code(text)
    issuer_key = issuer_keys.get(contents.issuer_key_id)
    if issuer_key is None:
        raise UnknownRallyIssuer(
            f"participant code names issuer key {contents.issuer_key_id}, which is not known"
        )
    try:
        issuer_key.verify(signature, RALLY_DOMAIN + signed_part)
    except InvalidSignature as exc:
        raise BadRallyCodeSignature(
            f"participant code of wallet {contents.wallet_id} is not signed by issuer key"
            f" {contents.issuer_key_id}"
        ) from exc
    return contents


def looks_like_participant_code(text: str) -> bool:
    """Tell whether ``text`` has the prefix and alphabet of a participant code, before decoding."""
    normalised = text.strip().upper()
    return (
        normalised.startswith(CODE_PREFIX)
        and len(normalised) > len(CODE_PREFIX)
        and normalised.isascii()
        and set(normalised) <= _TEXT_ALPHABET
    )


def mask_participant_code(text: str) -> str:
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


def _key_id_bytes(issuer_key_id: str) -> bytes:
    try:
        raw = bytes.fromhex(issuer_key_id)
    except ValueError:
        raw = b""
    if len(raw) != ISSUER_KEY_ID_LENGTH or raw.hex() != issuer_key_id:
        raise ValueError(f"issuer_key_id {issuer_key_id!r} is not 8 lower-case hex digits")
    return raw


def _length_prefixed(name: str, value: str) -> bytes:
    if not (value.isascii() and value.isprintable() and 1 <= len(value) <= MAX_ID_LENGTH):
        raise ValueError(
            f"{name} {value!r} must be 1 to {MAX_ID_LENGTH} printable ASCII characters"
        )
    return bytes([len(value)]) + value.encode("ascii")


def _read_id(body: bytes, offset: int, name: str) -> tuple[str, int]:
    if offset >= len(body):
        raise MalformedRallyCode(f"participant code ends before its {name}")
    length = body[offset]
    start, end = offset + 1, offset + 1 + length
    if not 1 <= length <= MAX_ID_LENGTH or end > len(body):
        raise MalformedRallyCode(f"participant code has an invalid {name} length of {length}")
    try:
        value = body[start:end].decode("ascii")
    except UnicodeDecodeError as exc:
        raise MalformedRallyCode(f"participant code has a {name} that is not ASCII") from exc
    if not value.isprintable():
        raise MalformedRallyCode(f"participant code has a {name} with control characters")
    return value, end


def _decode_text(text: str) -> bytes:
    normalised = text.strip().upper()
    if not normalised.startswith(CODE_PREFIX):
        raise MalformedRallyCode(f"participant code does not start with {CODE_PREFIX}")
    encoded = normalised[len(CODE_PREFIX):]
    if not set(encoded) <= _BASE32_ALPHABET:
        raise MalformedRallyCode(
            "participant code contains characters outside A-Z and 2-7 after its prefix"
        )
    try:
        raw = base64.b32decode(encoded + "=" * (-len(encoded) % 8))
    except binascii.Error as exc:
        raise MalformedRallyCode(
            f"participant code has an impossible length of {len(normalised)}"
        ) from exc
    # The last Base32 character can carry unused bits; only the canonical text is accepted.
    if base64.b32encode(raw).decode("ascii").rstrip("=") != encoded:
        raise MalformedRallyCode("participant code has non-zero padding bits")
    if not MIN_CODE_LENGTH <= len(raw) <= MAX_CODE_LENGTH:
        raise MalformedRallyCode(
            f"participant code has {len(raw)} bytes, expected {MIN_CODE_LENGTH} to"
            f" {MAX_CODE_LENGTH}"
        )

    (check,) = _CHECK.unpack_from(raw, len(raw) - CHECK_LENGTH)
    if zlib.crc32(raw[:-CHECK_LENGTH]) != check:
        raise MalformedRallyCode("participant code check does not match; scan it again")
    return raw
