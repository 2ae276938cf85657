"""Public benefit programmes and their payouts into wallets from a CSV file of recipients.

A programme pays value of kind ``benefit`` from its funding account, an issuing account such
as a city's benefit budget, into wallets. The value carries the programme's merchant
categories (where it may be spent) and expiry, and goes back to the funding account when it
expires in a wallet.

An import runs in two phases. ``check_import`` validates the whole file against the database
and lists every problem with its line number; if there is any, nothing is paid. ``pay_import``
then books each line as the idempotent transfer ``benefit:<programme id>:<line key>`` with
``<line key> = <payout round>:<wallet id>``, in small transactions of ``batch_size`` lines.
Because the key names the wallet and not the line's position or text:

- importing the same file again pays nobody twice (every line reports "already paid");
- a corrected file (a fixed line, lines added, removed or reordered, a changed reference)
  pays only the wallets not paid before in that round;
- an import interrupted by a crash or an error resumes when run again, since each batch
  commits its transfers and payout rows together or not at all.

A wallet is paid at most once per round. A later round (``payout_round``, e.g. "2026-10")
pays the same wallets again, within the programme's maximum per recipient over all rounds.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from server import ledger, tokens
from server.benefit_models import BenefitPayout, BenefitProgramme
from server.db import Database
from server.errors import ServerError, invalid, not_found, shorten
from server.models import Account, Wallet
from terminal.japan_time import JAPAN_TIME_ZONE
from terminal.protocol import ErrorCode, ValueKind

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 100
# Largest budget, per-recipient maximum and CSV amount: one trillion yen, above any municipal
# benefit budget and far inside the BigInteger columns (2**63 - 1), so an oversized value is
# rejected with a message instead of failing in the database driver.
MAX_YEN = 1_000_000_000_000
MAX_REFERENCE_CHARS = 100
# Maximum length of a wallet id in a line; real ids are "w_" and 16 characters (server.tokens).
MAX_WALLET_ID_CHARS = 40
DEFAULT_ROUND = "1"
DEFAULT_BATCH_SIZE = 100
# Wallet ids per IN (...) list when checking a file; well under SQLite's 32,766 parameters.
_LOOKUP_CHUNK = 500

_MCC = re.compile(r"[0-9]{4}")
_ROUND = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,19}")
_WHOLE_YEN = re.compile(r"[0-9]+")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_UTF8_BOM = b"\xef\xbb\xbf"
_HEADER_HINT = "wallet_id,amount_yen or wallet_id,amount_yen,reference"

LineStatus = Literal["to_pay", "paid", "already_paid"]


class ImportRejected(ServerError):
    """A payout file failed validation; ``problems`` lists each problem found."""

    def __init__(self, source: str, problems: Sequence[LineProblem]) -> None:
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            ErrorCode.INVALID_REQUEST,
            f"{source}: {count} {noun} found, so nothing was paid; correct the file and run"
            " the import again",
        )
        self.problems = list(problems)


@dataclass(frozen=True)
class ProgrammeTerms:
    """Terms an operator sets when creating a programme.

    ``funding_account_id`` None opens a new issuing account for the programme alone.
    """

    name: str
    budget_yen: int
    max_per_recipient_yen: int
    categories: frozenset[str] | None = None
    expires_on: date | None = None
    valid_days: int | None = None
    funding_account_id: str | None = None


@dataclass(frozen=True)
class LineProblem:
    """One reason a payout file is rejected; ``line_number`` None concerns the whole file."""

    line_number: int | None
    message: str

    def __str__(self) -> str:
        if self.line_number is None:
            return self.message
        return f"line {self.line_number}: {self.message}"


@dataclass(frozen=True)
class PayoutLine:
    """A recipient line of a payout file that parsed cleanly."""

    line_number: int
    wallet_id: str
    amount_yen: int
    reference: str


@dataclass
class ParsedFile:
    lines: list[PayoutLine] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)


@dataclass(frozen=True)
class LineOutcome:
    """The result of an import for one line, or in a dry run the planned result.

    For ``already_paid`` lines ``paid_at`` and ``expires_at`` are those of the earlier payout.
    """

    line_number: int
    wallet_id: str
    amount_yen: int
    reference: str
    status: LineStatus
    transfer_id: str
    paid_at: datetime | None = None
    expires_at: datetime | None = None


@dataclass
class ImportPlan:
    """A validated file: the lines still to pay, the lines paid before, the problems found."""

    programme_id: str
    payout_round: str
    to_pay: list[PayoutLine] = field(default_factory=list)
    already_paid: list[LineOutcome] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    wallet_accounts: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    programme_id: str
    payout_round: str
    outcomes: list[LineOutcome]
    dry_run: bool = False

    def count(self, status: LineStatus) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def total_yen(self, status: LineStatus) -> int:
        return sum(outcome.amount_yen for outcome in self.outcomes if outcome.status == status)


# --- programmes ----------------------------------------------------------------------------


def create_programme(session: Session, terms: ProgrammeTerms, *, now: datetime) -> BenefitProgramme:
    """Check ``terms`` and store a new programme, opening its funding account if none is named."""
    _check_terms(terms, now)
    programme_id = tokens.new_id("bp")
    funding_account_id = terms.funding_account_id or f"benefit-{programme_id}"
    if terms.funding_account_id is None:
        ledger.open_account(session, funding_account_id, "benefit", now=now, is_issuing=True)
    else:
        _check_funding_account(session, funding_account_id)

    programme = BenefitProgramme(
        id=programme_id, name=terms.name.strip(), funding_account_id=funding_account_id,
        categories=_join_categories(terms.categories), expires_on=terms.expires_on,
        valid_days=terms.valid_days, max_per_recipient_yen=terms.max_per_recipient_yen,
        budget_yen=terms.budget_yen, paid_yen=0, payout_count=0, created_at=now,
    )
    session.add(programme)
    session.flush()
    logger.info("benefit programme %s created: budget %d yen, funded by account %s",
                programme_id, terms.budget_yen, funding_account_id)
    return programme


def parse_categories(text: str) -> frozenset[str]:
    """Parse comma-separated 4-digit merchant category codes such as "5411,5499"."""
    codes = [code.strip() for code in text.split(",") if code.strip()]
    if not codes:
        raise invalid(f"categories {text!r} name no merchant category code; give 4-digit"
                      " codes separated by commas, e.g. 5411,5499")
    for code in codes:
        if not _MCC.fullmatch(code):
            raise invalid(f"merchant category code {shorten(code)!r} is invalid; each code is"
                          " 4 digits, e.g. 5411 (grocery stores)")
    return frozenset(codes)


def get_programme(session: Session, programme_id: str) -> BenefitProgramme:
    programme = session.scalars(
        select(BenefitProgramme).where(BenefitProgramme.id == programme_id)
    ).one_or_none()
    if programme is None:
        raise not_found(f"benefit programme {shorten(programme_id)} does not exist; run"
                        " chiiki-settle benefit-programmes to see the programme ids")
    return programme


def list_programmes(session: Session) -> list[BenefitProgramme]:
    return list(session.scalars(select(BenefitProgramme).order_by(BenefitProgramme.seq)))


def list_payouts(session: Session, programme_id: str) -> list[BenefitPayout]:
    get_programme(session, programme_id)
    query = (select(BenefitPayout).where(BenefitPayout.programme_id == programme_id)
             .order_by(BenefitPayout.seq))
    return list(session.scalars(query))


def programme_categories(programme: BenefitProgramme) -> frozenset[str] | None:
    if programme.categories is None:
        return None
    return frozenset(programme.categories.split(","))


def expiry_for(programme: BenefitProgramme, paid_at: datetime) -> datetime | None:
    """Return when value paid at ``paid_at`` expires: the start of the day after the last
    day it may be spent, Japan time."""
    if programme.expires_on is not None:
        last_day = programme.expires_on
    elif programme.valid_days is not None:
        last_day = paid_at.astimezone(JAPAN_TIME_ZONE).date() + timedelta(days=programme.valid_days)
    else:
        return None
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=JAPAN_TIME_ZONE)


def _check_terms(terms: ProgrammeTerms, now: datetime) -> None:
    if not terms.name.strip() or len(terms.name.strip()) > MAX_NAME_CHARS:
        raise invalid(f"programme name {shorten(terms.name)!r} must be 1 to {MAX_NAME_CHARS}"
                      " characters")
    if not 0 < terms.budget_yen <= MAX_YEN:
        raise invalid(f"budget {terms.budget_yen} yen is invalid; give a whole number of yen"
                      f" from 1 to the maximum of {MAX_YEN}")
    if not 0 < terms.max_per_recipient_yen <= terms.budget_yen:
        raise invalid(f"maximum per recipient {terms.max_per_recipient_yen} yen is invalid;"
                      f" allowed: 1 to the budget, {terms.budget_yen} yen")
    if terms.expires_on is not None and terms.valid_days is not None:
        raise invalid("give either an expiry date or a number of valid days, not both")
    if terms.valid_days is not None and terms.valid_days <= 0:
        raise invalid(f"valid days {terms.valid_days} is invalid; give at least 1 day")
    today = now.astimezone(JAPAN_TIME_ZONE).date()
    if terms.expires_on is not None and terms.expires_on < today:
        raise invalid(f"expiry date {terms.expires_on} has passed (today is {today} in Japan"
                      " time); give a later date")


def _check_funding_account(session: Session, account_id: str) -> None:
    account = session.get(Account, account_id)
    if account is None:
        raise not_found(f"funding account {shorten(account_id)} does not exist; leave out"
                        " --funding-account to open a new one for the programme")
    if not account.is_issuing:
        raise invalid(f"account {shorten(account_id)} is not an issuing account, so it cannot"
                      " fund benefits; name an issuing account such as a city's budget")


def _join_categories(categories: frozenset[str] | None) -> str | None:
    return None if categories is None else ",".join(sorted(categories))


# --- reading a payout file -----------------------------------------------------------------


def parse_payout_file(data: bytes, *, source: str) -> ParsedFile:
    """Parse a CSV file of recipients, collecting a problem for every bad line.

    The file is UTF-8, with or without a byte order mark, and starts with the header row
    ``wallet_id,amount_yen`` with an optional third column ``reference`` (or ``note``).
    Blank lines are skipped. Raises ``ServerError`` when the file is not UTF-8.
    """
    text = _decode(data, source)
    parsed = ParsedFile()
    if not text.strip():
        parsed.problems.append(LineProblem(None, f"{source} is empty; the first line must be"
                                           f" the header row {_HEADER_HINT}"))
        return parsed

    rows = _csv_rows(text, parsed.problems)
    header_number, header = next(rows, (0, []))
    column_counts = _header_column_counts(header_number, header, parsed.problems)
    seen: dict[str, int] = {}
    for line_number, cells in rows:
        line = _parse_line(line_number, cells, column_counts, parsed.problems)
        if line is None:
            continue
        first = seen.setdefault(line.wallet_id, line_number)
        if first != line_number:
            parsed.problems.append(LineProblem(
                line_number, f"wallet {line.wallet_id} is already on line {first}; a wallet"
                " may appear once per file, so merge the two lines into one"))
            continue
        parsed.lines.append(line)

    if not parsed.lines and not parsed.problems:
        parsed.problems.append(LineProblem(None, f"{source} has a header row but no recipient"
                                           " lines; add one line per wallet"))
    return parsed


def _decode(data: bytes, source: str) -> str:
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if _looks_like_shift_jis(data):
            raise invalid(f"{source} is encoded in Shift_JIS, not UTF-8; save it as UTF-8"
                          " (in Excel: 名前を付けて保存 > CSV UTF-8) and import it again"
                          ) from None
        byte = exc.object[exc.start]
        raise invalid(f"{source} is not UTF-8 (invalid byte 0x{byte:02x} at position"
                      f" {exc.start}); save it as UTF-8 and import it again") from None


def _looks_like_shift_jis(data: bytes) -> bool:
    try:
        data.decode("cp932")
    except UnicodeDecodeError:
        return False
    return True


def _csv_rows(text: str, problems: list[LineProblem]) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, stripped cells) per non-blank line; a malformed line is a problem.

    Each physical line is one record, so a quoted field cannot span lines and an error on
    one line leaves the line numbers of the others intact.
    """
    for index, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip():
            continue
        try:
            cells = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            problems.append(LineProblem(index, f"malformed CSV ({exc}); check the quotes"
                                        " and separators of this line"))
            continue
        yield index, [cell.strip() for cell in cells]


def _header_column_counts(
    line_number: int, header: list[str], problems: list[LineProblem]
) -> tuple[int, ...]:
    """Check the header row and return the column counts the recipient lines must have."""
    names = [name.lower() for name in header]
    if names == ["wallet_id", "amount_yen"]:
        return (2,)
    if len(names) == 3 and names[:2] == ["wallet_id", "amount_yen"] and names[2] in (
            "reference", "note"):
        return (3,)
    found = ",".join(shorten(name, 20) for name in header)
    problems.append(LineProblem(line_number, f"the header row must be {_HEADER_HINT}, found"
                                f" {found!r}; add or correct the header row"))
    return (2, 3)


def _parse_line(
    line_number: int, cells: list[str], column_counts: tuple[int, ...],
    problems: list[LineProblem],
) -> PayoutLine | None:
    if len(cells) not in column_counts:
        expected = " or ".join(str(count) for count in column_counts)
        problems.append(LineProblem(line_number, f"has {len(cells)} columns, expected"
                                    f" {expected} as in the header row"))
        return None

    wallet_id, amount_text = cells[0], cells[1]
    reference = cells[2] if len(cells) == 3 else ""
    found_problem = False
    if not wallet_id:
        problems.append(LineProblem(line_number, "wallet_id is empty; give the wallet id"))
        found_problem = True
    elif len(wallet_id) > MAX_WALLET_ID_CHARS:
        problems.append(LineProblem(line_number, f"wallet_id {shorten(wallet_id)!r} is longer"
                                    f" than {MAX_WALLET_ID_CHARS} characters, so it is not a"
                                    " wallet id"))
        found_problem = True
    amount_yen = _parse_amount(line_number, amount_text, problems)
    if len(reference) > MAX_REFERENCE_CHARS:
        problems.append(LineProblem(line_number, f"reference is {len(reference)} characters"
                                    f" long; shorten it to at most {MAX_REFERENCE_CHARS}"))
        found_problem = True
    if found_problem or amount_yen is None:
        return None
    return PayoutLine(line_number, wallet_id, amount_yen, reference)


def _parse_amount(line_number: int, text: str, problems: list[LineProblem]) -> int | None:
    # ASCII digits only: int() would also accept "３００００", "1_000" and " +5".
    if not _WHOLE_YEN.fullmatch(text):
        problems.append(LineProblem(line_number, f"amount_yen {shorten(text, 20)!r} is not a"
                                    " whole number of yen; write digits only, e.g. 30000"))
        return None
    amount_yen = int(text)
    if amount_yen == 0:
        problems.append(LineProblem(line_number, "amount_yen is 0; give a positive amount or"
                                    " remove the line"))
        return None
    if amount_yen > MAX_YEN:
        problems.append(LineProblem(line_number, f"amount_yen {shorten(text, 20)!r} is more"
                                    f" than the maximum of {MAX_YEN} yen; check the amount"))
        return None
    return amount_yen


# --- checking a file against the database --------------------------------------------------


def check_round(payout_round: str) -> None:
    if not _ROUND.fullmatch(payout_round):
        raise invalid(f"round {shorten(payout_round, 30)!r} is invalid; use 1 to 20 letters,"
                      " digits, '-' or '_', starting with a letter or digit, e.g. 2026-10")


def line_key(payout_round: str, wallet_id: str) -> str:
    return f"{payout_round}:{wallet_id}"


def transfer_id_for(programme_id: str, key: str) -> str:
    return f"benefit:{programme_id}:{key}"


def check_import(
    session: Session, programme_id: str, parsed: ParsedFile, *, payout_round: str,
    now: datetime,
) -> ImportPlan:
    """Check parsed lines against wallets, earlier payouts, the maximum and the budget."""
    check_round(payout_round)
    programme = get_programme(session, programme_id)
    plan = ImportPlan(programme_id, payout_round, problems=list(parsed.problems))
    _check_still_valid(programme, now, plan.problems)

    wallet_ids = [line.wallet_id for line in parsed.lines]
    wallets = _load_wallets(session, wallet_ids)
    earlier = _earlier_payouts(session, programme_id, wallet_ids)
    for line in parsed.lines:
        wallet = wallets.get(line.wallet_id)
        if not _check_wallet(line, wallet, plan.problems):
            continue
        assert wallet is not None
        plan.wallet_accounts[line.wallet_id] = wallet.account_id
        _place_line(programme, line, earlier.get(line.wallet_id, []), plan)

    _check_budget(programme, plan)
    plan.problems.sort(key=lambda problem: (problem.line_number is None,
                                            problem.line_number or 0))
    return plan


def _check_still_valid(programme: BenefitProgramme, now: datetime,
                       problems: list[LineProblem]) -> None:
    today = now.astimezone(JAPAN_TIME_ZONE).date()
    if programme.expires_on is not None and programme.expires_on < today:
        problems.append(LineProblem(None, f"programme {programme.id} pays value that expired"
                                    f" on {programme.expires_on} (today is {today} in Japan"
                                    " time); create a new programme to pay more"))


def _load_wallets(session: Session, wallet_ids: Sequence[str]) -> dict[str, Wallet]:
    wallets: dict[str, Wallet] = {}
    for chunk in _chunks(wallet_ids):
        for wallet in session.scalars(select(Wallet).where(Wallet.id.in_(chunk))):
            wallets[wallet.id] = wallet
    return wallets


def _earlier_payouts(
    session: Session, programme_id: str, wallet_ids: Sequence[str]
) -> dict[str, list[BenefitPayout]]:
    payouts: dict[str, list[BenefitPayout]] = {}
    for chunk in _chunks(wallet_ids):
        query = select(BenefitPayout).where(BenefitPayout.programme_id == programme_id,
                                            BenefitPayout.wallet_id.in_(chunk))
        for payout in session.scalars(query):
            payouts.setdefault(payout.wallet_id, []).append(payout)
    return payouts


def _check_wallet(line: PayoutLine, wallet: Wallet | None, problems: list[LineProblem]) -> bool:
    if wallet is None:
        problems.append(LineProblem(line.line_number, f"wallet {shorten(line.wallet_id)} does"
                                    " not exist; check the wallet id with the recipient"))
        return False
    if wallet.blocked_at is not None:
        problems.append(LineProblem(line.line_number, f"wallet {line.wallet_id} is blocked"
                                    f" ({wallet.blocked_reason or 'no reason recorded'});"
                                    " remove the line and pay it once the wallet is cleared"))
        return False
    return True


def _place_line(programme: BenefitProgramme, line: PayoutLine, earlier: list[BenefitPayout],
                plan: ImportPlan) -> None:
    """Put ``line`` among the lines to pay or those paid before, or record why it cannot be."""
    key = line_key(plan.payout_round, line.wallet_id)
    same_round = next((payout for payout in earlier if payout.line_key == key), None)
    if same_round is not None:
        if same_round.amount_yen != line.amount_yen:
            plan.problems.append(LineProblem(line.line_number, _changed_amount_message(
                line, same_round)))
            return
        plan.already_paid.append(LineOutcome(
            line.line_number, line.wallet_id, line.amount_yen, line.reference, "already_paid",
            same_round.transfer_id, same_round.created_at, same_round.expires_at))
        return

    received_yen = sum(payout.amount_yen for payout in earlier)
    maximum_yen = programme.max_per_recipient_yen
    if received_yen + line.amount_yen > maximum_yen:
        plan.problems.append(LineProblem(line.line_number, _over_maximum_message(
            line, received_yen, maximum_yen)))
        return
    plan.to_pay.append(line)


def _changed_amount_message(line: PayoutLine, payout: BenefitPayout) -> str:
    return (f"wallet {line.wallet_id} was already paid {payout.amount_yen} yen in round"
            f" {payout.payout_round} on {_japan_day(payout.created_at)}, and a payout cannot be"
            f" changed; put back {payout.amount_yen} yen, or pay a difference in a new round")


def _over_maximum_message(line: PayoutLine, received_yen: int, maximum_yen: int) -> str:
    if received_yen == 0:
        return (f"amount_yen {line.amount_yen} is above the programme's maximum of"
                f" {maximum_yen} yen per recipient")
    return (f"wallet {line.wallet_id} already received {received_yen} yen from this"
            f" programme, so {line.amount_yen} yen more would exceed the maximum of"
            f" {maximum_yen} yen per recipient; pay at most {maximum_yen - received_yen} yen")


def _check_budget(programme: BenefitProgramme, plan: ImportPlan) -> None:
    left_yen = programme.budget_yen - programme.paid_yen
    running_yen = 0
    first_over: int | None = None
    for line in plan.to_pay:
        running_yen += line.amount_yen
        if first_over is None and running_yen > left_yen:
            first_over = line.line_number
    if first_over is None:
        return
    plan.problems.append(LineProblem(None, (
        f"the lines to pay add up to {running_yen} yen, but programme {programme.id} has"
        f" {left_yen} yen of its {programme.budget_yen} yen budget left; the total passes"
        f" the budget at line {first_over}, so remove lines from there on")))


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _LOOKUP_CHUNK):
        yield values[start:start + _LOOKUP_CHUNK]


def _japan_day(moment: datetime) -> date:
    return moment.astimezone(JAPAN_TIME_ZONE).date()


# --- paying --------------------------------------------------------------------------------


def pay_import(
    db: Database, plan: ImportPlan, *, clock: Callable[[], datetime],
    batch_size: int = DEFAULT_BATCH_SIZE, on_line: Callable[[LineOutcome], None] | None = None,
) -> list[LineOutcome]:
    """Book every line of a problem-free ``plan``, ``batch_size`` lines per transaction.

    ``on_line`` is called after each line is booked, inside its batch's transaction: a line
    it reports is rolled back with the batch if a later line of the batch fails. Lines found
    paid by a concurrent import in the meantime come back as ``already_paid``.
    """
    if plan.problems:
        raise ValueError("pay_import needs a plan without problems; run check_import first")
    _check_batch_size(batch_size)
    started_at = clock()
    outcomes: list[LineOutcome] = []
    for start in range(0, len(plan.to_pay), batch_size):
        lines = plan.to_pay[start:start + batch_size]
        with db.write() as session:
            outcomes += _pay_batch(session, plan, lines, started_at, clock(), on_line)
    return outcomes


@dataclass
class _Batch:
    """One transaction's payouts, written together when the batch ends.

    Writing the payout rows and programme totals once per batch, not per line, saves two
    statements per line, because every ledger call flushes pending ORM changes first.
    """

    programme: BenefitProgramme
    paid_yen: int
    payout_rows: list[dict[str, object]] = field(default_factory=list)


def _pay_batch(
    session: Session, plan: ImportPlan, lines: list[PayoutLine], started_at: datetime,
    now: datetime, on_line: Callable[[LineOutcome], None] | None,
) -> list[LineOutcome]:
    programme = _lock_programme(session, plan.programme_id)
    # Every line of one run gets the expiry of the run's start, even if it crosses midnight.
    expires_at = expiry_for(programme, started_at)
    categories = programme_categories(programme)
    earlier = _earlier_payouts(session, programme.id, [line.wallet_id for line in lines])
    batch = _Batch(programme, programme.paid_yen)

    outcomes: list[LineOutcome] = []
    for line in lines:
        outcome = _pay_line(session, batch, plan, line, earlier.get(line.wallet_id, []),
                            now, expires_at, categories)
        outcomes.append(outcome)
        if on_line is not None:
            on_line(outcome)

    if batch.payout_rows:
        session.execute(insert(BenefitPayout), batch.payout_rows)
        programme.paid_yen = batch.paid_yen
        programme.payout_count += len(batch.payout_rows)
    return outcomes


def _lock_programme(session: Session, programme_id: str) -> BenefitProgramme:
    """Lock the programme row, so concurrent imports of one programme pay one after another."""
    query = (select(BenefitProgramme).where(BenefitProgramme.id == programme_id)
             .with_for_update().execution_options(populate_existing=True))
    return session.scalars(query).one()


def _pay_line(
    session: Session, batch: _Batch, plan: ImportPlan, line: PayoutLine,
    earlier: list[BenefitPayout], now: datetime, expires_at: datetime | None,
    categories: frozenset[str] | None,
) -> LineOutcome:
    programme = batch.programme
    key = line_key(plan.payout_round, line.wallet_id)
    transfer_id = transfer_id_for(programme.id, key)
    same_round = next((payout for payout in earlier if payout.line_key == key), None)
    if same_round is not None:
        # Paid by another import after this one was checked; check_import compared amounts
        # only for payouts it saw, so compare again.
        if same_round.amount_yen != line.amount_yen:
            raise invalid(f"line {line.line_number}: {_changed_amount_message(line, same_round)}")
        return LineOutcome(line.line_number, line.wallet_id, line.amount_yen, line.reference,
                           "already_paid", transfer_id, same_round.created_at,
                           same_round.expires_at)
    _recheck_limits(batch, line, earlier)

    ledger.issue(
        session, transfer_id=transfer_id, issuer_id=programme.funding_account_id,
        destination_id=plan.wallet_accounts[line.wallet_id], amount_yen=line.amount_yen,
        now=now, kind=ValueKind.BENEFIT, expires_at=expires_at, categories=categories,
        funding_account_id=programme.funding_account_id,
    )
    batch.payout_rows.append({
        "programme_id": programme.id, "line_key": key, "payout_round": plan.payout_round,
        "wallet_id": line.wallet_id, "transfer_id": transfer_id, "amount_yen": line.amount_yen,
        "reference": line.reference, "line_number": line.line_number,
        "expires_at": expires_at, "created_at": now,
    })
    batch.paid_yen += line.amount_yen
    return LineOutcome(line.line_number, line.wallet_id, line.amount_yen, line.reference, "paid",
                       transfer_id, now, expires_at)


def _recheck_limits(batch: _Batch, line: PayoutLine, earlier: list[BenefitPayout]) -> None:
    """Repeat the maximum and budget checks under the programme lock, for concurrent imports."""
    programme = batch.programme
    received_yen = sum(payout.amount_yen for payout in earlier)
    if received_yen + line.amount_yen > programme.max_per_recipient_yen:
        raise invalid(f"line {line.line_number}: " + _over_maximum_message(
            line, received_yen, programme.max_per_recipient_yen))
    left_yen = programme.budget_yen - batch.paid_yen
    if line.amount_yen > left_yen:
        raise invalid(f"line {line.line_number}: {line.amount_yen} yen exceeds the {left_yen}"
                      f" yen left of programme {programme.id}'s budget; another import paid"
                      " from it since this file was checked")


# --- the whole import ----------------------------------------------------------------------


def import_file(
    db: Database, programme_id: str, data: bytes, *, source: str, clock: Callable[[], datetime],
    payout_round: str = DEFAULT_ROUND, dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE, on_line: Callable[[LineOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> ImportResult:
    """Validate a payout file and, unless ``dry_run``, pay every line not paid before.

    Raises ``ImportRejected`` listing every problem when the file has any; nothing is paid then.
    ``on_start`` receives the number of lines to pay before the first is booked.
    """
    _check_batch_size(batch_size)
    parsed = parse_payout_file(data, source=source)
    with db.read() as session:
        plan = check_import(session, programme_id, parsed, payout_round=payout_round,
                            now=clock())
    if plan.problems:
        logger.info("benefit import of %s for programme %s rejected: %d problems", source,
                    programme_id, len(plan.problems))
        raise ImportRejected(source, plan.problems)

    if dry_run:
        planned = [LineOutcome(line.line_number, line.wallet_id, line.amount_yen,
                               line.reference, "to_pay",
                               transfer_id_for(programme_id,
                                               line_key(payout_round, line.wallet_id)))
                   for line in plan.to_pay]
        return ImportResult(programme_id, payout_round, _by_line(planned, plan.already_paid),
                            dry_run=True)

    if on_start is not None:
        on_start(len(plan.to_pay))
    paid = pay_import(db, plan, clock=clock, batch_size=batch_size, on_line=on_line)
    result = ImportResult(programme_id, payout_round, _by_line(paid, plan.already_paid))
    logger.info("benefit import of %s for programme %s round %s: paid %d lines (%d yen),"
                " %d paid before", source, programme_id, payout_round, result.count("paid"),
                result.total_yen("paid"), result.count("already_paid"))
    return result


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise invalid(f"batch size {batch_size} is invalid; give at least 1 line per"
                      " transaction")


def _by_line(*groups: Iterable[LineOutcome]) -> list[LineOutcome]:
    return sorted((outcome for group in groups for outcome in group),
                  key=lambda outcome: outcome.line_number)


def paid_totals(session: Session) -> dict[str, tuple[int, int]]:
    """Return (wallets paid, yen paid) per programme id, counted from the payout rows."""
    rows = session.execute(
        select(BenefitPayout.programme_id, func.count(func.distinct(BenefitPayout.wallet_id)),
               func.sum(BenefitPayout.amount_yen))
        .group_by(BenefitPayout.programme_id)
    ).all()
    return {programme_id: (int(wallets), int(total)) for programme_id, wallets, total in rows}
