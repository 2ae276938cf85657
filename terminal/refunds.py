"""Refunds recorded on the terminal and sent to the server through the outbox.

A refund is committed as a capture of kind ``refund`` with its outbox entry before the refund
receipt prints, so a refund given at the counter always reaches the server. It is sent at once
when the server is reachable, and after the outage otherwise. The entry names the payment by the server's payment
id, or by the capture id of an offline sale that has not been sent yet; the server resolves
the second form to the payment the offline sale became.

While the terminal is online, ``refund_at_counter`` also sends a recorded refund straight to
the refund endpoint, because only the server's response contains the value kinds that went
back to the wallet, which the screen and receipt show. Both requests carry the capture id as
the idempotency key, so the server applies the refund once. The outbox entry is held from the
sync worker until that response arrives. When the server declines the refund (the shop's
balance is too low, the payment is refunded already), the entry is withdrawn with the server's
reason, so the counter shows the decline at once and the refund is never sent. A network
failure, a server error or a refusal of the terminal itself leaves the refund standing, and
the outbox sends it.

While refunds wait in the outbox, the server's ``refunded_yen`` of a payment does not count
them yet, so ``refundable_yen`` subtracts them; the server still checks the same limit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from terminal import protocol
from terminal.api_client import DEFAULT_TIMEOUT_S, ApiError, Declined
from terminal.protocol import ValueKind
from terminal.sale import TERMINAL_REFUSALS
from terminal.store import Capture, NewCapture, Store

logger = logging.getLogger(__name__)

# How long a refund the server declined waits for the sync worker's send of the same entry,
# when the worker took it first. The worker's client gives up on a batch after
# DEFAULT_TIMEOUT_S, and the margin covers recording that outcome.
SYNC_SEND_WAIT_S = DEFAULT_TIMEOUT_S + 5.0


class RefundApi(Protocol):
    """The refund call of ``terminal.api_client.ApiClient``."""

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund: ...


class RefundOutcome(StrEnum):
    """What became of a refund recorded at the counter, from what the server has reported."""

    # Applied by the server, or waiting in the outbox to be sent.
    GIVEN = "given"
    # Declined by the server, so the terminal never sends it.
    DECLINED = "declined"
    # Declined when sent at once, but an earlier send of the same entry has no known result,
    # so the outbox sends it again and the server's result settles it.
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True)
class CounterRefund:
    """A refund recorded at the counter and what the server made of it so far."""

    capture: Capture
    outcome: RefundOutcome
    # The value kinds the server returned, empty while unknown.
    kinds: dict[ValueKind, int] = field(default_factory=dict)
    # The server's ErrorCode value when the outcome is not GIVEN.
    reason: str | None = None


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


def refund_at_counter(
    store: Store, api: RefundApi | None, payment_id: str, amount_yen: int, capture_id: str,
    captured_at: datetime,
) -> CounterRefund:
    """Record a refund and, with ``api`` (the terminal is online), send it at once.

    The outbox entry is held until the server's response has been handled, so the sync worker,
    woken by the new capture, does not send the same refund meanwhile.
    """
    with store.holding_entry(capture_id):
        capture = record_refund(store, payment_id, amount_yen, capture_id, captured_at)
        if api is None:
            return CounterRefund(capture, RefundOutcome.GIVEN)
        return send_refund_now(api, store, capture)


def send_refund_now(
    api: RefundApi, store: Store, capture: Capture, *, send_wait_s: float = SYNC_SEND_WAIT_S
) -> CounterRefund:
    """Send a recorded refund to the server at once and return what became of it.

    The kinds stay unknown, and the outbox sends the refund, when the refund names an offline
    sale by its capture id (only the sync resolves it) or the request failed. A refund the
    server declined is withdrawn from the outbox, unless the sync worker took the entry
    already. Then this waits up to ``send_wait_s`` for that send and reports its result.
    """
    payment_id = capture.payment_id
    if capture.kind != "refund" or payment_id is None:
        raise ValueError(f"capture {capture.capture_id} is not a refund of a payment")
    # A payment id that is one of this terminal's capture ids names an offline sale.
    if store.capture(payment_id) is not None:
        return CounterRefund(capture, RefundOutcome.GIVEN)

    try:
        refund = api.refund(payment_id, capture.amount_yen, capture.capture_id)
    except Declined as exc:
        if exc.code not in TERMINAL_REFUSALS and exc.status_code < 500:
            return _declined_at_once(api, store, capture, exc, send_wait_s)
        # A refusal of the terminal (its signature, clock or rights) or a server error is no
        # decline of this refund. The outbox keeps the refund and sends it once that is fixed.
        logger.warning("refund %s was not applied at once, the outbox sends it later: %s %s",
                       capture.capture_id, exc.code, exc.message)
        return CounterRefund(capture, RefundOutcome.GIVEN)
    except ApiError as exc:
        logger.warning("refund %s was not applied at once, the outbox sends it later: %s",
                       capture.capture_id, exc.message)
        return CounterRefund(capture, RefundOutcome.GIVEN)
    return CounterRefund(capture, RefundOutcome.GIVEN, _returned_kinds(capture, refund))


def _declined_at_once(
    api: RefundApi, store: Store, capture: Capture, exc: Declined, send_wait_s: float
) -> CounterRefund:
    capture_id = capture.capture_id
    if store.withdraw_entry(capture_id, exc.code, exc.message):
        logger.warning("refund %s declined by the server as %s and withdrawn: %s",
                       capture_id, exc.code, exc.message)
        return CounterRefund(_reread(store, capture), RefundOutcome.DECLINED, reason=exc.code)

    # The sync worker had taken the entry before it was held (a second press with the same
    # key), so the result of that send settles the refund. Both requests carry one key, so a
    # send applied before this request would have made the server return the refund instead.
    if not store.wait_for_send(capture_id, send_wait_s):
        logger.warning("refund %s declined as %s while the outbox was still sending it",
                       capture_id, exc.code)
        return CounterRefund(capture, RefundOutcome.UNCONFIRMED, reason=exc.code)
    settled = _reread(store, capture)
    if settled.state == "declined":
        logger.warning("refund %s declined by the server through the outbox as %s",
                       capture_id, settled.declined_reason)
        return CounterRefund(settled, RefundOutcome.DECLINED, reason=settled.declined_reason)
    if settled.state == "confirmed":
        logger.info("refund %s was applied through the outbox after its own request was"
                    " declined as %s", capture_id, exc.code)
        return CounterRefund(settled, RefundOutcome.GIVEN, _kinds_of_applied(api, settled))
    # A send failed earlier: the server may have applied it, and the outbox sends it again.
    logger.warning("refund %s declined as %s, but an earlier send of it has no known result;"
                   " the outbox sends it again", capture_id, exc.code)
    return CounterRefund(settled, RefundOutcome.UNCONFIRMED, reason=exc.code)


def _kinds_of_applied(api: RefundApi, capture: Capture) -> dict[ValueKind, int]:
    """Read the kinds of a refund the server applied, by repeating its request with its key."""
    assert capture.payment_id is not None
    try:
        refund = api.refund(capture.payment_id, capture.amount_yen, capture.capture_id)
    except ApiError as exc:
        logger.warning("reading the kinds of refund %s failed: %s", capture.capture_id,
                       exc.message)
        return {}
    return _returned_kinds(capture, refund)


def _returned_kinds(capture: Capture, refund: protocol.Refund) -> dict[ValueKind, int]:
    if refund.payment_id != capture.payment_id or refund.amount_yen != capture.amount_yen:
        logger.warning("refund %s: the server returned %d yen of payment %s, expected %d yen"
                       " of payment %s, so its kinds are not shown", capture.capture_id,
                       refund.amount_yen, refund.payment_id, capture.amount_yen,
                       capture.payment_id)
        return {}
    return dict(refund.kinds)


def _reread(store: Store, capture: Capture) -> Capture:
    return store.capture(capture.capture_id) or capture


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
