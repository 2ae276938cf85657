"""The expiry sweep: expired wallet value goes back to its funding account, exactly once."""

from __future__ import annotations

import argparse
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import expiry_cli, ledger
from server.db import Database
from server.models import ISSUANCE_ACCOUNT_ID, Lot, Transfer
from terminal.protocol import ValueKind

NOW = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
END_OF_MARCH = NOW - timedelta(hours=1)
LATER = NOW + timedelta(days=60)
PREMIUM_FUND = "premium-2025"
CITY_BUDGET = "city-budget"
BENEFIT_FUND = "benefit-fund"


def _issue(session: Session, transfer_id: str, destination: str, kind: ValueKind,
           amount_yen: int, expires_at: datetime | None, *, issuer: str = PREMIUM_FUND,
           funding: str | None = None, categories: list[str] | None = None,
           now: datetime = NOW - timedelta(days=90)) -> None:
    ledger.issue(session, transfer_id=transfer_id, issuer_id=issuer,
                 destination_id=destination, amount_yen=amount_yen, now=now, kind=kind,
                 expires_at=expires_at, categories=categories, funding_account_id=funding)


@pytest.fixture
def books(database: Database) -> Database:
    """Wallets w1 and w2 and shop s with expired, unexpired and merchant-held value.

    w1: 500 premium_local and 300 premium_all expired at the end of March, 200 premium_all
        until later, 1000 coin. w2: 250 premium_local and 400 benefit (food shops only, funded
        by the city budget), both expired. Before the expiry w2 paid s 400: the 250
        premium_local and 150 of the benefit.
    """
    before = NOW - timedelta(days=90)
    with database.write() as session:
        for account_id in ("w1", "w2"):
            ledger.open_account(session, account_id, "wallet", now=before)
        ledger.open_account(session, "s", "merchant", now=before)
        for fund in (PREMIUM_FUND, BENEFIT_FUND):
            ledger.open_account(session, fund, "campaign", now=before, is_issuing=True)
        ledger.open_account(session, CITY_BUDGET, "campaign", now=before)

        _issue(session, "p-local", "w1", ValueKind.PREMIUM_LOCAL, 500, END_OF_MARCH)
        _issue(session, "p-all", "w1", ValueKind.PREMIUM_ALL, 300, END_OF_MARCH)
        _issue(session, "p-all-later", "w1", ValueKind.PREMIUM_ALL, 200, LATER)
        _issue(session, "coin", "w1", ValueKind.COIN, 1000, None, issuer=ISSUANCE_ACCOUNT_ID)
        _issue(session, "benefit", "w2", ValueKind.BENEFIT, 400, END_OF_MARCH,
               issuer=BENEFIT_FUND, funding=CITY_BUDGET, categories=["5411"])
        _issue(session, "p-shop", "w2", ValueKind.PREMIUM_LOCAL, 250, END_OF_MARCH)
        ledger.pay(session, transfer_id="sale-1", source_id="w2", destination_id="s",
                   amount_yen=400, now=before + timedelta(days=1),
                   acceptance=ledger.Acceptance(local=True, merchant_category="5411"))
    return database


def _held(db: Database, account_id: str) -> dict[ValueKind, int]:
    with db.read() as session:
        return ledger.held_balance(session, account_id)


def _raw_balance(db: Database, account_id: str) -> int:
    """Sum of every lot of an account, issuing accounts included."""
    with db.read() as session:
        total = session.scalar(select(func.sum(Lot.remaining_yen))
                               .where(Lot.account_id == account_id))
    return int(total or 0)


def _expiry_transfers(db: Database) -> list[tuple[str, str, str, int]]:
    with db.read() as session:
        rows = session.execute(
            select(Transfer.id, Transfer.source_account_id, Transfer.destination_account_id,
                   Transfer.amount_yen)
            .where(Transfer.purpose == "expiry").order_by(Transfer.id)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _assert_conserved(db: Database) -> None:
    with db.read() as session:
        audit = ledger.verify_ledger(session)
    assert set(audit.totals_by_kind.values()) == {0}


def test_sweep_returns_expired_to_funding(books: Database) -> None:
    premium_before = _raw_balance(books, PREMIUM_FUND)

    summary = expiry_cli.sweep(books, now=NOW)

    assert summary.lots == 3
    assert summary.amount_yen == 800 + 250
    assert _held(books, "w1") == {ValueKind.PREMIUM_ALL: 200, ValueKind.COIN: 1000}
    assert _held(books, "w2") == {}
    assert _raw_balance(books, PREMIUM_FUND) == premium_before + 800
    assert _held(books, CITY_BUDGET) == {ValueKind.BENEFIT: 250}
    assert summary.by_funding_account == {PREMIUM_FUND: 800, CITY_BUDGET: 250}
    _assert_conserved(books)


def test_sweep_twice_moves_once(books: Database) -> None:
    first = expiry_cli.sweep(books, now=NOW)
    transfers = _expiry_transfers(books)
    second = expiry_cli.sweep(books, now=NOW + timedelta(minutes=5))

    assert first.lots == 3
    assert second.lots == 0
    assert second.amount_yen == 0
    assert _expiry_transfers(books) == transfers
    assert len(transfers) == 3
    assert all(transfer_id.startswith("expiry:") for transfer_id, *_ in transfers)
    assert _held(books, CITY_BUDGET) == {ValueKind.BENEFIT: 250}
    _assert_conserved(books)


def test_overlapping_sweeps_move_once(books: Database) -> None:
    barrier = threading.Barrier(2)
    summaries: list[expiry_cli.SweepSummary] = []

    def run() -> None:
        barrier.wait()
        summaries.append(expiry_cli.sweep(books, now=NOW, batch_lots=1))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(summaries) == 2
    assert sum(summary.lots for summary in summaries) == 3
    assert sum(summary.amount_yen for summary in summaries) == 1050
    assert len(_expiry_transfers(books)) == 3
    assert _held(books, CITY_BUDGET) == {ValueKind.BENEFIT: 250}
    _assert_conserved(books)


def test_sweep_leaves_merchant_value(books: Database) -> None:
    shop_before = _held(books, "s")

    expiry_cli.sweep(books, now=NOW)

    assert shop_before == {ValueKind.BENEFIT: 150, ValueKind.PREMIUM_LOCAL: 250}
    assert _held(books, "s") == shop_before


def test_sweep_leaves_unexpired_value(books: Database) -> None:
    summary = expiry_cli.sweep(books, now=END_OF_MARCH - timedelta(seconds=1))

    assert summary.lots == 0
    assert _held(books, "w1") == {ValueKind.PREMIUM_LOCAL: 500, ValueKind.PREMIUM_ALL: 500,
                                  ValueKind.COIN: 1000}
    assert _expiry_transfers(books) == []


def test_sweep_in_batches(books: Database) -> None:
    with books.write() as session:
        for index in range(4):
            _issue(session, f"extra-{index}", "w1", ValueKind.PREMIUM_ALL, 10 + index,
                   END_OF_MARCH)

    summary = expiry_cli.sweep(books, now=NOW, batch_lots=2)

    assert summary.lots == 7
    assert summary.batches == 4
    assert summary.amount_yen == 800 + 250 + 10 + 11 + 12 + 13
    assert _held(books, "w1") == {ValueKind.PREMIUM_ALL: 200, ValueKind.COIN: 1000}
    _assert_conserved(books)


def test_swept_value_not_spendable_again(books: Database) -> None:
    expiry_cli.sweep(books, now=NOW)

    with books.read() as session:
        balance = ledger.balance(session, "w1", now=END_OF_MARCH - timedelta(seconds=1))

    # Even as of a moment before the expiry, the swept lots hold nothing any more.
    assert balance == {ValueKind.PREMIUM_ALL: 200, ValueKind.COIN: 1000}


def test_summary_lines(books: Database) -> None:
    summary = expiry_cli.sweep(books, now=NOW)

    assert expiry_cli.format_summary(summary) == [
        "returned 1050 yen of expired value from 3 lots as of 2026-04-01T01:00:00+00:00",
        "  premium_local 500 yen",
        "  benefit 250 yen",
        "  premium_all 300 yen",
        f"  to account {CITY_BUDGET}: 250 yen",
        f"  to account {PREMIUM_FUND}: 800 yen",
    ]


def test_summary_when_nothing_expired(database: Database) -> None:
    summary = expiry_cli.sweep(database, now=NOW)

    assert expiry_cli.format_summary(summary) == [
        "no expired value in wallets as of 2026-04-01T01:00:00+00:00"
    ]


def test_command_prints_summary(
    books: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(expiry_cli, "utc_now", lambda: NOW)
    args = _parser().parse_args(["expire-lots", "--batch", "2"])

    expiry_cli.COMMANDS[args.command](args, books)
    expiry_cli.COMMANDS[args.command](args, books)

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("returned 1050 yen of expired value from 3 lots")
    assert lines[-1] == "no expired value in wallets as of 2026-04-01T01:00:00+00:00"
    _assert_conserved(books)


@pytest.mark.parametrize("batch", ["0", "-5", "ten", "100001"])
def test_command_rejects_bad_batch(batch: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["expire-lots", "--batch", batch])

    err = capsys.readouterr().err
    assert f"--batch {batch!r} is invalid" in err
    assert "from 1 to 100000" in err


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chiiki-settle")
    commands = parser.add_subparsers(dest="command", required=True)
    expiry_cli.add_commands(lambda name, help_text: commands.add_parser(name, help=help_text))
    return parser
