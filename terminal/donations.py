"""The donation lines of a payment, as the receipt prints them.

The server decides each donation when it books the payment and lists it in
``Payment.donations`` (cause name and yen, after any refunds). An offline payment is booked
only when the terminal syncs it, and the campaigns active at that moment apply. So the
terminal cannot know the donation when it approves the sale. Its receipt and approval screen
show no donation line, and the payment's record on the server carries the donation.
"""

from __future__ import annotations

from drivers.printer.document import Columns
from terminal.protocol import DonationLine, Payment

DONATION_LABEL = "寄付"


def format_yen(amount_yen: int) -> str:
    """Format yen as the receipt does: ``￥1,990``."""
    return f"￥{amount_yen:,}"


def donation_lines(payment: Payment) -> list[DonationLine]:
    """Return the payment's donations worth printing: online payments, at least 1 yen."""
    if payment.method == "offline":
        return []
    return [line for line in payment.donations if line.amount_yen > 0]


def receipt_columns(payment: Payment) -> list[Columns]:
    """Return one receipt line per cause: ``寄付 会津こども食堂    ￥12``.

    ``drivers.printer.render`` shortens a label too long for the paper, never the amount.
    """
    return [Columns(f"{DONATION_LABEL} {line.cause}", format_yen(line.amount_yen))
            for line in donation_lines(payment)]
