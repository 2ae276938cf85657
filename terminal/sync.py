"""Store and forward: sends the outbox to the server and keeps the terminal's view of it.

``SyncEngine`` is the logic, with the clock, the transport (an ``ApiClient`` or a fake) and the
random source injected, so tests drive it step by step. ``SyncWorker`` runs an engine on one
background thread (no Qt) and reports an ``OutboxStatus`` through a callback after every step.

Rules the engine keeps:

- Pending entries go out in seq order, ``MAX_SYNC_BATCH`` at a time, and a later batch is sent
  only after the server responded to the earlier one, so the server applies captures in capture order.
- An entry held by a request the terminal sends itself (a refund sent at once, see
  ``Store.holding_entry``) waits, together with the entries after it, until the hold ends.
- An entry is marked sent only when the server returns ``applied`` or ``duplicate`` for it.
  A 5xx, a dropped connection or an unreadable response leaves the whole batch pending, and the
  server returns ``duplicate`` on the resend for entries it had already applied.
- A ``declined`` entry is kept with its reason and never blocks the entries after it. When the
  server rejects a whole batch as invalid, entries are sent one by one, so only the entry at
  fault is declined.
- After a failure the next attempt waits a random time between 0 and
  ``min(cap, base * 2 ** (failures - 1))`` ("full jitter"), so terminals that lost the network
  together do not all retry at the same moment when it returns.
- Every response's ``server_time`` updates the ``ServerClock`` offset, which the request signer
  uses, so a terminal with a wrong clock keeps authenticating.
- Open redemptions that no live sale holds (an online payment whose outcome the terminal never
  learned, see ``terminal.store``) are resolved before the outbox is drained: a CPM redeem is
  sent again with the same code and key, and an MPM intent is cancelled, or read back when it
  was paid. An approval found this way is recorded as a capture and shown to the clerk.
"""

from __future__ import annotations

import logging
import random as random_module
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from terminal.api_client import ApiError, Declined, Health
from terminal.clock import ServerClock
from terminal.coupons import CouponUses
from terminal.protocol import (
    MAX_SYNC_BATCH,
    CouponUse,
    ErrorCode,
    Intent,
    IssuerKeyList,
    Payment,
    SyncBatch,
    SyncEntry,
    SyncResponse,
    SyncResult,
    TaxLine,
)
from terminal.keys import utc_timestamp
from terminal.sale import TERMINAL_REFUSALS
from terminal.stamps import StampBook
from terminal.store import OutboxEntry, Redemption, Store

logger = logging.getLogger(__name__)

# Backoff after a failed send: base and cap of the full-jitter delay.
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0
# How often an idle worker checks that the server is reachable.
PROBE_INTERVAL_S = 30.0
# How often the cached issuer keys are refreshed while online. Keys rotate rarely (an operator
# command), and old keys stay valid until their certificates expire.
ISSUER_KEYS_REFRESH_S = 6 * 3600.0
# Batch-level rejections caused by one bad entry; the batch is then split to find it.
SPLIT_ON = frozenset({ErrorCode.INVALID_REQUEST, ErrorCode.PAYLOAD_TOO_LARGE})


class Outbox(Protocol):
    """A queue of entries waiting to be sent: sale captures (``Store``) or stamps (``StampBook``)."""

    def pending_entries(self, limit: int) -> list[OutboxEntry]: ...

    def apply_results(self, results: Sequence[SyncResult]) -> None: ...

    def record_failure(
        self, entry_ids: Sequence[str], error: str, next_attempt_at: datetime
    ) -> None: ...

    def decline_locally(self, entry_id: str, reason: ErrorCode, message: str) -> None: ...


class SyncApi(Protocol):
    """The calls of ``terminal.api_client.ApiClient`` that the sync engine makes."""

    def health(self) -> Health: ...

    def issuer_keys(self) -> IssuerKeyList: ...

    def sync(self, batch: SyncBatch) -> SyncResponse: ...

    def redeem_cpm(
        self,
        code: str,
        amount_yen: int,
        tax_lines: Sequence[TaxLine],
        idempotency_key: str,
        coupon: CouponUse | None = None,
    ) -> Payment: ...

    def create_intent(
        self,
        amount_yen: int,
        tax_lines: Sequence[TaxLine],
        idempotency_key: str,
        coupon: CouponUse | None = None,
    ) -> Intent: ...

    def wait_intent(
        self, intent_id: str, wait_s: float, seen_rejection_at: str = ...
    ) -> Intent: ...

    def cancel_intent(self, intent_id: str) -> Intent: ...


@dataclass(frozen=True)
class Backoff:
    base_s: float = BACKOFF_BASE_S
    cap_s: float = BACKOFF_CAP_S

    def delay_s(self, failures: int, random: Callable[[], float]) -> float:
        """Return the wait after ``failures`` consecutive failures (1 or more)."""
        ceiling_s: float = min(self.cap_s, self.base_s * 2.0 ** min(failures - 1, 32))
        return random() * ceiling_s


@dataclass(frozen=True)
class OutboxStatus:
    """Connection and outbox state for the counter screen."""

    online: bool | None = None  # None until the first probe or send
    waiting_count: int = 0
    waiting_total_yen: int = 0
    backlog_sent: int = 0  # entries acknowledged or declined in the current drain
    backlog_total: int = 0  # entries waiting when the current drain started; 0 when idle
    declined_count: int = 0
    clock_offset_s: float = 0.0
    clock_warning: bool = False
    last_error: str | None = None
    retry_at: datetime | None = None  # device time of the next attempt after a failure
    unresolved_count: int = 0  # online payments of ended sales whose outcome is being checked
    recovered: tuple[Redemption, ...] = ()  # approvals found after their sale, not yet confirmed
    waiting_stamps: int = 0  # rally stamps recorded at this booth and not yet acknowledged


@dataclass(frozen=True)
class DrainResult:
    acked: int
    declined: int
    failed: bool


class SyncEngine:
    """Sends the outbox and tracks backoff, connectivity and the clock offset."""

    def __init__(
        self,
        store: Store,
        api: SyncApi,
        clock: ServerClock,
        *,
        random: Callable[[], float] = random_module.random,
        backoff: Backoff = Backoff(),
        batch_size: int = MAX_SYNC_BATCH,
        stamps: StampBook | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_SYNC_BATCH:
            raise ValueError(f"batch_size must be from 1 to {MAX_SYNC_BATCH}, got {batch_size}")
        self.store = store
        # Rally stamps wait in their own table and are sent after the sale captures.
        self.stamps = stamps if stamps is not None else StampBook(store)
        self.clock = clock
        self.coupons = CouponUses(store)
        self._api = api
        self._random = random
        self._backoff = backoff
        self._batch_size = batch_size
        self.failures = 0
        self.retry_at: datetime | None = None
        self.online: bool | None = None
        self.last_error: str | None = None
        self._keys_fetched_at: datetime | None = None
        stored_offset_s = store.clock_offset_s()
        if stored_offset_s is not None and clock.offset_s == 0.0:
            clock.set_offset(stored_offset_s)

    # --- state ---------------------------------------------------------------------------

    def due(self) -> bool:
        """Tell whether the backoff after the last failure is over."""
        return self.retry_at is None or self.clock.device_now() >= self.retry_at

    def status(self, backlog_sent: int = 0, backlog_total: int = 0) -> OutboxStatus:
        waiting = self.store.waiting()
        return OutboxStatus(
            online=self.online,
            waiting_count=waiting.count,
            waiting_total_yen=waiting.total_yen,
            backlog_sent=backlog_sent,
            backlog_total=backlog_total,
            # An applied payment whose coupon was not honoured is listed with the declined.
            declined_count=self.store.declined_count() + len(self.coupons.declines()),
            clock_offset_s=self.clock.offset_s,
            clock_warning=self.clock.warning,
            last_error=self.last_error,
            retry_at=self.retry_at,
            unresolved_count=len(self.store.open_redemptions(include_held=False)),
            recovered=tuple(self.store.unacknowledged_recoveries()),
            waiting_stamps=self.stamps.waiting_count(),
        )

    def has_waiting(self) -> bool:
        """Tell whether sale captures or stamps wait to be sent."""
        return self.store.waiting().count > 0 or self.stamps.waiting_count() > 0

    # --- probing -------------------------------------------------------------------------

    def probe(self) -> bool:
        """Check the server with GET /v1/health and measure the clock; return True if it responded."""
        sent_at = self.clock.device_now()
        try:
            health = self._api.health()
        except ApiError as exc:
            self._failed(f"health check failed: {exc}")
            return False
        self._observe_clock(health.server_time, sent_at)
        self._succeeded()
        self.refresh_issuer_keys_if_stale()
        return True

    def refresh_issuer_keys_if_stale(self) -> None:
        now = self.clock.device_now()
        fetched_at = self._keys_fetched_at
        if fetched_at is not None and now - fetched_at < timedelta(seconds=ISSUER_KEYS_REFRESH_S):
            return
        try:
            key_list = self._api.issuer_keys()
        except ApiError as exc:
            # Offline payments keep using the cached keys; the next probe tries again.
            logger.warning("fetching issuer keys failed: %s", exc)
            return
        self.store.replace_issuer_keys(key_list.keys)
        self._keys_fetched_at = now

    # --- redemptions ---------------------------------------------------------------------

    def has_unresolved(self) -> bool:
        return bool(self.store.open_redemptions(include_held=False))

    def resolve_redemptions(self) -> bool:
        """Find the outcome of every open redemption no sale holds; False when a request failed."""
        for redemption in self.store.open_redemptions(include_held=False):
            if not self._resolve(redemption):
                return False
        return True

    def _resolve(self, redemption: Redemption) -> bool:
        try:
            if redemption.method == "cpm":
                self._resolve_cpm(redemption)
            else:
                self._resolve_mpm(redemption)
        except Declined as exc:
            if exc.code in TERMINAL_REFUSALS:
                self._failed(f"checking redemption {redemption.key} was refused: {exc.code}")
                return False
            self.store.close_redemption(redemption.key, str(exc.code))
        except ApiError as exc:
            self._failed(f"checking redemption {redemption.key} failed: {exc}")
            return False
        self._succeeded()
        return True

    def _resolve_cpm(self, redemption: Redemption) -> None:
        if redemption.code is None:
            # Only a closed redemption loses its code, so this row was edited by hand.
            logger.error("open CPM redemption %s has no code; it cannot be checked", redemption.key)
            return
        payment = self._api.redeem_cpm(
            redemption.code, redemption.amount_yen, redemption.tax_lines, redemption.key,
            **self._coupon_of(redemption.key),
        )
        self._record_recovered(redemption, payment)

    def _resolve_mpm(self, redemption: Redemption) -> None:
        intent_id = redemption.intent_id
        if intent_id is None:
            # The first request's response was lost; the same key returns the same intent.
            created = self._api.create_intent(
                redemption.amount_yen, redemption.tax_lines, redemption.key,
                **self._coupon_of(redemption.key),
            )
            intent_id = created.intent_id
        try:
            intent = self._api.cancel_intent(intent_id)
        except Declined as exc:
            if exc.code is not ErrorCode.INTENT_ALREADY_PAID:
                raise
            intent = self._api.wait_intent(intent_id, 0)
        if intent.status == "approved" and intent.payment is not None:
            self._record_recovered(redemption, intent.payment)
        elif intent.status in ("cancelled", "expired"):
            self.store.close_redemption(redemption.key, intent.status)

    def _coupon_of(self, key: str) -> dict[str, CouponUse]:
        # A redemption is resent with the coupon its first request carried, and one without a
        # coupon exactly as before, so the server receives the same request under the same key.
        coupon = self.coupons.use_for(key)
        return {} if coupon is None else {"coupon": coupon}

    def _record_recovered(self, redemption: Redemption, payment: Payment) -> None:
        logger.warning(
            "payment %s of %d yen was approved after its sale ended (redemption %s)",
            payment.payment_id, payment.amount_yen, redemption.key,
        )
        self.store.complete_redemption(
            redemption.key, payment, self.clock.now(), recovered=True
        )

    # --- sending -------------------------------------------------------------------------

    def drain(self, on_progress: Callable[[int, int], None] | None = None) -> DrainResult:
        """Send pending entries batch by batch until none is left or a send fails.

        ``on_progress(sent, total)`` is called after each batch the server responded to, where
        ``total`` is the number of entries waiting when the drain started.
        """
        total = self.store.waiting().count + self.stamps.waiting_count()
        acked = declined = 0
        outboxes: tuple[Outbox, ...] = (self.store, self.stamps)
        for outbox in outboxes:
            while self.due():
                pending = outbox.pending_entries(self._batch_size)
                if not pending:
                    break
                outcome = self._send(pending, outbox)
                if outcome is None:
                    return DrainResult(acked, declined, failed=True)
                acked += outcome[0]
                declined += outcome[1]
                if on_progress is not None:
                    on_progress(acked + declined, total)
        return DrainResult(acked, declined, failed=False)

    def _send(self, pending: list[OutboxEntry], outbox: Outbox) -> tuple[int, int] | None:
        """Send one batch; return (acknowledged, declined) or None when the send failed."""
        entries = [self._with_coupon(item.entry) for item in pending]
        sent_at = self.clock.device_now()
        batch = SyncBatch(entries=entries, device_time=utc_timestamp(sent_at))
        try:
            response = self._api.sync(batch)
        except Declined as exc:
            return self._batch_declined(pending, exc, outbox)
        except ApiError as exc:
            self._failed(f"sync of {len(entries)} entries failed: {exc}", pending, outbox)
            return None

        self._observe_clock(response.server_time, sent_at)
        self._succeeded()
        counts = self._apply(pending, response, outbox)
        return None if self.retry_at is not None else counts

    def _with_coupon(self, entry: SyncEntry) -> SyncEntry:
        coupon = self.coupons.entry_use(entry)
        return entry if coupon is None else entry.model_copy(update={"coupon": coupon})

    def _apply(
        self, pending: list[OutboxEntry], response: SyncResponse, outbox: Outbox
    ) -> tuple[int, int]:
        sent_ids = {item.entry.entry_id for item in pending}
        results = [result for result in response.results if result.entry_id in sent_ids]
        if len(results) != len(response.results):
            logger.warning("sync response contains results for entries that were not sent")
        outbox.apply_results(results)
        self.coupons.record_declines(results)

        declined = [result for result in results if result.status == "declined"]
        for result in declined:
            logger.warning(
                "server declined entry %s: %s %s", result.entry_id, result.reason, result.message
            )
        answered_ids = {result.entry_id for result in results}
        unanswered = [item for item in pending if item.entry.entry_id not in answered_ids]
        if unanswered:
            # The entries stay pending and go out again after the backoff, so a server that
            # keeps leaving them out does not make the drain loop.
            self._failed(f"sync response has no result for {len(unanswered)} entries", unanswered,
                         outbox)
        logger.info(
            "sync batch of %d: %d acknowledged, %d declined",
            len(pending),
            len(results) - len(declined),
            len(declined),
        )
        return len(results) - len(declined), len(declined)

    def _batch_declined(
        self, pending: list[OutboxEntry], exc: Declined, outbox: Outbox
    ) -> tuple[int, int] | None:
        if exc.code not in SPLIT_ON:
            # Unauthenticated, forbidden and the like concern the terminal, not an entry.
            self._failed(f"server rejected the sync batch: {exc.code}: {exc}", pending, outbox)
            return None
        self._succeeded()
        if len(pending) > 1:
            logger.warning("server rejected a batch of %d as %s; sending one by one", len(pending), exc.code)
            return self._send(pending[:1], outbox)
        entry_id = pending[0].entry.entry_id
        logger.warning("server rejected entry %s alone: %s: %s", entry_id, exc.code, exc)
        outbox.decline_locally(entry_id, exc.code, str(exc))
        return 0, 1

    # --- bookkeeping ---------------------------------------------------------------------

    def _observe_clock(self, server_time: str, sent_at: datetime) -> None:
        offset_s = self.clock.observe(server_time, sent_at, self.clock.device_now())
        self.store.save_clock_offset(offset_s, server_time)

    def _succeeded(self) -> None:
        if self.online is not True:
            logger.info("server is reachable")
        self.online = True
        self.failures = 0
        self.retry_at = None
        self.last_error = None

    def _failed(
        self, error: str, pending: list[OutboxEntry] | None = None, outbox: Outbox | None = None
    ) -> None:
        self.failures += 1
        delay_s = self._backoff.delay_s(self.failures, self._random)
        self.retry_at = self.clock.device_now() + timedelta(seconds=delay_s)
        self.online = False
        self.last_error = error
        logger.warning("%s; attempt %d, next in %.1f s", error, self.failures, delay_s)
        if pending:
            (outbox or self.store).record_failure(
                [item.entry.entry_id for item in pending], error, self.retry_at
            )


class SyncWorker:
    """Runs a ``SyncEngine`` on a background thread.

    The thread wakes when a capture is recorded, when the backoff ends and every
    ``probe_interval_s``. It probes /v1/health while the server is not known to be reachable,
    and drains the outbox when entries are pending. ``on_status`` is called on the
    worker thread after every step; a Qt caller forwards it to the GUI thread with a signal.
    """

    def __init__(
        self,
        engine: SyncEngine,
        on_status: Callable[[OutboxStatus], None] = lambda status: None,
        probe_interval_s: float = PROBE_INTERVAL_S,
    ) -> None:
        self.engine = engine
        self._on_status = on_status
        self._probe_interval_s = probe_interval_s
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._status_lock = threading.Lock()
        self._status = OutboxStatus()
        engine.store.add_capture_listener(self.wake)

    @property
    def status(self) -> OutboxStatus:
        with self._status_lock:
            return self._status

    @property
    def offline(self) -> bool:
        """True once a probe or send has failed and none has succeeded since."""
        return self.status.online is False

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the sync worker is already running")
        self._thread = threading.Thread(target=self._run, name="sync-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop after the current step; a batch in flight finishes or times out first."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def wake(self) -> None:
        """Ask the worker to run a step now, for example after a new capture."""
        self._wake.set()

    def run_once(self) -> OutboxStatus:
        """Run one step on the calling thread: resolve and drain if anything waits, else probe.

        Until the server has responded since the last failure, the step probes first, so the
        clock offset is measured before a signed batch goes out.
        """
        engine = self.engine
        if not engine.due():
            return self._publish(engine.status())

        if not engine.has_waiting() and not engine.has_unresolved():
            engine.probe()
        elif (engine.online is True or engine.probe()) and engine.resolve_redemptions():
            engine.drain(on_progress=self._report_progress)
        return self._publish(engine.status())

    def _run(self) -> None:
        logger.info("sync worker started")
        while not self._stopping.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the worker must outlive any one failed step
                logger.exception("sync step failed")
            self._wake.wait(self._wait_s())
            self._wake.clear()
        logger.info("sync worker stopped")

    def _wait_s(self) -> float:
        retry_at = self.engine.retry_at
        if retry_at is None:
            return self._probe_interval_s
        until_retry_s = (retry_at - self.engine.clock.device_now()).total_seconds()
        return max(0.0, min(self._probe_interval_s, until_retry_s))

    def _report_progress(self, answered: int, total: int) -> None:
        self._publish(self.engine.status(backlog_sent=answered, backlog_total=total))

    def _publish(self, status: OutboxStatus) -> OutboxStatus:
        with self._status_lock:
            self._status = status
        self._on_status(status)
        return status

