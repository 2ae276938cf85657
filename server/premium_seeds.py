"""Seed files: the secret lottery seeds of a premium sale, kept by the operator off the database.

``premium-commit`` stores only each round's SHA-256 commitment in the database and writes the
seeds to a seed file, so nobody who can read the database (staff, a backup) can predict a
draw. The operator keeps the file offline and gives it to ``premium-draw``, which checks it
against the stored commitment and only then stores the seed with the draw's result.

The file is UTF-8 JSON, created with mode 0600 and never overwritten:

    {
      "format": "chiiki-premium-seeds-1",
      "sale_id": "2027-summer",
      "committed_at": "2027-06-20T01:00:00+00:00",
      "rounds": [
        {"round": 1, "seed": "<64 hex characters>", "commitment": "<64 hex characters>"},
        {"round": 2, "seed": "<64 hex characters>", "commitment": "<64 hex characters>"}
      ]
    }

``seed`` and ``commitment`` are spelled as in ``server.lottery``. The commitment is repeated
beside its seed, so the file can be matched with the published commitments by eye and a
changed or damaged seed is found before the database is asked.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from server import lottery
from server.errors import ServerError, invalid, shorten
from server.premium import RoundSeed
from server.settings import iso_utc

logger = logging.getLogger(__name__)

SEED_FILE_FORMAT = "chiiki-premium-seeds-1"
# Read and write for the owner only: the seeds predict the draws until they are published.
SEED_FILE_MODE = 0o600


def write_seed_file(path: Path, sale_id: str, seeds: Sequence[RoundSeed], *,
                    committed_at: datetime) -> None:
    """Create the seed file at ``path``, flushed to disk; never replace an existing file.

    Call it before the commitments are committed, so a file that cannot be written leaves
    nothing stored.
    """
    content = {
        "format": SEED_FILE_FORMAT,
        "sale_id": sale_id,
        "committed_at": iso_utc(committed_at),
        "rounds": [{"round": item.round, "seed": item.seed, "commitment": item.commitment}
                   for item in seeds],
    }
    text = json.dumps(content, indent=2) + "\n"
    try:
        # O_EXCL fails on any existing path, a symbolic link included.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SEED_FILE_MODE)
    except FileExistsError:
        raise invalid(f"seed file {path} already exists, and premium-commit never overwrites"
                      " a seed file because it may hold the seeds of another sale; give a new"
                      " path. No seeds were committed") from None
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
    logger.info("premium sale %s seed file written: %s", sale_id, path)


def _sync_folder(folder: Path) -> None:
    """Flush the folder entry of a new file, so the file survives a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_seed(path: Path, sale_id: str, round_number: int) -> str:
    """Return the seed of a round from a seed file, after checking the file's sale and seed.

    Whether the seed matches the commitment in the database is checked by ``premium.draw``.
    """
    content = _load(path)
    file_sale = content.get("sale_id")
    if file_sale != sale_id:
        file_sale_text = shorten(file_sale) if isinstance(file_sale, str) else repr(file_sale)
        raise invalid(f"seed file {path} is for sale {file_sale_text}, not {sale_id}; give"
                      f" the seed file that premium-commit wrote for sale {sale_id}")

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

    seed, commitment = entry.get("seed"), entry.get("commitment")
    if not isinstance(seed, str) or not isinstance(commitment, str):
        raise _damaged(path, round_number, "or its commitment is missing")
    try:
        lottery.seed_bytes(seed)
    except lottery.LotteryError:
        raise _damaged(path, round_number,
                       f"is not {lottery.SEED_HEX_CHARS} hexadecimal characters") from None
    if lottery.commitment(seed) != commitment.strip().lower():
        raise _damaged(path, round_number, "does not match the commitment written beside it")
    return seed


def _damaged(path: Path, round_number: int, problem: str) -> ServerError:
    return invalid(f"seed file {path}: the seed of round {round_number} {problem}, so the file"
                   " was changed or damaged; use an unchanged copy of the file that"
                   " premium-commit wrote")


def _load(path: Path) -> dict[str, Any]:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise invalid(f"seed file {path} cannot be read: {exc.strerror}; give the seed file"
                      " that premium-commit wrote") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise invalid(f"{path} is not a seed file: it is not UTF-8 JSON ({exc}); give the"
                      " seed file that premium-commit wrote") from None
    if not isinstance(content, dict) or content.get("format") != SEED_FILE_FORMAT:
        raise invalid(f"{path} is not a seed file: it lacks \"format\": \"{SEED_FILE_FORMAT}\";"
                      " give the seed file that premium-commit wrote")
    return content
