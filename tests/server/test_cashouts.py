"""Cash-outs over the terminal API: preview, booking, fees per month, limits and concurrency."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from money_helpers import MIZUHO_TOKYO, cash_out, load_plans, sell, set_bank, shop
from settle_helpers import Server
from sqlalchemy import select

from server import bank_accounts, cashout, ledger
from server.bank_accounts import BankAccountDetails
from server.errors import ServerError
from server.models import (
    FEE_ACCOUNT_ID,
    ISSUANCE_ACCOUNT_ID,
    PAYOUT_CLEARING_ACCOUNT_ID,
    CashOut,
)
from server.zengin_banks import default_directory
from terminal.protocol import ValueKind


def _held_yen(server: Server, account_id: str) -> int:
    with server.state.db.read() as session:
        return sum(ledger.held_balance(session, account_id).values())


def _mark_in_file(server: Server, cash_out_id: str) -> None:
    with server.state.db.write() as session:
        row = session.scalars(select(CashOut).where(CashOut.id == cash_out_id)).one()
        row.status = cashout.IN_FILE


def _settle(server: Server, cash_out_id: str, *, paid: bool) -> None:
    _mark_in_file(server, cash_out_id)
    with server.state.db.write() as session:
        cashout.settle(session, cash_out_id, paid=paid, now=server.clock(), reason="code 1")


# --- preview and booking -------------------------------------------------------------------


def test_preview_shows_fee_net_and_date(server: Server) -> None:
    terminal = shop(server, 50_000)

    preview = terminal.get("/v1/cash-outs/preview?amount_yen=20000")

    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["amount_yen"] == 20_000
    assert body["balance_yen"] == 50_000
    assert body["fixed_fee_yen"] == 500
    assert body["metered_fee_yen"] == 600          # 3 % of 20,000
    assert body["fee_yen"] == 1_100
    assert body["net_yen"] == 18_900
    # The fake clock starts at 10:00 on Wednesday 1 April 2026 in Japan, before the cut-off.
    assert body["payout_date"] == "2026-04-01"
    assert body["month"] == "2026-04"
    assert body["month_volume_yen"] == 0
    assert body["fee_plan"] == "default"
    assert body["bank_account"] == {
        "bank_code": "0001", "branch_code": "001", "account_type": 1,
        "account_number_last4": "4567", "holder_name": "ｱｲﾂﾞｺｲﾝｼﾖｳﾃﾝ",
        "bank_name": "みずほ", "branch_name": "東京営業部",
    }
    assert _held_yen(server, terminal.merchant_id) == 50_000


def test_cash_out_books_net_and_fee(server: Server) -> None:
    terminal = shop(server, 50_000)

    response = cash_out(terminal, 20_000)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "requested"
    assert (body["amount_yen"], body["fee_yen"], body["net_yen"]) == (20_000, 1_100, 18_900)
    assert _held_yen(server, terminal.merchant_id) == 30_000
    assert _held_yen(server, FEE_ACCOUNT_ID) == 1_100
    assert _held_yen(server, PAYOUT_CLEARING_ACCOUNT_ID) == 18_900
    balance = terminal.get("/v1/merchant/balance").json()
    assert balance == {"merchant_id": terminal.merchant_id, "total_yen": 30_000,
                       "kinds": {"coin": 30_000}, "pending_payout_yen": 18_900}


def test_cash_out_after_cutoff_paid_next_day(server: Server) -> None:
    terminal = shop(server, 50_000)
    server.clock.advance(5 * 3600)   # 15:00 in Japan

    body = cash_out(terminal, 10_000).json()

    assert body["payout_date"] == "2026-04-02"


def test_cash_out_same_key_once(server: Server) -> None:
    terminal = shop(server, 50_000)

    first = cash_out(terminal, 20_000).json()
    again = cash_out(terminal, 20_000).json()
    conflict = cash_out(terminal, 10_000)

    assert again == first
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert f"already requested cash-out {first['cash_out_id']} of 20000 yen" in (
        conflict.json()["error"]["message"])
    assert _held_yen(server, terminal.merchant_id) == 30_000


def test_cash_out_list_newest_first(server: Server) -> None:
    terminal = shop(server, 50_000)
    first = cash_out(terminal, 10_000, "cashout-0001").json()["cash_out_id"]
    second = cash_out(terminal, 5_000, "cashout-0002").json()["cash_out_id"]
    other = shop(server, 10_000)

    listed = terminal.get("/v1/cash-outs").json()["cash_outs"]
    other_listed = other.get("/v1/cash-outs").json()["cash_outs"]

    assert [item["cash_out_id"] for item in listed] == [second, first]
    assert [item["status"] for item in listed] == ["requested", "requested"]
    assert other_listed == []


# --- fees across a month -------------------------------------------------------------------


def test_month_volume_raises_tier(server: Server) -> None:
    terminal = shop(server, 600_000)
    sell(server, terminal, 600_000)

    first = cash_out(terminal, 90_000, "cashout-0001").json()
    second = cash_out(terminal, 20_000, "cashout-0002").json()

    assert (first["fixed_fee_yen"], first["metered_fee_yen"]) == (500, 2_700)
    # 10,000 yen at 3 % up to the 100,000 yen boundary, 10,000 yen at 2 % above it.
    assert (second["fixed_fee_yen"], second["metered_fee_yen"]) == (0, 500)


def test_new_month_resets_volume_and_fixed(server: Server) -> None:
    terminal = shop(server, 600_000)
    cash_out(terminal, 200_000, "cashout-0001")
    # 1 April 10:00 JST plus 30 days and 14 hours is 2 May 00:00 JST.
    server.clock.advance(timedelta(days=30, hours=14).total_seconds())

    preview = terminal.get("/v1/cash-outs/preview?amount_yen=10000").json()

    assert preview["month"] == "2026-05"
    assert preview["month_volume_yen"] == 0
    assert (preview["fixed_fee_yen"], preview["metered_fee_yen"]) == (500, 300)
    # Saturday 2 May: paid after Golden Week, on Thursday 7 May.
    assert preview["payout_date"] == "2026-05-07"


def test_month_boundary_in_japan_time(server: Server) -> None:
    terminal = shop(server, 100_000)
    # 30 April 14:59 UTC is still April in Japan (23:59); one minute later it is May.
    server.clock.now = server.clock.now.replace(month=4, day=30, hour=14, minute=59)
    april = cash_out(terminal, 10_000, "cashout-0001").json()
    server.clock.advance(60)
    may = cash_out(terminal, 10_000, "cashout-0002").json()

    assert (april["month"], may["month"]) == ("2026-04", "2026-05")
    assert may["fixed_fee_yen"] == 500


# --- limits --------------------------------------------------------------------------------


def test_cash_out_over_balance_rejected(server: Server) -> None:
    terminal = shop(server, 5_000)

    response = cash_out(terminal, 5_001)

    assert response.status_code == 402
    assert response.json()["error"] == {
        "code": "insufficient_funds",
        "message": "cash-out of 5001 yen exceeds the balance of 5000 yen;"
                   " cash out at most 5000 yen",
    }
    assert _held_yen(server, terminal.merchant_id) == 5_000


@pytest.mark.parametrize("amount_yen", [1_000_001, 99999999999999999999999])
def test_cash_out_above_max_amount_out_of_range(server: Server, amount_yen: int) -> None:
    terminal = shop(server, 5_000)
    message = f"amount_yen {amount_yen} is out of range; allowed: 1 to 1000000 yen"

    preview = terminal.get(f"/v1/cash-outs/preview?amount_yen={amount_yen}")
    response = cash_out(terminal, amount_yen)

    assert preview.status_code == 422, preview.text
    assert preview.json()["error"] == {"code": "invalid_request", "message": message}
    assert response.status_code == 422, response.text
    assert response.json()["error"] == {"code": "invalid_request", "message": message}
    assert _held_yen(server, terminal.merchant_id) == 5_000


def test_cash_out_below_fee_rejected(server: Server) -> None:
    terminal = shop(server, 5_000)

    response = cash_out(terminal, 515)    # 500 monthly + 15 metered leaves nothing

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "amount_below_fee"
    assert "does not cover its fee of 515 yen (500 yen monthly, 15 yen metered)" in (
        response.json()["error"]["message"])
    assert cash_out(terminal, 516, "cashout-0002").json()["net_yen"] == 1


def test_whole_balance_cashed_out(server: Server) -> None:
    terminal = shop(server, 5_000)

    body = cash_out(terminal, 5_000).json()

    assert (body["fee_yen"], body["net_yen"]) == (650, 4_350)
    assert _held_yen(server, terminal.merchant_id) == 0


def test_cash_out_needs_bank_account(server: Server) -> None:
    load_plans(server)
    terminal = server.new_terminal()
    sell(server, terminal, 5_000)

    preview = terminal.get("/v1/cash-outs/preview?amount_yen=1000")
    response = cash_out(terminal, 1_000)

    assert preview.status_code == 409
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "bank_account_missing"
    assert "chiiki-settle set-bank-account" in response.json()["error"]["message"]


def test_cash_out_needs_fee_plan(server: Server) -> None:
    terminal = server.new_terminal()
    set_bank(server, terminal.merchant_id)
    sell(server, terminal, 5_000)

    response = cash_out(terminal, 1_000)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "fee_plan_missing"
    assert _held_yen(server, terminal.merchant_id) == 5_000


@pytest.mark.parametrize(("body", "message"), [
    ({"amount_yen": "1000", "idempotency_key": "cashout-0001"},
     'amount_yen = "1000" is invalid: expected a whole number of yen'),
    ({"amount_yen": 0, "idempotency_key": "cashout-0001"}, "amount_yen = 0 is invalid"),
    ({"amount_yen": 1000, "idempotency_key": "short"}, 'idempotency_key = "short" is invalid'),
    ({"idempotency_key": "cashout-0001"}, "amount_yen is missing"),
])
def test_cash_out_bad_body_named(server: Server, body: object, message: str) -> None:
    terminal = shop(server, 5_000)

    response = terminal.post("/v1/cash-outs", body)

    assert response.status_code == 422
    assert message in response.json()["error"]["message"]


@pytest.mark.parametrize(("query", "message"), [
    ("amount_yen=abc", 'amount_yen = "abc" is invalid'),
    ("amount_yen=0", 'amount_yen = "0" is invalid'),
    ("", "amount_yen is missing"),
])
def test_preview_bad_query_named(server: Server, query: str, message: str) -> None:
    terminal = shop(server, 5_000)

    response = terminal.get(f"/v1/cash-outs/preview?{query}".rstrip("?"))

    assert response.status_code == 422
    assert message in response.json()["error"]["message"]


def test_cash_out_needs_signature(server: Server) -> None:
    response = server.client.post("/v1/cash-outs", json={
        "amount_yen": 1000, "idempotency_key": "cashout-0001"})

    assert response.status_code == 401


# --- payout outcomes -----------------------------------------------------------------------


def test_failed_payout_returns_amount_and_fee(server: Server) -> None:
    terminal = shop(server, 50_000)
    cash_out_id = cash_out(terminal, 20_000).json()["cash_out_id"]

    _settle(server, cash_out_id, paid=False)

    listed = terminal.get("/v1/cash-outs").json()["cash_outs"][0]
    assert listed["status"] == "failed"
    assert listed["failure_reason"] == "code 1"
    assert _held_yen(server, terminal.merchant_id) == 50_000
    assert _held_yen(server, FEE_ACCOUNT_ID) == 0
    assert _held_yen(server, PAYOUT_CLEARING_ACCOUNT_ID) == 0
    # The failed cash-out no longer counts: the next one pays the monthly part again.
    preview = terminal.get("/v1/cash-outs/preview?amount_yen=20000").json()
    assert (preview["month_volume_yen"], preview["fixed_fee_yen"]) == (0, 500)


def test_paid_payout_retires_coin(server: Server) -> None:
    terminal = shop(server, 50_000)
    with server.state.db.read() as session:
        issued_before = ledger.balance(session, ISSUANCE_ACCOUNT_ID, now=server.clock())
    cash_out_id = cash_out(terminal, 20_000).json()["cash_out_id"]

    _settle(server, cash_out_id, paid=True)

    with server.state.db.read() as session:
        issued_after = ledger.balance(session, ISSUANCE_ACCOUNT_ID, now=server.clock())
    assert issued_after[ValueKind.COIN] - issued_before[ValueKind.COIN] == 18_900
    assert _held_yen(server, PAYOUT_CLEARING_ACCOUNT_ID) == 0
    assert _held_yen(server, FEE_ACCOUNT_ID) == 1_100
    assert terminal.get("/v1/merchant/balance").json()["pending_payout_yen"] == 0


def test_settle_requires_in_file(server: Server) -> None:
    terminal = shop(server, 50_000)
    cash_out_id = cash_out(terminal, 20_000).json()["cash_out_id"]

    with pytest.raises(ServerError, match="is requested, so it cannot be marked paid"), \
            server.state.db.write() as session:
        cashout.settle(session, cash_out_id, paid=True, now=server.clock())


# --- expired premium points ----------------------------------------------------------------


def test_expired_premium_points_cashed_out(server: Server) -> None:
    terminal = shop(server)
    wallet = server.new_wallet()
    expires_at = server.clock() + timedelta(days=1)
    with server.state.db.write() as session:
        ledger.issue(session, transfer_id=f"premium-{uuid.uuid4().hex}",
                     issuer_id=ISSUANCE_ACCOUNT_ID, destination_id=wallet.wallet_id,
                     amount_yen=3_000, now=server.clock(), kind=ValueKind.PREMIUM_LOCAL,
                     expires_at=expires_at)
    code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    paid = terminal.post("/v1/payments/cpm", {
        "code": code, "amount_yen": 3_000, "idempotency_key": "sale-premium"})
    assert paid.status_code == 200, paid.text
    sell(server, terminal, 2_000)
    server.clock.advance(timedelta(days=2).total_seconds())

    balance = terminal.get("/v1/merchant/balance").json()
    response = cash_out(terminal, 5_000)

    assert balance["total_yen"] == 5_000
    assert balance["kinds"] == {"premium_local": 3_000, "coin": 2_000}
    assert response.status_code == 200, response.text
    assert _held_yen(server, terminal.merchant_id) == 0
    assert _held_yen(server, PAYOUT_CLEARING_ACCOUNT_ID) == response.json()["net_yen"]


# --- concurrency ---------------------------------------------------------------------------


def test_concurrent_cash_outs_never_overdraw(server: Server) -> None:
    terminal = shop(server, 10_000)

    outcomes = server.write_concurrently(8, lambda session, index: cashout.request_cash_out(
        session, terminal.merchant_id, 3_000, f"cashout-{index:04d}", server.settings))

    assert outcomes.count("ok") == 3
    assert outcomes.count("insufficient_funds") == 5
    assert _held_yen(server, terminal.merchant_id) == 1_000
    with server.state.db.read() as session:
        rows = list(session.scalars(select(CashOut).order_by(CashOut.seq)))
    assert [row.amount_yen for row in rows] == [3_000] * 3
    # Priced one after the other: only the first pays the monthly part.
    assert [row.fixed_fee_yen for row in rows] == [500, 0, 0]
    assert sum(row.fee_yen for row in rows) == _held_yen(server, FEE_ACCOUNT_ID)


def test_concurrent_same_key_books_once(server: Server) -> None:
    terminal = shop(server, 10_000)

    outcomes = server.write_concurrently(6, lambda session, index: cashout.request_cash_out(
        session, terminal.merchant_id, 3_000, "cashout-same", server.settings))

    assert outcomes == ["ok"] * 6
    assert _held_yen(server, terminal.merchant_id) == 7_000
    with server.state.db.read() as session:
        count = len(list(session.scalars(select(CashOut))))
    assert count == 1


# --- bank accounts -------------------------------------------------------------------------


@pytest.mark.parametrize(("details", "message"), [
    (BankAccountDetails("001", "001", 1, "1234567", "ｱｲﾂﾞ"),
     "bank_code '001' is invalid; use exactly 4 digits"),
    (BankAccountDetails("9998", "001", 1, "1234567", "ｱｲﾂﾞ"),
     "bank_code 9998 is not a known bank"),
    (BankAccountDetails("0001", "1", 1, "1234567", "ｱｲﾂﾞ"),
     "branch_code '1' is invalid; use exactly 3 digits"),
    (BankAccountDetails("0001", "999", 1, "1234567", "ｱｲﾂﾞ"),
     "branch_code 999 is not a known branch of bank 0001"),
    (BankAccountDetails("0001", "001", 3, "1234567", "ｱｲﾂﾞ"),
     "account_type 3 is invalid; use 1 ordinary (普通), 2 current (当座), 4 savings (貯蓄)"),
    (BankAccountDetails("0001", "001", 1, "12345678", "ｱｲﾂﾞ"),
     "account_number '12345678' is invalid; use 1 to 7 digits"),
    (BankAccountDetails("0001", "001", 1, "1234567", "会津商店"),
     "holder_name"),
    (BankAccountDetails("0001", "001", 1, "1234567", ""), "holder_name"),
])
def test_bank_account_errors_name_field(
    details: BankAccountDetails, message: str
) -> None:
    with pytest.raises(ServerError) as caught:
        bank_accounts.check_details(details, default_directory())

    assert caught.value.code == "invalid_request"
    assert message in caught.value.message


def test_bank_account_normalised(server: Server) -> None:
    terminal = server.new_terminal()
    details = BankAccountDetails("0001", "001", 4, "89", "ａいづ　コイン")

    set_bank(server, terminal.merchant_id, details)
    set_bank(server, terminal.merchant_id, MIZUHO_TOKYO)
    with server.state.db.read() as session:
        first = bank_accounts.check_details(details, default_directory())
        row = bank_accounts.bank_account_for_cash_out(session, terminal.merchant_id)

    assert first.account_number == "0000089"
    assert first.holder_name == "Aｲﾂﾞ ｺｲﾝ"
    assert (row.account_type, row.account_number, row.holder_name) == (1, "1234567",
                                                                      "ｱｲﾂﾞｺｲﾝｼﾖｳﾃﾝ")
