"""Paying a donation cause its held value through the cash-out and payout-batch path."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from money_helpers import (
    MIZUHO_SENDER,
    MUFG_HEAD_OFFICE,
    PLAN_TOML,
    RECORD,
    data_records,
    load_plans,
    sell,
    set_bank,
)
from settle_helpers import Server, cli_db
from sqlalchemy import select

from server import cashout, cli, donation_payouts, donations, fees, ledger, payouts
from server.db import init_db
from server.errors import ServerError
from server.models import ISSUANCE_ACCOUNT_ID, PAYOUT_CLEARING_ACCOUNT_ID, CashOut, Merchant
from server.settings import Settings

ZERO_PLAN_TOML = """
[plans.zero]
fixed_monthly_yen = 0
tiers = [{ from_yen = 0, rate_bp = 0 }]
"""
KEY = "kodomo-2026-04"


# --- helpers -------------------------------------------------------------------------------


def cause_with_donations(server: Server, sales_yen: int = 20_000) -> str:
    """Make a cause that receives 10 % of one sale of ``sales_yen``; return its id."""
    now = server.clock()
    with server.state.db.write() as session:
        cause_id = donations.create_cause(session, "会津こども食堂", now=now).id
        donations.create_campaign(session, donations.NewCampaign(
            cause_id=cause_id, name="春の寄付", starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30), funder="merchant", share_bp=1_000,
        ), now=now)
    sell(server, server.new_terminal(), sales_yen)
    return cause_id


def payee(server: Server, plan: str | None = "zero", *, bank: bool = True) -> str:
    """Register the cause organisation as a merchant with a bank account and a fee plan."""
    load_plans(server, PLAN_TOML + ZERO_PLAN_TOML)
    merchant_id = server.new_merchant()
    if bank:
        set_bank(server, merchant_id, MUFG_HEAD_OFFICE)
    if plan is not None:
        with server.state.db.write() as session:
            fees.assign_plan(session, merchant_id, plan, now=server.clock())
    return merchant_id


def pay_out(server: Server, cause_id: str, merchant_id: str, amount_yen: int | None,
            key: str = KEY, settings: Settings | None = None) -> donation_payouts.CausePayout:
    with server.state.db.write() as session:
        return donation_payouts.pay_out_cause(session, cause_id, merchant_id, amount_yen, key,
                                              settings or server.settings)


def held_yen(server: Server, account_id: str) -> int:
    with server.state.db.read() as session:
        return sum(ledger.held_balance(session, account_id).values())


def cash_outs(server: Server) -> list[CashOut]:
    with server.state.db.read() as session:
        return list(session.scalars(select(CashOut).order_by(CashOut.seq)))


def totals(server: Server, cause_id: str) -> donation_payouts.CausePayoutTotals:
    with server.state.db.read() as session:
        return donation_payouts.payout_totals(session, cause_id)


def write_batch(server: Server, out: Path) -> list[payouts.WrittenBatch]:
    return payouts.write_payout_batch(server.state.db, server.clock().date(), out, [MIZUHO_SENDER],
                                      now=server.clock())


# --- the payout path -----------------------------------------------------------------------


def test_payout_paid_through_batch(server: Server, tmp_path: Path) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server)

    payout = pay_out(server, cause_id, merchant_id, 1_500)

    row = payout.cash_out
    assert payout.created
    assert (row.cause_id, row.merchant_id, row.status) == (cause_id, merchant_id, "requested")
    assert (row.amount_yen, row.fee_yen, row.net_yen, row.fee_plan) == (1_500, 0, 1_500, "zero")
    assert held_yen(server, cause_id) == 500
    assert held_yen(server, merchant_id) == 0
    assert held_yen(server, PAYOUT_CLEARING_ACCOUNT_ID) == 1_500
    assert totals(server, cause_id) == donation_payouts.CausePayoutTotals(1_500, 0)

    out = tmp_path / "payout.txt"
    written = write_batch(server, out)
    data = out.read_bytes()
    records = data_records(data)
    assert [batch.total_yen for batch in written] == [1_500]
    assert len(records) == 1
    assert records[0][1:5] == b"0005"                       # the payee's bank
    assert records[0][43:50] == b"7654321"                  # and account number
    assert records[0][80:90] == b"0000001500"               # the net amount
    assert records[0][91:101] == payouts.customer_code(row.seq).encode()

    results = bytearray(data)
    results[RECORD + 119] = ord("0")
    summary = payouts.apply_result_file(server.state.db, bytes(results), now=server.clock())

    assert summary.paid == [row.id]
    assert [item.status for item in cash_outs(server)] == ["paid"]
    assert totals(server, cause_id) == donation_payouts.CausePayoutTotals(0, 1_500)
    assert held_yen(server, PAYOUT_CLEARING_ACCOUNT_ID) == 0
    assert held_yen(server, cause_id) == 500
    server.assert_conserved()


def test_payout_fee_charged_on_default_plan(server: Server, tmp_path: Path) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server, plan=None)

    row = pay_out(server, cause_id, merchant_id, 2_000).cash_out
    write_batch(server, tmp_path / "payout.txt")

    # The default plan charges 500 yen a month and 3 % of the amount.
    assert (row.fee_plan, row.fee_yen, row.net_yen) == ("default", 560, 1_440)
    assert data_records((tmp_path / "payout.txt").read_bytes())[0][80:90] == b"0000001440"
    assert held_yen(server, cause_id) == 0
    server.assert_conserved()


def test_failed_payout_returns_value_to_payee(server: Server, tmp_path: Path) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server)
    row = pay_out(server, cause_id, merchant_id, 1_500).cash_out
    write_batch(server, tmp_path / "payout.txt")

    failed = payouts.mark(server.state.db, row.id, paid=False, now=server.clock(),
                          reason="account closed")

    assert failed.status == "failed"
    assert held_yen(server, merchant_id) == 1_500
    assert held_yen(server, cause_id) == 500
    assert held_yen(server, PAYOUT_CLEARING_ACCOUNT_ID) == 0
    assert totals(server, cause_id) == donation_payouts.CausePayoutTotals(0, 0)
    server.assert_conserved()


def test_failed_payout_paid_again_from_payee(server: Server, tmp_path: Path) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server)
    first = pay_out(server, cause_id, merchant_id, 1_500).cash_out
    write_batch(server, tmp_path / "first.txt")
    payouts.mark(server.state.db, first.id, paid=False, now=server.clock())

    with server.state.db.write() as session:
        retry = donation_payouts.pay_out_cause(session, cause_id, merchant_id, None,
                                               "kodomo-retry-1", server.settings,
                                               from_payee=True).cash_out
    write_batch(server, tmp_path / "retry.txt")
    payouts.mark(server.state.db, retry.id, paid=True, now=server.clock())

    assert (retry.cause_id, retry.amount_yen, retry.net_yen) == (cause_id, 1_500, 1_500)
    assert held_yen(server, merchant_id) == 0
    assert held_yen(server, cause_id) == 500
    assert totals(server, cause_id) == donation_payouts.CausePayoutTotals(0, 1_500)
    server.assert_conserved()


def test_from_payee_limited_to_payee_balance(server: Server) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server)

    for amount, message in [
        (None, f"merchant {merchant_id} holds 0 yen, so --all has nothing to pay out; leave out"
               " --from-payee to pay from the cause"),
        (100, f"--amount 100 exceeds the 0 yen merchant {merchant_id} holds"),
    ]:
        with pytest.raises(ServerError, match=message):
            with server.state.db.write() as session:
                donation_payouts.pay_out_cause(session, cause_id, merchant_id, amount, KEY,
                                               server.settings, from_payee=True)

    assert cash_outs(server) == []
    assert held_yen(server, cause_id) == 2_000


def test_payout_kinds_kept(server: Server) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server)
    with server.state.db.read() as session:
        kinds_before = ledger.held_balance(session, cause_id)

    pay_out(server, cause_id, merchant_id, None)

    with server.state.db.read() as session:
        assert ledger.transfer_kinds(session, f"donation-payout:{KEY}") == kinds_before


def test_cause_totals_api_shows_payouts(server: Server, tmp_path: Path) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server)
    first = pay_out(server, cause_id, merchant_id, 1_500).cash_out
    write_batch(server, tmp_path / "payout.txt")
    payouts.mark(server.state.db, first.id, paid=True, now=server.clock())
    pay_out(server, cause_id, merchant_id, 300, key="kodomo-2026-05")
    with server.state.db.write() as session:
        token = donations.issue_read_token(session, cause_id)

    response = server.client.get(f"/v1/donation-causes/{cause_id}/totals",
                                 headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["held_yen"], body["in_payout_yen"], body["paid_out_yen"]) == (200, 300, 1_500)
    assert body["net_yen"] == 2_000


# --- idempotency ---------------------------------------------------------------------------


def test_same_key_pays_once(server: Server) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server)
    first = pay_out(server, cause_id, merchant_id, 1_500)

    again = pay_out(server, cause_id, merchant_id, 1_500)
    again_all = pay_out(server, cause_id, merchant_id, None)

    assert not again.created
    assert not again_all.created
    assert again.cash_out.id == again_all.cash_out.id == first.cash_out.id
    assert len(cash_outs(server)) == 1
    assert held_yen(server, cause_id) == 500
    server.assert_conserved()


def test_same_key_other_terms_rejected(server: Server) -> None:
    cause_id = cause_with_donations(server)
    other_cause = cause_with_donations(server)
    merchant_id = payee(server)
    other_merchant = payee(server)
    first = pay_out(server, cause_id, merchant_id, 1_500).cash_out
    held_before = (held_yen(server, cause_id), held_yen(server, other_cause))
    expected = (f"key {KEY} was already used for cash-out {first.id} of 1500 yen from cause"
                f" {cause_id} to merchant {merchant_id}; repeat that payout unchanged")

    for cause, merchant, amount in [(cause_id, merchant_id, 1_000),
                                    (other_cause, merchant_id, 1_500),
                                    (cause_id, other_merchant, 1_500)]:
        with pytest.raises(ServerError, match=expected) as caught:
            pay_out(server, cause, merchant, amount)
        assert caught.value.code == "idempotency_conflict"

    assert len(cash_outs(server)) == 1
    assert (held_yen(server, cause_id), held_yen(server, other_cause)) == held_before
    assert held_yen(server, other_merchant) == 0
    server.assert_conserved()


def test_key_of_shop_cash_out_rejected(server: Server) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server)
    with server.state.db.write() as session:
        ledger.issue(session, transfer_id="seed-payee", issuer_id=ISSUANCE_ACCOUNT_ID,
                     destination_id=merchant_id, amount_yen=1_500, now=server.clock())
    with server.state.db.write() as session:
        own = cashout.request_cash_out(session, merchant_id, 1_500, KEY, server.settings)

    with pytest.raises(ServerError, match=f"merchant {merchant_id}'s own cash-out {own.id}"):
        pay_out(server, cause_id, merchant_id, 1_500)

    assert held_yen(server, cause_id) == 2_000


def test_parallel_runs_pay_once(server: Server) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server)

    outcomes = server.write_concurrently(4, lambda session, index: donation_payouts.pay_out_cause(
        session, cause_id, merchant_id, 1_500, KEY, server.settings))

    assert outcomes == ["ok"] * 4
    rows = cash_outs(server)
    assert [(row.cause_id, row.amount_yen) for row in rows] == [(cause_id, 1_500)]
    assert held_yen(server, cause_id) == 500
    assert held_yen(server, PAYOUT_CLEARING_ACCOUNT_ID) == 1_500
    server.assert_conserved()


# --- rejections ----------------------------------------------------------------------------


def test_rejections_change_nothing(server: Server) -> None:
    cause_id = cause_with_donations(server)
    empty_cause = cause_with_donations(server, sales_yen=9)   # 10 % of 9 yen rounds to 0
    merchant_id = payee(server)
    no_bank = payee(server, bank=False)
    small_limit = dataclasses.replace(server.settings, max_amount_yen=1_000)
    cases: list[tuple[str, str, int | None, str, Settings | None, str]] = [
        ("cause_nope", merchant_id, 100, KEY, None,
         "donation cause cause_nope does not exist; run chiiki-settle donation-causes"),
        (cause_id, "m_nope", 100, KEY, None,
         "merchant m_nope does not exist"),
        (cause_id, no_bank, 100, KEY, None,
         f"merchant {no_bank} has no bank account for cash-outs; the operator registers it with"
         " chiiki-settle set-bank-account"),
        (cause_id, merchant_id, 0, KEY, None,
         "--amount 0 is invalid; give the yen to pay out, at least 1"),
        (cause_id, merchant_id, -5, KEY, None, "--amount -5 is invalid"),
        (cause_id, merchant_id, 2_001, KEY, None,
         f"--amount 2001 exceeds the 2000 yen cause {cause_id} holds; pay out at most 2000 yen"),
        (empty_cause, merchant_id, None, KEY, None,
         f"cause {empty_cause} holds 0 yen, so --all has nothing to pay out"),
        (cause_id, merchant_id, 100, "short", None,
         "--key 'short' is invalid; use 8 to 64 letters, digits, - or _"),
        (cause_id, merchant_id, 100, "bad key with spaces", None, "--key 'bad key with spaces'"),
        (cause_id, merchant_id, 1_500, KEY, small_limit,
         "1500 yen exceeds the largest cash-out of 1000 yen .*; pay out in parts of at most"
         " 1000 yen, each with its own --key"),
    ]

    for cause, merchant, amount, key, settings, message in cases:
        with pytest.raises(ServerError, match=message):
            pay_out(server, cause, merchant, amount, key, settings)

    assert cash_outs(server) == []
    assert held_yen(server, cause_id) == 2_000
    assert held_yen(server, merchant_id) == 0
    server.assert_conserved()


def test_fee_above_amount_rolls_back(server: Server) -> None:
    cause_id = cause_with_donations(server)
    merchant_id = payee(server, plan=None)

    with pytest.raises(ServerError, match="does not cover its fee of 515 yen"):
        pay_out(server, cause_id, merchant_id, 500)

    assert cash_outs(server) == []
    assert held_yen(server, cause_id) == 2_000
    assert held_yen(server, merchant_id) == 0
    server.assert_conserved()


# --- the command line ----------------------------------------------------------------------


def _cli_setup(db: str, tmp_path: Path) -> tuple[str, str]:
    """Create a cause holding 3,000 yen and its payee on a zero-fee plan; return both ids."""
    plans = tmp_path / "plans.toml"
    plans.write_text(ZERO_PLAN_TOML, encoding="utf-8")
    assert cli.main(["create-merchant", "--db", db, "--name", "会津こども食堂",
                     "--name-ascii", "AIZU KODOMO SHOKUDO", "--city-ascii", "AIZUWAKAMATSU",
                     "--address", "福島県会津若松市1-1", "--invoice-number", "T7000012050002",
                     "--non-local"]) == 0
    assert cli.main(["donation-cause-create", "--db", db, "--name", "会津こども食堂"]) == 0
    database = init_db(db)
    try:
        with database.write() as session:
            merchant_id = session.scalars(select(Merchant.id)).one()
            cause_id = donations.list_causes(session)[0].id
            ledger.issue(session, transfer_id="seed-cause", issuer_id=ISSUANCE_ACCOUNT_ID,
                         destination_id=cause_id, amount_yen=3_000, now=Settings().clock())
    finally:
        database.dispose()
    assert cli.main(["fee-plan-load", "--db", db, str(plans)]) == 0
    assert cli.main(["fee-plan-assign", "--db", db, "--merchant", merchant_id,
                     "--plan", "zero"]) == 0
    assert cli.main(["set-bank-account", "--db", db, "--merchant", merchant_id,
                     "--bank-code", "0005", "--branch-code", "001", "--account-type", "1",
                     "--account-number", "7654321", "--holder-name", "ｱｲﾂﾞｺﾄﾞﾓｼﾖｸﾄﾞｳ"]) == 0
    return cause_id, merchant_id


def test_cli_pays_out_and_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)
    cause_id, merchant_id = _cli_setup(db, tmp_path)
    command = ["donation-cause-pay-out", "--db", db, "--cause", cause_id, "--merchant",
               merchant_id, "--key", KEY]
    capsys.readouterr()

    first_status = cli.main([*command, "--amount", "2500"])
    first = capsys.readouterr().out.splitlines()
    again_status = cli.main([*command, "--amount", "2500"])
    again = capsys.readouterr().out.splitlines()
    other_status = cli.main([*command, "--all"])
    other_out = capsys.readouterr().out.splitlines()
    too_much_status = cli.main([*command[:-1], "kodomo-2026-05", "--amount", "600"])
    too_much = capsys.readouterr().err
    causes_status = cli.main(["donation-causes", "--db", db])
    causes = capsys.readouterr().out.splitlines()
    listing_status = cli.main(["cash-outs", "--db", db])
    listing = capsys.readouterr().out.splitlines()

    assert (first_status, again_status, other_status, causes_status, listing_status) == (0,) * 5
    cash_out_id = first[0].split()[1].rstrip(":")
    assert first[0] == (f"cash-out {cash_out_id}: 2500 yen of cause {cause_id} to merchant"
                        f" {merchant_id}, requested")
    assert first[1].startswith("fee 0 yen (fee plan zero); the bank pays 2500 yen to bank 0005"
                               " branch 001 account 7654321 ｱｲﾂﾞｺﾄﾞﾓｼﾖｸﾄﾞｳ on ")
    assert len(first) == 2
    assert again == [f"key {KEY} was already paid out; nothing new was booked", *first]
    assert other_out == again
    assert too_much_status == 1
    assert too_much == (f"chiiki-settle: --amount 600 exceeds the 500 yen cause {cause_id}"
                        " holds; pay out at most 500 yen\n")
    assert causes[0].split("\t") == ["cause_id", "name", "held_yen", "owed_yen", "read_token",
                                     "in_payout_yen", "paid_out_yen", "owes_back_yen"]
    assert causes[1].split("\t") == [cause_id, "会津こども食堂", "500", "0", "none", "2500", "0",
                                     "0"]
    assert listing[0].endswith("\tcreated_at\tcause_id")
    assert listing[1].startswith(f"{cash_out_id}\t{merchant_id}\trequested\t")
    assert listing[1].endswith(f"\t{cause_id}")


def test_cli_warns_about_fee(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)
    cause_id, merchant_id = _cli_setup(db, tmp_path)
    plans = tmp_path / "default.toml"
    plans.write_text(PLAN_TOML, encoding="utf-8")
    assert cli.main(["fee-plan-load", "--db", db, str(plans)]) == 0
    assert cli.main(["fee-plan-assign", "--db", db, "--merchant", merchant_id,
                     "--plan", "flat"]) == 0
    capsys.readouterr()

    status = cli.main(["donation-cause-pay-out", "--db", db, "--cause", cause_id, "--merchant",
                       merchant_id, "--all", "--key", KEY])
    lines = capsys.readouterr().out.splitlines()

    assert status == 0
    # The flat plan charges 1 % and no monthly part.
    assert lines[1].startswith("fee 30 yen (fee plan flat); the bank pays 2970 yen")
    assert lines[2] == ("the payee pays a fee; assign a zero-fee plan before the next payout:"
                        f" chiiki-settle fee-plan-assign --merchant {merchant_id} --plan PLAN")
