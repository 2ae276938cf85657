"""The sales and fees CSV screen: month buttons, destination, progress, cancel."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from terminal.config import TerminalConfig
from terminal.protocol import TaxLine
from terminal.store import NewCapture
from tests.ui.cashout_fakes import STATEMENT_CSV, FakeMoneyApi
from tests.ui.conftest import MANAGER_PIN, FakeApi
from ui.app import Terminal
from ui.cashout_flow import MoneyFlow
from ui.cashout_presenter import japan_today
from ui.terminal_window import TerminalController


class BlockingMoneyApi(FakeMoneyApi):
    """Holds the statement request until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def statement_csv(self, month: str) -> str:
        self.release.wait(5)
        return super().statement_csv(month)


@pytest.fixture
def fake_api(request: pytest.FixtureRequest) -> FakeApi:
    return BlockingMoneyApi() if getattr(request, "param", "") == "blocking" else FakeMoneyApi()


def click(qtbot: QtBot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_export(qtbot: QtBot, controller: TerminalController) -> MoneyFlow:
    click(qtbot, controller.screens.sale.history_button)
    click(qtbot, controller.screens.history.money_button)
    money = controller.money
    assert money is not None
    for digit in MANAGER_PIN:
        click(qtbot, money.screens.pin.pad.keypad.buttons[digit])
    click(qtbot, money.screens.pin.pad.ok_button)
    qtbot.waitUntil(lambda: controller.current() is money.screens.menu, timeout=3000)
    click(qtbot, money.screens.menu.export_button)
    return money


def test_export_writes_chosen_month_to_data_folder(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi,
    terminal_config: TerminalConfig,
) -> None:
    terminal = make_terminal()
    now = datetime.now(UTC)
    terminal.services.offline.store.record_capture(NewCapture(  # type: ignore[union-attr]
        capture_id="cap-1", kind="online_payment", amount_yen=1200, method="cpm",
        captured_at=now, tax_lines=(TaxLine(rate_percent=10, amount_yen=1200),),
        payment_id="pay-1",
    ))
    money = open_export(qtbot, terminal.window.controller)
    screen = money.screens.export
    month = japan_today().strftime("%Y-%m")

    assert screen.selected_month() == month
    assert screen.destinations.currentItem().text().endswith("exports")
    click(qtbot, screen.export_button)
    qtbot.waitUntil(lambda: "書き出しました" in screen.message.text(), timeout=5000)

    folder = terminal_config.data_dir / "exports"
    statement = (folder / f"statement-{month}.csv").read_bytes()
    register = (folder / f"register-{month}.csv").read_bytes()
    assert statement == b"\xef\xbb\xbf" + STATEMENT_CSV.encode("utf-8")
    assert register.startswith(b"\xef\xbb\xbfcaptured_at,kind,kind_ja")
    assert b",cap-1,pay-1,cpm,1200,1200,0,waiting," in register
    assert screen.progress.value() == screen.progress.maximum()
    assert ("statement_csv", (month,)) in fake_api.calls


def test_export_other_month_by_button(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi,
    terminal_config: TerminalConfig,
) -> None:
    money = open_export(qtbot, make_terminal().window.controller)
    screen = money.screens.export
    second = screen.months.buttons()[1]

    click(qtbot, second)
    click(qtbot, screen.export_button)
    qtbot.waitUntil(lambda: "書き出しました" in screen.message.text(), timeout=5000)

    month = str(second.property("month"))
    assert month != japan_today().strftime("%Y-%m")
    assert (terminal_config.data_dir / "exports" / f"statement-{month}.csv").exists()


@pytest.mark.parametrize("fake_api", ["blocking"], indirect=True)
def test_cancel_leaves_no_file(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: BlockingMoneyApi,
    terminal_config: TerminalConfig,
) -> None:
    money = open_export(qtbot, make_terminal().window.controller)
    screen = money.screens.export

    click(qtbot, screen.export_button)
    assert screen.cancel_button.isEnabled()
    assert not screen.back_button.isEnabled()
    click(qtbot, screen.cancel_button)
    fake_api.release.set()
    qtbot.waitUntil(lambda: "中止しました" in screen.message.text(), timeout=5000)

    folder = terminal_config.data_dir / "exports"
    assert list(folder.iterdir()) == []
    assert screen.export_button.isEnabled()


def test_export_offline_says_connection_needed(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi,
    terminal_config: TerminalConfig,
) -> None:
    fake_api.unreachable = True
    money = open_export(qtbot, make_terminal().window.controller)
    screen = money.screens.export

    click(qtbot, screen.export_button)
    qtbot.waitUntil(lambda: "接続が必要" in screen.message.text(), timeout=5000)

    assert not list(Path(terminal_config.data_dir / "exports").glob("*.csv"))
