"""chiiki-settle commands of stamp rallies: create a rally, add booths, list and report."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from server import rallies
from server.db import Database
from server.errors import invalid
from server.settings import utc_now
from terminal.japan_time import JAPAN_TIME_ZONE

AddCommand = Callable[[str, str], argparse.ArgumentParser]


def add_commands(add: AddCommand) -> None:
    """Register this module's subcommands through ``add(name, help)``."""
    create = add("rally-create", "create a stamp rally and print its id")
    create.add_argument("--name", required=True, help="rally name shown at booths and in wallets")
    create.add_argument("--starts", required=True, type=_day,
                        help="first day of the rally, YYYY-MM-DD in Japan time")
    create.add_argument("--ends", required=True, type=_day,
                        help="last day of the rally, YYYY-MM-DD in Japan time")
    create.add_argument("--goal", required=True, type=_whole_number,
                        help="stamps a participant needs for the reward, 1 to 100")
    create.add_argument("--reward-yen", type=_whole_number, default=0,
                        help="reward in yen of points, issued once when the goal is reached;"
                             " needed unless the reward is a coupon")
    create.add_argument("--reward-kind", default="premium_all", choices=rallies.REWARD_KINDS,
                        help="premium_all or benefit points, or a coupon (default: %(default)s)")
    create.add_argument("--reward-expires", type=_day, default=None,
                        help="last day the reward points can be spent, YYYY-MM-DD in Japan"
                             " time; they expire at the end of that day. Needed for points")
    create.add_argument("--coupon-campaign", default=None,
                        help="coupon campaign whose coupon is the reward, with --reward-kind"
                             " coupon")
    create.add_argument("--issuing-account", default=None,
                        help="issuing account the rewards come from (default: a new account"
                             " rally-<rally id>)")

    booth = add("rally-add-booth", "make a terminal a booth of a rally")
    booth.add_argument("--rally", required=True, help="rally id")
    booth.add_argument("--terminal", required=True, help="terminal id")
    booth.add_argument("--name", required=True, help="booth name shown on its screen, e.g. 観光案内所")

    add("rallies", "print every rally with its period, goal and reward")
    report = add("rally-report", "print stamps per booth per day, participants and goals reached")
    report.add_argument("--rally", required=True, help="rally id")


def _rally_create(args: argparse.Namespace, db: Database) -> None:
    if args.reward_kind != rallies.REWARD_COUPON and args.reward_expires is None:
        raise invalid("points rewards need --reward-expires YYYY-MM-DD, the last day they can"
                      " be spent")
    new = rallies.NewRally(
        name=args.name, starts_on=args.starts, ends_on=args.ends, goal_stamps=args.goal,
        reward_kind=args.reward_kind, reward_yen=args.reward_yen,
        reward_expires_on=args.reward_expires or args.ends,
        issuing_account_id=args.issuing_account, coupon_campaign_id=args.coupon_campaign,
    )
    with db.write() as session:
        rally = rallies.create_rally(session, new, now=utc_now())
        print(f"rally {rally.id} created: {rally.name}, {rally.starts_on} to {rally.ends_on},"
              f" {rally.goal_stamps} stamps for {rally.reward_yen} yen {rally.reward_kind}"
              f" usable until {_japan_time(rally.reward_expires_at)}, issued by"
              f" {rally.issuing_account_id}")


def _japan_time(moment: datetime) -> str:
    """Format an exclusive end in Japan time; midnight reads as 24:00 of the day before."""
    local = moment.astimezone(JAPAN_TIME_ZONE)
    if local.time() == time(0):
        return f"{(local - timedelta(days=1)).date()} 24:00 JST"
    return local.strftime("%Y-%m-%d %H:%M JST")


def _rally_add_booth(args: argparse.Namespace, db: Database) -> None:
    with db.write() as session:
        booth = rallies.add_booth(session, args.rally, args.terminal, args.name, now=utc_now())
        print(f"terminal {booth.terminal_id} is booth {booth.name} of rally {booth.rally_id}")


def _rallies(args: argparse.Namespace, db: Database) -> None:
    with db.read() as session:
        rows = rallies.list_rallies(session)
        if not rows:
            print("no rallies; create one with chiiki-settle rally-create")
            return
        print("rally_id\tname\tstarts_on\tends_on\tgoal_stamps\treward_yen\treward_kind")
        for rally in rows:
            print(f"{rally.id}\t{rally.name}\t{rally.starts_on}\t{rally.ends_on}"
                  f"\t{rally.goal_stamps}\t{rally.reward_yen}\t{rally.reward_kind}")


def _rally_report(args: argparse.Namespace, db: Database) -> None:
    with db.read() as session:
        report = rallies.rally_report(session, args.rally)
    rally = report.rally
    print(f"rally {rally.id} {rally.name}, {rally.starts_on} to {rally.ends_on},"
          f" goal {rally.goal_stamps} stamps")
    print("day\tbooth\tterminal_id\tstamps")
    for row in report.booth_days:
        print(f"{row.day}\t{row.booth_name}\t{row.terminal_id}\t{row.stamps}")
    total = sum(row.stamps for row in report.booth_days)
    print(f"stamps {total}\tparticipants {report.participants}"
          f"\tgoals reached {report.goals_reached}\trewards {report.rewards_yen} yen")
    if report.goals_without_reward:
        print(f"goals without a reward (coupon budget used up): {report.goals_without_reward}")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-10-01") from None


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number; write digits only, e.g. 5") from None


COMMANDS: dict[str, Callable[[argparse.Namespace, Database], None]] = {
    "rally-create": _rally_create,
    "rally-add-booth": _rally_add_booth,
    "rallies": _rallies,
    "rally-report": _rally_report,
}
