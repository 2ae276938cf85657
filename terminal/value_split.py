"""How a payment was paid across value kinds, and what the wallet holds after it.

The server reports per payment how much of each kind it spent (``Payment.kinds``) and, when the
wallet allows it, the wallet's remaining value per kind with the earliest expiry
(``Payment.remaining``). This module turns both into text for the clerk's screen and for the
receipt. It shows a split only when the server's kinds add up to the amount: an offline payment
has no kinds until it is synced, and the terminal must not guess them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from terminal.japan_time import to_japan_time
from terminal.protocol import RemainingValue, ValueKind

logger = logging.getLogger(__name__)

# Names the customer sees on the receipt; the screen uses the translated names from ui/.
KIND_NAMES_JA: Mapping[ValueKind, str] = {
    ValueKind.PREMIUM_LOCAL: "地元専用",
    ValueKind.PREMIUM_ALL: "全店共通",
    ValueKind.BENEFIT: "給付",
    ValueKind.COIN: "コイン",
}

# The order kinds are listed in, the order a payment spends them (most restricted first).
DISPLAY_ORDER: tuple[ValueKind, ...] = tuple(ValueKind)

EXPIRY_DATE_PATTERN = "%Y/%m/%d"


@dataclass(frozen=True)
class KindAmount:
    """An amount of one value kind."""

    kind: ValueKind
    amount_yen: int


def split_parts(amount_yen: int, kinds: Mapping[ValueKind, int]) -> list[KindAmount] | None:
    """Return the kinds that paid ``amount_yen`` in spend order, or None if they are unknown.

    The kinds are unknown when the server sent none (an offline payment before sync) or when
    they do not add up to the amount, which a sound server never sends.
    """
    parts = [KindAmount(kind, kinds[kind]) for kind in DISPLAY_ORDER if kinds.get(kind, 0) > 0]
    if not parts:
        return None
    total_yen = sum(part.amount_yen for part in parts)
    if total_yen != amount_yen:
        logger.warning("value kinds add up to %d yen, not the amount of %d yen; split not shown",
                       total_yen, amount_yen)
        return None
    return parts


def format_split(
    amount_yen: int, kinds: Mapping[ValueKind, int],
    names: Mapping[ValueKind, str] = KIND_NAMES_JA,
) -> str | None:
    """Format the split as one line: ``￥1,200 = 地元専用 ￥800 + 全店共通 ￥400``.

    A payment of one kind gives just that kind (``コイン ￥1,200``). Returns None when the
    kinds are unknown, so the caller shows nothing about them.
    """
    # Imported here because terminal.receipt imports this module.
    from terminal.receipt import format_yen

    parts = split_parts(amount_yen, kinds)
    if parts is None:
        return None
    shown = [f"{names[part.kind]} {format_yen(part.amount_yen)}" for part in parts]
    if len(shown) == 1:
        return shown[0]
    return f"{format_yen(amount_yen)} = " + " + ".join(shown)


def remaining_in_order(remaining: list[RemainingValue]) -> list[RemainingValue]:
    """Return the remaining value with a positive amount, in spend order."""
    rank = {kind: position for position, kind in enumerate(DISPLAY_ORDER)}
    held = [value for value in remaining if value.amount_yen > 0]
    return sorted(held, key=lambda value: rank[value.kind])


def expiry_date(expires_at: str) -> str:
    """Format the last day value is usable, in Japan time: ``2027/03/31``.

    A lot stops being spendable at ``expires_at`` itself, so an expiry at midnight Japan time
    (00:00 on 1 April) means the value was usable until the end of the day before (31 March).
    """
    moment = datetime.fromisoformat(expires_at)
    last_usable = to_japan_time(moment - timedelta(microseconds=1))
    return last_usable.strftime(EXPIRY_DATE_PATTERN)
