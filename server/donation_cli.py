"""chiiki-settle commands of donation causes, campaigns, owed donations and totals.

Dates on the command line are Japan time: ``2026-04-01`` is midnight at the start of that day,
and a full ISO 8601 time with an offset (``2026-04-01T10:00+09:00``) is taken as given. A
campaign runs from ``--starts`` up to, not including, ``--ends``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime, time

from server import donation_payouts, donations
from server.db import Database
from server.donation_models import DonationCampaign
from server.errors import InsufficientFunds, invalid, shorten
from server.models import CashOut
from server.settings import Settings, iso_utc, utc_now
from terminal.japan_time import JAPAN_TIME_ZONE, format_japan_time

AddCommand = Callable[[str, str], argparse.ArgumentParser]


def add_commands(add: AddCommand) -> None:
    """Register this module's subcommands through ``add(name, help)``."""
    cause = add("donation-cause-create", "create a donation cause and print its id")
    cause.add_argument("--name", required=True, help="cause name shown on receipts, e.g. 会津こども食堂")
    add("donation-causes", "print every cause with what it holds, what is owed to it, its"
        " payouts and what it owes back to funders of refunded donations")
    token = add("donation-cause-token",
                "issue a new read token for a cause's totals API (the old token stops working)")
    token.add_argument("--cause", required=True, help="cause id")
    payout = add("donation-cause-pay-out",
                 "move yen a cause holds to its payee merchant and request a cash-out of it")
    payout.add_argument("--cause", required=True, help="cause id")
    payout.add_argument("--merchant", required=True,
                        help="merchant id of the cause organisation, with a bank account")
    amount_or_all = payout.add_mutually_exclusive_group(required=True)
    amount_or_all.add_argument("--amount", type=int,
                               help="yen to pay out, at most what the cause holds after repaying"
                                    " what it owes back to funders of refunded donations")
    amount_or_all.add_argument("--all", action="store_true",
                               help="pay out everything the cause holds after repaying what it"
                                    " owes back")
    payout.add_argument("--key", required=True,
                        help="idempotency key, 8 to 64 letters, digits, - or _; the same key"
                             " again pays nothing twice")
    payout.add_argument("--from-payee", action="store_true",
                        help="cash out what the payee merchant holds, e.g. after a failed"
                             " payout, instead of moving value from the cause")

    campaign = add("donation-campaign-create", "create a donation campaign and print its id")
    campaign.add_argument("--cause", required=True, help="cause id")
    campaign.add_argument("--name", required=True, help="campaign name for reports")
    campaign.add_argument("--starts", required=True,
                          help="first moment, YYYY-MM-DD (Japan midnight) or ISO 8601 with offset")
    campaign.add_argument("--ends", required=True,
                          help="end, not included, YYYY-MM-DD (Japan midnight) or ISO 8601")
    amount = campaign.add_mutually_exclusive_group(required=True)
    amount.add_argument("--share-bp", type=int,
                        help="share of each payment in basis points (100 = 1%%), rounded down")
    amount.add_argument("--fixed-yen", type=int, help="yen per payment (at most the payment)")
    campaign.add_argument("--funder", required=True, choices=donations.FUNDERS,
                          help="who pays: the shop from its account, or the operator from fees")
    campaign.add_argument("--merchant", action="append", dest="merchants", metavar="MERCHANT",
                          help="limit to this merchant id; repeat for more (default: every shop)")
    add("donation-campaigns", "print every donation campaign")
    end = add("donation-campaign-end", "end a donation campaign earlier")
    end.add_argument("--campaign", required=True, help="campaign id")
    end.add_argument("--at", default=None,
                     help="new end, YYYY-MM-DD (Japan midnight) or ISO 8601 (default: now)")

    add("donation-settle",
        "book owed operator-funded donations, oldest first, while the fee account covers them")
    report = add("donation-totals", "print donated, returned and net yen per group")
    report.add_argument("--by", choices=donations.TOTALS_GROUPS, default="campaign",
                        help="group per campaign, cause, day or month in Japan time"
                             " (default: %(default)s)")
    report.add_argument("--cause", default=None, help="only this cause id")
    report.add_argument("--campaign", default=None, help="only this campaign id")
    report.add_argument("--since", default=None, help="from this moment, YYYY-MM-DD or ISO 8601")
    report.add_argument("--until", default=None, help="before this moment, YYYY-MM-DD or ISO 8601")


def parse_moment(text: str, option: str) -> datetime:
    """Parse a command-line date (Japan midnight) or an ISO 8601 time with an offset."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=JAPAN_TIME_ZONE)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"{option} {shorten(text)!r} is not a date or time; use YYYY-MM-DD or"
                      " e.g. 2026-04-01T10:00+09:00") from None
    if moment.tzinfo is None:
        raise invalid(f"{option} {shorten(text)!r} has no offset; add one, e.g. +09:00")
    return moment


def _cause_create(args: argparse.Namespace, db: Database) -> None:
    with db.write() as session:
        cause = donations.create_cause(session, args.name, now=utc_now())
    print(cause.id)


def _causes(args: argparse.Namespace, db: Database) -> None:
    with db.read() as session:
        print("cause_id\tname\theld_yen\towed_yen\tread_token\tin_payout_yen\tpaid_out_yen"
              "\towes_back_yen")
        for cause in donations.list_causes(session):
            token = "issued" if cause.read_token_hash else "none"
            payouts = donation_payouts.payout_totals(session, cause.id)
            print(f"{cause.id}\t{cause.name}\t{donations.cause_held_yen(session, cause)}"
                  f"\t{donations.owed_yen(session, cause.id)}\t{token}"
                  f"\t{payouts.in_payout_yen}\t{payouts.paid_out_yen}"
                  f"\t{donations.owed_back_yen(session, cause.id)}")


def _cause_token(args: argparse.Namespace, db: Database) -> None:
    with db.write() as session:
        token = donations.issue_read_token(session, args.cause)
    print(token)


def _cause_pay_out(args: argparse.Namespace, db: Database) -> None:
    amount_yen = None if args.all else args.amount
    with db.write() as session:
        payout = donation_payouts.pay_out_cause(session, args.cause, args.merchant, amount_yen,
                                                args.key, Settings.from_env(),
                                                from_payee=args.from_payee)
    # Committed before the error is raised, so the repayments the cause could make stay booked.
    if payout.repaid_yen > 0:
        print(f"cause {args.cause} repaid {payout.repaid_yen} yen it owed back to the funders"
              " of refunded donations")
    if payout.cash_out is None:
        raise InsufficientFunds(donation_payouts.debt_message(args.cause, payout))
    _print_cause_payout(payout.cash_out, payout.created)


def _print_cause_payout(row: CashOut, created: bool) -> None:
    if not created:
        print(f"key {row.idempotency_key} was already paid out; nothing new was booked")
    print(f"cash-out {row.id}: {row.amount_yen} yen of cause {row.cause_id} to merchant"
          f" {row.merchant_id}, {row.status}")
    print(f"fee {row.fee_yen} yen (fee plan {row.fee_plan}); the bank pays {row.net_yen} yen"
          f" to bank {row.bank_code} branch {row.branch_code} account {row.account_number}"
          f" {row.holder_name} on {row.payout_date}")
    if row.fee_yen > 0:
        print(f"the payee pays a fee; assign a zero-fee plan before the next payout:"
              f" chiiki-settle fee-plan-assign --merchant {row.merchant_id} --plan PLAN")


def _campaign_create(args: argparse.Namespace, db: Database) -> None:
    new = donations.NewCampaign(
        cause_id=args.cause, name=args.name, starts_at=parse_moment(args.starts, "--starts"),
        ends_at=parse_moment(args.ends, "--ends"), funder=args.funder,
        share_bp=args.share_bp, fixed_yen=args.fixed_yen,
        merchant_ids=tuple(args.merchants) if args.merchants else None,
    )
    with db.write() as session:
        campaign = donations.create_campaign(session, new, now=utc_now())
    print(campaign.id)


def _campaigns(args: argparse.Namespace, db: Database) -> None:
    with db.read() as session:
        rows = donations.list_campaigns(session)
    print("campaign_id\tcause_id\tname\tamount\tfunder\tstarts\tends\tmerchants")
    for row in rows:
        print(f"{row.id}\t{row.cause_id}\t{row.name}\t{_amount_rule(row)}\t{row.funder}"
              f"\t{format_japan_time(row.starts_at, '%Y-%m-%d %H:%M')}"
              f"\t{format_japan_time(row.ends_at, '%Y-%m-%d %H:%M')}"
              f"\t{','.join(row.merchant_ids) if row.merchant_ids else 'all'}")


def _amount_rule(campaign: DonationCampaign) -> str:
    if campaign.share_bp is not None:
        return f"{campaign.share_bp} bp"
    return f"{campaign.fixed_yen} yen"


def _campaign_end(args: argparse.Namespace, db: Database) -> None:
    now = utc_now()
    ends_at = now if args.at is None else parse_moment(args.at, "--at")
    with db.write() as session:
        campaign = donations.end_campaign(session, args.campaign, ends_at, now=now)
    print(f"campaign {campaign.id} ends at"
          f" {format_japan_time(campaign.ends_at, '%Y-%m-%d %H:%M JST')}"
          f" ({iso_utc(campaign.ends_at)})")


def _settle(args: argparse.Namespace, db: Database) -> None:
    with db.write() as session:
        summary = donations.settle_owed(session, now=utc_now())
    print(f"settled {summary.settled_count} donations, {summary.settled_yen} yen;"
          f" still owed {summary.still_owed_count} donations, {summary.still_owed_yen} yen")


def _totals(args: argparse.Namespace, db: Database) -> None:
    since = None if args.since is None else parse_moment(args.since, "--since")
    until = None if args.until is None else parse_moment(args.until, "--until")
    if since is not None and until is not None and until <= since:
        raise invalid(f"--until {args.until} is not after --since {args.since}, so no donation"
                      " could match; give an --until later than --since")
    with db.read() as session:
        lines = donations.totals(session, args.by, cause_id=args.cause,
                                 campaign_id=args.campaign, since=since, until=until)
    print(f"{args.by}\tname\tpayments\tdonated_yen\treturned_yen\tnet_yen")
    for line in lines:
        print(f"{line.key}\t{line.label}\t{line.payment_count}\t{line.donated_yen}"
              f"\t{line.returned_yen}\t{line.net_yen}")
    print(f"total\t\t{sum(line.payment_count for line in lines)}"
          f"\t{sum(line.donated_yen for line in lines)}"
          f"\t{sum(line.returned_yen for line in lines)}\t{sum(line.net_yen for line in lines)}")


COMMANDS: dict[str, Callable[[argparse.Namespace, Database], None]] = {
    "donation-cause-create": _cause_create,
    "donation-causes": _causes,
    "donation-cause-token": _cause_token,
    "donation-cause-pay-out": _cause_pay_out,
    "donation-campaign-create": _campaign_create,
    "donation-campaigns": _campaigns,
    "donation-campaign-end": _campaign_end,
    "donation-settle": _settle,
    "donation-totals": _totals,
}
