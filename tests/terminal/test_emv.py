from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal import emv

VECTORS_PATH = Path(__file__).parents[1] / "data" / "emv-vectors.json"
VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))


def _build(**overrides: object) -> str:
    fields: dict[str, object] = {
        "merchant_name": "AIZU COIN SHOP",
        "merchant_city": "AIZUWAKAMATSU",
        "merchant_name_ja": "カフェ山田",
        "amount_yen": 1990,
        "reference_label": "pi_7Hq2xK",
        "terminal_label": "REG-01",
        "merchant_category_code": "5814",
    }
    fields.update(overrides)
    return emv.build_mpm_payload(**fields)  # type: ignore[arg-type]


def test_crc_check_value() -> None:
    assert emv.format_crc("123456789") == "29B1"


def test_crc_keeps_leading_zeros() -> None:
    payload = (
        "00020101021226300017jp.example.wallet0105M00015204581253033925403148"
        "5802JP5909TEST SHOP6005TOKYO6304"
    )
    assert emv.format_crc(payload) == "008B"


def test_crc_over_utf8_bytes() -> None:
    prefix = "000201010212" "64150002JA0105カフェ山田" "6304"
    by_bytes = emv.crc16_ccitt_false(prefix.encode("utf-8"))
    by_code_points = emv.crc16_ccitt_false(
        bytes(ord(c) & 0xFF for c in prefix)
    )
    assert emv.format_crc(prefix) == f"{by_bytes:04X}"
    assert by_bytes != by_code_points


def test_language_template_counts_characters() -> None:
    payload = _build()
    assert "64150002JA0105カフェ山田" in payload


def test_built_payload_fields() -> None:
    objects = emv.parse_payload(_build())
    assert objects["01"] == "12"
    assert objects["53"] == "392"
    assert objects["54"] == "1990"
    assert objects["58"] == "JP"
    assert objects["59"] == "AIZU COIN SHOP"
    assert objects["60"] == "AIZUWAKAMATSU"
    assert objects["62"] == {"05": "pi_7Hq2xK", "07": "REG-01"}
    assert objects["64"] == {"00": "JA", "01": "カフェ山田"}


def test_built_payload_crc_is_upper_hex() -> None:
    payload = _build(amount_yen=1)
    assert payload[-8:-4] == "6304"
    assert payload[-4:] == payload[-4:].upper()
    assert payload[-4:] == emv.format_crc(payload[:-4])


def test_payment_request_read_back() -> None:
    request = emv.read_payment_request(_build(amount_yen=12345))
    assert request.intent_id == "pi_7Hq2xK"
    assert request.amount_yen == 12345
    assert request.merchant_name_ja == "カフェ山田"
    assert request.terminal_label == "REG-01"


@pytest.mark.parametrize("amount", [0, -5, True, 10.5])
def test_build_rejects_bad_amount(amount: object) -> None:
    with pytest.raises(emv.EmvError, match="amount"):
        _build(amount_yen=amount)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("merchant_name", "A" * 26),
        ("merchant_city", "C" * 16),
        ("merchant_name", "会津商店"),
        ("reference_label", "x" * 26),
        ("merchant_category_code", "58a2"),
    ],
)
def test_build_rejects_bad_field(field: str, value: str) -> None:
    with pytest.raises(emv.EmvError):
        _build(**{field: value})


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if v["valid"]], ids=lambda v: v["payload"][-4:]
)
def test_public_valid_vectors_parse(vector: dict[str, object]) -> None:
    objects = emv.parse_payload(str(vector["payload"]))
    fields = vector["fields"]
    assert isinstance(fields, dict)
    assert objects["63"] == fields["crc"]
    assert objects["58"] == fields["country"]
    assert objects["53"] == fields["currency"]
    if "amount" in fields:
        assert objects["54"] == fields["amount"]
    if "merchant_name" in fields:
        assert objects["59"] == fields["merchant_name"]


@pytest.mark.parametrize(
    "vector", [v for v in VECTORS if not v["valid"]], ids=lambda v: v["payload"][-4:]
)
def test_public_invalid_vectors_rejected(vector: dict[str, object]) -> None:
    with pytest.raises(emv.EmvError):
        emv.parse_payload(str(vector["payload"]))


def test_length_mismatch_named() -> None:
    payload = _build()
    broken = payload.replace("5914AIZU COIN SHOP", "5915AIZU COIN SHOP")
    with pytest.raises(emv.EmvError, match="declares|bad ID|CRC"):
        emv.parse_payload(broken)


def test_missing_mandatory_object_named() -> None:
    body = "000201" "26080004test" "5303392" "6304"
    payload = body + emv.format_crc(body)
    with pytest.raises(emv.EmvError, match="mandatory data object 58"):
        emv.parse_payload(payload)


def test_lower_case_crc_rejected() -> None:
    payload = _build()
    lowered = payload[:-4] + payload[-4:].lower()
    if lowered != payload:
        with pytest.raises(emv.EmvError, match="upper-case"):
            emv.parse_payload(lowered)


def test_foreign_scheme_not_payable() -> None:
    valid_foreign = next(v for v in VECTORS if v["valid"] and v["scheme"] == "EMVCo")
    with pytest.raises(emv.EmvError, match="regional coin"):
        emv.read_payment_request(str(valid_foreign["payload"]))


@given(
    amount=st.integers(min_value=1, max_value=10**12),
    name_ja=st.text(
        alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x9FFF), min_size=1, max_size=25
    ),
)
def test_round_trip_any_amount_and_name(amount: int, name_ja: str) -> None:
    request = emv.read_payment_request(_build(amount_yen=amount, merchant_name_ja=name_ja))
    assert request.amount_yen == amount
    assert request.merchant_name_ja == name_ja


@given(position=st.integers(min_value=0, max_value=120), char=st.sampled_from("0123456789AZ"))
def test_single_character_change_detected(position: int, char: str) -> None:
    payload = _build()
    index = position % (len(payload) - 4)
    if payload[index] == char:
        return
    mutated = payload[:index] + char + payload[index + 1 :]
    with pytest.raises(emv.EmvError):
        emv.parse_payload(mutated)


def test_payment_request_needs_amount() -> None:
    body = (
        "000201010212" "26180014jp.chiiki.coin" "52045499" "5303392" "5802JP"
        "5909TEST SHOP" "6004AIZU" "62080504pi_1" "6304"
    )
    payload = body + emv.format_crc(body)

    with pytest.raises(emv.EmvError, match="has no amount"):
        emv.read_payment_request(payload)
