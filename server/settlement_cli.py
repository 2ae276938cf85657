"""chiiki-settle commands for fee plans, bank accounts, payouts and statements."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import select

from server import bank_accounts, fees, payouts, statements, zengin
from server.bank_accounts import BankAccountDetails
from server.db import Database
from server.errors import invalid, not_utf8
from server.models import CashOut
from server.settings import iso_utc, utc_now

AddCommand = Callable[[str, str], argparse.ArgumentParser]
SENDERS_ENV = "CHIIKI_PAYOUT_SENDERS"


def add_commands(add: AddCommand) -> None:
    """Register this module's subcommands through ``add(name, help)``."""
    load = add("fee-plan-load", "store the fee plans of a TOML file (see server/fees.py)")
    load.add_argument("file", type=Path, help="fee-plan TOML file")
    add("fee-plans", "print every stored fee plan with its tiers")
    assign = add("fee-plan-assign", "make a merchant pay by a named fee plan")
    assign.add_argument("--merchant", required=True, help="merchant id")
    assign.add_argument("--plan", required=True, help="fee plan name")

    bank = add("set-bank-account", "set the bank account a merchant's cash-outs are paid to")
    bank.add_argument("--merchant", required=True, help="merchant id")
    bank.add_argument("--bank-code", required=True, help="4-digit bank code, e.g. 0001")
    bank.add_argument("--branch-code", required=True, help="3-digit branch code, e.g. 001")
    bank.add_argument("--account-type", required=True, type=int,
                      help="1 ordinary (普通), 2 current (当座), 4 savings (貯蓄)")
    bank.add_argument("--account-number", required=True, help="account number, 1 to 7 digits")
    bank.add_argument("--holder-name", required=True,
                      help="account holder in katakana as the bank records it (口座名義カナ)")

    listing = add("cash-outs", "print cash-outs, oldest first")
    listing.add_argument("--status", choices=["requested", "in_file", "paid", "failed"],
                         help="only cash-outs in this state")

    batch = add("payout-batch", "write the Zengin transfer file of the cash-outs due by a date")
    batch.add_argument("--date", required=True, type=date.fromisoformat,
                       help="transfer date, YYYY-MM-DD, a bank business day")
    batch.add_argument("--out", required=True, type=Path, help="transfer file to write")
    batch.add_argument("--senders", type=Path, default=None,
                       help=f"sender account TOML file (default: ${SENDERS_ENV})")
    result = add("payout-result", "mark cash-outs paid or failed from a bank result file")
    result.add_argument("file", type=Path, help="result file (120-byte records or CSV)")
    result.add_argument(
        "--result-position", type=int, default=zengin.DEFAULT_RESULT_POSITION, metavar="N",
        help="byte of each 120-byte data record that holds the bank's result code, 112 to 120"
             " (default: %(default)s); not used for CSV files")
    mark = add("payout-mark", "mark one in-file cash-out paid or failed by hand")
    mark.add_argument("cash_out_id", help="cash-out id")
    mark.add_argument("outcome", choices=["paid", "failed"])
    mark.add_argument("--reason", default=None, help="why it failed, kept on the cash-out")

    statement = add("statement", "print a merchant's monthly statement as CSV or HTML")
    statement.add_argument("--merchant", dest="merchant_option", metavar="MERCHANT",
                           help="merchant id")
    statement.add_argument("merchant", nargs="?", default=None,
                           help="merchant id, the older form of --merchant")
    statement.add_argument("--month", required=True, help="month in Japan time, YYYY-MM")
    statement.add_argument("--html", action="store_true", help="print a printable HTML page")


def _fee_plan_load(args: argparse.Namespace, db: Database) -> None:
    try:
        plans = fees.parse_plans(_read_text(args.file))
    except fees.FeePlanError as exc:
        raise invalid(f"{args.file}: {exc}") from None
    with db.write() as session:
        fees.save_plans(session, plans, now=utc_now())
    print(f"stored {len(plans)} fee plans: {', '.join(plan.name for plan in plans)}")


def _fee_plans(args: argparse.Namespace, db: Database) -> None:
    with db.read() as session:
        plans = fees.list_plans(session)
    if not plans:
        print("no fee plans; load them with chiiki-settle fee-plan-load FILE")
        return
    for plan in plans:
        cap = "none" if plan.monthly_cap_yen is None else f"{plan.monthly_cap_yen} yen"
        tiers = ", ".join(f"from {tier.from_yen} yen {tier.rate_bp} bp" for tier in plan.tiers)
        print(f"{plan.name}\tfixed {plan.fixed_monthly_yen} yen\tcap {cap}\t{tiers}")


def _fee_plan_assign(args: argparse.Namespace, db: Database) -> None:
    with db.write() as session:
        fees.assign_plan(session, args.merchant, args.plan, now=utc_now())
    print(f"merchant {args.merchant} pays by fee plan {args.plan}")


def _set_bank_account(args: argparse.Namespace, db: Database) -> None:
    details = BankAccountDetails(args.bank_code, args.branch_code, args.account_type,
                                 args.account_number, args.holder_name)
    with db.write() as session:
        row = bank_accounts.set_bank_account(session, args.merchant, details, now=utc_now())
        print(f"merchant {args.merchant} is paid to bank {row.bank_code} branch"
              f" {row.branch_code} type {row.account_type} account {row.account_number}"
              f" holder {row.holder_name}")


def _cash_outs(args: argparse.Namespace, db: Database) -> None:
    query = select(CashOut).order_by(CashOut.seq)
    if args.status:
        query = query.where(CashOut.status == args.status)
    with db.read() as session:
        rows = list(session.scalars(query))
    print("cash_out_id\tmerchant_id\tstatus\tpayout_date\tamount_yen\tfee_yen\tnet_yen"
          "\tcreated_at\tcause_id")
    for row in rows:
        print(f"{row.id}\t{row.merchant_id}\t{row.status}\t{row.payout_date}\t{row.amount_yen}"
              f"\t{row.fee_yen}\t{row.net_yen}\t{iso_utc(row.created_at)}\t{row.cause_id or '-'}")


def _payout_batch(args: argparse.Namespace, db: Database) -> None:
    senders_path = args.senders or (Path(os.environ[SENDERS_ENV])
                                    if os.environ.get(SENDERS_ENV) else None)
    if senders_path is None:
        raise invalid(f"no sender accounts given; pass --senders FILE or set {SENDERS_ENV}")
    senders = payouts.load_senders(senders_path)
    written = payouts.write_payout_batch(db, args.date, args.out, senders, now=utc_now())
    if not written:
        print(f"no cash-outs are due by {args.date}; no file written")
    for batch in written:
        print(f"{batch.path}\tbatch {batch.batch_id}\tsender bank {batch.sender_bank_code}"
              f"\t{batch.cash_out_count} cash-outs\t{batch.total_yen} yen")


def _payout_result(args: argparse.Namespace, db: Database) -> None:
    positions = zengin.RESULT_POSITIONS
    if args.result_position not in positions:
        raise invalid(f"--result-position {args.result_position} is out of range; allowed:"
                      f" {positions[0]} to {positions[-1]}")
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise invalid(f"result file {args.file} cannot be read: {exc.strerror}") from None
    summary = payouts.apply_result_file(db, data, now=utc_now(),
                                        result_position=args.result_position)
    print(f"paid {len(summary.paid)}, failed {len(summary.failed)},"
          f" already recorded {len(summary.unchanged)}")
    for cash_out_id in summary.failed:
        print(f"failed\t{cash_out_id}")


def _payout_mark(args: argparse.Namespace, db: Database) -> None:
    row = payouts.mark(db, args.cash_out_id, paid=args.outcome == "paid", now=utc_now(),
                       reason=args.reason)
    print(f"cash-out {row.id} is {row.status}")


def _statement(args: argparse.Namespace, db: Database) -> None:
    merchant_ids: set[str] = {value for value in (args.merchant_option, args.merchant) if value}
    if len(merchant_ids) != 1:
        raise invalid("give the merchant once, as --merchant MERCHANT_ID; run chiiki-settle"
                      " list-merchants to see the merchant ids")
    merchant_id = merchant_ids.pop()
    with db.read() as session:
        built = statements.build_statement(session, merchant_id, args.month)
        text = statements.to_html(built) if args.html else statements.to_csv(built)
    sys.stdout.write(text)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    except OSError as exc:
        raise invalid(f"file {path} cannot be read: {exc.strerror}") from None


COMMANDS: dict[str, Callable[[argparse.Namespace, Database], None]] = {
    "fee-plan-load": _fee_plan_load,
    "fee-plans": _fee_plans,
    "fee-plan-assign": _fee_plan_assign,
    "set-bank-account": _set_bank_account,
    "cash-outs": _cash_outs,
    "payout-batch": _payout_batch,
    "payout-result": _payout_result,
    "payout-mark": _payout_mark,
    "statement": _statement,
}
