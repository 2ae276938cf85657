"""The payment list reads coupons and donations for all its payments at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from settle_helpers import Server
from sqlalchemy import event
from test_coupon_flows import coupon_setup, pay_cpm
from test_donation_reports import make_campaign, make_cause, pay

from server import payments
from server.models import Payment


@contextmanager
def counted_statements(server: Server) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = server.state.db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def listed(server: Server, payment_count: int) -> tuple[list[Any], int]:
    """Return the models of the newest payments and how many statements building them took."""
    with server.state.db.read() as session:
        rows = (session.query(Payment).order_by(Payment.seq.desc()).limit(payment_count).all())
        with counted_statements(server) as statements:
            models = payments.payment_models(session, rows)
    return models, len(statements)


def test_list_matches_single_payment_reads(server: Server) -> None:
    terminal, wallet, code = coupon_setup(server)
    make_campaign(server, make_cause(server), "一円の寄付", 100)
    with_coupon = pay_cpm(terminal, wallet, code, 1_000, 100)
    assert with_coupon.status_code == 200, with_coupon.text
    plain = [pay(server, terminal, amount) for amount in (2_000, 3_000)]

    response = terminal.get("/v1/payments")

    assert response.status_code == 200, response.text
    listed_payments = response.json()["payments"]
    singles = [terminal.get(f"/v1/payments/{item['payment_id']}").json()
               for item in listed_payments]
    assert listed_payments == singles
    by_id = {item["payment_id"]: item for item in listed_payments}
    assert by_id[with_coupon.json()["payment_id"]]["coupon"]["discount_yen"] == 100
    assert [by_id[payment_id]["donations"][0]["amount_yen"] for payment_id in plain] == [20, 30]
    assert all(by_id[payment_id]["coupon"] is None for payment_id in plain)


def test_statements_do_not_grow_with_plain_payments(server: Server) -> None:
    terminal = server.new_terminal()
    make_campaign(server, make_cause(server), "一円の寄付", 100)
    for amount in range(1_000, 7_000, 1_000):
        pay(server, terminal, amount)

    three, three_statements = listed(server, 3)
    six, six_statements = listed(server, 6)

    assert (len(three), len(six)) == (3, 6)
    assert three_statements == six_statements
    assert [model.donations[0].amount_yen for model in six] == [60, 50, 40, 30, 20, 10]
