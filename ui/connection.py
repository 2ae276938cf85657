"""The terminal's store-and-forward parts as the screens see them.

``OfflineParts`` gathers the terminal database, the server clock, the offline code acceptor and
the sync worker. The worker reports its status on its own thread. ``SyncStatusBridge`` carries
each report to the GUI thread with a queued signal, so screens read statuses only there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal, Slot

from terminal.clock import ServerClock
from terminal.offline import OfflineAcceptor
from terminal.store import Store
from terminal.sync import OutboxStatus, SyncWorker

log = logging.getLogger(__name__)


class SyncStatusBridge(QObject):
    """Receives ``OutboxStatus`` reports on any thread and re-emits them on the GUI thread."""

    changed = Signal(object)  # OutboxStatus, emitted on the thread that owns the bridge
    _delivered = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.status = OutboxStatus()
        # A signal emitted on the worker thread reaches this slot through the event queue of
        # the bridge's thread, because the bridge lives on the GUI thread.
        self._delivered.connect(self._on_delivered)

    def deliver(self, status: OutboxStatus) -> None:
        """Pass one status report on; safe to call from the sync worker thread."""
        self._delivered.emit(status)

    @Slot(object)
    def _on_delivered(self, status: OutboxStatus) -> None:
        self.status = status
        self.changed.emit(status)


@dataclass
class OfflineParts:
    """The terminal database and what reads and writes it beside the sale."""

    store: Store
    clock: ServerClock
    acceptor: OfflineAcceptor
    status: SyncStatusBridge
    worker: SyncWorker | None = None
    _stopped: bool = field(default=False, repr=False)

    def is_offline(self) -> bool:
        """True once the worker found the server unreachable, until it reaches it again."""
        return self.worker is not None and self.worker.offline

    def wake(self) -> None:
        """Ask the sync worker to probe or send now, for example after a new refund."""
        if self.worker is not None:
            self.worker.wake()

    def retry_now(self) -> None:
        """Skip the remaining backoff and probe now, when the network is known to be back."""
        if self.worker is not None:
            self.worker.engine.retry_at = None
            self.worker.wake()

    def stop(self) -> None:
        """Stop the sync worker and close the database; repeated calls do nothing."""
        if self._stopped:
            return
        self._stopped = True
        if self.worker is not None:
            self.worker.stop()
        self.store.close()
        log.info("store-and-forward stopped")
