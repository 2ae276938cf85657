"""Wake-ups for long-polls waiting on an intent.

A payment, a cancellation or a rejected pay call recorded on the intent in this process calls
``notify``; the waiting request's event is set on its own event loop. Changes made by other
server processes are found by the waiter's periodic database re-check instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator


class IntentNotifier:
    """Registry of asyncio events keyed by intent id; ``notify`` may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    @contextlib.contextmanager
    def subscribe(self, intent_id: str) -> Iterator[asyncio.Event]:
        """Register an event for ``intent_id``; call from a coroutine on the waiting loop."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(intent_id, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                waiters = self._waiters.get(intent_id)
                if waiters is not None:
                    waiters.discard(entry)
                    if not waiters:
                        del self._waiters[intent_id]

    def notify(self, intent_id: str) -> None:
        with self._lock:
            entries = list(self._waiters.get(intent_id, ()))
        for loop, event in entries:
            with contextlib.suppress(RuntimeError):  # the loop closed after its request ended
                loop.call_soon_threadsafe(event.set)

    def waiter_count(self, intent_id: str) -> int:
        with self._lock:
            return len(self._waiters.get(intent_id, ()))
