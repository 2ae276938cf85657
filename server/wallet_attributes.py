"""Operator import of wallet attributes: residency, household and free attributes.

The city (or whoever checks residency) hands the operator a CSV file, UTF-8 with or without a
byte order mark. Its header row starts with ``wallet_id,resident,household_id``; every further
column is a free attribute, named by its header (letters, digits and underscores, e.g. ``area``
or ``age_band``), that coupon audiences can select on. One line per wallet:

    wallet_id,resident,household_id,area,age_band
    w_AbC...,1,H-0001,wakamatsu,60s
    w_XyZ...,0,,tobata,

``resident`` is 1/0 (also true/false, yes/no). An empty ``household_id`` means the wallet
belongs to no household, so nobody may apply for it as a proxy. An empty attribute cell leaves
that attribute out. The file is checked whole: when any line is bad, nothing is stored, and
every problem is reported with its line number. A wallet the file does not name keeps its
values; a named wallet gets exactly the file's values (attributes not in the file are removed).
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.errors import invalid, shorten
from server.models import Wallet

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("wallet_id", "resident", "household_id")
_UTF8_BOM = b"\xef\xbb\xbf"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Household ids come from the city's records; keep them to characters safe in ids and files.
_HOUSEHOLD_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_ATTRIBUTE_CHARS = 100
MAX_ATTRIBUTES = 20
_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")


@dataclass(frozen=True)
class AttributeLine:
    """The values one CSV line sets on one wallet."""

    line_number: int
    wallet_id: str
    is_resident: bool
    household_id: str | None
    attributes: dict[str, str]


@dataclass
class ParsedAttributes:
    """Every good line of a file and every problem found, with line numbers."""

    lines: list[AttributeLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # (line number, wallet id) of every line that names a wallet, good or bad, so a missing
    # wallet is reported together with the line's other problems.
    named_wallets: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ImportSummary:
    wallets: int
    residents: int
    households: int


def parse_attribute_file(data: bytes, *, source: str) -> ParsedAttributes:
    """Parse the CSV file, collecting a problem for every bad line (nothing touches the database)."""
    parsed = ParsedAttributes()
    text = _decode(data, source)
    rows = _csv_rows(text, parsed.problems)
    header_number, header = next(rows, (0, []))
    attribute_names = _attribute_columns(header_number, header, parsed.problems)
    if attribute_names is None:
        return parsed

    seen: dict[str, int] = {}
    for line_number, cells in rows:
        # A repeated wallet is reported even when its first line has other problems.
        repeated = False
        if cells and cells[0]:
            parsed.named_wallets.append((line_number, cells[0]))
            first = seen.setdefault(cells[0], line_number)
            repeated = first != line_number
            if repeated:
                parsed.problems.append(f"line {line_number}: wallet {shorten(cells[0])} is"
                                       f" already on line {first}; keep one line per wallet")
        line = _parse_line(line_number, cells, attribute_names, parsed.problems)
        if line is not None and not repeated:
            parsed.lines.append(line)
    if not parsed.lines and not parsed.problems:
        parsed.problems.append(f"{source} has a header row but no wallet lines; add one line"
                               " per wallet")
    return parsed


def import_attributes(session: Session, data: bytes, *, source: str,
                      now: datetime) -> ImportSummary:
    """Check the whole file and store it, or raise ``ServerError`` listing every problem."""
    parsed = parse_attribute_file(data, source=source)
    wallets = _wallets_by_id(session, sorted({wallet_id for _, wallet_id in parsed.named_wallets}))
    for line_number, wallet_id in parsed.named_wallets:
        if wallet_id not in wallets:
            parsed.problems.append(f"line {line_number}: wallet {shorten(wallet_id)} does not"
                                   " exist; check the id")
    if parsed.problems:
        raise invalid(f"{source} was not imported, nothing was changed:\n"
                      + "\n".join(sorted(parsed.problems, key=_line_number_of)))

    for line in parsed.lines:
        wallet = wallets[line.wallet_id]
        wallet.is_resident = line.is_resident
        wallet.household_id = line.household_id
        wallet.attributes = dict(line.attributes)
    session.flush()
    summary = ImportSummary(
        wallets=len(parsed.lines),
        residents=sum(1 for line in parsed.lines if line.is_resident),
        households=len({line.household_id for line in parsed.lines if line.household_id}),
    )
    logger.info("wallet attributes imported from %s at %s: %d wallets", source, now.isoformat(),
                summary.wallets)
    return summary


def _line_number_of(problem: str) -> int:
    """Return the line number a problem starts with ("line 12: ..."), 0 for whole-file ones."""
    match = re.match(r"line (\d+):", problem)
    return int(match.group(1)) if match else 0


def _wallets_by_id(session: Session, wallet_ids: list[str]) -> dict[str, Wallet]:
    found: dict[str, Wallet] = {}
    # Chunks keep the IN list under SQLite's bound-parameter limit.
    for start in range(0, len(wallet_ids), 500):
        chunk = wallet_ids[start:start + 500]
        for wallet in session.scalars(select(Wallet).where(Wallet.id.in_(chunk))):
            found[wallet.id] = wallet
    return found


def _decode(data: bytes, source: str) -> str:
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start]
        raise invalid(f"{source} is not UTF-8 (invalid byte 0x{byte:02x} at position"
                      f" {exc.start}); save it as UTF-8 (in Excel: CSV UTF-8) and import it"
                      " again") from None


def _csv_rows(text: str, problems: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, stripped cells) for each non-blank physical line.

    A quoted value with a line break in it is rejected, and its lines are skipped as one.
    An odd number of quote characters on a line means a quote is left open there, because
    every complete value adds an even number (escaped quotes are doubled).
    """
    lines = _LINE_BREAK.split(text)
    index = 0
    while index < len(lines):
        number, line = index + 1, lines[index]
        index += 1
        if not line.strip():
            continue
        if line.count('"') % 2:
            index, closed = _skip_open_quote(lines, index, line.count('"'))
            if closed:
                problems.append(f"line {number}: a quoted value runs on to line {index}; a"
                                " value cannot contain a line break, so write each wallet on"
                                " one line")
            else:
                problems.append(f"line {number}: a quote is not closed before the end of the"
                                " file; close it or remove it")
            continue
        try:
            cells = next(csv.reader([line], strict=True))
        except csv.Error as exc:
            problems.append(f"line {number}: malformed CSV ({exc}); check its quotes and commas")
            continue
        yield number, [cell.strip() for cell in cells]


def _skip_open_quote(lines: list[str], index: int, quotes: int) -> tuple[int, bool]:
    """Return the index after the line that closes the open quote, and whether one does."""
    while index < len(lines) and quotes % 2:
        quotes += lines[index].count('"')
        index += 1
    return index, quotes % 2 == 0


def _attribute_columns(number: int, header: list[str], problems: list[str]) -> list[str] | None:
    """Check the header row and return the names of its free attribute columns."""
    names = [name.lower() for name in header]
    expected = ",".join(REQUIRED_COLUMNS)
    if tuple(names[:3]) != REQUIRED_COLUMNS:
        shown = shorten(",".join(header), 60) if header else "nothing"
        problems.append(f"line {max(number, 1)}: the header row must start with {expected},"
                        f" found {shown!r}; correct the header row")
        return None
    extra = names[3:]
    bad = [name for name in extra if not _ATTRIBUTE_NAME.match(name)]
    if bad:
        problems.append(f"line {number}: attribute column {shorten(bad[0], 40)!r} is invalid;"
                        " name columns with lower-case letters, digits and underscores,"
                        " starting with a letter, e.g. age_band")
        return None
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        spellings = [repr(written.strip()) for written, name in zip(header, names)
                     if name == duplicates[0]]
        problems.append(f"line {number}: columns {' and '.join(spellings)} name the same column"
                        " (column names ignore case); keep one")
        return None
    if len(extra) > MAX_ATTRIBUTES:
        problems.append(f"line {number}: {len(extra)} attribute columns, at most"
                        f" {MAX_ATTRIBUTES} are allowed; remove some")
        return None
    return extra


def _parse_line(number: int, cells: list[str], attribute_names: list[str],
                problems: list[str]) -> AttributeLine | None:
    expected_cells = len(REQUIRED_COLUMNS) + len(attribute_names)
    if len(cells) != expected_cells:
        problems.append(f"line {number}: {len(cells)} columns, the header has {expected_cells};"
                        " add or remove commas")
        return None
    wallet_id, resident_text, household_text = cells[:3]
    before = len(problems)

    if not wallet_id:
        problems.append(f"line {number}: wallet_id is empty; give the wallet's id")
    resident = _parse_resident(number, resident_text, problems)
    household_id = household_text or None
    if household_id is not None and not _HOUSEHOLD_ID.match(household_id):
        problems.append(f"line {number}: household_id {shorten(household_id)!r} is invalid;"
                        " use 1 to 40 letters, digits, hyphens or underscores")
    attributes: dict[str, str] = {}
    for name, value in zip(attribute_names, cells[3:]):
        if len(value) > MAX_ATTRIBUTE_CHARS:
            problems.append(f"line {number}: {name} is {len(value)} characters long, at most"
                            f" {MAX_ATTRIBUTE_CHARS} are allowed; shorten it")
        elif value:
            attributes[name] = value

    if len(problems) != before or resident is None:
        return None
    return AttributeLine(number, wallet_id, resident, household_id, attributes)


def _parse_resident(number: int, text: str, problems: list[str]) -> bool | None:
    folded = text.lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    problems.append(f"line {number}: resident {shorten(text)!r} is invalid; write 1 for a"
                    " resident or 0 for a non-resident")
    return None
