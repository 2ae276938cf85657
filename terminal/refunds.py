"""Refunds recorded on the terminal and sent to the server through the outbox.

A refund is committed as a capture of kind ``refund`` with its outbox entry before the refund
receipt prints, so a refund given at the counter always reaches the server. It is sent at once
when the server is reachable, and after the outage otherwise. The entry names the payment by the server's payment
id, or by the capture id of an offline sale that has not been sent yet; the server resolves
the second form to the payment the offline sale became.

While the terminal is online, ``send_refund_now`` also sends a recorded refund straight to the
refund endpoint, because only the server's response contains the value kinds that went back to
the wallet, which the screen and receipt show. Both requests carry the capture id as the
idempotency key, so the server applies the refund once.

While refunds wait in the outbox, the server's ``refunded_yen`` of a payment does not count
them yet, so ``refundable_yen`` subtracts them; the server still checks the same limit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from terminal import protocol
from terminal.api_client import ApiError
from terminal.protocol import ValueKind
from terminal.store import Capture, NewCapture, Store

logger = logging.getLogger(__name__)


class RefundApi(Protocol):
    """The refund call of ``terminal.api_client.ApiClient``."""

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund: ...


def record_refund(
    store: Store, payment_id: str, amount_yen: int, capture_id: str, captured_at: datetime
) -> Capture:
    """Commit a refund of ``amount_yen`` against ``payment_id`` and return its capture.

    ``capture_id`` is the refund's idempotency key: recording the same id again returns the
    capture already stored, so a second press after a lost reply does not refund twice.
    """
    if amount_yen < 1:
        raise ValueError(f"a refund must be at least 1 yen, got {amount_yen}")
    existing = store.capture(capture_id)
    if existing is not None:
        if existing.kind != "refund" or existing.payment_id != payment_id:
            raise ValueError(f"capture {capture_id} exists and is not this refund")
        return existing
    new = NewCapture(
        capture_id=capture_id,
        kind="refund",
        amount_yen=amount_yen,
        method="refund",
        captured_at=captured_at,
        payment_id=payment_id,
    )
    capture = store.record_capture(new)
    logger.info("refund %s of %d yen recorded for payment %s", capture_id, amount_yen, payment_id)
    return capture


def waiting_refunds_yen(store: Store) -> dict[str, int]:
    """Sum the refunds not yet acknowledged by the server, per payment id they name."""
    # NOTE: this reads every waiting capture. The outbox is small between syncs, but a terminal
    # offline for weeks would need a query on the refund's payment id instead.
    return _sum_by_payment(store.captures("waiting"))


def _sum_by_payment(captures: Iterable[Capture]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for capture in captures:
        if capture.kind == "refund" and capture.payment_id is not None:
            totals[capture.payment_id] = totals.get(capture.payment_id, 0) + capture.amount_yen
    return totals


def refundable_yen(payment: protocol.Payment, waiting_yen: int = 0) -> int:
    """Return what is left to refund of ``payment`` after refunds still waiting to be sent."""
    return max(0, payment.amount_yen - payment.refunded_yen - waiting_yen)


def waiting_offline_payments(store: Store, merchant_id: str, terminal_id: str) -> list[protocol.Payment]:
    """Return the offline sales not yet sent, newest first, as payments named by capture id."""
    payments = [
        _offline_payment(capture, merchant_id, terminal_id)
        for capture in store.captures("waiting")
        if capture.kind == "offline_payment"
    ]
    payments.reverse()
    return payments


def _offline_payment(capture: Capture, merchant_id: str, terminal_id: str) -> protocol.Payment:
    return protocol.Payment(
        payment_id=capture.capture_id,
        merchant_id=merchant_id,
        terminal_id=terminal_id,
        amount_yen=capture.amount_yen,
        refunded_yen=0,
        method="offline",
        created_at=capture.captured_at.isoformat(timespec="seconds"),
        tax_lines=capture.tax_lines,
    )


def send_refund_now(api: RefundApi, store: Store, capture: Capture) -> dict[ValueKind, int]:
    """Send a recorded refund to the server at once and return the value kinds it gave back.

    Returns an empty mapping when the kinds stay unknown: the refund names an offline sale by
    its capture id, which only the sync resolves, or the request failed. The refund's outbox
    entry is sent in every case, with the same idempotency key.
    """
    payment_id = capture.payment_id
    if capture.kind != "refund" or payment_id is None:
        raise ValueError(f"capture {capture.capture_id} is not a refund of a payment")
    # A payment id that is one of this terminal's capture ids names an offline sale.
    if store.capture(payment_id) is not None:
        return {}

    try:
        refund = api.refund(payment_id, capture.amount_yen, capture.capture_id)
    except ApiError as exc:
        # NOTE: a refund the server declines here is still shown as given at the counter. Its
        # outbox entry gets the same decline, which the declined list shows the merchant.
        logger.warning("refund %s was not applied at once, the outbox sends it later: %s",
                       capture.capture_id, exc.message)
        return {}

    if refund.payment_id != payment_id or refund.amount_yen != capture.amount_yen:
        logger.warning("refund %s: the server returned %d yen of payment %s, expected %d yen"
                       " of payment %s, so its kinds are not shown", capture.capture_id,
                       refund.amount_yen, refund.payment_id, capture.amount_yen, payment_id)
        return {}
    return dict(refund.kinds)


def refund_for_receipt(
    payment: protocol.Payment, capture: Capture, kinds: Mapping[ValueKind, int] | None = None
) -> protocol.Refund:
    """Describe a recorded refund for its receipt; the refund number is the capture id.

    ``kinds`` are the value kinds the server returned, empty while the server has not applied
    the refund.
    """
    refunded_yen = payment.refunded_yen + capture.amount_yen
    return protocol.Refund(
        refund_id=capture.capture_id,
        payment_id=payment.payment_id,
        amount_yen=capture.amount_yen,
        created_at=capture.captured_at.isoformat(timespec="seconds"),
        payment=payment.model_copy(update={"refunded_yen": refunded_yen}),
        kinds=dict(kinds or {}),
    )
