"""Payout batches: Zengin files of due cash-outs, bank results, and nothing half-written."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from money_helpers import (
    MIZUHO_SENDER,
    MUFG_HEAD_OFFICE,
    PLAN_TOML,
    RECORD,
    SENDERS_TOML,
    cash_out,
    data_records,
    shop,
)
from settle_helpers import Server, TerminalClient, cli_db
from sqlalchemy import select, update

from server import business_days, cashout, cli, ledger, merchants, payouts
from server.db import init_db
from server.errors import ServerError
from server.models import ISSUANCE_ACCOUNT_ID, PAYOUT_CLEARING_ACCOUNT_ID, CashOut, PayoutBatch
from server.settings import Settings, utc_now
from server.zengin import Sender
from terminal.japan_time import to_japan_time

MUFG_SENDER = Sender(consignor_code="2222222222", name="ﾁｲｷｺｲﾝｷﾖｳｷﾞｶｲ", bank_code="0005",
                     branch_code="001", account_type=1, account_number="2222222")
# The fake clock's first day, Wednesday 1 April 2026, is a business day.
TRANSFER_DATE = date(2026, 4, 1)


def _statuses(server: Server) -> dict[str, str]:
    with server.state.db.read() as session:
        return {row.id: row.status for row in session.scalars(select(CashOut))}


def _with_results(data: bytes, codes: list[bytes]) -> bytes:
    """Write one result byte at byte 120 of each data record, as the bank returns the file."""
    result = bytearray(data)
    for index, code in enumerate(codes, start=1):
        result[index * RECORD + 119] = code[0]
    return bytes(result)


def _two_cash_outs(server: Server) -> tuple[TerminalClient, TerminalClient, str, str]:
    mizuho = shop(server, 50_000)
    mufg = shop(server, 30_000, details=MUFG_HEAD_OFFICE)
    first = cash_out(mizuho, 20_000).json()["cash_out_id"]
    second = cash_out(mufg, 10_000).json()["cash_out_id"]
    return mizuho, mufg, first, second


def _batch(server: Server, out: Path, senders: list[Sender] | None = None,
           transfer_date: date = TRANSFER_DATE) -> list[payouts.WrittenBatch]:
    return payouts.write_payout_batch(server.state.db, transfer_date, out,
                                      senders or [MIZUHO_SENDER], now=server.clock())


def test_batch_writes_file_and_marks_in_file(server: Server, tmp_path: Path) -> None:
    _, _, first, second = _two_cash_outs(server)
    out = tmp_path / "payout.txt"

    written = _batch(server, out)

    data = out.read_bytes()
    records = data_records(data)
    assert [batch.cash_out_count for batch in written] == [1 + 1]
    assert written[0].total_yen == 18_900 + 9_200
    assert data[:4] == b"1210"
    assert data[54:58] == b"0401"                      # transfer date MMDD
    assert [record[1:5] for record in records] == [b"0001", b"0005"]
    assert [int(record[80:90]) for record in records] == [18_900, 9_200]
    assert records[0][50:80].decode("cp932").rstrip() == "ｱｲﾂﾞｺｲﾝｼﾖｳﾃﾝ"
    assert _statuses(server) == {first: "in_file", second: "in_file"}
    with server.state.db.read() as session:
        batch = session.scalars(select(PayoutBatch)).one()
        customer_codes = [payouts.customer_code(row.seq) for row in
                          session.scalars(select(CashOut).order_by(CashOut.seq))]
    assert batch.content == data
    assert [record[91:101].decode() for record in records] == customer_codes
    assert not list(tmp_path.glob(".*partial"))


def test_batch_groups_by_sender_bank(server: Server, tmp_path: Path) -> None:
    _two_cash_outs(server)

    written = _batch(server, tmp_path / "payout.txt", [MIZUHO_SENDER, MUFG_SENDER])

    assert [(batch.path.name, batch.cash_out_count) for batch in written] == [
        ("payout-0001.txt", 1), ("payout-0005.txt", 1)]
    mufg_file = (tmp_path / "payout-0005.txt").read_bytes()
    assert mufg_file[58:62] == b"0005"                 # the sending bank in the header
    assert [record[1:5] for record in data_records(mufg_file)] == [b"0005"]


def test_batch_takes_only_due_cash_outs(server: Server, tmp_path: Path) -> None:
    terminal = shop(server, 50_000)
    due = cash_out(terminal, 10_000, "cashout-0001").json()["cash_out_id"]
    server.clock.advance(5 * 3600)      # 15:00, after the cut-off: paid out on 2 April
    later = cash_out(terminal, 10_000, "cashout-0002").json()["cash_out_id"]

    _batch(server, tmp_path / "payout.txt")
    again = _batch(server, tmp_path / "payout-2.txt")
    next_day = _batch(server, tmp_path / "payout-3.txt", transfer_date=date(2026, 4, 2))

    assert again == []
    assert not (tmp_path / "payout-2.txt").exists()
    assert [batch.cash_out_count for batch in next_day] == [1]
    assert _statuses(server) == {due: "in_file", later: "in_file"}


def test_batch_on_holiday_rejected(server: Server, tmp_path: Path) -> None:
    _two_cash_outs(server)

    with pytest.raises(ServerError) as caught:
        _batch(server, tmp_path / "payout.txt", transfer_date=date(2026, 4, 29))

    assert caught.value.message == ("transfer date 2026-04-29 is not a bank business day"
                                    " (national holiday 昭和の日); use 2026-04-30")
    assert set(_statuses(server).values()) == {"requested"}


def test_batch_in_past_rejected(server: Server, tmp_path: Path) -> None:
    _two_cash_outs(server)

    with pytest.raises(ServerError) as caught:
        _batch(server, tmp_path / "payout.txt", transfer_date=date(2026, 3, 31))

    assert caught.value.message == ("transfer date 2026-03-31 is in the past (today is"
                                    " 2026-04-01 in Japan); give today's date or a later"
                                    " business day")
    assert set(_statuses(server).values()) == {"requested"}


def test_zengin_error_names_merchant_and_changes_nothing(
    server: Server, tmp_path: Path
) -> None:
    mizuho, mufg, first, second = _two_cash_outs(server)
    with server.state.db.write() as session:
        # Rows copied before a bank merged away, or edited by hand: the file must reject them.
        session.execute(update(CashOut).where(CashOut.id == first).values(bank_code="9998"))
        session.execute(update(CashOut).where(CashOut.id == second)
                        .values(holder_name="喜多方ラーメン"))
    out_dir = tmp_path / "files"
    out_dir.mkdir()
    out = out_dir / "payout.txt"

    with pytest.raises(ServerError) as caught:
        _batch(server, out)

    message = caught.value.message
    assert message.startswith("transfer file not written, no cash-out changed: ")
    assert f"cash-out {first} of merchant {mizuho.merchant_id}: " in message
    assert f"cash-out {second} of merchant {mufg.merchant_id}: " in message
    assert "bank_code" in message
    assert "holder_name" in message
    assert not out.exists()
    assert list(out_dir.iterdir()) == []
    assert _statuses(server) == {first: "requested", second: "requested"}
    with server.state.db.read() as session:
        assert session.scalars(select(PayoutBatch)).all() == []


def test_sender_problem_named_once(server: Server, tmp_path: Path) -> None:
    _, _, first, second = _two_cash_outs(server)
    out = tmp_path / "payout.txt"
    sender = replace(MIZUHO_SENDER, name="地域コイン協議会")

    with pytest.raises(ServerError) as caught:
        _batch(server, out, [sender])

    message = caught.value.message
    assert message.startswith("transfer file not written, no cash-out changed: sender account"
                              " 0001: sender")
    assert message.count("sender account 0001") == 1
    assert "cash-out" not in message.removeprefix("transfer file not written, no cash-out")
    assert not out.exists()
    assert _statuses(server) == {first: "requested", second: "requested"}


def test_existing_output_never_overwritten(server: Server, tmp_path: Path) -> None:
    _two_cash_outs(server)
    out = tmp_path / "payout.txt"
    out.write_bytes(b"earlier file")

    with pytest.raises(ServerError, match="already exists; choose a new --out name"):
        _batch(server, out)

    assert out.read_bytes() == b"earlier file"
    assert set(_statuses(server).values()) == {"requested"}


def test_result_file_marks_paid_and_failed(server: Server, tmp_path: Path) -> None:
    mizuho, mufg, first, second = _two_cash_outs(server)
    out = tmp_path / "payout.txt"
    _batch(server, out)
    results = _with_results(out.read_bytes(), [b"0", b"2"])

    summary = payouts.apply_result_file(server.state.db, results, now=server.clock())
    repeated = payouts.apply_result_file(server.state.db, results, now=server.clock())

    assert (summary.paid, summary.failed) == ([first], [second])
    assert repeated.unchanged == [first, second]
    assert _statuses(server) == {first: "paid", second: "failed"}
    assert server.merchant_balance_yen(mufg.merchant_id) == 30_000
    assert server.merchant_balance_yen(mizuho.merchant_id) == 30_000
    with server.state.db.read() as session:
        assert ledger.held_balance(session, PAYOUT_CLEARING_ACCOUNT_ID) == {}
    failed = mufg.get("/v1/cash-outs").json()["cash_outs"][0]
    assert failed["failure_reason"] == "bank result code 2"


def test_result_for_unknown_cash_out_changes_nothing(server: Server, tmp_path: Path) -> None:
    _, _, first, second = _two_cash_outs(server)
    out = tmp_path / "payout.txt"
    _batch(server, out)
    results = bytearray(_with_results(out.read_bytes(), [b"0", b"0"]))
    results[2 * RECORD + 91:2 * RECORD + 101] = b"0000009999"

    with pytest.raises(ServerError, match="customer code 0000009999 matches no cash-out"):
        payouts.apply_result_file(server.state.db, bytes(results), now=server.clock())

    assert _statuses(server) == {first: "in_file", second: "in_file"}


def test_result_with_other_amount_changes_nothing(server: Server, tmp_path: Path) -> None:
    _, _, first, second = _two_cash_outs(server)
    out = tmp_path / "payout.txt"
    _batch(server, out)
    results = bytearray(_with_results(out.read_bytes(), [b"0", b"0"]))
    results[2 * RECORD + 80:2 * RECORD + 90] = b"0000009300"
    results[3 * RECORD + 7:3 * RECORD + 19] = b"000000028200"     # the trailer's total

    with pytest.raises(ServerError, match=f"cash-out {second} pays 9200 yen but the result"
                                          " says 9300 yen; no cash-out changed"):
        payouts.apply_result_file(server.state.db, bytes(results), now=server.clock())

    assert _statuses(server) == {first: "in_file", second: "in_file"}


def test_missing_output_folder_changes_nothing(server: Server, tmp_path: Path) -> None:
    _, _, first, second = _two_cash_outs(server)

    with pytest.raises(ServerError, match="cannot be written: No such file or directory"):
        _batch(server, tmp_path / "missing" / "payout.txt")

    assert _statuses(server) == {first: "requested", second: "requested"}


def test_unreadable_result_file_rejected(server: Server) -> None:
    with pytest.raises(ServerError, match="result file not applied, no cash-out changed"):
        payouts.apply_result_file(server.state.db, b"1" * 50 + b"\r\n", now=server.clock())


def test_mark_by_hand(server: Server, tmp_path: Path) -> None:
    _, mufg, first, second = _two_cash_outs(server)
    _batch(server, tmp_path / "payout.txt")

    payouts.mark(server.state.db, first, paid=True, now=server.clock())
    payouts.mark(server.state.db, second, paid=False, now=server.clock(), reason="closed account")

    assert _statuses(server) == {first: "paid", second: "failed"}
    with pytest.raises(ServerError, match="is paid, so it cannot be marked failed"):
        payouts.mark(server.state.db, first, paid=False, now=server.clock())
    assert mufg.get("/v1/cash-outs").json()["cash_outs"][0]["failure_reason"] == "closed account"


def test_senders_file_errors_named(tmp_path: Path) -> None:
    path = tmp_path / "senders.toml"
    path.write_text(SENDERS_TOML.replace('account_type = 1', 'account_type = "1"'),
                    encoding="utf-8")

    with pytest.raises(ServerError, match=r"senders\[0\].account_type = '1' must be int"):
        payouts.load_senders(path)


def test_payout_cli_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)
    senders = tmp_path / "senders.toml"
    senders.write_text(SENDERS_TOML, encoding="utf-8")
    out = tmp_path / "payout.txt"
    cash_out_id = _cli_cash_out(db, tmp_path)
    capsys.readouterr()
    transfer_date = _next_business_day()

    batch_status = cli.main(["payout-batch", "--db", db, "--date", transfer_date.isoformat(),
                             "--out", str(out), "--senders", str(senders)])
    batch_output = capsys.readouterr().out
    mark_status = cli.main(["payout-mark", "--db", db, cash_out_id, "failed",
                            "--reason", "account closed"])
    mark_output = capsys.readouterr().out
    result = tmp_path / "result.csv"
    result.write_text(f"customer_code1,result\n{_customer_code_of(db, cash_out_id)},0\n",
                      encoding="utf-8")
    result_status = cli.main(["payout-result", "--db", db, str(result)])
    result_output = capsys.readouterr().out
    list_status = cli.main(["cash-outs", "--db", db, "--status", "failed"])
    listed = capsys.readouterr().out.splitlines()

    assert (batch_status, mark_status, list_status) == (0, 0, 0)
    # The bank's result arrives after the cash-out was marked failed by hand.
    assert result_status == 1
    assert result_output == ""
    assert f"{out}\tbatch pb_" in batch_output
    assert "1 cash-outs\t9200 yen" in batch_output
    assert len(data_records(out.read_bytes())) == 1
    assert mark_output.strip() == f"cash-out {cash_out_id} is failed"
    assert listed[1].startswith(f"{cash_out_id}\t")


def test_payout_cli_needs_senders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHIIKI_PAYOUT_SENDERS", raising=False)

    status = cli.main(["payout-batch", "--db", cli_db(tmp_path), "--date",
                       "2026-04-01", "--out", str(tmp_path / "out.txt")])

    assert status == 1
    assert "pass --senders FILE or set CHIIKI_PAYOUT_SENDERS" in capsys.readouterr().err


def _customer_code_of(db: str, cash_out_id: str) -> str:
    database = init_db(db)
    try:
        with database.read() as session:
            row = session.scalars(select(CashOut).where(CashOut.id == cash_out_id)).one()
            return payouts.customer_code(row.seq)
    finally:
        database.dispose()


def _next_business_day() -> date:
    """Return a date on or after the payout date of a cash-out requested now."""
    return business_days.next_business_day(to_japan_time(utc_now()).date())


def _cli_cash_out(db: str, tmp_path: Path) -> str:
    """Make a shop with 10,000 yen of coin through the CLI and the ledger; cash out all of it."""
    plans = tmp_path / "plans.toml"
    plans.write_text(PLAN_TOML, encoding="utf-8")
    assert cli.main(["create-merchant", "--db", db, "--name", "喜多方ラーメン",
                     "--name-ascii", "KITAKATA RAMEN", "--city-ascii", "KITAKATA",
                     "--address", "福島県喜多方市1-1", "--invoice-number", "T7000012050002"]) == 0
    database = init_db(db)
    try:
        with database.read() as session:
            merchant_id = merchants.list_merchants(session)[0].merchant_id
        assert cli.main(["fee-plan-load", "--db", db, str(plans)]) == 0
        assert cli.main(["set-bank-account", "--db", db, "--merchant", merchant_id,
                         "--bank-code", "0001", "--branch-code", "001", "--account-type", "1",
                         "--account-number", "1234567", "--holder-name", "ｷﾀｶﾀﾗｰﾒﾝ"]) == 0
        with database.write() as session:
            ledger.issue(session, transfer_id="seed", issuer_id=ISSUANCE_ACCOUNT_ID,
                        destination_id=merchant_id, amount_yen=10_000,
                        now=Settings().clock())
        with database.write() as session:
            row = cashout.request_cash_out(session, merchant_id, 10_000, "cli-cashout-1",
                                           Settings())
            return row.id
    finally:
        database.dispose()


def test_payout_result_cli_reads_result_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = cli_db(tmp_path)
    senders = tmp_path / "senders.toml"
    senders.write_text(SENDERS_TOML, encoding="utf-8")
    out = tmp_path / "payout.txt"
    cash_out_id = _cli_cash_out(db, tmp_path)
    assert cli.main(["payout-batch", "--db", db, "--date", _next_business_day().isoformat(),
                     "--out", str(out), "--senders", str(senders)]) == 0
    result = bytearray(out.read_bytes())
    result[RECORD + 114] = ord("0")  # byte 115 of the first data record
    result_path = tmp_path / "result.txt"
    result_path.write_bytes(bytes(result))
    capsys.readouterr()

    default_status = cli.main(["payout-result", "--db", db, str(result_path)])
    default_error = capsys.readouterr().err
    outside_status = cli.main(["payout-result", "--db", db, str(result_path),
                               "--result-position", "111"])
    outside_error = capsys.readouterr().err
    status = cli.main(["payout-result", "--db", db, str(result_path),
                       "--result-position", "115"])
    output = capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["payout-result", "--help"])
    help_text = capsys.readouterr().out

    assert (default_status, outside_status, status) == (1, 1, 0)
    assert "give it with chiiki-settle payout-result --result-position N, 112 to 120" in (
        default_error)
    assert outside_error == ("chiiki-settle: --result-position 111 is out of range; allowed:"
                             " 112 to 120\n")
    assert output == "paid 1, failed 0, already recorded 0\n"
    assert "--result-position N" in " ".join(help_text.split())
    assert "112 to 120" in " ".join(help_text.split())
    assert cli.main(["cash-outs", "--db", db, "--status", "paid"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"{cash_out_id}\t")
