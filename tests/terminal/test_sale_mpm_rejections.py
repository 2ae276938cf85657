"""A wallet's rejected pay call on the QR intent: shown to the clerk once, sale keeps waiting."""

from __future__ import annotations

from datetime import UTC, datetime

from terminal import messages
from terminal.api_client import ApiClient
from terminal.coupons import coupon_message
from terminal.protocol import IntentRejection
from terminal.sale import Sale, SaleState
from tests.terminal.conftest import FakeServer

SERVER_NOW = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)


def waiting_sale(client: ApiClient) -> Sale:
    sale = Sale(100_000)
    for key in ("9", "0", "0", "10%"):
        sale.press(key)
    sale.start_mpm(client, now=SERVER_NOW)
    assert sale.state is SaleState.MPM_WAITING
    return sale


def reject(
    server: FakeServer, sale: Sale, code: str, at: str = "2024-05-01T00:30:10+00:00"
) -> None:
    assert sale.intent is not None
    intent_id = sale.intent.intent_id
    rejection = IntentRejection(code=code, at=at)
    server.intents[intent_id] = server.intents[intent_id].model_copy(
        update={"last_rejection": rejection})


def test_rejection_reported_once(client: ApiClient, server: FakeServer) -> None:
    sale = waiting_sale(client)
    reject(server, sale, "coupon_wrong_wallet")

    first = sale.poll_mpm(client, 0)
    second = sale.poll_mpm(client, 0)

    assert first == messages.MPM_REJECTED_COUPON_WRONG_WALLET
    assert second is None
    assert sale.notice is None
    assert sale.state is SaleState.MPM_WAITING


def test_rejection_text_names_next_step(client: ApiClient, server: FakeServer) -> None:
    sale = waiting_sale(client)
    reject(server, sale, "coupon_wrong_wallet")

    sale.poll_mpm(client, 0)

    assert sale.notice_text() == (
        "このクーポンは別のお客様のものなので、お支払いできませんでした。"
        "クーポンの持ち主のアプリでQRコードを読み取ってもらうか、"
        "「取消」を押してクーポンを外し、もう一度お支払いを始めてください。"
    )
    english = sale.notice_text("en")
    assert english is not None
    assert english.startswith("The payment did not go through because the coupon belongs")


def test_new_rejection_reported_again(client: ApiClient, server: FakeServer) -> None:
    sale = waiting_sale(client)
    reject(server, sale, "insufficient_funds")
    sale.poll_mpm(client, 0)

    reject(server, sale, "insufficient_funds", at="2024-05-01T00:30:40+00:00")
    again = sale.poll_mpm(client, 0)
    reject(server, sale, "amount_mismatch", at="2024-05-01T00:30:40+00:00")
    other = sale.poll_mpm(client, 0)

    assert again == messages.MPM_REJECTED_INSUFFICIENT_FUNDS
    assert other == messages.MPM_REJECTED_AMOUNT_MISMATCH


def test_other_coupon_reason_in_text(client: ApiClient, server: FakeServer) -> None:
    sale = waiting_sale(client)
    reject(server, sale, "coupon_used")

    notice = sale.poll_mpm(client, 0)
    text = sale.notice_text()

    assert notice == messages.MPM_REJECTED_COUPON
    assert text == (
        "お支払いできませんでした。" + coupon_message("coupon_used") + "先に「取消」を押してください。"
    )


def test_unknown_rejection_code_gets_general_text(client: ApiClient, server: FakeServer) -> None:
    sale = waiting_sale(client)
    reject(server, sale, "wallet_frozen_for_review")

    notice = sale.poll_mpm(client, 0)

    assert notice == messages.MPM_REJECTED_OTHER
    assert sale.notice_text() == messages.MESSAGES_JA[messages.MPM_REJECTED_OTHER]


def test_rejected_intent_still_approves(client: ApiClient, server: FakeServer) -> None:
    sale = waiting_sale(client)
    reject(server, sale, "coupon_wrong_wallet")
    sale.poll_mpm(client, 0)
    assert sale.intent is not None

    server.pay_intent(sale.intent.intent_id)
    notice = sale.poll_mpm(client, 0)

    assert notice is None
    assert sale.state is SaleState.APPROVED
    assert sale.payment is not None
    assert sale.payment.amount_yen == 900


def test_retry_forgets_seen_rejection(client: ApiClient, server: FakeServer) -> None:
    sale = waiting_sale(client)
    reject(server, sale, "insufficient_funds")
    sale.poll_mpm(client, 0)
    assert sale.intent is not None
    server.set_intent_status(sale.intent.intent_id, "cancelled")
    sale.poll_mpm(client, 0)

    sale.retry()

    assert sale.mpm_rejection is None
    assert sale.state is SaleState.AMOUNT_ENTRY


def test_every_rejection_text_translated() -> None:
    assert set(messages.MPM_REJECTION_MESSAGES_JA) == set(messages.MPM_REJECTION_MESSAGES_EN)
    for key in messages.MPM_REJECTION_MESSAGES_JA:
        assert messages.is_mpm_rejection(key)
        assert messages.message_for(key, "en") == messages.MPM_REJECTION_MESSAGES_EN[key]
    assert not messages.is_mpm_rejection(messages.UNREACHABLE)
    assert not messages.is_mpm_rejection(None)


def test_poll_names_the_rejection_already_shown(client: ApiClient, server: FakeServer) -> None:
    sale = waiting_sale(client)
    sale.poll_mpm(client, 0)
    reject(server, sale, "insufficient_funds", at="2024-05-01T00:30:10+00:00")
    sale.poll_mpm(client, 0)
    sale.poll_mpm(client, 0)

    polls = [request for request in server.requests
             if request.method == "GET" and request.url.path.startswith("/v1/intents/")]
    assert [request.url.params.get("seen_rejection_at") for request in polls] == [
        "none", "none", "2024-05-01T00:30:10+00:00"]
