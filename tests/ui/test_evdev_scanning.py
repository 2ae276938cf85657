"""The evdev scanner in the Qt application, fed real ``struct input_event`` bytes through a FIFO."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Literal

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

import ui.evdev_scanning
from drivers.scanner.evdev_reader import EVIOCGRAB, EventDevice, LinuxEventDevice
from terminal import messages
from terminal.config import ScannerConfig, TerminalConfig
from terminal.paycode import new_payment_code
from terminal.sale import SaleState
from tests.drivers.scanner.evdev_records import typed
from tests.ui.conftest import FakeApi
from ui.app import Terminal
from ui.evdev_scanning import EvdevScanning

WAIT_MS = 5000


class GrabRecorder:
    """Stands in for ioctl(2) on a FIFO: records each request, and fails the grab on demand."""

    def __init__(self, grab_errno: int | None = None) -> None:
        self.grab_errno = grab_errno
        self.requests: list[tuple[int, int | bytes]] = []

    def __call__(self, fd: int, request: int, argument: int | bytes) -> object:
        self.requests.append((request, argument))
        if request == EVIOCGRAB and argument == 1 and self.grab_errno is not None:
            raise OSError(self.grab_errno, os.strerror(self.grab_errno))
        return 0

    def opener(self) -> Callable[[str], EventDevice]:
        return lambda path: LinuxEventDevice(path, ioctl=self)


@pytest.fixture
def device_path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "usb-SCANNER-event-kbd"
    os.mkfifo(path)
    yield path


@pytest.fixture
def writer(device_path: Path) -> Iterator[int]:
    # Read-write, so the reader never sees the end of the stream while this end is open.
    fd = os.open(device_path, os.O_RDWR)
    yield fd
    try:
        os.close(fd)
    except OSError:
        pass


def evdev_config(path: Path, keymap: Literal["us", "jis"] = "us") -> ScannerConfig:
    return ScannerConfig(kind="evdev", device=str(path), keymap=keymap, repeat_window_ms=0)


@pytest.fixture
def adapters() -> Iterator[list[EvdevScanning]]:
    started: list[EvdevScanning] = []
    yield started
    for adapter in started:
        adapter.stop()


def test_adapter_emits_scan_on_gui_thread(
    qtbot: QtBot, device_path: Path, writer: int, adapters: list[EvdevScanning]
) -> None:
    grab = GrabRecorder()
    adapter = EvdevScanning(evdev_config(device_path), open_device=grab.opener())
    adapters.append(adapter)
    threads: list[bool] = []
    adapter.scanned.connect(
        lambda _text: threads.append(threading.current_thread() is threading.main_thread())
    )
    code = new_payment_code()

    with qtbot.waitSignal(adapter.connection_changed, timeout=WAIT_MS) as connected:
        adapter.start()
    with qtbot.waitSignal(adapter.scanned, timeout=WAIT_MS) as scanned:
        os.write(writer, typed(code + "\r", "us"))

    assert connected.args == [messages.SCANNER_CONNECTED]
    assert scanned.args == [code]
    assert threads == [True]
    assert (EVIOCGRAB, 1) in grab.requests


def test_adapter_jis_keymap_from_config(
    qtbot: QtBot, device_path: Path, writer: int, adapters: list[EvdevScanning]
) -> None:
    adapter = EvdevScanning(evdev_config(device_path, "jis"), open_device=GrabRecorder().opener())
    adapters.append(adapter)
    adapter.start()

    with qtbot.waitSignal(adapter.scanned, timeout=WAIT_MS) as scanned:
        os.write(writer, typed("user@bank:01\r", "jis"))

    assert scanned.args == ["user@bank:01"]


def test_adapter_reports_unplug_and_return(
    qtbot: QtBot, device_path: Path, writer: int, adapters: list[EvdevScanning]
) -> None:
    adapter = EvdevScanning(
        evdev_config(device_path), open_device=GrabRecorder().opener(), reopen_interval_s=0.05
    )
    adapters.append(adapter)
    keys: list[str] = []
    adapter.connection_changed.connect(keys.append)
    adapter.start()
    qtbot.waitUntil(lambda: keys == [messages.SCANNER_CONNECTED], timeout=WAIT_MS)

    device_path.unlink()
    os.close(writer)
    qtbot.waitUntil(lambda: messages.SCANNER_DISCONNECTED in keys, timeout=WAIT_MS)
    os.mkfifo(device_path)
    again = os.open(device_path, os.O_RDWR)
    try:
        qtbot.waitUntil(lambda: keys[-1] == messages.SCANNER_CONNECTED, timeout=WAIT_MS)
        code = new_payment_code()
        with qtbot.waitSignal(adapter.scanned, timeout=WAIT_MS) as scanned:
            os.write(again, typed(code + "\r", "us", start_ms=60_000.0))
    finally:
        os.close(again)

    assert scanned.args == [code]
    assert keys[0] == messages.SCANNER_CONNECTED
    assert messages.SCANNER_DISCONNECTED in keys


def test_adapter_reports_busy_device(
    qtbot: QtBot, device_path: Path, writer: int, adapters: list[EvdevScanning]
) -> None:
    adapter = EvdevScanning(
        evdev_config(device_path), open_device=GrabRecorder(errno.EBUSY).opener()
    )
    adapters.append(adapter)

    with qtbot.waitSignal(adapter.device_failed, timeout=WAIT_MS) as failed:
        adapter.start()

    assert failed.args == [messages.SCANNER_DEVICE_BUSY]
    assert adapter.status is not None
    assert str(device_path) in str(adapter.status.error)


@pytest.fixture
def terminal_config(terminal_config: TerminalConfig, device_path: Path) -> TerminalConfig:
    """The screens' test configuration with an evdev scanner on this test's FIFO."""
    return replace(terminal_config, scanner=evdev_config(device_path))


@pytest.fixture
def make_evdev_terminal(make_terminal: Callable[[], Terminal]) -> Iterator[Callable[[], Terminal]]:
    """Build a terminal whose [scanner] kind is evdev; its reader is stopped afterwards."""
    built: list[Terminal] = []

    def build() -> Terminal:
        terminal = make_terminal()
        built.append(terminal)
        return terminal

    yield build
    for terminal in built:
        if terminal.evdev_scanner is not None:
            terminal.evdev_scanner.stop()


def test_app_with_evdev_kind_pays_scanned_code(
    qtbot: QtBot,
    make_evdev_terminal: Callable[[], Terminal],
    writer: int,
    fake_api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grab = GrabRecorder()
    monkeypatch.setattr(ui.evdev_scanning, "LinuxEventDevice", grab.opener())
    terminal = make_evdev_terminal()
    controller = terminal.window.controller
    screen = controller.screens.sale
    for digit in "750":
        qtbot.mouseClick(screen.keypad.buttons[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.standard_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.code_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: (EVIOCGRAB, 1) in grab.requests, timeout=WAIT_MS)
    code = new_payment_code()

    os.write(writer, typed(code + "\r", "us"))
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=WAIT_MS)

    assert terminal.evdev_scanner is not None
    assert controller.sale.state is SaleState.APPROVED
    assert fake_api.used_codes == {code}


def test_app_with_evdev_damaged_scan_not_looked_up(
    qtbot: QtBot,
    make_evdev_terminal: Callable[[], Terminal],
    writer: int,
    fake_api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ui.evdev_scanning, "LinuxEventDevice", GrabRecorder().opener())
    terminal = make_evdev_terminal()
    controller = terminal.window.controller
    screen = controller.screens.sale
    for digit in "750":
        qtbot.mouseClick(screen.keypad.buttons[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.standard_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.code_button, Qt.MouseButton.LeftButton)
    code = new_payment_code()

    os.write(writer, typed(code[:12] + code[13:] + "\r", "us"))
    qtbot.waitUntil(lambda: "読み取れません" in controller.screens.cpm.status.text(), timeout=WAIT_MS)

    assert "redeem_cpm" not in fake_api.names()
    assert controller.sale.state is SaleState.CPM_WAITING


def test_app_shows_device_that_cannot_be_grabbed(
    qtbot: QtBot, make_evdev_terminal: Callable[[], Terminal], writer: int
) -> None:
    # The real ioctl on a FIFO fails (ENOTTY), as it would for a path that is no event device.
    terminal = make_evdev_terminal()
    screen = terminal.window.controller.screens.sale

    qtbot.waitUntil(lambda: "スキャナーを開けない" in screen.hint.text(), timeout=WAIT_MS)

    assert terminal.evdev_scanner is not None
    assert terminal.evdev_scanner.status is not None
    assert "cannot be grabbed" in str(terminal.evdev_scanner.status.error)
