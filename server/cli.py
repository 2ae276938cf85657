"""chiiki-settle: the settlement server and the operator's commands."""

from __future__ import annotations

import argparse
import logging
import sys
from types import ModuleType
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

from server import (
    benefit_cli,
    coupon_cli,
    donation_cli,
    expiry_cli,
    issuer,
    ledger,
    merchants,
    offline,
    premium_cli,
    rally_cli,
    settlement_cli,
)
from server.db import Database, DatabaseNotReady, init_db, open_existing_db
from server.errors import ServerError, invalid
from server.merchants import NewMerchant
from server.models import Terminal
from server.settings import DEFAULT_DATABASE_URL, Settings, iso_utc, utc_now

logger = logging.getLogger(__name__)

MAX_PORT = 65535
# Modules that register subcommands with add_commands(add) and run them from COMMANDS.
_COMMAND_MODULES: tuple[ModuleType, ...] = (
    settlement_cli, premium_cli, coupon_cli, rally_cli, donation_cli, benefit_cli,
    expiry_cli,
)
_DB_URL_HINT = "use postgresql+psycopg://USER@HOST/DB or sqlite:///FILE"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chiiki-settle", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--db", default=DEFAULT_DATABASE_URL,
                         help="SQLAlchemy database URL (default: %(default)s)")
        return sub

    add("init-db", "create or upgrade the database schema")

    merchant = add("create-merchant", "register a shop and print its merchant id")
    merchant.add_argument("--name", required=True, help="Japanese shop name for receipts")
    merchant.add_argument("--name-ascii", required=True, help="ASCII shop name, at most 25 characters")
    merchant.add_argument("--city-ascii", required=True, help="ASCII city, at most 15 characters")
    merchant.add_argument("--address", required=True, help="street address")
    merchant.add_argument("--invoice-number", required=True, help="registration number, T + 13 digits")
    merchant.add_argument("--phone", default="", help="phone number, e.g. 0242-22-1234")
    merchant.add_argument("--mcc", default="5499", help="merchant category code (default: %(default)s)")
    merchant.add_argument("--non-local", action="store_true",
                          help="a shop outside the local scheme (e.g. a national chain): it never"
                               " receives premium_local points")
    local = add("set-merchant-local", "say whether a shop takes premium_local points")
    local.add_argument("--merchant", required=True, help="merchant id")
    local.add_argument("--local", required=True, choices=["yes", "no"],
                       help="yes: a local shop; no: outside the local scheme")

    add("list-merchants", "print each merchant's id, number of terminals and name")
    terminals = add("list-terminals", "print each terminal's id, merchant, label and enrolment")
    terminals.add_argument("--merchant", default=None, help="only this merchant's terminals")

    activation = add("issue-activation",
                     "create a terminal and print its one-time activation code, then its details")
    activation.add_argument("--merchant", required=True, help="merchant id")
    activation.add_argument("--label", required=True, help="terminal label, ASCII, at most 25 characters")

    serve = add("serve", "run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000,
                       help="TCP port, 1 to 65535 (default: %(default)s)")
    serve.add_argument("--demo", action="store_true", help="enable demo top-ups of wallets")

    balance = add("balance", "print a merchant's balance per value kind")
    balance.add_argument("--merchant", required=True, help="merchant id")

    add("rotate-issuer-key",
        "create a new offline certificate signing key; old keys still verify until their"
        " certificates expire")
    add("release-offline-reserves",
        "return the unused offline reserve of expired certificates to their wallets")
    add("offline-report",
        "print offline payments beyond a reserve or with a reused code, and blocked wallets")
    for module in _COMMAND_MODULES:
        module.add_commands(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Operator commands print only their result; the server logs one line per request.
    level = logging.INFO if args.command == "serve" else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return _run(args)
    except ServerError as exc:
        print(f"chiiki-settle: {exc.message}", file=sys.stderr)
    except DatabaseNotReady as exc:
        print(f"chiiki-settle: database {_shown_url(args.db)} {exc.reason}; check --db, or create"
              " it with chiiki-settle init-db --db URL", file=sys.stderr)
    except ArgumentError as exc:
        # Raised for a URL SQLAlchemy cannot parse and for an unknown dialect or driver,
        # e.g. "postgres://", which SQLAlchemy 2 no longer accepts.
        reason = str(exc).strip().splitlines()[0]
        print(f"chiiki-settle: --db {_shown_url(args.db)} is invalid: {reason}; {_DB_URL_HINT}",
              file=sys.stderr)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"chiiki-settle: database {_shown_url(args.db)} failed: {reason};"
              " check --db and that the database server is running", file=sys.stderr)
    return 1


def _shown_url(url: str) -> str:
    """Return ``url`` with any password replaced by ***, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        return _serve(args)

    db = init_db(args.db) if args.command == "init-db" else open_existing_db(args.db)
    try:
        if args.command == "create-merchant":
            details = NewMerchant(
                name=args.name, name_ascii=args.name_ascii, city_ascii=args.city_ascii,
                address=args.address, invoice_registration_number=args.invoice_number,
                phone=args.phone, merchant_category_code=args.mcc, is_local=not args.non_local,
            )
            with db.write() as session:
                print(merchants.create_merchant(session, details, now=utc_now()).id)
        elif args.command == "issue-activation":
            with db.write() as session:
                activation = merchants.issue_activation(
                    session, args.merchant, args.label, now=utc_now(),
                    ttl_s=Settings.from_env().activation_ttl_s,
                )
            _print_activation(activation, args.merchant, args.label)
        elif args.command == "set-merchant-local":
            with db.write() as session:
                merchants.set_local(session, args.merchant, args.local == "yes")
            print(f"merchant {args.merchant} {'takes' if args.local == 'yes' else 'does not take'}"
                  " premium_local points")
        elif args.command == "list-merchants":
            with db.read() as session:
                _print_merchants(merchants.list_merchants(session))
        elif args.command == "list-terminals":
            with db.read() as session:
                _print_terminals(_list_terminals(session, args.merchant))
        elif args.command == "balance":
            with db.read() as session:
                merchant = merchants.get_merchant(session, args.merchant)
                # A merchant keeps expired premium points; see ledger.held_balance.
                kinds = ledger.held_balance(session, merchant.account_id)
            print(f"total {sum(kinds.values())} yen")
            for kind, amount in kinds.items():
                print(f"{kind.value} {amount} yen")
        elif args.command in _OFFLINE_COMMANDS:
            _OFFLINE_COMMANDS[args.command](db)
        elif (module := _module_of(args.command)) is not None:
            module.COMMANDS[args.command](args, db)
        else:
            print(f"schema of {_shown_url(args.db)} is up to date")
    finally:
        db.dispose()
    return 0


def _module_of(command: str) -> ModuleType | None:
    """Return the module in ``_COMMAND_MODULES`` that runs ``command``."""
    return next((module for module in _COMMAND_MODULES if command in module.COMMANDS), None)


def _rotate_issuer_key(db: Database) -> None:
    settings = Settings.from_env()
    with db.write() as session:
        new_key_id, retired = issuer.rotate_issuer_key(session, settings)
    print(f"issuer key {new_key_id} now signs offline certificates")
    verify_until = iso_utc(settings.clock() + issuer.verification_period(settings))
    for key_id in retired:
        print(f"issuer key {key_id} retired; it verifies codes until {verify_until}")


def _release_offline_reserves(db: Database) -> None:
    with db.write() as session:
        released = offline.release_offline_reserves(session, Settings.from_env())
    if not released:
        print("no expired offline certificates hold a reserve")
        return
    print("serial\twallet_id\treleased_yen")
    for reserve in released:
        print(f"{reserve.serial}\t{reserve.wallet_id}\t{reserve.released_yen}")
    print(f"total {sum(reserve.released_yen for reserve in released)} yen returned to"
          f" {len({reserve.wallet_id for reserve in released})} wallets")


def _offline_report(db: Database) -> None:
    with db.read() as session:
        records = offline.offline_report(session)
        blocked = offline.blocked_wallets(session)
    if not records:
        print("no offline payment exceeded a reserve or reused a code")
    else:
        print("recorded_at\twallet_id\tserial\tcounter\tterminal_id\tentry_id\tamount_yen"
              "\tpaid\tproblem")
        for record in records:
            print(f"{iso_utc(record.created_at)}\t{record.wallet_id}\t{record.serial}"
                  f"\t{record.counter}\t{record.terminal_id}\t{record.entry_id}"
                  f"\t{record.amount_yen}\t{'yes' if record.paid else 'no'}\t{record.problem}")
        unpaid_yen = sum(record.amount_yen for record in records if not record.paid)
        print(f"unpaid total {unpaid_yen} yen")
    for wallet_id, blocked_at, reason in blocked:
        print(f"blocked wallet {wallet_id} since {iso_utc(blocked_at)}: {reason}")


_OFFLINE_COMMANDS: dict[str, Callable[[Database], None]] = {
    "rotate-issuer-key": _rotate_issuer_key,
    "release-offline-reserves": _release_offline_reserves,
    "offline-report": _offline_report,
}


def _print_activation(activation: merchants.Activation, merchant_id: str, label: str) -> None:
    """Print the code alone on the first line, so scripts can take it with ``head -n 1``."""
    print(activation.activation_code)
    print(f"terminal_id: {activation.terminal_id}")
    print(f"merchant_id: {merchant_id}")
    print(f"label: {label}")
    print(f"expires_at: {iso_utc(activation.expires_at)} (the code works once)")


def _print_merchants(summaries: list[merchants.MerchantSummary]) -> None:
    if not summaries:
        print("no merchants yet; create one with chiiki-settle create-merchant")
        return
    print("merchant_id\tterminals\tname")
    for summary in summaries:
        print(f"{summary.merchant_id}\t{summary.terminal_count}\t{summary.name}")


def _list_terminals(session: Session, merchant_id: str | None) -> list[Terminal]:
    """Return the terminals, oldest first, of every merchant or only of ``merchant_id``."""
    query = select(Terminal).order_by(Terminal.created_at, Terminal.id)
    if merchant_id is not None:
        merchants.get_merchant(session, merchant_id)
        query = query.where(Terminal.merchant_id == merchant_id)
    return list(session.scalars(query))


def _print_terminals(terminals: list[Terminal]) -> None:
    if not terminals:
        print("no terminals yet; create one with chiiki-settle issue-activation")
        return
    print("terminal_id\tmerchant_id\tlabel\tenrolled_at")
    for terminal in terminals:
        enrolled = "not enrolled" if terminal.enrolled_at is None else iso_utc(terminal.enrolled_at)
        print(f"{terminal.id}\t{terminal.merchant_id}\t{terminal.label}\t{enrolled}")


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.api import create_app

    if not 1 <= args.port <= MAX_PORT:
        raise invalid(f"--port {args.port} is out of range; allowed: 1 to {MAX_PORT}")
    settings = Settings.from_env()
    settings = Settings(**{**settings.__dict__, "database_url": args.db,
                           "demo": args.demo or settings.demo})
    db = open_existing_db(args.db)
    try:
        uvicorn.run(create_app(settings, database=db), host=args.host, port=args.port,
                    log_config=None)
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
