from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from terminal import messages
from terminal.protocol import ErrorCode, TaxLine
from terminal.sale import InvalidTransition, Key, Sale, SaleState

SERVER_NOW = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)


def type_keys(sale: Sale, *keys: str) -> list[str | None]:
    return [sale.press(key) for key in keys]


def sale_with(*entries: tuple[str, str], max_amount_yen: int = 100_000) -> Sale:
    """A sale in amount entry with one committed line per (digits, department key)."""
    sale = Sale(max_amount_yen)
    for digits, department in entries:
        type_keys(sale, *digits, department)
    return sale


# --- keypad ---


def test_first_digit_starts_amount_entry() -> None:
    sale = Sale(100_000)

    sale.press("5")

    assert sale.state is SaleState.AMOUNT_ENTRY
    assert sale.typed_yen == 5


def test_leading_zeros_ignored() -> None:
    sale = Sale(100_000)

    type_keys(sale, "0", "00", "0", "7", "0")

    assert sale.typed_digits == "70"


def test_double_zero_appends_two_zeros() -> None:
    sale = Sale(100_000)

    type_keys(sale, "1", "2", "00")

    assert sale.typed_yen == 1200


def test_backspace_removes_last_digit() -> None:
    sale = Sale(100_000)

    type_keys(sale, "1", "2", "3", Key.BACKSPACE)

    assert sale.typed_digits == "12"


def test_clear_twice_clears_entry_then_lines() -> None:
    sale = sale_with(("500", "10%"))
    type_keys(sale, "3")

    sale.press(Key.CLEAR)
    assert sale.typed_digits == ""
    assert sale.total_yen == 500

    sale.press(Key.CLEAR)
    assert sale.tax_lines == []


def test_max_amount_rejects_digit() -> None:
    sale = Sale(100_000)

    results = type_keys(sale, "1", "0", "0", "0", "0", "1")

    assert results[-1] == messages.AMOUNT_TOO_LARGE
    assert sale.typed_yen == 10_000
    assert sale.notice == messages.AMOUNT_TOO_LARGE


def test_max_amount_counts_committed_lines() -> None:
    sale = sale_with(("90000", "10%"))

    results = type_keys(sale, "1", "0", "0", "0", "0", "1")

    assert results[:5] == [None] * 5
    assert results[5] == messages.AMOUNT_TOO_LARGE
    assert sale.typed_yen == 10_000


def test_max_digits_rejects_extra_digit() -> None:
    sale = Sale(9_999)

    results = type_keys(sale, "1", "2", "3", "4", "5")

    assert results[-1] == messages.TOO_MANY_DIGITS
    assert sale.typed_digits == "1234"


def test_double_zero_over_limit_rejected_whole() -> None:
    sale = Sale(100_000)
    type_keys(sale, "2", "0", "0", "0")

    assert sale.press("00") == messages.AMOUNT_TOO_LARGE
    assert sale.typed_digits == "2000"


def test_notice_text_fills_max_amount() -> None:
    sale = Sale(100_000)
    type_keys(sale, "2", "0", "0", "0", "0", "0")

    assert sale.notice_text() == "金額が上限（￥100,000）を超えます。金額を確認してください。"
    assert sale.notice_text("en") == "The amount is over the limit (￥100,000). Check the amount."


def test_department_keys_commit_lines() -> None:
    sale = sale_with(("1100", "10%"), ("1080", "8%"))

    assert sale.tax_lines == [
        TaxLine(rate_percent=10, amount_yen=1100),
        TaxLine(rate_percent=8, amount_yen=1080),
    ]
    assert sale.total_yen == 2180
    assert sale.typed_digits == ""


def test_department_key_without_amount_rejected() -> None:
    sale = Sale(100_000)

    assert sale.press(Key.RATE_10) == messages.AMOUNT_MISSING
    assert sale.tax_lines == []


def test_remove_last_line() -> None:
    sale = sale_with(("100", "10%"), ("200", "8%"))

    sale.remove_last_line()

    assert sale.total_yen == 100


def test_unknown_key_rejected() -> None:
    with pytest.raises(ValueError):
        Sale(100).press("x")


# --- CPM ---


def test_cpm_needs_committed_amount_without_default() -> None:
    sale = Sale(100_000, default_rate_percent=None)
    sale.press("1")
    sale.press("0")
    sale.press("10%")
    sale.press("5")

    assert sale.start_cpm() == messages.AMOUNT_NOT_COMMITTED
    assert sale.state is SaleState.AMOUNT_ENTRY


def test_typed_amount_takes_default_rate() -> None:
    sale = Sale(100_000, default_rate_percent=8)
    sale.press("1")
    sale.press("0")
    sale.press("10%")
    sale.press("5")

    assert sale.start_cpm() is None
    assert sale.tax_lines == [
        TaxLine(rate_percent=10, amount_yen=10),
        TaxLine(rate_percent=8, amount_yen=5),
    ]
    assert sale.total_yen == 15


def test_cpm_needs_a_line() -> None:
    sale = Sale(100)
    sale.press(Key.CLEAR)

    assert sale.start_cpm() == messages.NO_ITEMS


def test_cpm_approved(client, server, payment_code) -> None:
    sale = sale_with(("1100", "10%"), ("1080", "8%"))
    sale.start_cpm()

    assert sale.submit_code(client, payment_code) is None

    assert sale.state is SaleState.APPROVED
    assert sale.payment is not None
    assert sale.payment.amount_yen == 2180
    body = server.json_bodies("/v1/payments/cpm")[0]
    assert body["idempotency_key"] == sale.idempotency_key
    assert len(sale.idempotency_key) == 32


def test_same_code_twice_sends_once(client, server, payment_code) -> None:
    server.balance_yen = 0
    sale = sale_with(("1100", "10%"))
    sale.start_cpm()
    sale.submit_code(client, payment_code)
    sale.retry()
    sale.start_cpm()

    notice = sale.submit_code(client, payment_code)

    assert notice == messages.CODE_ALREADY_SENT
    assert len(server.json_bodies("/v1/payments/cpm")) == 1


def test_insufficient_funds_declined(client, server, payment_code) -> None:
    server.balance_yen = 100
    sale = sale_with(("1100", "10%"))
    sale.start_cpm()

    notice = sale.submit_code(client, payment_code)

    assert sale.state is SaleState.DECLINED
    assert sale.decline_code is ErrorCode.INSUFFICIENT_FUNDS
    assert notice == ErrorCode.INSUFFICIENT_FUNDS
    assert sale.notice_text() == "残高が足りません。お客様に別の支払い方法をお願いしてください。"


def test_expired_code_then_new_code_gets_new_key(client, server, payment_code) -> None:
    from terminal.paycode import new_payment_code

    server.expired_codes.add(payment_code)
    sale = sale_with(("1100", "10%"))
    sale.start_cpm()
    sale.submit_code(client, payment_code)
    assert sale.decline_code is ErrorCode.CODE_EXPIRED

    sale.retry()
    sale.start_cpm()
    sale.submit_code(client, new_payment_code())

    keys = [body["idempotency_key"] for body in server.json_bodies("/v1/payments/cpm")]
    assert sale.state is SaleState.APPROVED
    assert len(set(keys)) == 2


def test_malformed_code_not_sent(client, server, payment_code) -> None:
    sale = sale_with(("1100", "10%"))
    sale.start_cpm()

    notice = sale.submit_code(client, payment_code[:-1])

    assert notice == messages.CODE_MALFORMED
    assert sale.state is SaleState.CPM_WAITING
    assert server.json_bodies("/v1/payments/cpm") == []


def test_unreachable_redeem_resends_same_key(client, server, payment_code) -> None:
    from terminal.paycode import new_payment_code

    server.failures_after = [httpx.ReadTimeout("lost")] * 3
    sale = sale_with(("1100", "10%"))
    sale.start_cpm()

    assert sale.submit_code(client, payment_code) == messages.UNREACHABLE
    assert sale.outcome_unknown
    assert sale.submit_code(client, new_payment_code()) == messages.OUTCOME_UNKNOWN

    assert sale.resend_code(client) is None

    keys = {body["idempotency_key"] for body in server.json_bodies("/v1/payments/cpm")}
    codes = {body["code"] for body in server.json_bodies("/v1/payments/cpm")}
    assert sale.state is SaleState.APPROVED
    assert keys == {sale.idempotency_key}
    assert codes == {payment_code}
    assert server.redeem_count == 1


def test_cancel_while_outcome_unknown_warns(client, server, payment_code) -> None:
    server.failures_before = [httpx.ConnectError("down")] * 3
    sale = sale_with(("1100", "10%"))
    sale.start_cpm()
    sale.submit_code(client, payment_code)

    assert sale.cancel() == messages.OUTCOME_CHECKED_LATER
    assert sale.state is SaleState.CANCELLED
    with pytest.raises(InvalidTransition):
        sale.retry()


# --- MPM ---


def test_mpm_approved_by_poll(client, server) -> None:
    sale = sale_with(("1100", "10%"), ("1080", "8%"))
    sale.start_mpm(client, now=SERVER_NOW)
    assert sale.state is SaleState.MPM_WAITING
    assert sale.intent is not None

    sale.poll_mpm(client, 0)
    assert sale.state is SaleState.MPM_WAITING

    server.pay_intent(sale.intent.intent_id)
    sale.poll_mpm(client, 20)

    assert sale.state is SaleState.APPROVED
    assert sale.payment is not None
    assert sale.payment.tax_lines == sale.tax_lines


def test_mpm_expired(client, server) -> None:
    sale = sale_with(("500", "10%"))
    sale.start_mpm(client, now=SERVER_NOW)

    server.set_intent_status(sale.intent.intent_id, "expired")
    sale.poll_mpm(client, 0)

    assert sale.state is SaleState.EXPIRED


def test_seconds_left_counts_down(client) -> None:
    sale = sale_with(("500", "10%"))
    # The terminal clock is 1 hour behind the server: the countdown still starts at 180 s.
    local_now = SERVER_NOW - timedelta(hours=1)
    sale.start_mpm(client, now=local_now)

    assert sale.seconds_left(local_now) == 180
    assert sale.seconds_left(local_now + timedelta(seconds=59.5)) == 121
    assert sale.seconds_left(local_now + timedelta(seconds=400)) == 0


def test_mpm_cancel(client, server) -> None:
    sale = sale_with(("500", "10%"))
    sale.start_mpm(client, now=SERVER_NOW)

    sale.cancel(client)

    assert sale.state is SaleState.CANCELLED
    assert server.intents[sale.intent.intent_id].status == "cancelled"


def test_cancel_after_customer_paid_is_approved(client, server) -> None:
    sale = sale_with(("500", "10%"))
    sale.start_mpm(client, now=SERVER_NOW)
    server.pay_intent(sale.intent.intent_id)

    sale.cancel(client)

    assert sale.state is SaleState.APPROVED
    assert sale.payment is not None


def test_mpm_unreachable_stays_in_entry_and_reuses_key(client, server) -> None:
    server.failures_before = [httpx.ConnectError("down")] * 3
    sale = sale_with(("500", "10%"))

    assert sale.start_mpm(client, now=SERVER_NOW) == messages.UNREACHABLE
    assert sale.state is SaleState.AMOUNT_ENTRY

    sale.start_mpm(client, now=SERVER_NOW)

    keys = {body["idempotency_key"] for body in server.json_bodies("/v1/intents")}
    assert sale.state is SaleState.MPM_WAITING
    assert len(keys) == 1


def test_poll_unreachable_keeps_waiting(client, server) -> None:
    sale = sale_with(("500", "10%"))
    sale.start_mpm(client, now=SERVER_NOW)
    server.failures_before = [httpx.ConnectError("down")] * 3

    assert sale.poll_mpm(client, 5) == messages.UNREACHABLE
    assert sale.state is SaleState.MPM_WAITING


def test_reset_returns_to_idle(client, payment_code) -> None:
    sale = sale_with(("500", "10%"))
    sale.start_cpm()
    sale.submit_code(client, payment_code)

    sale.reset()

    assert sale.state is SaleState.IDLE
    assert sale.tax_lines == []
    assert sale.codes_sent == set()
    assert sale.payment is None


def test_keypad_after_approval_is_a_bug(client, payment_code) -> None:
    sale = sale_with(("500", "10%"))
    sale.start_cpm()
    sale.submit_code(client, payment_code)

    with pytest.raises(InvalidTransition, match="approved"):
        sale.press("1")
