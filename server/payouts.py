"""Payout batches: Zengin transfer files that pay requested cash-outs, and the bank's results.

``write_payout_batch`` takes every cash-out still ``requested`` whose payout date is on or
before the transfer date, groups them by the operator's sending account, writes one Zengin
file per sender, and marks them ``in_file``. A cash-out goes out from the sender at the
recipient's own bank when there is one (a transfer within one bank is cheaper and arrives
sooner), else from the first sender listed.

Nothing is half-written: every file is built in memory first, and a ``ZenginError`` (a name
with no Zengin form, an unknown bank) aborts the batch naming each merchant concerned, with
no file written and no cash-out changed. Files go to temporary names before the database
commit and take their final names after it, so a file under its final name always belongs
to a committed batch. An existing output file is never overwritten.

Sender accounts are configuration, a TOML file (``--senders FILE`` or ``CHIIKI_PAYOUT_SENDERS``)::

    [[senders]]
    consignor_code = "1234567890"    # 振込依頼人コード, assigned by the bank
    name = "ﾁｲｷｺｲﾝｷﾖｳｷﾞｶｲ"
    bank_code = "0001"
    branch_code = "001"
    account_type = 1                 # 1 普通, 2 当座
    account_number = "1234567"
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import business_days, cashout, tokens, zengin
from server.db import Database
from server.errors import invalid, not_found, not_utf8
from server.models import CashOut, PayoutBatch
from server.zengin_banks import BankDirectory
from terminal.japan_time import to_japan_time

logger = logging.getLogger(__name__)

_SENDER_KEYS = {"consignor_code", "name", "bank_code", "branch_code", "account_type",
                "account_number", "bank_name", "branch_name"}
_REQUIRED_SENDER_KEYS = _SENDER_KEYS - {"bank_name", "branch_name"}


@dataclass(frozen=True)
class WrittenBatch:
    batch_id: str
    path: Path
    sender_bank_code: str
    cash_out_count: int
    total_yen: int


@dataclass(frozen=True)
class ResultSummary:
    paid: list[str]
    failed: list[str]
    unchanged: list[str]


@dataclass
class _Group:
    sender: zengin.Sender
    rows: list[CashOut]
    path: Path
    content: bytes = b""


# --- senders -------------------------------------------------------------------------------


def load_senders(path: Path) -> list[zengin.Sender]:
    """Read the operator's sending accounts from a TOML file (see the module docstring)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise invalid(f"sender file {path} cannot be read: {exc.strerror}; pass --senders FILE"
                      " or set CHIIKI_PAYOUT_SENDERS") from None
    except tomllib.TOMLDecodeError as exc:
        raise invalid(f"sender file {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    entries = document.get("senders")
    if not isinstance(entries, list) or not entries:
        raise invalid(f"sender file {path} has no [[senders]] entry")
    return [_sender(path, index, entry) for index, entry in enumerate(entries)]


def _sender(path: Path, index: int, entry: Any) -> zengin.Sender:
    where = f"{path}: senders[{index}]"
    if not isinstance(entry, dict):
        raise invalid(f"{where} must be a table")
    missing = sorted(_REQUIRED_SENDER_KEYS - set(entry))
    unknown = sorted(set(entry) - _SENDER_KEYS)
    if missing or unknown:
        raise invalid(f"{where} is missing {missing} or has unknown keys {unknown}; keys are"
                      f" {sorted(_SENDER_KEYS)}")
    for key, value in entry.items():
        expected = int if key == "account_type" else str
        if not isinstance(value, expected) or isinstance(value, bool):
            raise invalid(f"{where}.{key} = {value!r} must be {expected.__name__}")
    return zengin.Sender(**entry)


def sender_for(senders: Sequence[zengin.Sender], bank_code: str) -> zengin.Sender:
    """Return the sender at ``bank_code`` if the operator has one there, else the first."""
    return next((sender for sender in senders if sender.bank_code == bank_code), senders[0])


# --- batches -------------------------------------------------------------------------------


def write_payout_batch(
    db: Database, transfer_date: date, out_path: Path, senders: Sequence[zengin.Sender], *,
    now: datetime, bank_data: BankDirectory | None = None,
) -> list[WrittenBatch]:
    """Write the transfer files of every cash-out due by ``transfer_date`` and mark them in_file.

    With one sender the file is ``out_path``; with several, each file is ``out_path`` with the
    sender's bank code before the suffix (``payout-0001.txt``). Returns one entry per file,
    none when no cash-out is due.
    """
    today = to_japan_time(now).date()
    if transfer_date < today:
        raise invalid(f"transfer date {transfer_date} is in the past (today is {today} in"
                      " Japan); give today's date or a later business day")
    reason = business_days.closed_reason(transfer_date)
    if reason is not None:
        next_day = business_days.next_business_day(transfer_date)
        raise invalid(f"transfer date {transfer_date} is not a bank business day ({reason});"
                      f" use {next_day}")
    temporary: list[Path] = []
    try:
        with db.write() as session:
            groups = _build_groups(session, transfer_date, out_path, senders, bank_data)
            for group in groups:
                temporary.append(_write_temporary(group))
            written = [_record(session, group, transfer_date, now) for group in groups]
    except BaseException:
        for path in temporary:
            path.unlink(missing_ok=True)
        raise
    for path, batch in zip(temporary, written):
        os.replace(path, batch.path)
        logger.info("payout batch %s written to %s: %d cash-outs, %d yen", batch.batch_id,
                    batch.path, batch.cash_out_count, batch.total_yen)
    return written


def _build_groups(
    session: Session, transfer_date: date, out_path: Path, senders: Sequence[zengin.Sender],
    bank_data: BankDirectory | None,
) -> list[_Group]:
    due = session.scalars(
        select(CashOut)
        .where(CashOut.status == cashout.REQUESTED, CashOut.payout_date <= transfer_date)
        .order_by(CashOut.seq).with_for_update()
    ).all()
    groups: dict[str, _Group] = {}
    for row in due:
        sender = sender_for(senders, row.bank_code)
        if sender.bank_code not in groups:
            path = out_path if len(senders) == 1 else out_path.with_name(
                f"{out_path.stem}-{sender.bank_code}{out_path.suffix}")
            groups[sender.bank_code] = _Group(sender, [], path)
        groups[sender.bank_code].rows.append(row)

    for group in groups.values():
        if group.path.exists():
            raise invalid(f"output file {group.path} already exists; choose a new --out name"
                          " so that no transfer file is overwritten")
        group.content = _build_file(group, transfer_date, bank_data)
    return list(groups.values())


def _build_file(group: _Group, transfer_date: date, bank_data: BankDirectory | None) -> bytes:
    transfers = [_transfer(row) for row in group.rows]
    try:
        return zengin.build_transfer_file(group.sender, transfer_date, transfers,
                                          bank_data=bank_data)
    except zengin.ZenginError as first:
        problems = _problems(group, transfer_date, bank_data) or [str(first)]
        raise invalid("transfer file not written, no cash-out changed: "
                      + "; ".join(problems)) from None


def _problems(group: _Group, transfer_date: date, bank_data: BankDirectory | None) -> list[str]:
    """Build each transfer alone, to name every cash-out whose details the file rejects.

    A problem of the sender account fails every transfer alike, so it is listed once.
    """
    problems: list[str] = []
    for row in group.rows:
        try:
            zengin.build_transfer_file(group.sender, transfer_date, [_transfer(row)],
                                       bank_data=bank_data)
        except zengin.ZenginError as exc:
            problem = (f"sender account {group.sender.bank_code}: {exc}"
                       if exc.merchant_id is None
                       else f"cash-out {row.id} of merchant {row.merchant_id}: {exc}")
            if problem not in problems:
                problems.append(problem)
    return problems


def _transfer(row: CashOut) -> zengin.Transfer:
    return zengin.Transfer(
        merchant_id=row.merchant_id, bank_code=row.bank_code, branch_code=row.branch_code,
        account_type=row.account_type, account_number=row.account_number,
        holder_name=row.holder_name, amount_yen=row.net_yen,
        customer_code1=customer_code(row.seq),
    )


def customer_code(cash_out_seq: int) -> str:
    """Return the 顧客コード1 that identifies a cash-out in transfer and result files."""
    return f"{cash_out_seq:010d}"


def _write_temporary(group: _Group) -> Path:
    temporary = group.path.with_name(f".{group.path.name}.partial")
    try:
        with open(temporary, "wb") as file:
            file.write(group.content)
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise invalid(f"transfer file {group.path} cannot be written: {exc.strerror}; no"
                      " cash-out changed") from None
    return temporary


def _record(session: Session, group: _Group, transfer_date: date, now: datetime) -> WrittenBatch:
    batch_id = tokens.new_id("pb")
    total_yen = sum(row.net_yen for row in group.rows)
    session.add(PayoutBatch(
        id=batch_id, transfer_date=transfer_date, sender_bank_code=group.sender.bank_code,
        consignor_code=group.sender.consignor_code, file_name=str(group.path),
        content=group.content, cash_out_count=len(group.rows), total_yen=total_yen,
        created_at=now,
    ))
    session.flush()
    for row in group.rows:
        row.status = cashout.IN_FILE
        row.batch_id = batch_id
        row.in_file_at = now
    session.flush()
    return WrittenBatch(batch_id, group.path, group.sender.bank_code, len(group.rows), total_yen)


# --- results -------------------------------------------------------------------------------


def apply_result_file(
    db: Database, data: bytes, *, now: datetime,
    result_position: int = zengin.DEFAULT_RESULT_POSITION,
) -> ResultSummary:
    """Mark the cash-outs in a bank result file paid or failed, all in one transaction.

    Any unreadable file, unknown customer code, amount that differs from the cash-out, or
    cash-out not in a file changes nothing. A result repeated from an earlier file (same
    outcome) is reported as unchanged. ``result_position`` is the byte of a 120-byte record
    that holds the result code (see ``zengin.parse_result_file``).
    """
    try:
        results = zengin.parse_result_file(data, result_position=result_position)
    except zengin.ZenginError as exc:
        raise invalid(f"result file not applied, no cash-out changed: {exc}") from None
    summary = ResultSummary([], [], [])
    with db.write() as session:
        for result in results:
            row = _row_for_result(session, result)
            outcome = cashout.PAID if result.paid else cashout.FAILED
            if row.status == outcome:
                summary.unchanged.append(row.id)
                continue
            cashout.settle(session, row.id, paid=result.paid, now=now,
                           reason=f"bank result code {result.result_code}")
            (summary.paid if result.paid else summary.failed).append(row.id)
    return summary


def _row_for_result(session: Session, result: zengin.TransferResult) -> CashOut:
    code = result.customer_code1
    row = None
    if code.isdigit():
        row = session.scalars(select(CashOut).where(CashOut.seq == int(code))).one_or_none()
    if row is None:
        raise not_found(f"result record {result.record_number}: customer code {code} matches"
                        " no cash-out; no cash-out changed. Check that the file answers a"
                        " transfer file of this server")
    if result.amount_yen is not None and result.amount_yen != row.net_yen:
        raise invalid(f"result record {result.record_number}: cash-out {row.id} pays"
                      f" {row.net_yen} yen but the result says {result.amount_yen} yen;"
                      " no cash-out changed")
    return row


def mark(db: Database, cash_out_id: str, *, paid: bool, now: datetime,
         reason: str | None = None) -> CashOut:
    """Mark one cash-out paid or failed by hand (``chiiki-settle payout-mark``)."""
    with db.write() as session:
        return cashout.settle(session, cash_out_id, paid=paid, now=now, reason=reason)
