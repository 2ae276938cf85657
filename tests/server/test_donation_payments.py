"""Donation shares booked with payments: amounts, funding, periods, scope, sync and refunds."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from money_helpers import pay_from_new_wallet
from offline_helpers import offline_entry, offline_wallet, send_batch
from settle_helpers import Server, TerminalClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import donations, ledger, payments
from server.donation_models import DonationEvent, DonationRow
from server.errors import ServerError
from server.models import FEE_ACCOUNT_ID, ISSUANCE_ACCOUNT_ID, Payment, Refund
from terminal.protocol import DonationLine

CAUSE_NAME = "会津こども食堂"


# --- helpers -------------------------------------------------------------------------------


def make_cause(server: Server, name: str = CAUSE_NAME) -> str:
    with server.state.db.write() as session:
        return donations.create_cause(session, name, now=server.clock()).id


def make_campaign(
    server: Server, cause_id: str, *, share_bp: int | None = None, fixed_yen: int | None = None,
    funder: str = "merchant", starts_at: datetime | None = None,
    ends_at: datetime | None = None, merchant_ids: tuple[str, ...] | None = None,
) -> str:
    now = server.clock()
    new = donations.NewCampaign(
        cause_id=cause_id, name="春の寄付", starts_at=starts_at or now - timedelta(days=1),
        ends_at=ends_at or now + timedelta(days=30), funder=funder, share_bp=share_bp,
        fixed_yen=fixed_yen, merchant_ids=merchant_ids,
    )
    with server.state.db.write() as session:
        return donations.create_campaign(session, new, now=now).id


def pay(server: Server, terminal: TerminalClient, amount_yen: int) -> dict[str, Any]:
    """Pay ``amount_yen`` with a consumer-presented code; return the Payment JSON."""
    payment, _wallet = pay_from_new_wallet(server, terminal, amount_yen)
    return payment


def refund(terminal: TerminalClient, payment_id: str, amount_yen: int) -> httpx.Response:
    return terminal.post(f"/v1/payments/{payment_id}/refunds", {
        "amount_yen": amount_yen, "idempotency_key": f"refund-{uuid.uuid4().hex}",
    })


def fund_fees(server: Server, amount_yen: int) -> None:
    """Put ``amount_yen`` of fee income on the operator's fee account."""
    with server.state.db.write() as session:
        ledger.issue(session, transfer_id=f"test-fees:{uuid.uuid4().hex}",
                     issuer_id=ISSUANCE_ACCOUNT_ID, destination_id=FEE_ACCOUNT_ID,
                     amount_yen=amount_yen, now=server.clock())


def held_yen(server: Server, account_id: str) -> int:
    with server.state.db.read() as session:
        return sum(ledger.held_balance(session, account_id).values())


def donation_rows(server: Server) -> list[DonationRow]:
    with server.state.db.read() as session:
        return list(session.scalars(select(DonationRow).order_by(DonationRow.seq)))


def verify(server: Server) -> None:
    with server.state.db.read() as session:
        ledger.verify_ledger(session)


# --- amounts -------------------------------------------------------------------------------


def test_percent_share_rounds_down(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=100)
    terminal = server.new_terminal()

    payment = pay(server, terminal, 1_299)

    assert payment["donations"] == [{"cause": CAUSE_NAME, "amount_yen": 12}]
    assert held_yen(server, cause_id) == 12
    assert held_yen(server, terminal.merchant_id) == 1_287
    rows = donation_rows(server)
    assert rows[0].transfer_id == f"donation:{payment['payment_id']}:{rows[0].campaign_id}"
    verify(server)


def test_share_under_one_yen_records_nothing(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=100)
    terminal = server.new_terminal()

    payment = pay(server, terminal, 99)

    assert payment["donations"] == []
    assert donation_rows(server) == []
    assert held_yen(server, cause_id) == 0
    verify(server)


def test_fixed_amount_capped_at_payment(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, fixed_yen=50)
    terminal = server.new_terminal()

    large = pay(server, terminal, 1_000)
    small = pay(server, terminal, 30)

    assert large["donations"] == [{"cause": CAUSE_NAME, "amount_yen": 50}]
    assert small["donations"] == [{"cause": CAUSE_NAME, "amount_yen": 30}]
    assert held_yen(server, cause_id) == 80
    assert held_yen(server, terminal.merchant_id) == 950
    verify(server)


def test_merchant_funded_campaigns_capped_together(server: Server) -> None:
    first_cause = make_cause(server, "喜多方の桜を守る会")
    second_cause = make_cause(server)
    make_campaign(server, first_cause, fixed_yen=600)
    make_campaign(server, second_cause, fixed_yen=600)
    terminal = server.new_terminal()

    payment = pay(server, terminal, 1_000)

    assert payment["donations"] == [{"cause": "喜多方の桜を守る会", "amount_yen": 600},
                                    {"cause": CAUSE_NAME, "amount_yen": 400}]
    assert held_yen(server, terminal.merchant_id) == 0
    verify(server)


def test_mpm_payment_donates(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=250)
    terminal = server.new_terminal()
    wallet = server.new_wallet(2_000)
    intent = terminal.post("/v1/intents", {"amount_yen": 2_000,
                                           "idempotency_key": "sale-00001"}).json()

    paid = wallet.post(f"/v1/intents/{intent['intent_id']}/pay",
                       {"amount_yen": 2_000, "idempotency_key": "wallet-pay-1"})
    polled = terminal.get(f"/v1/intents/{intent['intent_id']}").json()

    assert paid.json()["donations"] == [{"cause": CAUSE_NAME, "amount_yen": 50}]
    assert polled["payment"]["donations"] == [{"cause": CAUSE_NAME, "amount_yen": 50}]
    assert held_yen(server, cause_id) == 50
    verify(server)


# --- funding -------------------------------------------------------------------------------


def test_operator_funds_from_fees(server: Server) -> None:
    fund_fees(server, 500)
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=100, funder="operator")
    terminal = server.new_terminal()

    payment = pay(server, terminal, 1_000)

    assert payment["donations"] == [{"cause": CAUSE_NAME, "amount_yen": 10}]
    assert held_yen(server, terminal.merchant_id) == 1_000
    assert held_yen(server, FEE_ACCOUNT_ID) == 490
    assert held_yen(server, cause_id) == 10
    assert donation_rows(server)[0].status == "booked"
    verify(server)


def test_operator_short_records_owed(server: Server) -> None:
    fund_fees(server, 5)
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=100, funder="operator")
    terminal = server.new_terminal()

    payment = pay(server, terminal, 1_000)

    assert payment["donations"] == [{"cause": CAUSE_NAME, "amount_yen": 10}]
    assert held_yen(server, FEE_ACCOUNT_ID) == 5
    assert held_yen(server, cause_id) == 0
    row = donation_rows(server)[0]
    assert row.status == "owed"
    assert row.booked_yen == 0
    with server.state.db.read() as session:
        assert donations.owed_yen(session, cause_id) == 10
    verify(server)


def test_owed_donations_settle_in_order(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=100, funder="operator")
    terminal = server.new_terminal()
    for amount_yen in (1_000, 3_000, 500):
        pay(server, terminal, amount_yen)

    fund_fees(server, 25)
    with server.state.db.write() as session:
        first = donations.settle_owed(session, now=server.clock())
    fund_fees(server, 100)
    with server.state.db.write() as session:
        second = donations.settle_owed(session, now=server.clock())
    with server.state.db.write() as session:
        third = donations.settle_owed(session, now=server.clock())

    # 10 yen fits, then 30 yen does not fit the 15 left, so the 5 yen after it waits too.
    assert (first.settled_count, first.settled_yen) == (1, 10)
    assert (first.still_owed_count, first.still_owed_yen) == (2, 35)
    assert (second.settled_count, second.settled_yen, second.still_owed_yen) == (2, 35, 0)
    assert (third.settled_count, third.settled_yen) == (0, 0)
    assert held_yen(server, cause_id) == 45
    assert held_yen(server, FEE_ACCOUNT_ID) == 80
    assert [row.status for row in donation_rows(server)] == ["booked"] * 3
    verify(server)


# --- periods and scope ---------------------------------------------------------------------


def test_period_start_included_end_excluded(server: Server) -> None:
    cause_id = make_cause(server)
    starts_at = server.clock() + timedelta(hours=1)
    make_campaign(server, cause_id, fixed_yen=10, starts_at=starts_at,
                  ends_at=starts_at + timedelta(hours=1))
    terminal = server.new_terminal()
    donations_per_payment: list[list[Any]] = []

    for moment in (starts_at - timedelta(seconds=1), starts_at,
                   starts_at + timedelta(minutes=59, seconds=59), starts_at + timedelta(hours=1)):
        server.clock.now = moment
        donations_per_payment.append(pay(server, terminal, 100)["donations"])

    assert donations_per_payment == [[], [{"cause": CAUSE_NAME, "amount_yen": 10}],
                     [{"cause": CAUSE_NAME, "amount_yen": 10}], []]
    assert held_yen(server, cause_id) == 20
    verify(server)


def test_merchant_scope_limits_campaign(server: Server) -> None:
    cause_id = make_cause(server)
    listed = server.new_terminal()
    other = server.new_terminal()
    make_campaign(server, cause_id, share_bp=500, merchant_ids=(listed.merchant_id,))

    listed_payment = pay(server, listed, 1_000)
    other_payment = pay(server, other, 1_000)

    assert listed_payment["donations"] == [{"cause": CAUSE_NAME, "amount_yen": 50}]
    assert other_payment["donations"] == []
    assert held_yen(server, other.merchant_id) == 1_000
    verify(server)


def test_campaign_rejects_bad_terms(server: Server) -> None:
    cause_id = make_cause(server)
    now = server.clock()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"share_bp": 0}, "share 0 bp is out of range"),
        ({"share_bp": 100, "fixed_yen": 5}, "exactly one of"),
        ({"fixed_yen": 5, "funder": "city"}, "funder 'city' is unknown"),
        ({"fixed_yen": 5, "ends_at": now - timedelta(days=2)}, "not after it starts"),
        ({"fixed_yen": 5, "merchant_ids": ("m_missing",)}, "merchant m_missing does not exist"),
    ]
    for overrides, expected in cases:
        with pytest.raises(ServerError) as caught:
            make_campaign(server, cause_id, **overrides)
        assert expected in str(caught.value)


# --- offline sync --------------------------------------------------------------------------


def test_offline_sync_books_once(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=300)
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    terminal = server.new_terminal()
    entry = offline_entry(holder.code(server.clock()), 1_000, server.clock())

    first = send_batch(terminal, [entry])
    again = send_batch(terminal, [entry])
    payment = terminal.get(f"/v1/payments/{first[0]['payment_id']}").json()

    assert first[0]["status"] == "applied"
    assert again[0]["status"] == "duplicate"
    assert payment["donations"] == [{"cause": CAUSE_NAME, "amount_yen": 30}]
    assert len(donation_rows(server)) == 1
    assert held_yen(server, cause_id) == 30
    assert held_yen(server, terminal.merchant_id) == 970
    verify(server)


# --- refunds -------------------------------------------------------------------------------


def test_partial_refunds_return_whole_donation(server: Server) -> None:
    fund_fees(server, 1_000)
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=300, funder="operator")
    terminal = server.new_terminal()
    payment = pay(server, terminal, 1_000)
    returned: list[int] = []

    for amount_yen in (333, 333, 334):
        response = refund(terminal, payment["payment_id"], amount_yen)
        assert response.status_code == 200, response.text
        returned.append(30 - sum(line["amount_yen"]
                                 for line in response.json()["payment"]["donations"]))

    # 30 * 333 // 1000 = 9, 30 * 666 // 1000 = 19, then all 30.
    assert returned == [9, 19, 30]
    assert held_yen(server, cause_id) == 0
    assert held_yen(server, FEE_ACCOUNT_ID) == 1_000
    row = donation_rows(server)[0]
    assert (row.returned_yen, row.reversed_yen, row.refunded_payment_yen) == (30, 30, 1_000)
    verify(server)


def test_partial_refund_returns_share(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=100)
    terminal = server.new_terminal()
    pay(server, terminal, 5_000)  # other sales the shop holds
    payment = pay(server, terminal, 1_000)

    response = refund(terminal, payment["payment_id"], 550)

    assert response.status_code == 200, response.text
    assert response.json()["payment"]["donations"] == [{"cause": CAUSE_NAME, "amount_yen": 5}]
    assert held_yen(server, cause_id) == 50 + 5
    assert held_yen(server, terminal.merchant_id) == 4_950 + 990 - 550 + 5
    verify(server)


def test_merchant_funded_refunds_sum_to_whole(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=300)
    terminal = server.new_terminal()
    pay(server, terminal, 2_000)  # other sales the shop holds
    payment = pay(server, terminal, 1_000)

    for amount_yen in (100, 450, 449, 1):
        assert refund(terminal, payment["payment_id"], amount_yen).status_code == 200

    rows = donation_rows(server)
    assert rows[1].returned_yen == 30
    assert held_yen(server, cause_id) == 60
    assert held_yen(server, terminal.merchant_id) == 2_000 - 60
    verify(server)


def test_full_refund_when_shop_holds_nothing_else(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=300)
    terminal = server.new_terminal()
    payment = pay(server, terminal, 1_000)

    response = refund(terminal, payment["payment_id"], 1_000)

    assert response.status_code == 200, response.text
    assert held_yen(server, cause_id) == 0
    assert held_yen(server, terminal.merchant_id) == 0


def test_refund_of_owed_donation_moves_nothing(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=200, funder="operator")
    terminal = server.new_terminal()
    half = pay(server, terminal, 1_000)
    whole = pay(server, terminal, 1_000)

    assert refund(terminal, half["payment_id"], 500).status_code == 200
    assert refund(terminal, whole["payment_id"], 1_000).status_code == 200
    fund_fees(server, 100)
    with server.state.db.write() as session:
        summary = donations.settle_owed(session, now=server.clock())

    assert [row.status for row in donation_rows(server)] == ["booked", "cancelled"]
    assert (summary.settled_count, summary.settled_yen) == (1, 10)
    assert held_yen(server, cause_id) == 10
    assert held_yen(server, FEE_ACCOUNT_ID) == 90
    verify(server)


def test_no_campaign_no_rows(server: Server) -> None:
    terminal = server.new_terminal()

    payment = pay(server, terminal, 1_000)

    assert payment["donations"] == []
    with server.state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(DonationRow)) == 0


def test_refund_by_sync_returns_share(server: Server) -> None:
    fund_fees(server, 100)
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=500, funder="operator")
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    terminal = server.new_terminal()
    paid = send_batch(terminal, [offline_entry(holder.code(server.clock()), 2_000,
                                               server.clock())])
    payment_id = paid[0]["payment_id"]

    refunded = send_batch(terminal, [{
        "entry_id": f"e-{uuid.uuid4().hex}", "seq": 2, "kind": "refund",
        "captured_at": server.clock().isoformat(), "amount_yen": 2_000,
        "payment_id": payment_id,
    }])

    assert refunded[0]["status"] == "applied", refunded
    assert terminal.get(f"/v1/payments/{payment_id}").json()["donations"] == []
    assert held_yen(server, cause_id) == 0
    assert held_yen(server, FEE_ACCOUNT_ID) == 100
    verify(server)


def test_concurrent_operator_donations_never_overdraw_fees(server: Server) -> None:
    fund_fees(server, 15)
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=100, funder="operator")
    terminal = server.new_terminal()
    wallets = [server.wallet_row(server.new_wallet(1_000).wallet_id) for _ in range(4)]

    def pay_concurrently(session: Session, index: int) -> object:
        wallet = wallets[index]
        return payments.book_payment(
            session, wallet_id=wallet.id, wallet_account_id=wallet.account_id,
            merchant_id=terminal.merchant_id, merchant_account_id=terminal.merchant_id,
            terminal_id=terminal.terminal_id, transfer_id=f"cpm:{terminal.terminal_id}:c{index}",
            amount_yen=1_000, method="cpm", tax_lines=[], now=server.clock(),
        )

    outcomes = server.write_concurrently(len(wallets), pay_concurrently)

    assert outcomes == ["ok"] * len(wallets)
    statuses = sorted(row.status for row in donation_rows(server))
    assert statuses == ["booked", "owed", "owed", "owed"]
    assert held_yen(server, FEE_ACCOUNT_ID) == 5
    assert held_yen(server, cause_id) == 10
    verify(server)


def test_booking_and_return_repeat_nothing(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=1_000)
    terminal = server.new_terminal()
    paid = pay(server, terminal, 1_000)
    response = refund(terminal, paid["payment_id"], 400)
    assert response.status_code == 200, response.text

    with server.state.db.write() as session:
        payment = session.scalars(select(Payment).where(
            Payment.id == paid["payment_id"])).one()
        refund_row = session.scalars(select(Refund)).one()
        donations.book_for_payment(session, payment, now=server.clock())
        donations.reverse_for_refund(session, payment, refund_id=refund_row.id,
                                     refund_yen=refund_row.amount_yen, now=server.clock())

    rows = donation_rows(server)
    assert len(rows) == 1
    assert (rows[0].amount_yen, rows[0].returned_yen, rows[0].reversed_yen) == (100, 40, 40)
    assert held_yen(server, cause_id) == 60
    with server.state.db.read() as session:
        events = session.scalars(select(DonationEvent.key).order_by(DonationEvent.seq)).all()
    assert list(events) == ["donated", f"refund:{response.json()['refund_id']}"]
    verify(server)


def test_donations_of_many_payments(server: Server) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, share_bp=100)
    terminal = server.new_terminal()
    giving = pay(server, terminal, 1_000)
    tiny = pay(server, terminal, 50)

    with server.state.db.read() as session:
        lines = donations.donations_by_payment(session, [giving["payment_id"], tiny["payment_id"]])

    assert lines == {giving["payment_id"]: [DonationLine(cause=CAUSE_NAME, amount_yen=10)]}
