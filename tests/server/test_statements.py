"""Monthly statements of a merchant as CSV and HTML, over the API and the CLI."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from money_helpers import PLAN_TOML, cash_out, sell, shop
from settle_helpers import Server, TerminalClient, cli_db
from sqlalchemy import select

from server import cashout, cli, statements
from server.models import CashOut


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _month_of_activity(server: Server) -> tuple[TerminalClient, TerminalClient, dict[str, str]]:
    """Sales, a refund, two cash-outs (one failed) and transfers both ways in April 2026."""
    terminal = shop(server, 0)
    neighbour = shop(server, 0)
    sale = sell(server, terminal, 30_000)
    sell(server, neighbour, 5_000)
    server.clock.advance(60)
    refund = terminal.post(f"/v1/payments/{sale}/refunds",
                           {"amount_yen": 1_000, "idempotency_key": "refund-0001"}).json()
    server.clock.advance(60)
    failed = cash_out(terminal, 10_000, "cashout-0001").json()["cash_out_id"]
    server.clock.advance(60)
    kept = cash_out(terminal, 5_000, "cashout-0002").json()["cash_out_id"]
    server.clock.advance(60)
    with server.state.db.write() as session:
        row = session.scalars(select(CashOut).where(CashOut.id == failed)).one()
        row.status = cashout.IN_FILE
        cashout.settle(session, failed, paid=False, now=server.clock(), reason="code 2")
    server.clock.advance(60)
    sent = terminal.post("/v1/merchant-transfers", {
        "recipient_merchant_id": neighbour.merchant_id, "amount_yen": 2_000,
        "idempotency_key": "mtransfer-0001", "note": "仕入れ"}).json()["transfer_id"]
    server.clock.advance(60)
    received = neighbour.post("/v1/merchant-transfers", {
        "recipient_merchant_id": terminal.merchant_id, "amount_yen": 700,
        "idempotency_key": "mtransfer-0002"}).json()["transfer_id"]
    ids = {"sale": sale, "refund": refund["refund_id"], "failed": failed, "kept": kept,
           "sent": sent, "received": received}
    return terminal, neighbour, ids


def test_statement_lists_every_movement(server: Server) -> None:
    terminal, neighbour, ids = _month_of_activity(server)

    response = terminal.get("/v1/statements/2026-04")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f"statement-{terminal.merchant_id}-2026-04.csv" in (
        response.headers["content-disposition"])
    rows = _rows(response.text)
    assert [(row["type"], row["reference"], int(row["amount_yen"])) for row in rows] == [
        ("sale", ids["sale"], 30_000),
        ("refund", ids["refund"], -1_000),
        ("cash_out", ids["failed"], -9_200),
        ("fee", ids["failed"], -800),
        ("cash_out", ids["kept"], -4_850),
        ("fee", ids["kept"], -150),
        ("cash_out_returned", ids["failed"], 9_200),
        ("fee_returned", ids["failed"], 800),
        ("transfer_out", ids["sent"], -2_000),
        ("transfer_in", ids["received"], 700),
    ]
    assert rows[0]["recorded_at"] == "2026-04-01T10:00:00+09:00"
    assert rows[0]["type_ja"] == "売上"
    assert rows[4]["detail"] == ("受付 requested, 振込日 payout date 2026-04-01,"
                                 " 口座 account 0001-001 ****4567")
    assert rows[5]["detail"] == ("プラン plan default: 月額 monthly 0 yen, 従量 metered 150 yen,"
                                 " 出金額 amount 5000 yen")
    assert rows[6]["detail"] == "振込不能 payout failed: code 2"
    assert rows[8]["detail"] == f"支払先 to merchant {neighbour.merchant_id} (仕入れ)"


def test_statement_balances_add_up(server: Server) -> None:
    terminal, _, _ = _month_of_activity(server)

    with server.state.db.read() as session:
        april = statements.build_statement(session, terminal.merchant_id, "2026-04")
        may = statements.build_statement(session, terminal.merchant_id, "2026-05")

    moved_yen = sum(line.amount_yen for line in april.lines)
    assert april.opening_balance_yen == 0
    assert april.closing_balance_yen == moved_yen == 22_700
    assert april.closing_balance_yen == server.merchant_balance_yen(terminal.merchant_id)
    assert (may.opening_balance_yen, may.closing_balance_yen, may.lines) == (22_700, 22_700, [])
    assert april.total_yen("fee") == -800 - 150
    assert april.total_yen("fee_returned") == 800


def test_statement_month_in_japan_time(server: Server) -> None:
    terminal = shop(server, 0)
    # 30 April 15:30 UTC is 1 May 00:30 in Japan.
    server.clock.now = server.clock.now.replace(day=30, hour=15, minute=30)
    sell(server, terminal, 1_000)

    april = _rows(terminal.get("/v1/statements/2026-04").text)
    may = _rows(terminal.get("/v1/statements/2026-05").text)

    assert april == []
    assert [row["recorded_at"] for row in may] == ["2026-05-01T00:30:00+09:00"]


def test_statement_other_shop_sees_own_only(server: Server) -> None:
    terminal, _, _ = _month_of_activity(server)
    stranger = shop(server, 0)

    rows = _rows(stranger.get("/v1/statements/2026-04").text)

    assert rows == []
    assert terminal.get("/v1/statements/2026-04").status_code == 200


@pytest.mark.parametrize("month", ["2026-13", "2026-4", "April", "2026-04-01", "0000-01",
                                   "9999-12", "1999-12", "3000-01"])
def test_statement_bad_month_named(server: Server, month: str) -> None:
    terminal = shop(server, 0)

    response = terminal.get(f"/v1/statements/{month}")

    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        f"month {month!r} is invalid; write it as YYYY-MM, e.g. 2026-11, from 2000-01 to 2999-12")


@pytest.mark.parametrize("month", ["2000-01", "2999-12"])
def test_statement_first_and_last_allowed_month_empty(server: Server, month: str) -> None:
    terminal = shop(server, 0)

    response = terminal.get(f"/v1/statements/{month}")

    assert response.status_code == 200
    assert _rows(response.text) == []


def test_statement_html_printable(server: Server) -> None:
    terminal, _, _ = _month_of_activity(server)
    with server.state.db.write() as session:
        merchant = statements.get_merchant(session, terminal.merchant_id)
        merchant.address = "会津若松市 <1-2>"

    with server.state.db.read() as session:
        page = statements.to_html(statements.build_statement(session, terminal.merchant_id,
                                                             "2026-04"))

    assert page.startswith("<!DOCTYPE html>")
    assert "月次明細 <small>Monthly statement</small> 2026-04" in page
    assert "会津若松市 &lt;1-2&gt;" in page
    assert "<th>売上 <small>Sales</small></th><td>30,000 円</td>" in page
    assert "<th>月末残高 <small>Closing balance</small></th><td>22,700 円</td>" in page
    assert "@page { size: A4;" in page


def test_statement_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)
    assert cli.main(["create-merchant", "--db", db, "--name", "喜多方ラーメン",
                     "--name-ascii", "KITAKATA RAMEN", "--city-ascii", "KITAKATA",
                     "--address", "福島県喜多方市1-1", "--invoice-number", "T7000012050002"]) == 0
    merchant_id = capsys.readouterr().out.strip()

    csv_status = cli.main(["statement", "--db", db, "--merchant", merchant_id, "--month",
                           "2026-11"])
    csv_text = capsys.readouterr().out
    positional_status = cli.main(["statement", "--db", db, merchant_id, "--month", "2026-11"])
    positional_text = capsys.readouterr().out
    missing_status = cli.main(["statement", "--db", db, "--month", "2026-11"])
    missing_error = capsys.readouterr().err
    twice_status = cli.main(["statement", "--db", db, "m_other", "--merchant", merchant_id,
                             "--month", "2026-11"])
    twice_error = capsys.readouterr().err
    html_status = cli.main(["statement", "--db", db, merchant_id, "--month", "2026-11",
                            "--html"])
    html_text = capsys.readouterr().out
    bad_status = cli.main(["statement", "--db", db, merchant_id, "--month", "11/2026"])
    bad_error = capsys.readouterr().err
    year_status = cli.main(["statement", "--db", db, merchant_id, "--month", "0000-01"])
    year_error = capsys.readouterr().err

    assert (csv_status, html_status, bad_status, year_status) == (0, 0, 1, 1)
    assert csv_text.splitlines() == [",".join(statements.CSV_HEADER)]
    assert (positional_status, positional_text) == (0, csv_text)
    assert (missing_status, twice_status) == (1, 1)
    assert missing_error == twice_error == (
        "chiiki-settle: give the merchant once, as --merchant MERCHANT_ID; run chiiki-settle"
        " list-merchants to see the merchant ids\n")
    assert "取引はありません No movements" in html_text
    assert "喜多方ラーメン" in html_text
    assert bad_error.strip() == (
        "chiiki-settle: month '11/2026' is invalid; write it as YYYY-MM, e.g. 2026-11,"
        " from 2000-01 to 2999-12")
    assert year_error.strip() == (
        "chiiki-settle: month '0000-01' is invalid; write it as YYYY-MM, e.g. 2026-11,"
        " from 2000-01 to 2999-12")


def test_fee_plan_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)
    plans = tmp_path / "plans.toml"
    plans.write_text(PLAN_TOML, encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text("[plans.x]\nfixed_monthly_yen = 0\ntiers = [{ from_yen = 1, rate_bp = 1 }]",
                      encoding="utf-8")

    load_status = cli.main(["fee-plan-load", "--db", db, str(plans)])
    loaded = capsys.readouterr().out
    broken_status = cli.main(["fee-plan-load", "--db", db, str(broken)])
    broken_error = capsys.readouterr().err
    list_status = cli.main(["fee-plans", "--db", db])
    listed = capsys.readouterr().out.splitlines()

    assert (load_status, broken_status, list_status) == (0, 1, 0)
    assert loaded.strip() == "stored 2 fee plans: default, flat"
    assert f"{broken}: plans.x.tiers[0].from_yen = 1; the first tier must start at 0" in (
        broken_error)
    assert listed[0] == ("default\tfixed 500 yen\tcap 25000 yen\tfrom 0 yen 300 bp,"
                         " from 100000 yen 200 bp, from 1000000 yen 100 bp")
    assert listed[1] == "flat\tfixed 0 yen\tcap none\tfrom 0 yen 100 bp"


def test_set_bank_account_cli_names_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = cli_db(tmp_path)
    assert cli.main(["create-merchant", "--db", db, "--name", "喜多方ラーメン",
                     "--name-ascii", "KITAKATA RAMEN", "--city-ascii", "KITAKATA",
                     "--address", "福島県喜多方市1-1", "--invoice-number", "T7000012050002"]) == 0
    merchant_id = capsys.readouterr().out.strip()
    base = ["set-bank-account", "--db", db, "--merchant", merchant_id, "--bank-code", "0001",
            "--branch-code", "001", "--account-type", "1", "--holder-name", "キタカタラーメン"]

    bad_status = cli.main([*base, "--account-number", "12-34"])
    bad_error = capsys.readouterr().err
    kanji_status = cli.main([*base[:-1], "喜多方ラーメン", "--account-number", "1234"])
    kanji_error = capsys.readouterr().err
    good_status = cli.main([*base, "--account-number", "1234"])
    good_output = capsys.readouterr().out

    assert (bad_status, kanji_status, good_status) == (1, 1, 0)
    assert bad_error.strip() == ("chiiki-settle: account_number '12-34' is invalid;"
                                 " use 1 to 7 digits")
    assert kanji_error == (
        "chiiki-settle: holder_name '喜多方ラーメン' contains '喜' (U+559C) at position 1, which a"
        " bank transfer file cannot carry; give the account holder's name in kana as the bank"
        " records it (口座名義カナ), e.g. キタカタラーメン\n")
    assert good_output.strip() == (f"merchant {merchant_id} is paid to bank 0001 branch 001"
                                   " type 1 account 0001234 holder ｷﾀｶﾀﾗ-ﾒﾝ")


def test_statement_unknown_merchant(server: Server) -> None:
    with server.state.db.read() as session, pytest.raises(Exception, match="does not exist"):
        statements.build_statement(session, "m_nope", "2026-04")


def test_failed_cash_out_next_month_listed_there(server: Server) -> None:
    terminal = shop(server, 20_000)
    cash_out_id = cash_out(terminal, 10_000).json()["cash_out_id"]
    server.clock.advance(timedelta(days=31).total_seconds())
    with server.state.db.write() as session:
        row = session.scalars(select(CashOut).where(CashOut.id == cash_out_id)).one()
        row.status = cashout.IN_FILE
        cashout.settle(session, cash_out_id, paid=False, now=server.clock())

    april = [row["type"] for row in _rows(terminal.get("/v1/statements/2026-04").text)]
    may = [row["type"] for row in _rows(terminal.get("/v1/statements/2026-05").text)]

    assert april == ["sale", "cash_out", "fee"]
    assert may == ["cash_out_returned", "fee_returned"]
