from __future__ import annotations

import pytest

from terminal import messages
from terminal.api_client import ApiError, Declined, ProtocolError, Unreachable
from terminal.messages import MESSAGES_EN, MESSAGES_JA, message_for
from terminal.protocol import ErrorCode


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_both_languages(code: ErrorCode) -> None:
    assert message_for(code) == MESSAGES_JA[code]
    assert message_for(code, "en") == MESSAGES_EN[code]
    assert message_for(code) != message_for(messages.UNKNOWN_ERROR)


def test_catalogues_have_same_keys() -> None:
    assert set(MESSAGES_JA) == set(MESSAGES_EN)


def test_japanese_texts_end_with_next_step() -> None:
    for key, text in MESSAGES_JA.items():
        assert text.endswith("。"), key
        assert text.count("。") >= 2, key


def test_insufficient_funds_text() -> None:
    error = Declined("balance 10 < 2180", ErrorCode.INSUFFICIENT_FUNDS, 402)

    assert message_for(error) == "残高が足りません。お客様に別の支払い方法をお願いしてください。"


def test_code_expired_text() -> None:
    assert message_for(ErrorCode.CODE_EXPIRED) == (
        "コードの有効期限が切れています。アプリでコードを新しく表示してもらい、"
        "もう一度読み取ってください。"
    )


def test_unreachable_text() -> None:
    text = message_for(Unreachable("GET /v1/terminal failed: ConnectError"))

    assert text.startswith("サーバーに接続できません。")


def test_protocol_error_and_plain_api_error() -> None:
    assert message_for(ProtocolError("bad json")) == MESSAGES_JA[messages.PROTOCOL_ERROR]
    assert message_for(ApiError("other")) == MESSAGES_JA[messages.UNKNOWN_ERROR]


def test_unknown_key_gives_generic_text() -> None:
    assert message_for("no_such_key", "en") == MESSAGES_EN[messages.UNKNOWN_ERROR]


def test_fields_filled_and_missing_kept() -> None:
    assert "￥50,000" in message_for(messages.AMOUNT_TOO_LARGE, max_amount="￥50,000")
    assert "{max_amount}" in message_for(messages.AMOUNT_TOO_LARGE)


def test_activation_invalid_asks_operator() -> None:
    japanese = message_for(ErrorCode.ACTIVATION_INVALID, "ja")
    english = message_for(ErrorCode.ACTIVATION_INVALID, "en")

    assert "運営事務局" in japanese
    assert "管理画面" not in japanese
    assert "operator" in english
    assert "management screen" not in english
