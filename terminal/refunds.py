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
sync worker until that response arrives, or until ``DIRECT_REQUEST_DEADLINE_S`` has passed.
When the server declines the refund (the shop's balance is too low, the payment is refunded
already), the entry is withdrawn with the server's reason, so the counter shows the decline
at once and the refund is never sent. A network failure, no response in time, a server error
or a refusal of the terminal itself leaves the refund standing, and the outbox sends it.

The server applies entries in capture order, so a refund is not sent at once while an earlier
entry that moves value still waits in the outbox (an offline sale, another refund): an
offline sale may fund the refund, and an earlier refund comes first. The outbox sends it after
them, and its kinds stay unknown at the counter.

The server's ``refunded_yen`` of a payment counts a refund once the server has applied it,
through the outbox or at once. A refund applied at once keeps its pending outbox entry with the
server's refund id (``Store.record_applied_refund``), because the server's day report counts a
refund only through its entry. ``waiting_refunds_yen`` sums the refunds the server has not
applied yet, and ``refundable_yen`` subtracts them; the server still checks the same limit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from terminal import protocol
from terminal.api_client import DEFAULT_TIMEOUT_S, ApiError, Declined, Unreachable
from terminal.protocol import ValueKind
from terminal.sale import TERMINAL_REFUSALS
from terminal.store import Capture, NewCapture, Store

logger = logging.getLogger(__name__)

# How long a refund the server declined waits for the sync worker's send of the same entry,
# when the worker took it first. The worker's client gives up on a batch after
# DEFAULT_TIMEOUT_S, and the margin covers recording that outcome.
SYNC_SEND_WAIT_S = DEFAULT_TIMEOUT_S + 5.0
# Maximum time the counter waits for a refund sent at once, retries included. ApiClient's
# timeout bounds each read, not the whole request, so a server that sends its response a byte
# at a time keeps one request open for minutes. Twice that timeout leaves room for one read
# that times out and a retry; after it the outbox sends the refund.
DIRECT_REQUEST_DEADLINE_S = 2 * DEFAULT_TIMEOUT_S


class RefundApi(Protocol):
    """The refund call of ``terminal.api_client.ApiClient``."""

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund: ...


class RefundOutcome(StrEnum):
    """The outcome of a refund recorded at the counter, from what the server has reported."""

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

    @property
    def applied(self) -> bool:
        """True once the server has applied the refund, so its refunded_yen counts it."""
        return self.capture.refund_id is not None or self.capture.state == "confirmed"


def record_refund(
    store: Store, payment_id: str, amount_yen: int, capture_id: str, captured_at: datetime
) -> Capture:
    """Commit a refund of ``amount_yen`` against ``payment_id`` and return its capture.

    ``capture_id`` is the refund's idempotency key: recording the same id again returns the
    capture already stored, so a second press after a lost reply does not refund twice. Raises
    ValueError when the id belongs to another capture, or to a refund of another payment or
    amount.
    """
    if amount_yen < 1:
        raise ValueError(f"a refund must be at least 1 yen, got {amount_yen}")
    existing = store.capture(capture_id)
    if existing is not None:
        if existing.kind != "refund":
            raise ValueError(f"capture {capture_id} exists and is a {existing.kind}, not a refund;"
                             " use a new key for a new refund")
        if existing.payment_id != payment_id or existing.amount_yen != amount_yen:
            raise ValueError(
                f"refund {capture_id} was recorded for {existing.amount_yen} yen of payment"
                f" {existing.payment_id}, not {amount_yen} yen of payment {payment_id};"
                " use a new key for a new refund"
            )
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
    """Sum the waiting refunds the server has not applied yet, per payment id they name.

    A refund applied at once still waits to be sent, but the server's ``refunded_yen`` counts
    it already, so it is left out.
    """
    # NOTE: this reads every waiting capture. The outbox is small between syncs, but a terminal
    # offline for weeks would need a query on the refund's payment id instead.
    return _sum_by_payment(store.captures("waiting"))


def _sum_by_payment(captures: Iterable[Capture]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for capture in captures:
        if capture.kind == "refund" and capture.payment_id is not None and not capture.refund_id:
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
    captured_at: datetime, *, deadline_s: float = DIRECT_REQUEST_DEADLINE_S,
) -> CounterRefund:
    """Record a refund and, with ``api`` (the terminal is online), send it at once.

    The outbox entry is held until the server's response has been handled, or for at most
    ``deadline_s`` of waiting for it, so the sync worker, woken by the new capture, does not
    send the same refund meanwhile.
    """
    with store.holding_entry(capture_id):
        capture = record_refund(store, payment_id, amount_yen, capture_id, captured_at)
        if api is None:
            return CounterRefund(capture, RefundOutcome.GIVEN)
        return send_refund_now(api, store, capture, deadline_s=deadline_s)


def is_definite_decline(exc: Declined) -> bool:
    """Tell whether the server declined the refund itself, so it applied nothing.

    A refusal of the terminal (its signature, clock or rights) or a server error is no decline
    of the refund: the same request may succeed once that is fixed.
    """
    return exc.code not in TERMINAL_REFUSALS and exc.status_code < 500


def send_refund_now(
    api: RefundApi, store: Store, capture: Capture, *, send_wait_s: float = SYNC_SEND_WAIT_S,
    deadline_s: float = DIRECT_REQUEST_DEADLINE_S,
) -> CounterRefund:
    """Send a recorded refund to the server at once and return what became of it.

    A capture that is no longer waiting is not sent, and its recorded outcome is returned.
    The outbox alone sends the refund, and its kinds stay unknown, in three cases. The refund
    names an offline sale by its capture id, which only the sync resolves. An earlier entry that
    moves value still waits in the outbox. The request failed or took longer than
    ``deadline_s``. A refund the server declined is withdrawn from the outbox, unless the sync
    worker took the entry already. Then this waits up to ``send_wait_s`` for that send and
    reports its result.
    """
    payment_id = capture.payment_id
    if capture.kind != "refund" or payment_id is None:
        raise ValueError(f"capture {capture.capture_id} is not a refund of a payment")
    capture = _reread(store, capture)
    if capture.state != "waiting":
        return _recorded_outcome(capture)
    # A payment id that is one of this terminal's capture ids names an offline sale.
    if store.capture(payment_id) is not None:
        return CounterRefund(capture, RefundOutcome.GIVEN)
    earlier = [c.capture_id for c in store.pending_before(capture.capture_id) if _moves_value(c)]
    if earlier:
        logger.info("refund %s waits in the outbox behind %d earlier entries, the first %s",
                    capture.capture_id, len(earlier), earlier[0])
        return CounterRefund(capture, RefundOutcome.GIVEN)

    try:
        refund = _refund_within(api, capture, deadline_s, store)
    except Declined as exc:
        if is_definite_decline(exc):
            return _declined_at_once(api, store, capture, exc, send_wait_s, deadline_s)
        logger.warning("refund %s was not applied at once, the outbox sends it later: %s %s",
                       capture.capture_id, exc.code, exc.message)
        return CounterRefund(capture, RefundOutcome.GIVEN)
    except ApiError as exc:
        logger.warning("refund %s was not applied at once, the outbox sends it later: %s",
                       capture.capture_id, exc.message)
        return CounterRefund(capture, RefundOutcome.GIVEN)
    return _applied_at_once(store, capture, refund)


def _recorded_outcome(capture: Capture) -> CounterRefund:
    logger.info("refund %s is %s already, so it is not sent again", capture.capture_id,
                capture.state)
    if capture.state == "declined":
        return CounterRefund(capture, RefundOutcome.DECLINED, reason=capture.declined_reason)
    return CounterRefund(capture, RefundOutcome.GIVEN)


def _moves_value(capture: Capture) -> bool:
    """Tell whether sending the capture's entry changes balances on the server.

    An online payment's entry confirms a payment the server booked when it approved it, and a
    refund with a refund id was applied at once, so neither moves value when it arrives.
    """
    if capture.kind == "online_payment":
        return False
    return not (capture.kind == "refund" and capture.refund_id)


def _refund_within(
    api: RefundApi, capture: Capture, deadline_s: float, store: Store | None = None
) -> protocol.Refund:
    """Send the refund request of ``capture`` and wait at most ``deadline_s`` for its outcome.

    The request runs on its own daemon thread, because httpx cannot stop a read that keeps
    receiving bytes. After the deadline that thread is left to end alone, and the outbox entry,
    sent with the same idempotency key, settles the refund. A refund the late response reports
    as applied is recorded on the entry in ``store``, so the history does not count it twice.
    Raises Unreachable when the deadline passes.
    """
    payment_id = capture.payment_id
    assert payment_id is not None
    capture_id = capture.capture_id
    outcome: list[protocol.Refund | Exception] = []
    abandoned: list[bool] = []
    lock = threading.Lock()
    done = threading.Event()

    def send() -> None:
        result: protocol.Refund | Exception
        try:
            result = api.refund(payment_id, capture.amount_yen, capture_id)
        except Exception as exc:
            result = exc
        with lock:
            outcome.append(result)
            late = bool(abandoned)
        done.set()
        if late:
            _record_late(store, capture, result)

    threading.Thread(target=send, name=f"refund-{capture_id}", daemon=True).start()
    done.wait(deadline_s)
    with lock:
        if not outcome:
            abandoned.append(True)
            raise Unreachable(f"POST refund {capture_id} of payment {payment_id} had no complete"
                              f" response after {deadline_s:g} s")
        result = outcome[0]
    if isinstance(result, Exception):
        raise result
    return result


def _record_late(
    store: Store | None, capture: Capture, result: protocol.Refund | Exception
) -> None:
    """Log the late outcome of a direct refund request and record an applied refund."""
    if not isinstance(result, protocol.Refund):
        logger.info("refund %s: the request sent at once ended after the counter stopped"
                    " waiting, with %s: %s; the outbox entry settles the refund",
                    capture.capture_id, type(result).__name__, result)
        return
    logger.info("refund %s: the request sent at once was applied as refund %s after the"
                " counter stopped waiting", capture.capture_id, result.refund_id)
    if store is None or not _matches(capture, result):
        return
    try:
        store.record_applied_refund(capture.capture_id, result.refund_id)
    except Exception:  # noqa: BLE001 - a closed store: the outbox entry settles the refund
        logger.exception("recording the late refund %s of entry %s failed", result.refund_id,
                         capture.capture_id)


def _applied_at_once(store: Store, capture: Capture, refund: protocol.Refund) -> CounterRefund:
    if not _matches(capture, refund):
        return CounterRefund(capture, RefundOutcome.GIVEN)
    store.record_applied_refund(capture.capture_id, refund.refund_id)
    return CounterRefund(_reread(store, capture), RefundOutcome.GIVEN, dict(refund.kinds))


def _declined_at_once(
    api: RefundApi, store: Store, capture: Capture, exc: Declined, send_wait_s: float,
    deadline_s: float,
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
        return CounterRefund(settled, RefundOutcome.GIVEN,
                             _kinds_of_applied(api, settled, deadline_s))
    # A send failed earlier: the server may have applied it, and the outbox sends it again.
    logger.warning("refund %s declined as %s, but an earlier send of it has no known result;"
                   " the outbox sends it again", capture_id, exc.code)
    return CounterRefund(settled, RefundOutcome.UNCONFIRMED, reason=exc.code)


def _kinds_of_applied(api: RefundApi, capture: Capture, deadline_s: float) -> dict[ValueKind, int]:
    """Read the kinds of a refund the server applied, by repeating its request with its key."""
    try:
        refund = _refund_within(api, capture, deadline_s)
    except ApiError as exc:
        logger.warning("reading the kinds of refund %s failed: %s", capture.capture_id,
                       exc.message)
        return {}
    return dict(refund.kinds) if _matches(capture, refund) else {}


def _matches(capture: Capture, refund: protocol.Refund) -> bool:
    if refund.payment_id == capture.payment_id and refund.amount_yen == capture.amount_yen:
        return True
    logger.warning("refund %s: the server returned %d yen of payment %s, expected %d yen"
                   " of payment %s, so its kinds are not shown", capture.capture_id,
                   refund.amount_yen, refund.payment_id, capture.amount_yen, capture.payment_id)
    return False


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
