"""Reference cycles are collected on the GUI thread, never on a worker thread."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from ui.app import create_application
from ui.collector import GuiThreadCollector, due_generation

# Enough new containers to cross Python's first threshold (700) many times over.
CHURN = 20_000


class Node:
    """A cycle Python can only free with the cycle collector."""

    def __init__(self) -> None:
        self.me = self


def cycle_watched(freed_on: list[str]) -> weakref.ref[Node]:
    node = Node()
    return weakref.ref(node, lambda _ref: freed_on.append(threading.current_thread().name))


def churn_on_worker(survivors: list[object]) -> None:
    def allocate() -> None:
        survivors.extend([] for _ in range(CHURN))

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()


@pytest.fixture
def thresholds() -> Iterator[None]:
    """Python's collector off and its thresholds restored afterwards."""
    saved = gc.get_threshold()
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    gc.set_threshold(*saved)
    if was_enabled:
        gc.enable()


@pytest.fixture
def own_collector_only(qapp: QApplication) -> None:
    """Stop the collector every Qt test runs with, so a test counts only its own collections."""
    for existing in qapp.findChildren(GuiThreadCollector):
        existing.stop()
        existing.setParent(None)


def test_worker_frees_cycle_without_collector() -> None:
    # The hazard itself: with Python's collector on, the allocating thread frees the cycle.
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        freed_on: list[str] = []
        ref = cycle_watched(freed_on)
        churn_on_worker([])
    finally:
        if not was_enabled:
            gc.disable()
    assert ref() is None
    assert freed_on == ["worker"]


def test_cycle_waits_for_the_gui_thread(own_collector_only: None) -> None:
    collector = GuiThreadCollector(interval_ms=60_000)
    collector.start()
    try:
        assert not gc.isenabled()
        freed_on: list[str] = []
        ref = cycle_watched(freed_on)
        survivors: list[object] = []
        churn_on_worker(survivors)
        assert ref() is not None, "a worker's allocations must not start a collection"
        assert collector.collect_if_due() is not None
        assert ref() is None
        assert freed_on == [threading.main_thread().name]
    finally:
        collector.stop()


def test_timer_collects_between_events(own_collector_only: None, qtbot: QtBot) -> None:
    collector = GuiThreadCollector(interval_ms=10)
    collector.start()
    try:
        freed_on: list[str] = []
        ref = cycle_watched(freed_on)
        survivors: list[object] = [[] for _ in range(CHURN)]
        qtbot.waitUntil(lambda: ref() is None, timeout=5000)
        assert collector.collections >= 1
        assert freed_on == [threading.main_thread().name]
        assert len(survivors) == CHURN
    finally:
        collector.stop()


def test_due_generation_matches_thresholds(thresholds: None) -> None:
    gc.set_threshold(50, 2, 2)
    gc.collect()
    assert due_generation() is None
    survivors: list[object] = []
    for _ in range(2):
        survivors.extend([] for _ in range(200))
        assert due_generation() == 0
        gc.collect(0)
    survivors.extend([] for _ in range(200))
    assert due_generation() == 0  # two younger collections since the last of generation 1
    gc.collect(0)
    survivors.extend([] for _ in range(200))
    assert due_generation() == 1  # now three, past the second threshold
    gc.set_threshold(0)
    assert due_generation() is None


def test_stop_collects_and_restores_gc(own_collector_only: None) -> None:
    was_enabled = gc.isenabled()
    gc.enable()
    collector = GuiThreadCollector()
    try:
        collector.start()
        assert collector.active and not gc.isenabled()
        freed_on: list[str] = []
        ref = cycle_watched(freed_on)
        collector.stop()
        assert not collector.active
        assert gc.isenabled()
        assert ref() is None
        collector.stop()  # a second stop changes nothing
        assert gc.isenabled()
    finally:
        if not was_enabled:
            gc.disable()


def test_application_starts_one_collector(own_collector_only: None) -> None:
    app = create_application([], "ja")
    create_application([], "ja")  # a second call reuses the first collector
    collectors = app.findChildren(GuiThreadCollector)
    assert len(collectors) == 1
    assert collectors[0].active
    assert not gc.isenabled()
