"""Commit-reveal lottery draws that anyone can re-run from the published seed.

The operator commits to a random seed before the draw and publishes the commitment. After the
draw the seed itself is published, so anyone holding the published candidate list can recompute
the order and the winners. The module has no state, touches no database and uses no global
random generator, so the same inputs always give the same output.

The algorithm, exactly (enough to re-implement it in another language):

1. Seed: 32 random bytes, written as 64 lower-case hexadecimal characters.
   ``generate_seed`` draws them with ``secrets.token_bytes``.
2. Commitment: ``SHA-256(seed bytes)`` (the 32 raw bytes, not the hex text), written as 64
   lower-case hexadecimal characters. It is published before the application list closes.
3. Tickets: a candidate with weight ``w`` (an integer, 1 when the draw is unweighted) holds ``w``
   tickets numbered ``0 .. w-1``. Ticket ``i`` of candidate ``c`` has the key
   ``HMAC-SHA256(key = seed bytes, message = UTF-8(c + "#" + decimal(i)))``, 32 bytes.
4. Rank key of a candidate: the smallest of its ticket keys, comparing the 32 bytes as an
   unsigned big-endian number (the same as comparing the bytes left to right).
5. Order: candidates sorted by rank key ascending; equal keys (never seen in practice) are
   ordered by the candidate id's UTF-8 bytes. The first ``n`` in this order win ``n`` places.
6. Allocation of a limited supply (``allocate``): walk the order; each candidate receives what
   it requested, or what is left when less is left, until nothing is left.

A weight of ``w`` gives a candidate the same chance as ``w`` separate unweighted candidates of
being drawn before any given other candidate, because each ticket key is an independent uniform
value and the candidate's rank is decided by its best ticket.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SEED_BYTES = 32
SEED_HEX_CHARS = SEED_BYTES * 2
# Upper bound on one candidate's weight, so a draw stays cheap to re-run (one HMAC per ticket).
MAX_WEIGHT = 10_000
TICKET_SEPARATOR = "#"


class LotteryError(ValueError):
    """Inputs of a draw are malformed (bad seed, duplicate candidate, bad weight)."""


@dataclass(frozen=True)
class DrawCheck:
    """Result of re-running a published draw: ``ok`` and, when not, the first difference."""

    ok: bool
    problem: str | None
    order: list[str]


def generate_seed() -> str:
    """Return a new seed: 32 bytes from the operating system's CSPRNG, as 64 hex characters."""
    return secrets.token_bytes(SEED_BYTES).hex()


def seed_bytes(seed_hex: str) -> bytes:
    """Decode a published seed, raising ``LotteryError`` naming what is wrong with it."""
    text = seed_hex.strip().lower()
    if len(text) != SEED_HEX_CHARS:
        raise LotteryError(f"seed must be {SEED_HEX_CHARS} hexadecimal characters, got"
                           f" {len(text)}; copy the whole published seed")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise LotteryError(f"seed {text[:16]}… contains a character that is not"
                           " hexadecimal (0-9, a-f)") from None


def commitment(seed_hex: str) -> str:
    """Return the commitment to publish for a seed: SHA-256 of the seed bytes, in hex."""
    return hashlib.sha256(seed_bytes(seed_hex)).hexdigest()


def check_commitment(seed_hex: str, commitment_hex: str) -> bool:
    """Return whether a revealed seed matches the commitment published before the draw."""
    return hmac.compare_digest(commitment(seed_hex), commitment_hex.strip().lower())


def ticket_key(seed: bytes, candidate_id: str, ticket: int) -> bytes:
    """Return the HMAC-SHA256 key of one ticket (step 3 of the module docstring)."""
    message = f"{candidate_id}{TICKET_SEPARATOR}{ticket}".encode()
    return hmac.new(seed, message, hashlib.sha256).digest()


def rank_key(seed: bytes, candidate_id: str, weight: int = 1) -> bytes:
    """Return a candidate's rank key: the smallest key among its ``weight`` tickets."""
    return min(ticket_key(seed, candidate_id, ticket) for ticket in range(weight))


def order(seed_hex: str, candidates: Sequence[str] | Mapping[str, int]) -> list[str]:
    """Return every candidate in draw order, best first.

    ``candidates`` is a sequence of ids (one ticket each) or a mapping of id to weight.
    """
    weights = _weights(candidates)
    seed = seed_bytes(seed_hex)
    keyed = [(rank_key(seed, cid, weight), cid.encode(), cid) for cid, weight in weights.items()]
    keyed.sort()
    return [cid for _key, _raw, cid in keyed]


def draw(seed_hex: str, candidates: Sequence[str] | Mapping[str, int],
         places: int) -> list[str]:
    """Return the first ``places`` candidates of the draw order (all of them when fewer)."""
    if places < 0:
        raise LotteryError(f"number of places must be 0 or more, got {places}")
    return order(seed_hex, candidates)[:places]


def allocate(ranked: Sequence[str], requests: Mapping[str, int],
             supply: int) -> dict[str, int]:
    """Share ``supply`` units out along ``ranked`` (step 6): full requests while they fit.

    The candidate at which the supply runs short receives the remainder; later candidates
    receive nothing and are left out of the result.
    """
    if supply < 0:
        raise LotteryError(f"supply must be 0 or more, got {supply}")
    allocated: dict[str, int] = {}
    left = supply
    for cid in ranked:
        if left == 0:
            break
        requested = requests[cid]
        if requested < 1:
            raise LotteryError(f"candidate {cid!r} requests {requested} units; must be 1 or more")
        allocated[cid] = min(requested, left)
        left -= allocated[cid]
    return allocated


def verify(seed_hex: str, commitment_hex: str,
           candidates: Sequence[str] | Mapping[str, int],
           published_order: Sequence[str]) -> DrawCheck:
    """Re-run a published draw and compare it with the published order (or its winners prefix).

    ``published_order`` may be the whole order or only its first entries (the winners).
    """
    try:
        if not check_commitment(seed_hex, commitment_hex):
            return DrawCheck(False, "the seed does not match the published commitment", [])
        recomputed = order(seed_hex, candidates)
    except LotteryError as exc:
        return DrawCheck(False, str(exc), [])

    if len(published_order) > len(recomputed):
        return DrawCheck(False, f"the published order has {len(published_order)} entries but"
                                f" there are only {len(recomputed)} candidates", recomputed)
    for position, (published, expected) in enumerate(zip(published_order, recomputed), 1):
        if published != expected:
            return DrawCheck(False, f"position {position}: published {published!r}, the seed"
                                    f" gives {expected!r}", recomputed)
    logger.info("draw verified: %d candidates, %d published positions match",
             len(recomputed), len(published_order))
    return DrawCheck(True, None, recomputed)


def _weights(candidates: Sequence[str] | Mapping[str, int]) -> dict[str, int]:
    if isinstance(candidates, Mapping):
        pairs = list(candidates.items())
    else:
        pairs = [(cid, 1) for cid in candidates]
    weights: dict[str, int] = {}
    for cid, weight in pairs:
        _check_candidate(cid, weight)
        if cid in weights:
            raise LotteryError(f"candidate {cid!r} is listed twice; each id must be unique")
        weights[cid] = weight
    return weights


def _check_candidate(cid: str, weight: int) -> None:
    if not isinstance(cid, str) or not cid:
        raise LotteryError(f"candidate id {cid!r} must be a non-empty string")
    if isinstance(weight, bool) or not isinstance(weight, int):
        raise LotteryError(f"weight of candidate {cid!r} must be an integer, got {weight!r}")
    if not 1 <= weight <= MAX_WEIGHT:
        raise LotteryError(f"weight of candidate {cid!r} is {weight}; it must be 1 to"
                           f" {MAX_WEIGHT}")
