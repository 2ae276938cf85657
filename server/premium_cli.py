"""chiiki-settle commands of premium point sales, and the wallet attribute import.

A sale is created from a TOML file (keys as in ``SALE_KEYS``), from options, or both (options
win). Times are ISO 8601; a time without an offset is read as Japan time.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from server import ledger, new_files, premium, seed_files, wallet_attributes
from server.db import Database
from server.errors import invalid, not_utf8
from server.premium import SaleConfig
from server.premium_models import APPLIED, CANCELLED, LOST, PURCHASED, WON
from server.settings import iso_utc, utc_now
from terminal.japan_time import JAPAN_TIME_ZONE

AddCommand = Callable[[str, str], argparse.ArgumentParser]

# Sale settings: TOML key, help text. The option of a key is --key with hyphens.
SALE_KEYS: dict[str, str] = {
    "id": "sale id: 1 to 24 lower-case letters, digits and hyphens, e.g. 2026-summer",
    "name": "sale name shown in wallets, e.g. 若松プレミアム商品券",
    "apply_from": "start of the application period (ISO 8601)",
    "apply_until": "end of the application period",
    "purchase_from": "start of the purchase period",
    "purchase_until": "end of the purchase period",
    "usage_until": "end of the usage period: the points expire then",
    "price_yen": "price of one set in yen, paid in coin",
    "local_yen": "premium_local points per set (local shops only), in yen",
    "all_yen": "premium_all points per set (every shop), in yen",
    "total_sets": "sets on sale",
    "per_person_max_sets": "the most sets one person may apply for",
    "household_max_people": "the most people of one household who may apply",
    "household_max_sets": "the most sets one household may apply for in total",
    "residents_only": "true: only wallets registered as residents may apply (default true)",
}
_TIME_KEYS = ("apply_from", "apply_until", "purchase_from", "purchase_until", "usage_until")
_INT_KEYS = ("price_yen", "local_yen", "all_yen", "total_sets", "per_person_max_sets",
             "household_max_people", "household_max_sets")
_RECORD_FILE = new_files.NewFile(
    noun="record file", command="premium-publish", option="--out",
    reason="it may be a seed file or another round's record")


def add_commands(add: AddCommand) -> None:
    """Register this module's subcommands through ``add(name, help)``."""
    create = add("premium-create", "create a premium point sale from a TOML file or options")
    create.add_argument("--file", type=Path, default=None, help="sale TOML file")
    for key, text in SALE_KEYS.items():
        create.add_argument("--" + key.replace("_", "-"), dest=f"sale_{key}", default=None,
                            help=text)

    add("premium-sales", "print every premium sale with its phase")
    show = add("premium-show", "print a sale, its draws and its applications")
    show.add_argument("sale", help="sale id")
    show.add_argument("--applications", action="store_true", help="also list every application")
    commit = add("premium-commit", "commit the lottery seeds of both rounds: write the seeds"
                 " to a new seed file, store and print the commitments to publish before"
                 " applications close")
    commit.add_argument("sale", help="sale id")
    commit.add_argument("--seed-file", type=Path, required=True, metavar="FILE",
                        help="seed file to create (mode 0600, never overwritten); keep it"
                        " offline until the draws")
    draw = add("premium-draw", "draw a round of a sale's lottery")
    draw.add_argument("sale", help="sale id")
    draw.add_argument("--round", type=int, choices=premium.ROUNDS, default=1,
                      help="1 after applications close, 2 for the unclaimed sets")
    seed = draw.add_mutually_exclusive_group()
    seed.add_argument("--seed-file", type=Path, default=None, metavar="FILE",
                      help="the seed file premium-commit wrote for the sale")
    seed.add_argument("--seed", default=None, metavar="HEX",
                      help="the round's seed (64 hexadecimal characters) instead of the file")
    second = add("premium-second-round", "set the purchase period of round 2 (unclaimed sets)")
    second.add_argument("sale", help="sale id")
    second.add_argument("--purchase-from", required=True, help="start (ISO 8601)")
    second.add_argument("--purchase-until", required=True, help="end (ISO 8601)")
    publish = add("premium-publish", "reveal a drawn round's seed and print its public record")
    publish.add_argument("sale", help="sale id")
    publish.add_argument("--round", type=int, choices=premium.ROUNDS, default=1)
    publish.add_argument("--out", type=Path, default=None, metavar="FILE",
                         help="also write the record to FILE, a new file (never overwritten)")
    verify = add("premium-verify", "re-run a published draw from its record and compare")
    verify.add_argument("sale", nargs="?", default=None, help="sale id (reads the database)")
    verify.add_argument("--round", type=int, choices=premium.ROUNDS, default=1)
    verify.add_argument("--file", type=Path, default=None,
                        help="a published record (JSON); no database is read")
    report = add("premium-report", "print a sale's applications, sets, payments and points")
    report.add_argument("sale", help="sale id")

    attributes = add("wallet-attributes-import", "set residency, household and attributes of"
                     " wallets from a CSV file (wallet_id,resident,household_id,...)")
    attributes.add_argument("file", type=Path, help="UTF-8 CSV file with a header row")


# --- creating a sale -----------------------------------------------------------------------


def _create(args: argparse.Namespace, db: Database) -> None:
    values: dict[str, Any] = _read_toml(args.file) if args.file else {}
    unknown = sorted(set(values) - set(SALE_KEYS))
    if unknown:
        raise invalid(f"{args.file}: unknown key {unknown[0]!r}; the keys are"
                      f" {', '.join(SALE_KEYS)}")
    options = set()
    for key in SALE_KEYS:
        option = getattr(args, f"sale_{key}")
        if option is not None:
            values[key] = option
            options.add(key)
    config = sale_config(values, options=frozenset(options))
    with db.write() as session:
        sale = premium.create_sale(session, config, now=utc_now())
        print(f"premium sale {sale.id} created; commit its lottery seeds with chiiki-settle"
              f" premium-commit {sale.id} --seed-file FILE before {iso_utc(sale.apply_until)}")


def sale_config(values: dict[str, Any], *, options: frozenset[str] = frozenset()) -> SaleConfig:
    """Build a SaleConfig from TOML values or option strings, naming each bad value.

    Keys in ``options`` came from the command line as text; TOML values must have their type.
    """
    missing = [key for key in SALE_KEYS if key not in values and key != "residents_only"]
    if missing:
        raise invalid(f"the sale is missing {', '.join(missing)}; give them in the TOML file"
                      " or as options (--" + missing[0].replace("_", "-") + ")")
    times = {key: _time(key, values[key]) for key in _TIME_KEYS}
    numbers = {key: _whole_number(key, values[key], from_option=key in options)
               for key in _INT_KEYS}
    return SaleConfig(
        sale_id=_text("id", values["id"]), name=_text("name", values["name"]),
        apply_from=times["apply_from"], apply_until=times["apply_until"],
        purchase_from=times["purchase_from"], purchase_until=times["purchase_until"],
        usage_until=times["usage_until"], price_yen=numbers["price_yen"],
        local_yen=numbers["local_yen"], all_yen=numbers["all_yen"],
        total_sets=numbers["total_sets"], per_person_max_sets=numbers["per_person_max_sets"],
        household_max_people=numbers["household_max_people"],
        household_max_sets=numbers["household_max_sets"],
        residents_only=_flag("residents_only", values.get("residents_only", True),
                             from_option="residents_only" in options),
    )


def toml_spelling(value: object) -> str:
    """Spell a value the way it is written in TOML, for messages naming the operator's value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _time(key: str, value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise invalid(f"{key} = {toml_spelling(value)} is invalid; write an ISO 8601 date"
                          " and time such as 2027-07-01T09:00:00+09:00") from None
        value = parsed
    if not isinstance(value, datetime):
        raise invalid(f"{key} = {toml_spelling(value)} is invalid; write a date and time"
                      " such as 2027-07-01T09:00:00+09:00, not only a date or a time")
    return value if value.tzinfo is not None else value.replace(tzinfo=JAPAN_TIME_ZONE)


def _whole_number(key: str, value: object, *, from_option: bool) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if from_option and isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise invalid(f"{key} = {toml_spelling(value)} is invalid; write a whole number without"
                  " quotes, e.g. 10000")


def _text(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise invalid(f"{key} = {toml_spelling(value)} is invalid; write it as text in quotes")
    return value


def _flag(key: str, value: object, *, from_option: bool) -> bool:
    if isinstance(value, bool):
        return value
    if from_option and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise invalid(f"{key} = {toml_spelling(value)} is invalid; write true or false without"
                  " quotes")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    except OSError as exc:
        raise invalid(f"file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise invalid(f"{path} is not valid TOML: {exc}") from None


# --- listing and showing -------------------------------------------------------------------


def _sales(args: argparse.Namespace, db: Database) -> None:
    now = utc_now()
    with db.read() as session:
        rows = [(sale, premium.sale_phase(sale, premium.draws_of(session, sale.id), now))
                for sale in premium.list_sales(session)]
    if not rows:
        print("no premium sales; create one with chiiki-settle premium-create --file SALE.toml")
        return
    print("sale_id\tphase\tsets\tprice_yen\tlocal_yen\tall_yen\tapply_until\tname")
    for sale, phase in rows:
        print(f"{sale.id}\t{phase}\t{sale.total_sets}\t{sale.price_yen}\t{sale.local_yen}"
              f"\t{sale.all_yen}\t{iso_utc(sale.apply_until)}\t{sale.name}")


def _show(args: argparse.Namespace, db: Database) -> None:
    now = utc_now()
    with db.read() as session:
        sale = premium.get_sale(session, args.sale)
        draws = premium.draws_of(session, sale.id)
        applications = premium.applications_of(session, sale.id)
        print(f"sale {sale.id}: {sale.name} ({premium.sale_phase(sale, draws, now)})")
        print(f"applications {iso_utc(sale.apply_from)} .. {iso_utc(sale.apply_until)}")
        print(f"purchase     {iso_utc(sale.purchase_from)} .. {iso_utc(sale.purchase_until)}")
        if sale.second_purchase_from and sale.second_purchase_until:
            print(f"second round {iso_utc(sale.second_purchase_from)} .."
                  f" {iso_utc(sale.second_purchase_until)}")
        print(f"usage until  {iso_utc(sale.usage_until)}")
        print(f"set: {sale.price_yen} yen buys {sale.local_yen} premium_local +"
              f" {sale.all_yen} premium_all; {sale.total_sets} sets; per person"
              f" {sale.per_person_max_sets}; household {sale.household_max_people} people,"
              f" {sale.household_max_sets} sets; residents only: {sale.residents_only}")
        for number, draw in sorted(draws.items()):
            drawn = iso_utc(draw.drawn_at) if draw.drawn_at else "not drawn"
            published = iso_utc(draw.published_at) if draw.published_at else "seed secret"
            print(f"round {number}: commitment {draw.commitment}; {drawn}; {published}")
        if args.applications:
            _print_applications(applications, draws)


def _print_applications(applications: list[Any], draws: dict[int, Any]) -> None:
    second = draws.get(2)
    second_ids = {item["id"] for item in (second.candidates or [])} if second else set()
    print("application_id\twallet_id\tapplicant_wallet_id\thousehold_id\tsets_requested"
          "\tstatus\tround_won\tsets_won\tdraw_round\tdraw_position")
    for row in applications:
        # draw_position belongs to the last round the application was drawn in.
        draw_round: str | int = ""
        if row.draw_position is not None:
            draw_round = 2 if row.id in second_ids else 1
        print(f"{row.id}\t{row.wallet_id}\t{row.applicant_wallet_id}\t{row.household_id or ''}"
              f"\t{row.sets_requested}\t{row.status}\t{row.round_won or ''}\t{row.sets_won}"
              f"\t{draw_round}\t{row.draw_position or ''}")


# --- draws ---------------------------------------------------------------------------------


def _commit(args: argparse.Namespace, db: Database) -> None:
    seed_files.reject_seed_like(args.sale, "the sale id given", "give the sale id")
    seed_files.reject_seed_like(args.seed_file, "the value of --seed-file",
                                "give --seed-file the path of a new seed file")
    now = utc_now()
    seeds = seed_files.commit_with_seed_file(
        db, args.seed_file,
        lambda session: premium.commit_seeds(session, args.sale, now=now),
        lambda committed: seed_files.write_premium_seeds(args.seed_file, args.sale, committed,
                                                         committed_at=now),
        check_advice=f"run chiiki-settle premium-show {args.sale}: if it lists the commitments"
        " written in the file, keep the file, which contains their seeds; if not, delete the"
        " file and run premium-commit again")

    for item in seeds:
        print(f"round {item.round} commitment {item.commitment}")
    print(f"publish these commitments now; each seed is revealed after its round is drawn."
          f" The seeds are only in {args.seed_file}: keep it and a copy offline, because"
          " premium-draw needs it and the rounds cannot be drawn without it")


def _draw(args: argparse.Namespace, db: Database) -> None:
    seed_files.reject_seed_like(args.sale, "the sale id given",
                                "give the sale id, and pass a seed with --seed or the seed"
                                " file's path with --seed-file")
    seed_files.reject_seed_like(args.seed_file, "the value of --seed-file",
                                "pass a seed with --seed, or give --seed-file the path of the"
                                " seed file")
    seed = args.seed
    if args.seed_file is not None:
        seed = seed_files.read_premium_seed(args.seed_file, args.sale, args.round)
    with db.write() as session:
        draw = premium.draw(session, args.sale, args.round, seed=seed, now=utc_now())
        winners = draw.winners or {}
        print(f"round {draw.round} of sale {args.sale}: {len(draw.candidates or [])}"
              f" applications, {draw.supply_sets} sets, {len(winners)} winners with"
              f" {sum(winners.values())} sets")
    print(f"publish the seed with chiiki-settle premium-publish {args.sale} --round {args.round}")


def _second_round(args: argparse.Namespace, db: Database) -> None:
    start = _time("--purchase-from", args.purchase_from)
    end = _time("--purchase-until", args.purchase_until)
    with db.write() as session:
        premium.set_second_round(session, args.sale, purchase_from=start, purchase_until=end)
    print(f"round 2 of sale {args.sale}: purchase from {iso_utc(start)} until {iso_utc(end)};"
          f" draw it with chiiki-settle premium-draw {args.sale} --round 2 --seed-file FILE"
          " after the first purchase period ends")


def _publish(args: argparse.Namespace, db: Database) -> None:
    seed_files.reject_seed_like(args.sale, "the sale id given", "give the sale id")
    seed_files.reject_seed_like(args.out, "the value of --out",
                                "give --out the path of a new record file")
    if args.out is None:
        print(_published_record(args, db))
        return

    # The file is created before the round is published, so a path that is taken changes
    # nothing. Publishing again returns the same record.
    try:
        with new_files.new_file(args.out, _RECORD_FILE, outcome="Nothing was changed") as out:
            text = _published_record(args, db)
            out.write(text + "\n")
    except OSError as exc:
        raise new_files.write_failed(
            args.out, _RECORD_FILE, exc, f"Round {args.round} is published; run premium-publish"
            " again with a new --out path to write its record") from None
    print(text)


def _published_record(args: argparse.Namespace, db: Database) -> str:
    with db.write() as session:
        record = premium.publish(session, args.sale, args.round, now=utc_now())
    return json.dumps(record, ensure_ascii=False, indent=2)


def _verify(args: argparse.Namespace, db: Database) -> None:
    if args.file is not None:
        problems = verify_file(args.file)
        if problems:
            raise invalid("the draw does not verify: " + "; ".join(problems))
        print(f"verified: {args.file}: the seed matches the commitment and gives the published"
              " order and winners")
        return
    if args.sale is not None:
        with db.read() as session:
            sale = premium.get_sale(session, args.sale)
            draw = premium.draws_of(session, sale.id).get(args.round)
            if draw is None:
                raise invalid(f"sale {sale.id} has no round {args.round}")
            if draw.drawn_at is None or draw.published_at is None:
                step = "drawn" if draw.drawn_at is None else "published"
                raise invalid(f"round {args.round} of sale {sale.id} has not been {step} yet;"
                              f" verify it after chiiki-settle premium-draw and premium-publish")
            record = premium.draw_record(sale, draw)
    else:
        raise invalid("give a sale id or --file RECORD.json")

    problems = premium.verify_record(record)
    if problems:
        raise invalid("the draw does not verify: " + "; ".join(problems))
    print(f"verified: round {record['round']} of sale {record['sale_id']}, the seed matches the"
          f" commitment and gives the published order and winners")


def verify_file(path: Path) -> list[str]:
    """Re-run the published record in ``path``; return the problems found (empty: verified)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"record file {path} cannot be read as JSON: {exc}"]
    if not isinstance(record, dict):
        return ["the record is not a JSON object"]
    return premium.verify_record(record)


def main(argv: list[str] | None = None) -> int:
    """Verify published records without a database: python -m server.premium_cli FILE..."""
    parser = argparse.ArgumentParser(prog="python -m server.premium_cli",
                                     description="re-run published premium sale draws")
    parser.add_argument("files", nargs="+", type=Path, help="published draw records (JSON)")
    failed = 0
    for path in parser.parse_args(argv).files:
        problems = verify_file(path)
        print(f"{path}: " + ("verified" if not problems else "; ".join(problems)))
        failed += bool(problems)
    return 1 if failed else 0


# --- report --------------------------------------------------------------------------------


def _report(args: argparse.Namespace, db: Database) -> None:
    now = utc_now()
    with db.read() as session:
        sale = premium.get_sale(session, args.sale)
        rows = premium.applications_of(session, sale.id)
        revenue = ledger.balance(session, sale.revenue_account_id, now=now)
        issued = ledger.balance(session, sale.issuing_account_id, now=now)
    print(f"sale {sale.id}: {sale.name}")
    for label, statuses in (("applied", (APPLIED,)), ("cancelled", (CANCELLED,)),
                            ("won, not bought", (WON,)), ("lost", (LOST,)),
                            ("bought", (PURCHASED,))):
        chosen = [row for row in rows if row.status in statuses]
        sets = sum(row.sets_won if row.status in (WON, PURCHASED) else row.sets_requested
                   for row in chosen)
        print(f"{label}: {len(chosen)} applications, {sets} sets")
    bought = sum(row.sets_won for row in rows if row.status == PURCHASED)
    unclaimed = [row for row in rows if row.status == WON and _window_over(sale, row, now)]
    print(f"sets on sale {sale.total_sets}, bought {bought}, left {sale.total_sets - bought};"
          f" unclaimed after their purchase period: {sum(row.sets_won for row in unclaimed)}")
    print(f"revenue account {sale.revenue_account_id}: {sum(revenue.values())} yen")
    print(f"issuing account {sale.issuing_account_id}: " + ", ".join(
        f"{kind.value} {amount} yen" for kind, amount in sorted(issued.items())) +
        " (negative: points issued and not yet returned by expiry)")


def _window_over(sale: Any, row: Any, now: datetime) -> bool:
    window = premium.purchase_window(sale, row)
    return window is not None and now >= window[1]


def _import_attributes(args: argparse.Namespace, db: Database) -> None:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise invalid(f"file {args.file} cannot be read: {exc.strerror}") from None
    with db.write() as session:
        summary = wallet_attributes.import_attributes(session, data, source=str(args.file),
                                                      now=utc_now())
    print(f"imported {summary.wallets} wallets: {summary.residents} residents,"
          f" {summary.households} households")


COMMANDS: dict[str, Callable[[argparse.Namespace, Database], None]] = {
    "premium-create": _create,
    "premium-sales": _sales,
    "premium-show": _show,
    "premium-commit": _commit,
    "premium-draw": _draw,
    "premium-second-round": _second_round,
    "premium-publish": _publish,
    "premium-verify": _verify,
    "premium-report": _report,
    "wallet-attributes-import": _import_attributes,
}


if __name__ == "__main__":
    sys.exit(main())
