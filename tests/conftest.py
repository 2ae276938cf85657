"""Settings shared by every test directory.

Tests that use Qt run with Python's automatic cycle collector off, and collect on the main
thread once they are over, as the terminal app does (see ui/collector.py). Otherwise a collection
started by a server or worker thread can free a closed window of an earlier test on that thread,
and Qt crashes the whole run later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


_frozen = False


def _uses_qt(item: pytest.Item) -> bool:
    return "qapp" in getattr(item, "fixturenames", ())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    global _frozen
    if not _uses_qt(item):
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        from PySide6.QtWidgets import QApplication

        from ui.collector import GuiThreadCollector

        app = QApplication.instance()
        if app is not None:
            for collector in app.findChildren(GuiThreadCollector):
                collector.stop()
        gc.collect()
        if not _frozen:
            # What survives the first Qt test is mostly modules, classes and Qt's type objects.
            # Leaving them out of later collections makes each collection after a test cheaper.
            gc.freeze()
            _frozen = True
        if was_enabled:
            gc.enable()


@pytest.fixture(autouse=True)
def _collect_on_gui_thread(request: pytest.FixtureRequest) -> None:
    """Let long Qt tests collect cycles between events, on the GUI thread."""
    if "qapp" not in request.fixturenames:
        return
    from ui.collector import install_collector

    install_collector(request.getfixturevalue("qapp"))
