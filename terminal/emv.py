"""EMVCo merchant-presented QR payloads (MPM): build, parse and validate.

A payload is a chain of data objects, each a two-digit ID, a two-digit length and a value.
Lengths count characters, not bytes, so a Japanese name in the language template (ID 64) of
five characters has length 05 although it is fifteen bytes of UTF-8. The CRC (ID 63, always
last) is CRC-16/CCITT-FALSE over the UTF-8 bytes of everything before its four hex digits,
including the ``6304`` of the CRC object itself, written as four upper-case hex digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

ID_PAYLOAD_FORMAT = "00"
ID_POINT_OF_INITIATION = "01"
ID_MERCHANT_CATEGORY = "52"
ID_CURRENCY = "53"
ID_AMOUNT = "54"
ID_COUNTRY = "58"
ID_MERCHANT_NAME = "59"
ID_MERCHANT_CITY = "60"
ID_ADDITIONAL_DATA = "62"
ID_CRC = "63"
ID_LANGUAGE_TEMPLATE = "64"

SUB_REFERENCE_LABEL = "05"
SUB_TERMINAL_LABEL = "07"

POINT_OF_INITIATION_STATIC = "11"
POINT_OF_INITIATION_DYNAMIC = "12"
CURRENCY_JPY = "392"
COUNTRY_JP = "JP"
MERCHANT_ACCOUNT_ID = "26"
DEFAULT_GUI = "jp.chiiki.coin"

# Templates nest data objects in their value. The unreserved
# range 80-99 is parsed as a template when it parses as one: DuitNow puts a primitive in 82.
TEMPLATE_IDS = frozenset([f"{n:02d}" for n in range(26, 52)] + ["62", "64"])
UNRESERVED_IDS = frozenset(f"{n:02d}" for n in range(80, 100))
# EMVCo marks 52, 59 and 60 mandatory too, but Thai PromptPay codes in circulation omit them.
# So a generic parser requires only these, and read_payment_request() checks the rest.
MANDATORY_IDS = ("00", "53", "58", "63")
SCHEME_MANDATORY_IDS = ("52", "59", "60")
MAX_NAME_CHARS = 25
MAX_CITY_CHARS = 15
MAX_PAYLOAD_CHARS = 512

_AMOUNT_PATTERN = re.compile(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")
_CRC_PATTERN = re.compile(r"^[0-9A-F]{4}$")

Value = Union[str, "DataObjects"]
DataObjects = dict[str, Value]


class EmvError(ValueError):
    """A payload is not a valid EMV merchant-presented QR payload; the message names the fault."""


def crc16_ccitt_false(data: bytes) -> int:
    """Compute CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def format_crc(payload_without_crc: str) -> str:
    """Return the four upper-case hex digits of the CRC for a payload ending in ``6304``."""
    return f"{crc16_ccitt_false(payload_without_crc.encode('utf-8')):04X}"


def encode_object(object_id: str, value: str) -> str:
    """Encode one data object, checking its ID and the 1-99 character length limit."""
    if len(object_id) != 2 or not object_id.isdigit():
        raise EmvError(f"data object ID {object_id!r} must be two digits")
    if not 1 <= len(value) <= 99:
        raise EmvError(f"data object {object_id} is {len(value)} characters long; allowed: 1-99")
    return f"{object_id}{len(value):02d}{value}"


def _encode_ascii_field(object_id: str, value: str, max_chars: int) -> str:
    if not value.isascii() or not value.isprintable():
        raise EmvError(f"data object {object_id} value {value!r} must be printable ASCII")
    if len(value) > max_chars:
        raise EmvError(f"data object {object_id} value {value!r} exceeds {max_chars} characters")
    return encode_object(object_id, value)


def build_mpm_payload(
    *,
    merchant_name: str,
    merchant_city: str,
    merchant_name_ja: str,
    amount_yen: int,
    reference_label: str,
    terminal_label: str,
    merchant_category_code: str,
    merchant_account_gui: str = DEFAULT_GUI,
    merchant_id: str | None = None,
) -> str:
    """Build a dynamic (single-use) payload for ``amount_yen`` whole yen.

    ``merchant_name`` and ``merchant_city`` go in IDs 59 and 60 as ASCII; the Japanese name goes
    in the language template (ID 64, language JA). The reference label (62.05) carries the
    payment intent id that the wallet pays.
    """
    if isinstance(amount_yen, bool) or not isinstance(amount_yen, int) or amount_yen < 1:
        raise EmvError(f"amount {amount_yen!r} must be a whole number of yen of at least 1")
    if len(merchant_category_code) != 4 or not merchant_category_code.isdigit():
        raise EmvError(f"merchant category code {merchant_category_code!r} must be four digits")

    account = encode_object("00", merchant_account_gui)
    if merchant_id:
        account += encode_object("01", merchant_id)
    additional = _encode_ascii_field(SUB_REFERENCE_LABEL, reference_label, 25)
    additional += _encode_ascii_field(SUB_TERMINAL_LABEL, terminal_label, 25)
    language = encode_object("00", "JA") + _encode_name_ja(merchant_name_ja)

    body = "".join(
        [
            encode_object(ID_PAYLOAD_FORMAT, "01"),
            encode_object(ID_POINT_OF_INITIATION, POINT_OF_INITIATION_DYNAMIC),
            encode_object(MERCHANT_ACCOUNT_ID, account),
            encode_object(ID_MERCHANT_CATEGORY, merchant_category_code),
            encode_object(ID_CURRENCY, CURRENCY_JPY),
            encode_object(ID_AMOUNT, str(amount_yen)),
            encode_object(ID_COUNTRY, COUNTRY_JP),
            _encode_ascii_field(ID_MERCHANT_NAME, merchant_name, MAX_NAME_CHARS),
            _encode_ascii_field(ID_MERCHANT_CITY, merchant_city, MAX_CITY_CHARS),
            encode_object(ID_ADDITIONAL_DATA, additional),
            encode_object(ID_LANGUAGE_TEMPLATE, language),
        ]
    )
    with_crc_header = body + ID_CRC + "04"
    return with_crc_header + format_crc(with_crc_header)


def _encode_name_ja(name: str) -> str:
    if not name or len(name) > MAX_NAME_CHARS:
        raise EmvError(f"Japanese merchant name {name!r} must be 1-{MAX_NAME_CHARS} characters")
    return encode_object("01", name)


def parse_objects(text: str, *, where: str = "top level") -> DataObjects:
    """Split ``text`` into data objects, parsing templates recursively.

    Raise EmvError when a length does not match the text, an ID repeats or is not two digits.
    """
    objects: DataObjects = {}
    position = 0
    while position < len(text):
        header = text[position : position + 4]
        if len(header) < 4 or not header.isdigit() or not header.isascii():
            raise EmvError(f"{where}: bad ID/length {header!r} at character {position}")
        object_id, length = header[:2], int(header[2:])
        if length == 0:
            raise EmvError(f"{where}: data object {object_id} has length 00")
        value = text[position + 4 : position + 4 + length]
        if len(value) != length:
            raise EmvError(
                f"{where}: data object {object_id} declares {length} characters "
                f"but only {len(value)} remain"
            )
        if object_id in objects:
            raise EmvError(f"{where}: data object {object_id} appears twice")
        objects[object_id] = value
        position += 4 + length
    return objects


def _parse_templates(objects: DataObjects) -> DataObjects:
    result: DataObjects = {}
    for object_id, value in objects.items():
        assert isinstance(value, str)
        if object_id in TEMPLATE_IDS:
            result[object_id] = parse_objects(value, where=f"template {object_id}")
        elif object_id in UNRESERVED_IDS:
            result[object_id] = _parse_unreserved(object_id, value)
        else:
            result[object_id] = value
    return result


def _parse_unreserved(object_id: str, value: str) -> Value:
    try:
        return parse_objects(value, where=f"template {object_id}")
    except EmvError:
        return value


def parse_payload(payload: str) -> DataObjects:
    """Parse and validate a merchant-presented payload, returning its data objects by ID.

    Templates are nested dictionaries keyed by their own two-digit sub-IDs. Raise EmvError
    naming the first problem found: a bad CRC, a length that does not match, a missing or
    malformed mandatory object.
    """
    if not payload:
        raise EmvError("payload is empty")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise EmvError(f"payload is {len(payload)} characters; the limit is {MAX_PAYLOAD_CHARS}")
    if not payload.startswith(ID_PAYLOAD_FORMAT + "02"):
        raise EmvError("payload must start with the payload format indicator 0002")

    top_level = parse_objects(payload)
    if list(top_level)[-1] != ID_CRC:
        raise EmvError("the CRC object 63 is missing or is not the last object")
    _check_crc(payload, top_level)
    objects = _parse_templates(top_level)
    _check_mandatory(objects)
    _check_formats(objects)
    return objects


def _check_crc(payload: str, objects: DataObjects) -> None:
    crc = objects[ID_CRC]
    assert isinstance(crc, str)
    if len(crc) != 4:
        raise EmvError(f"CRC object 63 has length {len(crc)}; it must be 04")
    if not _CRC_PATTERN.match(crc):
        raise EmvError(f"CRC {crc!r} must be four upper-case hex digits")
    expected = format_crc(payload[:-4])
    if crc != expected:
        raise EmvError(f"CRC mismatch: payload contains {crc}, computed {expected}")


def _check_mandatory(objects: DataObjects) -> None:
    for object_id in MANDATORY_IDS:
        if object_id not in objects:
            raise EmvError(f"mandatory data object {object_id} is missing")
    if not any(f"{n:02d}" in objects for n in range(2, 52)):
        raise EmvError("no merchant account information (data objects 02-51)")


def _text(objects: DataObjects, object_id: str) -> str:
    value = objects.get(object_id, "")
    if not isinstance(value, str):
        raise EmvError(f"data object {object_id} must be a primitive value")
    return value


def _check_formats(objects: DataObjects) -> None:
    if not _text(objects, ID_PAYLOAD_FORMAT).isdigit():
        raise EmvError("payload format indicator (00) must be digits")
    initiation = objects.get(ID_POINT_OF_INITIATION)
    if initiation is not None and initiation not in (
        POINT_OF_INITIATION_STATIC,
        POINT_OF_INITIATION_DYNAMIC,
    ):
        raise EmvError(f"point of initiation (01) {initiation!r} must be 11 or 12")
    mcc = _text(objects, ID_MERCHANT_CATEGORY)
    if ID_MERCHANT_CATEGORY in objects and (len(mcc) != 4 or not mcc.isdigit()):
        raise EmvError(f"merchant category code (52) {mcc!r} must be four digits")
    currency = _text(objects, ID_CURRENCY)
    if len(currency) != 3 or not currency.isdigit():
        raise EmvError(f"currency (53) {currency!r} must be three digits (ISO 4217 numeric)")
    amount = objects.get(ID_AMOUNT)
    if amount is not None and (
        not isinstance(amount, str) or len(amount) > 13 or not _AMOUNT_PATTERN.match(amount)
    ):
        raise EmvError(f"amount (54) {amount!r} must be digits with an optional decimal point")
    if len(_text(objects, ID_COUNTRY)) != 2:
        raise EmvError("country code (58) must be two characters")
    if len(_text(objects, ID_MERCHANT_NAME)) > MAX_NAME_CHARS:
        raise EmvError(f"merchant name (59) exceeds {MAX_NAME_CHARS} characters")
    if len(_text(objects, ID_MERCHANT_CITY)) > MAX_CITY_CHARS:
        raise EmvError(f"merchant city (60) exceeds {MAX_CITY_CHARS} characters")
    language = objects.get(ID_LANGUAGE_TEMPLATE)
    if isinstance(language, dict) and ("00" not in language or "01" not in language):
        raise EmvError("language template (64) needs a language (00) and a merchant name (01)")


@dataclass(frozen=True)
class MpmPaymentRequest:
    """Fields a wallet needs from a dynamic payload of this scheme to pay it."""

    intent_id: str
    amount_yen: int
    merchant_name: str
    merchant_name_ja: str
    terminal_label: str


def read_payment_request(
    payload: str, *, merchant_account_gui: str = DEFAULT_GUI
) -> MpmPaymentRequest:
    """Parse a payload and check that this wallet can pay it: our scheme, yen, a whole amount.

    Raise EmvError naming the first field that does not fit.
    """
    objects = parse_payload(payload)
    for object_id in SCHEME_MANDATORY_IDS:
        if object_id not in objects:
            raise EmvError(f"mandatory data object {object_id} is missing")
    account = objects.get(MERCHANT_ACCOUNT_ID)
    if not isinstance(account, dict) or str(account.get("00", "")).lower() != (
        merchant_account_gui.lower()
    ):
        raise EmvError(f"this QR is not for the regional coin (no {merchant_account_gui} account)")
    if objects.get(ID_POINT_OF_INITIATION) != POINT_OF_INITIATION_DYNAMIC:
        raise EmvError("this QR is static; the shop must show a QR with the amount")
    if objects[ID_CURRENCY] != CURRENCY_JPY:
        raise EmvError(f"currency {objects[ID_CURRENCY]} is not yen (392)")
    amount = objects.get(ID_AMOUNT)
    if amount is None:
        raise EmvError("the QR has no amount (54); the shop must show a QR with the amount")
    if not isinstance(amount, str) or not amount.isdigit() or int(amount) < 1:
        raise EmvError(f"amount (54) {amount!r} must be a whole number of yen")
    additional = objects.get(ID_ADDITIONAL_DATA)
    if not isinstance(additional, dict) or not additional.get(SUB_REFERENCE_LABEL):
        raise EmvError("the reference label (62.05) with the payment id is missing")
    language = objects.get(ID_LANGUAGE_TEMPLATE)
    name_ja = str(language.get("01", "")) if isinstance(language, dict) else ""
    return MpmPaymentRequest(
        intent_id=str(additional[SUB_REFERENCE_LABEL]),
        amount_yen=int(amount),
        merchant_name=_text(objects, ID_MERCHANT_NAME),
        merchant_name_ja=name_ja,
        terminal_label=str(additional.get(SUB_TERMINAL_LABEL, "")),
    )
