"""Seed files: secret lottery seeds that the operator keeps off the database until the draw.

A commit command (``premium-commit``, ``coupon-prize-commit``) stores only each seed's SHA-256
commitment in the database and writes the seed to a seed file, so nobody who can read the
database (staff, a backup) can predict a draw. The operator keeps the file offline and gives
it to the draw command, which checks it against the stored commitment and only then stores the
seed with the draw's result.

A seed file is UTF-8 JSON, created with mode 0600 and never overwritten (``server.new_files``).
A draw reads only a regular file of at most ``MAX_SEED_FILE_BYTES``, and accepts a UTF-8 byte
order mark before the JSON. The ``format`` key tells the kinds apart. A premium sale's file
holds the seeds of both rounds:

    {
      "format": "chiiki-premium-seeds-1",
      "sale_id": "2027-summer",
      "committed_at": "2027-06-20T01:00:00+00:00",
      "rounds": [
        {"round": 1, "seed": "<64 hex characters>", "commitment": "<64 hex characters>"},
        {"round": 2, "seed": "<64 hex characters>", "commitment": "<64 hex characters>"}
      ]
    }

A coupon campaign's file holds the seed of its one prize draw:

    {
      "format": "chiiki-coupon-prize-seed-1",
      "campaign_id": "aki-2027",
      "committed_at": "2027-09-20T01:00:00+00:00",
      "places": 10,
      "seed": "<64 hex characters>",
      "commitment": "<64 hex characters>"
    }

``seed`` and ``commitment`` are spelled as in ``server.lottery``. The commitment is repeated
beside its seed, so the file can be matched with the published commitments by eye and a
changed or damaged seed is found before the database is asked.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server import lottery, new_files
from server.errors import ServerError, invalid, shorten
from server.settings import iso_utc

if TYPE_CHECKING:
    from server.db import Database
    from server.premium import RoundSeed

logger = logging.getLogger(__name__)

# Read and write for the owner only: the seeds predict the draws until they are published.
SEED_FILE_MODE = 0o600
# A seed file written by a commit command is under 1 KiB (a premium sale's is about 500
# bytes). The cap leaves ample room for a file reformatted by hand, and keeps a wrong path,
# such as a device or a large file, from being read into memory.
MAX_SEED_FILE_BYTES = 64 * 1024
_SEED_LIKE = re.compile(rf"\s*[0-9a-fA-F]{{{lottery.SEED_HEX_CHARS}}}\s*")

T = TypeVar("T")


@dataclass(frozen=True)
class SeedFileKind:
    """A kind of seed file: its ``format`` value, the key of its owner's id, its commit command.

    ``owner_noun`` ("sale") and ``description`` ("premium sale") name the owner and the kind
    in messages.
    """

    format: str
    owner_key: str
    owner_noun: str
    description: str
    commit_command: str


PREMIUM_SALE = SeedFileKind(format="chiiki-premium-seeds-1", owner_key="sale_id",
                            owner_noun="sale", description="premium sale",
                            commit_command="premium-commit")
COUPON_PRIZE = SeedFileKind(format="chiiki-coupon-prize-seed-1", owner_key="campaign_id",
                            owner_noun="campaign", description="coupon prize draw",
                            commit_command="coupon-prize-commit")
KINDS = (PREMIUM_SALE, COUPON_PRIZE)


# --- writing -------------------------------------------------------------------------------


def commit_with_seed_file(db: Database, path: Path, store: Callable[[Session], T],
                          write: Callable[[T], None], *, check_advice: str) -> T:
    """Store commitments with ``store`` and write their seeds with ``write`` in one transaction.

    The file is written before the transaction commits, so a file that cannot be written
    leaves no commitment without its seed behind. When only the COMMIT fails after the file
    was written, the commitments may be stored all the same. The error then ends with
    ``check_advice``, which tells the operator how to find out and what to do with the file.
    """
    written = False
    try:
        with db.write() as session:
            result = store(session)
            write(result)
            written = True
    except SQLAlchemyError as exc:
        if not written:
            raise
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise invalid(f"seed file {path} was written, but storing the commitments failed"
                      f" ({reason}); {check_advice}") from exc
    return result


def write_premium_seeds(path: Path, sale_id: str, seeds: Sequence[RoundSeed], *,
                        committed_at: datetime) -> None:
    """Create the seed file of a premium sale's rounds (see ``write_seed_file``)."""
    rounds = [{"round": item.round, "seed": item.seed, "commitment": item.commitment}
              for item in seeds]
    write_seed_file(path, PREMIUM_SALE, sale_id, {"rounds": rounds}, committed_at=committed_at)


def write_prize_seed(path: Path, campaign_id: str, *, places: int, seed: str, commitment: str,
                     committed_at: datetime) -> None:
    """Create the seed file of a coupon campaign's prize draw (see ``write_seed_file``)."""
    fields = {"places": places, "seed": seed, "commitment": commitment}
    write_seed_file(path, COUPON_PRIZE, campaign_id, fields, committed_at=committed_at)


def write_seed_file(path: Path, kind: SeedFileKind, owner_id: str, fields: dict[str, Any], *,
                    committed_at: datetime) -> None:
    """Create the seed file at ``path``, flushed to disk; never replace an existing file.

    Call it before the commitments are committed, so a file that cannot be written leaves
    nothing stored.
    """
    content = {"format": kind.format, kind.owner_key: owner_id,
               "committed_at": iso_utc(committed_at), **fields}
    text = json.dumps(content, indent=2) + "\n"
    seed_file = new_files.NewFile(
        noun="seed file", command=kind.commit_command, option="--seed-file",
        reason=f"it may hold the seeds of another {kind.owner_noun}")
    outcome = "No seeds were committed"
    try:
        with new_files.new_file(path, seed_file, outcome=outcome, mode=SEED_FILE_MODE) as file:
            file.write(text)
    except OSError as exc:
        raise new_files.write_failed(path, seed_file, exc, outcome) from None
    logger.info("%s seed file written for %s %s: %s", kind.description, kind.owner_noun,
                owner_id, path)


# --- reading -------------------------------------------------------------------------------


def read_premium_seed(path: Path, sale_id: str, round_number: int) -> str:
    """Return the seed of a round from a premium sale's seed file, after checking the file.

    Whether the seed matches the commitment in the database is checked by ``premium.draw``.
    """
    content = read_seed_file(path, PREMIUM_SALE, sale_id)
    entries = content.get("rounds")
    entry = None
    if isinstance(entries, list):
        entry = next((item for item in entries if isinstance(item, dict)
                      and type(item.get("round")) is int and item["round"] == round_number),
                     None)
    if entry is None:
        raise invalid(f"seed file {path} has no seed for round {round_number} of sale"
                      f" {sale_id}; give the seed file that premium-commit wrote for this"
                      " sale, which contains rounds 1 and 2")
    return _entry_seed(path, PREMIUM_SALE, f"round {round_number}", entry)


@dataclass(frozen=True)
class PrizeFileSeed:
    """The seed of a coupon campaign's prize draw and the number of places its file states."""

    seed: str
    places: int


def read_prize_seed(path: Path, campaign_id: str) -> PrizeFileSeed:
    """Return the seed and places of a coupon campaign's prize draw from its seed file.

    Whether the seed matches the commitment and the places match the committed draw is
    checked by ``coupon_cli.run_prize_draw``.
    """
    content = read_seed_file(path, COUPON_PRIZE, campaign_id)
    seed = _entry_seed(path, COUPON_PRIZE, "the prize draw", content)
    places = content.get("places")
    if type(places) is not int or places < 1:
        raise invalid(f"seed file {path}: places is missing or not a whole number of at least"
                      " 1, so the file was changed or damaged; use an unchanged copy of the"
                      f" file that {COUPON_PRIZE.commit_command} wrote")
    return PrizeFileSeed(seed, places)


def read_seed_file(path: Path, kind: SeedFileKind, owner_id: str) -> dict[str, Any]:
    """Load a seed file of ``kind`` and check that it was written for ``owner_id``."""
    content = _load(path, kind)
    file_owner = content.get(kind.owner_key)
    if file_owner != owner_id:
        file_owner_text = shorten(file_owner) if isinstance(file_owner, str) else repr(file_owner)
        raise invalid(f"seed file {path} is for {kind.owner_noun} {file_owner_text}, not"
                      f" {owner_id}; give the seed file that {kind.commit_command} wrote for"
                      f" {kind.owner_noun} {owner_id}")
    return content


def _entry_seed(path: Path, kind: SeedFileKind, draw_name: str, entry: dict[str, Any]) -> str:
    """Return the seed of one draw in a loaded file, checked against the commitment beside it."""
    seed, commitment = entry.get("seed"), entry.get("commitment")
    if not isinstance(seed, str) or not isinstance(commitment, str):
        raise _damaged(path, kind, draw_name, "or its commitment is missing")
    try:
        lottery.seed_bytes(seed)
    except lottery.LotteryError:
        raise _damaged(path, kind, draw_name,
                       f"is not {lottery.SEED_HEX_CHARS} hexadecimal characters") from None
    if lottery.commitment(seed) != commitment.strip().lower():
        raise _damaged(path, kind, draw_name, "does not match the commitment written beside it")
    return seed


def _damaged(path: Path, kind: SeedFileKind, draw_name: str, problem: str) -> ServerError:
    return invalid(f"seed file {path}: the seed of {draw_name} {problem}, so the file was"
                   f" changed or damaged; use an unchanged copy of the file that"
                   f" {kind.commit_command} wrote")


def _load(path: Path, kind: SeedFileKind) -> dict[str, Any]:
    advice = f"give the seed file that {kind.commit_command} wrote"
    data = _read_bytes(path, advice)
    try:
        # utf-8-sig also accepts the byte order mark that Windows Notepad writes.
        content = json.loads(data.decode("utf-8-sig"))
    except RecursionError:
        raise invalid(f"{path} is not a seed file: its JSON is nested too deeply;"
                      f" {advice}") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise invalid(f"{path} is not a seed file: it is not UTF-8 JSON ({exc});"
                      f" {advice}") from None
    if not isinstance(content, dict):
        raise invalid(f"{path} is not a seed file: it is not a JSON object; {advice}")
    file_format = content.get("format")
    if file_format == kind.format:
        return content

    other = next((item for item in KINDS if item.format == file_format), None)
    if other is not None:
        raise invalid(f"seed file {path} is the seed file of a {other.description}, not of a"
                      f" {kind.description}; {advice}")
    raise invalid(f"{path} is not a seed file: it lacks \"format\": \"{kind.format}\";"
                  f" {advice}")


def _read_bytes(path: Path, advice: str) -> bytes:
    """Read a seed file, rejecting anything but a regular file of at most the size cap."""
    try:
        # With O_NONBLOCK, opening a named pipe returns at once instead of waiting for a
        # writer, so the type check below can reject it. Reads of a regular file ignore it.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise invalid(f"seed file {path} cannot be read: {exc.strerror}; {advice}") from None

    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        raise invalid(f"{path} is not a seed file: it is {new_files.file_type(mode)}, not a"
                      f" regular file; {advice}")
    with os.fdopen(descriptor, "rb") as file:
        try:
            # Reading one byte more than the cap distinguishes a file at the cap from a
            # larger one, even when the file grows after the open.
            data = file.read(MAX_SEED_FILE_BYTES + 1)
        except OSError as exc:
            raise invalid(f"seed file {path} cannot be read: {exc.strerror};"
                          f" {advice}") from None
    if len(data) > MAX_SEED_FILE_BYTES:
        raise invalid(f"{path} is not a seed file: it is larger than {MAX_SEED_FILE_BYTES}"
                      f" bytes, while a seed file is under 1 KiB; {advice}")
    return data


# --- checking a seed against its commitment ------------------------------------------------


def checked_seed(seed: str, commitment: str, *, draw_name: str, advice: str) -> str:
    """Return ``seed`` in lower case after checking it against the stored ``commitment``.

    ``draw_name`` names the draw in the error ("round 1 of sale 2027-summer"), and the error
    ends with ``advice``, the seed to give instead. The error never repeats the seed, which
    may be a mistyped secret.
    """
    text = seed.strip().lower()
    try:
        lottery.seed_bytes(text)
    except lottery.LotteryError:
        # The message of LotteryError repeats part of the seed; this one must not.
        raise invalid(f"the seed given for {draw_name} is not {lottery.SEED_HEX_CHARS}"
                      f" hexadecimal characters; {advice}") from None
    if not lottery.check_commitment(text, commitment):
        raise invalid(f"the seed given for {draw_name} does not match its commitment"
                      f" {commitment} (SHA-256 of the given seed is"
                      f" {lottery.commitment(text)}); {advice}")
    return text


def reject_seed_like(value: object, subject: str, advice: str) -> None:
    """Raise ``invalid`` when an id or a path given on the command line looks like a seed.

    A seed pasted in the wrong place would otherwise be repeated by the error that follows,
    into the terminal's scrollback and any log of the command. So the message names only
    ``subject`` ("the value of --seed-file") and ends with ``advice``.
    """
    if value is not None and _SEED_LIKE.fullmatch(str(value)):
        raise invalid(f"{subject} looks like a seed ({lottery.SEED_HEX_CHARS} hexadecimal"
                      f" characters), so it is not repeated here; {advice}")
