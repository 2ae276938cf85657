from __future__ import annotations

import logging

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from terminal import paycode, protocol
from terminal.api_client import (
    Declined,
    ProtocolError,
    Unreachable,
    mask_code,
)
from terminal.keys import Signer
from terminal.paycode import new_payment_code
from terminal.protocol import ErrorCode, TaxLine

LINES = [TaxLine(rate_percent=10, amount_yen=1100), TaxLine(rate_percent=8, amount_yen=1080)]
KEY = "k" * 32


def test_signature_verifies_with_public_key(client, server, private_key) -> None:
    info = client.terminal_info()

    request = server.requests[-1]
    message = protocol.signing_message(
        "GET", "/v1/terminal", request.headers[protocol.HEADER_TIMESTAMP], b""
    )
    signature = protocol.b64decode(request.headers[protocol.HEADER_SIGNATURE])
    private_key.public_key().verify(signature, message)
    assert request.headers[protocol.HEADER_TERMINAL] == "term-0001"
    assert info.merchant.invoice_registration_number == "T7000012050002"


def test_signature_covers_query_string(client, server) -> None:
    client.list_payments(limit=5)

    assert server.requests[-1].url.raw_path == b"/v1/payments?limit=5"
    assert server.requests[-1].url.params["limit"] == "5"


def test_wrong_key_is_unauthenticated(make_client, server) -> None:
    api = make_client(server, Signer(Ed25519PrivateKey.generate()))

    with pytest.raises(Declined) as caught:
        api.terminal_info()
    assert caught.value.code is ErrorCode.UNAUTHENTICATED
    assert caught.value.status_code == 401


def test_enrol_sends_public_key_and_sets_terminal_id(
    make_client, blank_server, signer, activation_code
) -> None:
    server = blank_server
    api = make_client(server, signer, terminal_id=None)

    info = api.enrol(activation_code)

    assert info.terminal_id == "term-0001"
    assert api.terminal_id == "term-0001"
    assert "X-Chiiki-Signature" not in server.requests[0].headers
    assert server.json_bodies("/v1/terminals/enrol")[0]["public_key"] == signer.public_key_b64
    assert api.terminal_info().label == "レジ1"


def test_enrol_with_wrong_code_is_declined(make_client, blank_server, signer) -> None:
    api = make_client(blank_server, signer, terminal_id=None)

    with pytest.raises(Declined) as caught:
        api.enrol("WRONG")
    assert caught.value.code is ErrorCode.ACTIVATION_INVALID


def test_signed_call_before_enrol_raises(make_client, signer, server) -> None:
    api = make_client(server, signer, terminal_id=None)

    with pytest.raises(ValueError, match="enrol first"):
        api.terminal_info()
    assert server.requests == []


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_maps_to_declined(client, server, code) -> None:
    server.next_error = code

    with pytest.raises(Declined) as caught:
        client.create_intent(2180, LINES, KEY)

    assert caught.value.code is code
    assert caught.value.status_code == protocol.ERROR_STATUS[code]


def test_create_intent_returns_intent(client, server) -> None:
    intent = client.create_intent(2180, LINES, KEY)

    assert intent.status == "pending"
    assert intent.amount_yen == 2180
    body = server.json_bodies("/v1/intents")[0]
    assert body == {
        "amount_yen": 2180,
        "idempotency_key": KEY,
        "tax_lines": [
            {"rate_percent": 10, "amount_yen": 1100},
            {"rate_percent": 8, "amount_yen": 1080},
        ],
    }


def test_wait_intent_sends_wait_and_returns_payment(client, server) -> None:
    intent = client.create_intent(2180, LINES, KEY)
    server.pay_intent(intent.intent_id)

    updated = client.wait_intent(intent.intent_id, 20)

    assert server.requests[-1].url.params["wait"] == "20"
    assert updated.status == "approved"
    assert updated.payment is not None
    assert updated.payment.amount_yen == 2180


def test_wait_intent_caps_wait_at_long_poll_max(client, server) -> None:
    intent = client.create_intent(2180, LINES, KEY)

    client.wait_intent(intent.intent_id, 600)

    assert server.requests[-1].url.params["wait"] == "30"


def test_cancel_intent_returns_cancelled(client) -> None:
    intent = client.create_intent(2180, LINES, KEY)

    assert client.cancel_intent(intent.intent_id).status == "cancelled"


def test_redeem_cpm_returns_payment(client, server, payment_code) -> None:
    payment = client.redeem_cpm(payment_code, 2180, LINES, KEY)

    assert payment.method == "cpm"
    assert payment.amount_yen == 2180
    assert server.balance_yen == 50_000 - 2180


def test_list_get_and_refund_payment(client, payment_code) -> None:
    payment = client.redeem_cpm(payment_code, 2180, LINES, KEY)

    listed = client.list_payments(limit=10)
    fetched = client.get_payment(payment.payment_id)
    refund = client.refund(payment.payment_id, 500, "r" * 32)

    assert [p.payment_id for p in listed] == [payment.payment_id]
    assert fetched == payment
    assert refund.amount_yen == 500
    assert refund.payment.refunded_yen == 500


def test_refund_over_remaining_is_declined(client, payment_code) -> None:
    payment = client.redeem_cpm(payment_code, 2180, LINES, KEY)

    with pytest.raises(Declined) as caught:
        client.refund(payment.payment_id, 2181, "r" * 32)
    assert caught.value.code is ErrorCode.REFUND_EXCEEDS_PAYMENT


def test_health_is_unsigned(client, server) -> None:
    health = client.health()

    assert health.status == "ok"
    assert protocol.HEADER_SIGNATURE not in server.requests[-1].headers


def test_connect_error_is_unreachable(client, server, sleeps) -> None:
    server.failures_before = [httpx.ConnectError("refused")] * 3

    with pytest.raises(Unreachable) as caught:
        client.terminal_info()

    assert caught.value.code is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(server.requests) == 3
    assert sleeps == [0.3, 1.0]


def test_timeout_is_unreachable(client, server) -> None:
    server.failures_before = [httpx.ReadTimeout("slow")] * 3

    with pytest.raises(Unreachable, match="timed out"):
        client.get_payment("pay-1")


def test_proxy_503_is_unreachable(client, server) -> None:
    server.next_response = httpx.Response(503, text="Service Unavailable")

    with pytest.raises(Unreachable, match="503"):
        client.terminal_info()


def test_retried_redeem_reuses_idempotency_key(client, server, payment_code) -> None:
    server.failures_before = [httpx.ConnectError("refused")]

    payment = client.redeem_cpm(payment_code, 2180, LINES, KEY)

    bodies = server.json_bodies("/v1/payments/cpm")
    assert len(bodies) == 2
    assert [body["idempotency_key"] for body in bodies] == [KEY, KEY]
    assert payment.amount_yen == 2180


def test_lost_answer_charges_once(client, server, payment_code) -> None:
    # The server applies the first request, but its response never arrives.
    server.failures_after = [httpx.ReadTimeout("answer lost")]

    payment = client.redeem_cpm(payment_code, 2180, LINES, KEY)

    assert len(server.json_bodies("/v1/payments/cpm")) == 2
    assert server.redeem_count == 1
    assert server.balance_yen == 50_000 - 2180
    assert payment.payment_id == "pay-1"


def test_retried_request_is_signed_again(client, server) -> None:
    server.failures_before = [httpx.ConnectError("refused")]

    client.terminal_info()

    assert len(server.requests) == 2
    assert all(protocol.HEADER_SIGNATURE in request.headers for request in server.requests)


def test_enrol_not_repeated_after_lost_answer(
    make_client, blank_server, signer, activation_code
) -> None:
    blank_server.failures_after = [httpx.ReadTimeout("answer lost")]
    api = make_client(blank_server, signer, terminal_id=None)

    with pytest.raises(Unreachable):
        api.enrol(activation_code)
    assert len(blank_server.requests) == 1


def test_invalid_json_is_protocol_error(client, server) -> None:
    server.next_response = httpx.Response(200, text="<html>portal login</html>")

    with pytest.raises(ProtocolError, match="not a valid TerminalInfo"):
        client.terminal_info()


def test_missing_field_is_protocol_error(client, server) -> None:
    server.next_response = httpx.Response(200, json={"payment_id": "pay-1"})

    with pytest.raises(ProtocolError) as caught:
        client.get_payment("pay-1")
    assert caught.value.code is None


def test_error_without_body_is_protocol_error(client, server) -> None:
    server.next_response = httpx.Response(500, text="Internal Server Error")

    with pytest.raises(ProtocolError, match="HTTP 500"):
        client.terminal_info()


def test_unknown_error_code_is_protocol_error(client, server) -> None:
    server.next_response = httpx.Response(
        409, json={"error": {"code": "brand_new_code", "message": "?"}}
    )

    with pytest.raises(ProtocolError):
        client.terminal_info()


def test_log_masks_payment_code(client, server, payment_code, caplog) -> None:
    server.failures_before = [httpx.ConnectError("refused")]
    server.expired_codes.add(payment_code)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(Declined):
        client.redeem_cpm(payment_code, 2180, LINES, KEY)

    assert payment_code not in caplog.text
    assert "*" * 16 + payment_code[-4:] in caplog.text
    info_lines = [
        record.getMessage()
        for record in caplog.records
        if record.name == "terminal.api_client" and record.levelno == logging.INFO
    ]
    assert info_lines == [
        f"POST /v1/payments/cpm -> 410 code_expired code={mask_code(payment_code)} "
        f"idempotency_key={KEY} amount_yen=2180"
    ]


def test_mask_code_keeps_last_four() -> None:
    assert mask_code("91234567890123456789") == "****************6789"
    assert mask_code("123") == "123"


def test_mask_code_matches_server_masking() -> None:
    code = new_payment_code()

    assert mask_code(code) == paycode.mask_payment_code(code)
    assert mask_code(code).endswith(code[-4:])
