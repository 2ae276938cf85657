"""The value kinds a refund at the counter returned, on the result screen and the refund receipt.

Set CHIIKI_SCREENSHOT_DIR to save split-refund-counter-ja.png there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from drivers.printer.emulator import PrinterEmulator
from drivers.printer.width import display_width
from terminal import protocol
from terminal.api_client import Unreachable
from terminal.config import PrinterConfig, TerminalConfig
from terminal.protocol import ValueKind
from terminal.receipt_jobs import open_receipt_jobs
from tests.ui.conftest import (
    MANAGER_PIN,
    FakeApi,
    ReceiptLog,
    ShownTerminals,
    make_info,
    make_payment,
)
from tests.ui.test_payment_split import LOCAL_AND_ALL, save_screenshot, with_kinds
from tests.ui.test_refund import open_refund_for_first_payment, type_pin
from ui.app import Terminal, build_terminal
from ui.printing import PrinterReceipts
from ui.terminal_window import TerminalController
from ui.theme import apply_theme

NOT_KNOWN_YET = "返金の内訳は、サーバーが返金を受け付けたあとで決まります"


@dataclass
class KindsApi(FakeApi):
    """The scripted API whose refunds return ``kinds_for(amount)``, or fail with ``error``."""

    kinds_for: Callable[[int], dict[ValueKind, int]] = lambda amount_yen: {
        ValueKind.PREMIUM_LOCAL: amount_yen * 2 // 3,
        ValueKind.PREMIUM_ALL: amount_yen - amount_yen * 2 // 3,
    }
    error: Exception | None = None
    # When set, each refund waits for it, so a test can look at the screen meanwhile.
    release: threading.Event | None = None

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund:
        if self.release is not None:
            self.release.wait(5)
        if self.error is not None:
            self._record("refund", payment_id, amount_yen, idempotency_key)
            raise self.error
        refund = super().refund(payment_id, amount_yen, idempotency_key)
        return refund.model_copy(update={"kinds": self.kinds_for(amount_yen)})


def refund_requests(api: KindsApi) -> list[tuple[object, ...]]:
    with api.lock:
        return [args for name, args in api.calls if name == "refund"]


@pytest.fixture
def kinds_api() -> KindsApi:
    api = KindsApi()
    api.payments.append(with_kinds(make_payment("pay-1", 1200), LOCAL_AND_ALL))
    return api


@pytest.fixture
def counter(
    qapp: QApplication, kinds_api: KindsApi, receipt_log: ReceiptLog,
    terminal_config: TerminalConfig, shown_terminals: ShownTerminals,
) -> Callable[[str], Terminal]:
    def build(lang: str = "ja") -> Terminal:
        apply_theme(qapp)
        terminal = build_terminal(qapp, terminal_config, kinds_api, make_info(), lang,
                                  receipts=receipt_log, long_poll_s=1)
        return shown_terminals.show(terminal)

    return build


def confirm_refund(qtbot: QtBot, controller: TerminalController, keys: str = "") -> None:
    """Refund the first payment of the history, of the amount typed as ``keys`` if given."""
    open_refund_for_first_payment(qtbot, controller)
    type_pin(qtbot, controller, MANAGER_PIN)
    qtbot.mouseClick(controller.screens.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    amount_screen = controller.screens.refund_amount
    qtbot.waitUntil(lambda: controller.current() is amount_screen, timeout=3000)
    if keys:
        qtbot.mouseClick(amount_screen.keypad.buttons["clear"], Qt.MouseButton.LeftButton)
    for key in keys:
        qtbot.mouseClick(amount_screen.keypad.buttons[key], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(amount_screen.confirm_button, Qt.MouseButton.LeftButton)


def wait_for_refund(qtbot: QtBot, controller: TerminalController, receipt_log: ReceiptLog) -> None:
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)
    qtbot.waitUntil(lambda: len(receipt_log.refunds) == 1, timeout=3000)


def test_counter_refund_shows_returned_kinds(
    qtbot: QtBot, counter: Callable[[str], Terminal], kinds_api: KindsApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = counter("ja")
    controller = terminal.window.controller

    confirm_refund(qtbot, controller)
    wait_for_refund(qtbot, controller, receipt_log)
    qtbot.wait(50)

    save_screenshot(terminal.window, "split-refund-counter-ja.png")
    result = controller.screens.result
    assert result.headline.text() == "返金しました"
    assert result.split.text() == "返金の内訳 ￥1,200 = 地元専用 ￥800 + 全店共通 ￥400"
    assert result.split.isVisibleTo(terminal.window)
    refund = receipt_log.refunds[0]
    assert refund.kinds == LOCAL_AND_ALL
    [capture] = terminal.offline.store.captures("waiting")
    # One key for the request and the outbox entry, so the server applies the refund once.
    assert refund_requests(kinds_api) == [("pay-1", 1200, capture.capture_id)]
    assert refund.refund_id == capture.capture_id
    assert terminal.offline.store.outbox_state(capture.capture_id) == "pending"


def test_counter_refund_english(
    english: None, qtbot: QtBot, counter: Callable[[str], Terminal], receipt_log: ReceiptLog,
) -> None:
    terminal = counter("en")
    controller = terminal.window.controller

    confirm_refund(qtbot, controller, "600")
    wait_for_refund(qtbot, controller, receipt_log)

    assert controller.screens.result.split.text() == (
        "Refunded as ￥600 = Local only ￥400 + All shops ￥200"
    )


def test_coin_refund_names_one_kind(
    qtbot: QtBot, counter: Callable[[str], Terminal], kinds_api: KindsApi,
    receipt_log: ReceiptLog,
) -> None:
    kinds_api.kinds_for = lambda amount_yen: {ValueKind.COIN: amount_yen}
    controller = counter("ja").window.controller

    confirm_refund(qtbot, controller, "300")
    wait_for_refund(qtbot, controller, receipt_log)

    # As on the payment screen, one kind is named without an equation.
    assert controller.screens.result.split.text() == "返金の内訳 コイン ￥300"


def test_offline_refund_kinds_not_guessed(
    qtbot: QtBot, counter: Callable[[str], Terminal], kinds_api: KindsApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = counter("ja")
    controller = terminal.window.controller
    controller.services.is_offline = lambda: True  # type: ignore[method-assign]

    confirm_refund(qtbot, controller)
    wait_for_refund(qtbot, controller, receipt_log)

    # The payment was paid with premium points, but the server decides what goes back.
    result = controller.screens.result
    assert result.headline.text() == "返金しました"
    assert result.split.text() == NOT_KNOWN_YET
    assert receipt_log.refunds[0].kinds == {}
    assert refund_requests(kinds_api) == []
    assert [c.amount_yen for c in terminal.offline.store.captures("waiting")] == [1200]


def test_unreachable_refund_kinds_not_guessed(
    qtbot: QtBot, counter: Callable[[str], Terminal], kinds_api: KindsApi,
    receipt_log: ReceiptLog,
) -> None:
    kinds_api.error = Unreachable("connection refused")
    terminal = counter("ja")
    controller = terminal.window.controller

    confirm_refund(qtbot, controller, "500")
    wait_for_refund(qtbot, controller, receipt_log)

    result = controller.screens.result
    assert result.headline.text() == "返金しました"
    assert result.split.text() == NOT_KNOWN_YET
    assert receipt_log.refunds[0].kinds == {}
    assert len(refund_requests(kinds_api)) == 1
    assert [c.amount_yen for c in terminal.offline.store.captures("waiting")] == [500]


def test_amount_locked_while_refunding(
    qtbot: QtBot, counter: Callable[[str], Terminal], kinds_api: KindsApi,
    receipt_log: ReceiptLog,
) -> None:
    kinds_api.release = threading.Event()
    controller = counter("ja").window.controller
    amount_screen = controller.screens.refund_amount

    try:
        confirm_refund(qtbot, controller, "500")

        assert amount_screen.message.text() == "返金しています…"
        assert not amount_screen.confirm_button.isEnabled()
        assert not amount_screen.keypad.isEnabled()
        assert not amount_screen.full_button.isEnabled()
    finally:
        kinds_api.release.set()
    wait_for_refund(qtbot, controller, receipt_log)
    assert receipt_log.refunds[0].amount_yen == 500


# (paper width in mm, columns of font A on a TM-T20II)
PAPERS: list[tuple[Literal[58, 80], int]] = [(58, 32), (80, 48)]


@pytest.fixture(params=PAPERS, ids=["58mm", "80mm"])
def paper(request: pytest.FixtureRequest) -> Iterator[tuple[PrinterEmulator, Literal[58, 80], int]]:
    width_mm, columns = request.param
    with PrinterEmulator(paper_width_mm=width_mm, draw_images=False) as emulator:
        yield emulator, width_mm, columns


def test_counter_refund_receipt_lists_kinds(
    qtbot: QtBot, qapp: QApplication, kinds_api: KindsApi, terminal_config: TerminalConfig,
    shown_terminals: ShownTerminals, paper: tuple[PrinterEmulator, Literal[58, 80], int],
    tmp_path: Path,
) -> None:
    emulator, width_mm, columns = paper
    printer = PrinterConfig(url=emulator.url, paper_width_mm=width_mm, profile="TM-T20II")
    jobs = open_receipt_jobs(tmp_path / "receipts")
    receipts = PrinterReceipts(make_info(), printer, jobs, lock_dir=tmp_path)
    terminal = shown_terminals.show(build_terminal(
        qapp, terminal_config, kinds_api, make_info(), "ja", receipts=receipts, long_poll_s=1))
    controller = terminal.window.controller

    try:
        confirm_refund(qtbot, controller)
        qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)
        lines = emulator.wait_for_job(5).lines
    finally:
        terminal.services.runner.wait(5000)
        jobs.close()

    assert all(display_width(line) <= columns for line in lines)
    words = [" ".join(line.split()) for line in lines]
    start = words.index("返金方法 地域コイン")
    assert words[start + 1:start + 3] == ["地元専用 ￥800", "全店共通 ￥400"]
    assert any(line.startswith("　地元専用") and line.endswith("￥800") for line in lines)
