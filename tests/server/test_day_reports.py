"""GET /v1/reports/day: the server's totals of one business day for the day close."""

from __future__ import annotations

from typing import Any

from offline_helpers import cpm_payment, offline_entry, offline_wallet, payment_entry, send_batch
from settle_helpers import Server, TerminalClient

# FakeClock starts at 2026-04-01 01:00 UTC, which is 10:00 in Japan.
DAY = "2026-04-01"


def day_report(terminal: TerminalClient, business_day: str = DAY) -> dict[str, Any]:
    response = terminal.get(f"/v1/reports/day?business_day={business_day}")
    assert response.status_code == 200, response.text
    result = response.json()
    assert isinstance(result, dict)
    return result


def test_report_totals_by_method_and_refunds(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    terminal = server.new_terminal()
    online_id = cpm_payment(server, terminal, 1_200)
    send_batch(terminal, [
        payment_entry("online_payment", online_id, 1_200, server.clock(), seq=1),
        offline_entry(holder.code(server.clock()), 2_000, server.clock(), seq=2),
        payment_entry("refund", online_id, 300, server.clock(), seq=3),
    ])

    totals = day_report(terminal)["terminal"]

    assert totals["payments_by_method"]["cpm"] == {"count": 1, "amount_yen": 1_200}
    assert totals["payments_by_method"]["offline"] == {"count": 1, "amount_yen": 2_000}
    assert totals["payments_by_method"]["mpm"] == {"count": 0, "amount_yen": 0}
    assert totals["payments"] == {"count": 2, "amount_yen": 3_200}
    assert totals["refunds"] == {"count": 1, "amount_yen": 300}
    assert totals["net_yen"] == 2_900
    assert totals["ledger_net_yen"] == 2_900
    assert sum(totals["ledger_kinds"].values()) == 2_900
    assert server.merchant_balance_yen(terminal.merchant_id) == 2_900


def test_report_skips_duplicate_and_declined(server: Server) -> None:
    terminal = server.new_terminal()
    payment_id = cpm_payment(server, terminal, 1_000)
    send_batch(terminal, [
        payment_entry("online_payment", payment_id, 1_000, server.clock(), seq=1),
        payment_entry("online_payment", payment_id, 1_000, server.clock(), seq=2),
        payment_entry("refund", payment_id, 5_000, server.clock(), seq=3),
    ])

    totals = day_report(terminal)["terminal"]

    assert totals["payments"] == {"count": 1, "amount_yen": 1_000}
    assert totals["refunds"] == {"count": 0, "amount_yen": 0}


def test_report_other_day_empty(server: Server) -> None:
    terminal = server.new_terminal()
    payment_id = cpm_payment(server, terminal, 1_000)
    send_batch(terminal, [payment_entry("online_payment", payment_id, 1_000, server.clock())])

    report = day_report(terminal, "2026-04-02")

    assert report["business_day"] == "2026-04-02"
    assert report["terminal"]["payments"] == {"count": 0, "amount_yen": 0}
    assert report["terminal"]["ledger_kinds"] == {}


def test_report_separates_terminal_and_merchant(server: Server) -> None:
    first = server.new_terminal()
    second = server.new_terminal(first.merchant_id)
    stranger = server.new_terminal()
    for terminal, amount_yen in ((first, 1_000), (second, 2_500), (stranger, 9_000)):
        payment_id = cpm_payment(server, terminal, amount_yen)
        send_batch(terminal, [payment_entry("online_payment", payment_id, amount_yen,
                                            server.clock())])

    report = day_report(first)

    assert report["terminal_id"] == first.terminal_id
    assert report["terminal"]["payments"] == {"count": 1, "amount_yen": 1_000}
    assert report["merchant"]["payments"] == {"count": 2, "amount_yen": 3_500}


def test_report_rejects_malformed_day(server: Server) -> None:
    terminal = server.new_terminal()

    response = terminal.get("/v1/reports/day?business_day=04/01/2026")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert "YYYY-MM-DD" in response.json()["error"]["message"]


def test_report_needs_signed_terminal(server: Server) -> None:
    response = server.client.get(f"/v1/reports/day?business_day={DAY}")

    assert response.status_code == 401
