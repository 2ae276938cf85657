"""Refunds of donations a cause has already paid out, and the repayment before its next payout."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from money_helpers import pay_from_new_wallet
from settle_helpers import Server, TerminalClient, WalletClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_donation_cause_payouts import cash_outs, held_yen, pay_out, payee
from test_donation_payments import fund_fees, verify

from server import cli, donation_payouts, donations, payments
from server.donation_models import (
    EVENT_CLAWBACK_OWED,
    EVENT_CLAWBACK_REPAID,
    EVENT_RETURNED,
    DonationEvent,
    DonationRow,
)
from server.errors import ServerError
from server.models import FEE_ACCOUNT_ID
from terminal import protocol

NEXT_KEY = "kodomo-2026-05"
THIRD_KEY = "kodomo-2026-06"


@dataclass(frozen=True)
class Sale:
    payment_id: str
    wallet: WalletClient


def make_cause(server: Server, funder: str = "merchant") -> str:
    """Create a cause that receives 10 % of every payment, funded by ``funder``."""
    now = server.clock()
    with server.state.db.write() as session:
        cause_id = donations.create_cause(session, "会津こども食堂", now=now).id
        donations.create_campaign(session, donations.NewCampaign(
            cause_id=cause_id, name="春の寄付", starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30), funder=funder, share_bp=1_000,
        ), now=now)
    return cause_id


def sell(server: Server, terminal: TerminalClient, amount_yen: int) -> Sale:
    payment, wallet = pay_from_new_wallet(server, terminal, amount_yen)
    return Sale(str(payment["payment_id"]), wallet)


def refund(terminal: TerminalClient, payment_id: str, amount_yen: int) -> httpx.Response:
    return terminal.post(f"/v1/payments/{payment_id}/refunds", {
        "amount_yen": amount_yen, "idempotency_key": f"refund-{uuid.uuid4().hex}",
    })


def donation_row(server: Server, payment_id: str) -> DonationRow:
    with server.state.db.read() as session:
        return session.scalars(
            select(DonationRow).where(DonationRow.payment_id == payment_id)).one()


def events(server: Server, payment_id: str, kind: str) -> list[tuple[int, str | None]]:
    """Return (amount, transfer id) of the payment's donation events of ``kind``, in order."""
    with server.state.db.read() as session:
        rows = session.execute(
            select(DonationEvent.amount_yen, DonationEvent.transfer_id)
            .join(DonationRow, DonationRow.seq == DonationEvent.donation_seq)
            .where(DonationRow.payment_id == payment_id, DonationEvent.kind == kind)
            .order_by(DonationEvent.seq)
        ).all()
    return [(int(amount), transfer_id) for amount, transfer_id in rows]


def owed_back(server: Server, cause_id: str) -> int:
    with server.state.db.read() as session:
        return donations.owed_back_yen(session, cause_id)


def check_books(server: Server) -> None:
    server.assert_conserved()
    verify(server)


def paid_out_cause(server: Server) -> tuple[str, TerminalClient, Sale, str]:
    """Sell 20,000 yen twice at one shop, then pay all 4,000 donated yen out.

    Returns the cause id, the shop's terminal, the first sale and the payee merchant id.
    """
    cause_id = make_cause(server)
    terminal = server.new_terminal()
    first = sell(server, terminal, 20_000)
    sell(server, terminal, 20_000)
    merchant_id = payee(server)
    payout = pay_out(server, cause_id, merchant_id, None)
    assert payout.cash_out is not None
    assert payout.cash_out.amount_yen == 4_000
    assert held_yen(server, cause_id) == 0
    assert held_yen(server, terminal.merchant_id) == 36_000
    return cause_id, terminal, first, merchant_id


# --- refunds -------------------------------------------------------------------------------


def test_refund_after_payout_succeeds(server: Server) -> None:
    cause_id, terminal, first, _ = paid_out_cause(server)

    response = refund(terminal, first.payment_id, 20_000)

    assert response.status_code == 200, response.text
    assert first.wallet.balance_yen() == 20_000
    assert held_yen(server, cause_id) == 0
    # The shop pays the customer the 2,000 yen share the cause could not return.
    assert held_yen(server, terminal.merchant_id) == 16_000
    row = donation_row(server, first.payment_id)
    assert (row.returned_yen, row.reversed_yen, row.clawback_owed_yen) == (2_000, 0, 2_000)
    assert events(server, first.payment_id, EVENT_RETURNED) == [(2_000, None)]
    assert events(server, first.payment_id, EVENT_CLAWBACK_OWED) == [(2_000, None)]
    assert owed_back(server, cause_id) == 2_000
    check_books(server)


def test_next_payout_repays_merchant_first(server: Server) -> None:
    cause_id, terminal, first, merchant_id = paid_out_cause(server)
    assert refund(terminal, first.payment_id, 20_000).status_code == 200
    sell(server, server.new_terminal(), 30_000)   # 3,000 yen to the cause from another shop

    payout = pay_out(server, cause_id, merchant_id, None, key=NEXT_KEY)

    assert payout.created
    assert payout.repaid_yen == 2_000
    assert payout.cash_out is not None
    assert payout.cash_out.amount_yen == 1_000
    assert held_yen(server, terminal.merchant_id) == 18_000
    assert held_yen(server, cause_id) == 0
    row = donation_row(server, first.payment_id)
    assert (row.reversed_yen, row.clawback_owed_yen) == (2_000, 0)
    assert events(server, first.payment_id, EVENT_CLAWBACK_REPAID) == [
        (2_000, f"donation-clawback:{row.seq}:1")]
    assert owed_back(server, cause_id) == 0
    check_books(server)


def test_payout_same_key_repays_once(server: Server) -> None:
    cause_id, terminal, first, merchant_id = paid_out_cause(server)
    assert refund(terminal, first.payment_id, 20_000).status_code == 200
    sell(server, server.new_terminal(), 30_000)
    pay_out(server, cause_id, merchant_id, 500, key=NEXT_KEY)
    # A second refund after the payout leaves a new debt the repeated key must not touch.
    second = sell(server, terminal, 10_000)
    pay_out(server, cause_id, merchant_id, None, key=THIRD_KEY)
    assert refund(terminal, second.payment_id, 10_000).status_code == 200
    shop_before = held_yen(server, terminal.merchant_id)

    again = pay_out(server, cause_id, merchant_id, 500, key=NEXT_KEY)

    assert not again.created
    assert again.repaid_yen == 0
    assert held_yen(server, terminal.merchant_id) == shop_before
    assert len(events(server, first.payment_id, EVENT_CLAWBACK_REPAID)) == 1
    assert owed_back(server, cause_id) == 1_000
    assert len(cash_outs(server)) == 3
    check_books(server)


def test_operator_funded_owed_to_fee_account(server: Server) -> None:
    fund_fees(server, 10_000)
    cause_id = make_cause(server, funder="operator")
    terminal = server.new_terminal()
    first = sell(server, terminal, 20_000)
    merchant_id = payee(server)
    pay_out(server, cause_id, merchant_id, None)

    response = refund(terminal, first.payment_id, 20_000)
    owed_after_refund = owed_back(server, cause_id)
    fees_after_refund = held_yen(server, FEE_ACCOUNT_ID)
    sell(server, server.new_terminal(), 30_000)
    payout = pay_out(server, cause_id, merchant_id, 500, key=NEXT_KEY)

    assert response.status_code == 200, response.text
    assert first.wallet.balance_yen() == 20_000
    assert held_yen(server, terminal.merchant_id) == 0
    assert owed_after_refund == 2_000
    assert fees_after_refund == 8_000
    assert payout.repaid_yen == 2_000
    assert payout.cash_out is not None
    assert payout.cash_out.amount_yen == 500
    assert held_yen(server, FEE_ACCOUNT_ID) == 10_000 - 2_000 - 3_000 + 2_000
    assert held_yen(server, cause_id) == 500
    assert owed_back(server, cause_id) == 0
    check_books(server)


def test_partial_refunds_twice(server: Server) -> None:
    cause_id = make_cause(server)
    terminal = server.new_terminal()
    first = sell(server, terminal, 20_000)
    sell(server, terminal, 20_000)
    merchant_id = payee(server)
    pay_out(server, cause_id, merchant_id, 3_500)   # the cause keeps 500 yen

    first_refund = refund(terminal, first.payment_id, 10_000)   # share 1,000: 500 returned
    second_refund = refund(terminal, first.payment_id, 5_000)   # share 500: nothing held

    assert first_refund.status_code == 200, first_refund.text
    assert second_refund.status_code == 200, second_refund.text
    assert first.wallet.balance_yen() == 15_000
    assert held_yen(server, cause_id) == 0
    assert held_yen(server, terminal.merchant_id) == 36_000 + 500 - 15_000
    row = donation_row(server, first.payment_id)
    assert (row.returned_yen, row.reversed_yen, row.clawback_owed_yen) == (1_500, 500, 1_000)
    returned = events(server, first.payment_id, EVENT_RETURNED)
    assert [amount for amount, _ in returned] == [1_000, 500]
    assert returned[0][1] is not None
    assert returned[1][1] is None
    assert [amount for amount, _ in events(server, first.payment_id, EVENT_CLAWBACK_OWED)] == [
        500, 500]
    check_books(server)


def test_payout_stops_at_uncovered_debt(server: Server) -> None:
    cause_id, terminal, first, merchant_id = paid_out_cause(server)
    assert refund(terminal, first.payment_id, 20_000).status_code == 200
    sell(server, server.new_terminal(), 5_000)   # 500 yen to the cause, 2,000 owed back

    payout = pay_out(server, cause_id, merchant_id, None, key=NEXT_KEY)

    assert payout.cash_out is None
    assert not payout.created
    assert (payout.repaid_yen, payout.owed_back_yen) == (500, 1_500)
    assert held_yen(server, cause_id) == 0
    assert held_yen(server, terminal.merchant_id) == 16_500
    assert len(cash_outs(server)) == 1
    assert donation_row(server, first.payment_id).clawback_owed_yen == 1_500
    check_books(server)


def test_shop_short_refund_rejected(server: Server) -> None:
    cause_id = make_cause(server)
    terminal = server.new_terminal()
    sale = sell(server, terminal, 20_000)
    pay_out(server, cause_id, payee(server), None)

    # The shop holds 18,000 yen after its 2,000 yen donation, less than the refund.
    response = refund(terminal, sale.payment_id, 20_000)

    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert sale.wallet.balance_yen() == 0
    assert held_yen(server, terminal.merchant_id) == 18_000
    row = donation_row(server, sale.payment_id)
    assert (row.returned_yen, row.reversed_yen, row.clawback_owed_yen) == (0, 0, 0)
    assert events(server, sale.payment_id, EVENT_RETURNED) == []
    assert events(server, sale.payment_id, EVENT_CLAWBACK_OWED) == []
    check_books(server)


# --- the command line ----------------------------------------------------------------------


def test_cli_keeps_partial_repayment(server: Server, db_url: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    cause_id, terminal, first, merchant_id = paid_out_cause(server)
    assert refund(terminal, first.payment_id, 20_000).status_code == 200
    sell(server, server.new_terminal(), 5_000)
    capsys.readouterr()

    status = cli.main(["donation-cause-pay-out", "--db", db_url, "--cause", cause_id,
                       "--merchant", merchant_id, "--all", "--key", NEXT_KEY])
    output = capsys.readouterr()
    causes_status = cli.main(["donation-causes", "--db", db_url])
    causes = capsys.readouterr().out.splitlines()

    assert status == 1
    assert output.out == (f"cause {cause_id} repaid 500 yen it owed back to the funders of"
                          " refunded donations\n")
    assert output.err == (f"chiiki-settle: cause {cause_id} still owes 1500 yen back to the"
                          " funders of refunded donations after repaying 500 yen from what it"
                          " held, so nothing was paid out; run the payout again after"
                          " donations arrive\n")
    assert held_yen(server, terminal.merchant_id) == 16_500
    assert causes_status == 0
    assert causes[0].split("\t")[-1] == "owes_back_yen"
    assert causes[1].split("\t") == [cause_id, "会津こども食堂", "0", "0", "none", "4000", "0",
                                     "1500"]
    check_books(server)


def test_amount_counts_after_repayment(server: Server) -> None:
    cause_id, terminal, first, merchant_id = paid_out_cause(server)
    assert refund(terminal, first.payment_id, 20_000).status_code == 200
    sell(server, server.new_terminal(), 30_000)

    with pytest.raises(ServerError, match=(
            f"--amount 1500 exceeds the 1000 yen cause {cause_id} holds after repaying 2000"
            " yen it owed back; pay out at most 1000 yen")):
        pay_out(server, cause_id, merchant_id, 1_500, key=NEXT_KEY)

    # The rejected payout rolls back, repayment included.
    assert owed_back(server, cause_id) == 2_000
    assert held_yen(server, cause_id) == 3_000
    assert held_yen(server, terminal.merchant_id) == 16_000
    check_books(server)


# --- concurrency ---------------------------------------------------------------------------


def test_refund_and_payout_at_once(server: Server) -> None:
    cause_id, terminal, first, merchant_id = paid_out_cause(server)
    second = sell(server, terminal, 20_000)   # 2,000 yen to the cause, 54,000 held by the shop
    pay_out(server, cause_id, merchant_id, None, key=THIRD_KEY)
    assert refund(terminal, first.payment_id, 20_000).status_code == 200   # 2,000 owed back
    sell(server, server.new_terminal(), 30_000)   # the cause holds 3,000 yen
    terminal_row = server.terminal_row(terminal.terminal_id)
    request = protocol.RefundCreate(amount_yen=20_000, idempotency_key="refund-second-1")

    def act(session: Session, index: int) -> object:
        if index == 0:
            return donation_payouts.pay_out_cause(session, cause_id, merchant_id, None,
                                                  NEXT_KEY, server.settings)
        return payments.refund_payment(session, terminal_row, second.payment_id, request,
                                       server.settings)

    outcomes = server.write_concurrently(2, act)

    assert outcomes == ["ok", "ok"]
    assert second.wallet.balance_yen() == 20_000
    # Payout first: it repays 2,000 and pays 1,000 out, and the refund finds 0 yen held.
    # Refund first: it takes 2,000 back, and the payout repays 1,000 and pays nothing out.
    payout_first = (2_000, 3, 0)
    refund_first = (1_000, 2, 0)
    assert (owed_back(server, cause_id), len(cash_outs(server)),
            held_yen(server, cause_id)) in (payout_first, refund_first)
    with server.state.db.read() as session:
        rows = session.scalars(select(DonationRow).where(DonationRow.cause_id == cause_id))
        net_received_yen = sum(row.booked_yen - row.reversed_yen for row in rows)
    paid_out_yen = sum(row.amount_yen for row in cash_outs(server))
    assert held_yen(server, cause_id) == net_received_yen - paid_out_yen
    check_books(server)
