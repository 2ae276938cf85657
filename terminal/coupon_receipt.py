"""The coupon lines of a payment receipt: the discount, and the next coupon it issued.

A coupon's discount is paid to the shop by the coupon's issuer, so the receipt shows the sale's
total (which the tax lines add up to), the discount and the amount the wallet paid. A used
coupon may issue the next one, at another shop; the receipt names that shop so the customer is
sent on to it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from drivers.printer.document import Block, Columns, Rule, Text
from terminal.japan_time import to_japan_time
from terminal.protocol import Payment

COUPON_LABEL = "クーポン"
PAID_LABEL = "お支払い額"
NEXT_COUPON_LABEL = "次回クーポン"
VALID_UNTIL_PATTERN = "%m/%d"


def _yen(amount_yen: int) -> str:
    # The receipt's yen format (terminal.receipt.format_yen), which imports this module.
    sign = "-" if amount_yen < 0 else ""
    return f"{sign}￥{abs(amount_yen):,}"


def coupon_discount_blocks(payment: Payment) -> list[Block]:
    """Return the discount line and the amount paid, or nothing for a payment without coupon."""
    coupon = payment.coupon
    if coupon is None:
        return []
    return [
        Columns(f"{COUPON_LABEL} {coupon.title}", _yen(-coupon.discount_yen)),
        Columns(PAID_LABEL, _yen(payment.amount_yen), bold=True),
        Rule(),
    ]


def next_coupon_blocks(payment: Payment) -> list[Block]:
    """Return 「次回クーポン: ○○商店 ￥200引き (12/31まで)」 when the coupon issued another."""
    coupon = payment.coupon
    if coupon is None or coupon.next_coupon is None:
        return []
    following = coupon.next_coupon
    until = last_usable_day(following.valid_until)
    text = f"{NEXT_COUPON_LABEL}: {following.shop_name} {following.title}"
    if until:
        text += f" ({until}まで)"
    return [Rule(), Text(text, bold=True)]


def last_usable_day(valid_until: str) -> str:
    """Format the last day a coupon is usable, in Japan time, as ``12/31``.

    ``valid_until`` is either a date (the last usable day) or a time, which is exclusive: a
    coupon valid until 00:00 on 1 January was last usable on 31 December. Returns "" for a
    text that is neither.
    """
    try:
        if len(valid_until) == len("2026-12-31"):
            return date.fromisoformat(valid_until).strftime(VALID_UNTIL_PATTERN)
        moment = datetime.fromisoformat(valid_until)
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return ""
    return to_japan_time(moment - timedelta(microseconds=1)).strftime(VALID_UNTIL_PATTERN)
