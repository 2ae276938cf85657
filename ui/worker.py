"""Run blocking work off the GUI thread and deliver its outcome back on the GUI thread.

Every network call, print job and file read the screens start goes through ``TaskRunner.run``.
The callable runs on a thread pool. Its return value or exception comes back by a queued signal,
so callbacks always run on the thread that owns the runner (the GUI thread).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

# Long polls hold a thread for up to LONG_POLL_MAX_S, so the pool keeps room for a print job,
# a cancel request and a history load beside one long poll even on a 2-core tablet.
MAX_THREADS = 6

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class _Job(QRunnable):
    def __init__(self, runner: TaskRunner, job_id: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._runner = runner
        self._job_id = job_id
        self._fn = fn

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - every failure is handed to the GUI thread
            self._runner.job_failed.emit(self._job_id, exc)
        else:
            self._runner.job_finished.emit(self._job_id, result)


class TaskRunner(QObject):
    """One pool of worker threads, with per-job callbacks run on the GUI thread."""

    job_finished = Signal(int, object)
    job_failed = Signal(int, object)

    def __init__(self, parent: QObject | None = None, max_threads: int = MAX_THREADS) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._callbacks: dict[int, tuple[Done, Failed]] = {}
        self._ids = itertools.count(1)
        self.job_finished.connect(self._on_finished)
        self.job_failed.connect(self._on_failed)

    def run(self, fn: Callable[[], Any], on_done: Done, on_error: Failed) -> None:
        """Start ``fn`` on a worker thread; call ``on_done(result)`` or ``on_error(exc)`` later."""
        job_id = next(self._ids)
        self._callbacks[job_id] = (on_done, on_error)
        self._pool.start(_Job(self, job_id, fn))

    def pending(self) -> int:
        """Count jobs whose callbacks have not run yet."""
        return len(self._callbacks)

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Block until every started job has returned; used at shutdown and in tests."""
        return self._pool.waitForDone(timeout_ms)

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: object) -> None:
        on_done, _ = self._callbacks.pop(job_id)
        on_done(result)

    @Slot(int, object)
    def _on_failed(self, job_id: int, exc: BaseException) -> None:
        on_done, on_error = self._callbacks.pop(job_id)
        if not isinstance(exc, Exception):
            log.error("background job %d stopped by %r", job_id, exc)
        on_error(exc)
