"""Seed files: secret lottery seeds that the operator keeps off the database until the draw.

A commit command (``premium-commit``, ``coupon-prize-commit``) stores only each seed's SHA-256
commitment in the database and writes the seed to a seed file, so nobody who can read the
database (staff, a backup) can predict a draw. The operator keeps the file offline and gives
it to the draw command, which checks it against the stored commitment and only then stores the
seed with the draw's result.

A seed file is UTF-8 JSON, created with mode 0600 and never overwritten. Its ``format`` tells
the kinds apart. A premium sale's file holds the seeds of both rounds:

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server import lottery
from server.errors import ServerError, invalid, shorten
from server.settings import iso_utc

if TYPE_CHECKING:
    from server.db import Database
    from server.premium import RoundSeed

logger = logging.getLogger(__name__)

# Read and write for the owner only: the seeds predict the draws until they are published.
SEED_FILE_MODE = 0o600

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
    try:
        # O_EXCL fails on any existing path, a symbolic link included.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SEED_FILE_MODE)
    except FileExistsError:
        raise invalid(f"seed file {path} already exists, and {kind.commit_command} never"
                      " overwrites a seed file because it may hold the seeds of another"
                      f" {kind.owner_noun}; give a new path. No seeds were committed") from None
    except OSError as exc:
        raise invalid(f"seed file {path} cannot be created: {exc.strerror}; give a path in an"
                      " existing folder you can write to. No seeds were committed") from None

    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            # The umask may have cleared bits of the mode given to os.open.
            os.fchmod(file.fileno(), SEED_FILE_MODE)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        _sync_folder(path.parent)
    except OSError as exc:
        path.unlink(missing_ok=True)
        raise invalid(f"seed file {path} could not be written: {exc.strerror}; free space or"
                      " give another path. No seeds were committed") from None
    logger.info("%s seed file written for %s %s: %s", kind.description, kind.owner_noun,
                owner_id, path)


def _sync_folder(folder: Path) -> None:
    """Flush the folder entry of a new file, so the file survives a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


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


def read_prize_seed(path: Path, campaign_id: str) -> str:
    """Return the seed of a coupon campaign's prize draw from its seed file, after checking it.

    Whether the seed matches the commitment in the database is checked by
    ``coupon_cli.run_prize_draw``.
    """
    content = read_seed_file(path, COUPON_PRIZE, campaign_id)
    return _entry_seed(path, COUPON_PRIZE, "the prize draw", content)


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
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise invalid(f"seed file {path} cannot be read: {exc.strerror}; {advice}") from None
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
