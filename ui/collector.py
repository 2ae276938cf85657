"""Run Python's cycle collector on the GUI thread only.

Python starts a cycle collection on whichever thread allocates when a threshold is crossed. The
terminal runs Python code on other threads too: the sync worker, the task pool and, in the demo,
the settlement server. A widget that is only held by a reference cycle (a closed window whose
slots refer back to it, for example) can therefore be freed on one of those threads. Qt then
destroys the widget off the GUI thread, and the process crashes later, in the middle of event
processing, far from the cause.

``GuiThreadCollector`` turns the automatic collector off and runs the same collections from a
timer on the GUI thread, using the thresholds Python would have used.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger(__name__)

# Python's default first threshold is 700 net allocations. Checking twice a second lets at most
# that many more pile up between checks, which is small next to a terminal's memory.
CHECK_INTERVAL_MS = 500


def due_generation() -> int | None:
    """Return the oldest generation Python's own rules would collect now, or None."""
    counts = gc.get_count()
    thresholds = gc.get_threshold()
    if thresholds[0] == 0:
        return None  # collection switched off by gc.set_threshold(0)
    due = None
    for generation in range(len(counts)):
        if counts[generation] > thresholds[generation]:
            due = generation
        else:
            break
    return due


class GuiThreadCollector(QObject):
    """A timer that collects reference cycles on the thread that owns it.

    Create it on the GUI thread. ``start`` switches Python's automatic collection off; ``stop``
    collects once more and switches it back on, if it was on before.
    """

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_if_due)
        self._was_enabled = False
        self.collections = 0  # how many collections this collector ran, for tests and logs

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        if self.active:
            return
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start()
        log.debug("cycle collection moved to the GUI thread")

    def stop(self) -> None:
        """Stop the timer, collect everything on this thread and restore Python's setting."""
        if not self.active:
            return
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()

    def collect_if_due(self) -> int | None:
        """Run the collection Python would have run by now; return its generation, if any."""
        generation = due_generation()
        if generation is not None:
            gc.collect(generation)
            self.collections += 1
        return generation


def install_collector(app: QObject) -> GuiThreadCollector:
    """Start the application's collector, creating it on first use; it lives as long as ``app``."""
    collector = app.findChild(GuiThreadCollector)
    if collector is None:
        collector = GuiThreadCollector(app)
    collector.start()
    return collector
