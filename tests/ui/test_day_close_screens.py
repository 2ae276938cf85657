"""The day close screens: PIN, X report, Z report with the waiting warning, past Z reports,
printing, and the clerk chooser on the sale screen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from terminal import day_close, protocol
from terminal.api_client import Unreachable
from terminal.config import TerminalConfig
from terminal.day_close import DayReport
from terminal.protocol import CountTotal, DayTotals, SyncResult, TaxLine, ValueKind
from terminal.store import NewCapture, Store
from tests.ui.conftest import MANAGER_PIN, FakeApi, ReceiptLog, make_info
from ui.app import Terminal, build_terminal
from ui.day_close_flow import DayCloseFlow
from ui.terminal_window import TerminalController
from ui.theme import apply_theme

CLERKS = ("佐藤", "鈴木")


@dataclass
class ReportApi(FakeApi):
    """The scripted API with the server's day report; ``server_net_yen`` sets its total."""

    server_net_yen: int | None = None

    def day_report(self, business_day: str) -> protocol.ServerDayReport:
        if self.server_net_yen is None:
            raise Unreachable("the server cannot be reached")
        net = self.server_net_yen
        totals = DayTotals(
            payments_by_method={"mpm": CountTotal(), "cpm": CountTotal(count=1, amount_yen=net),
                                "offline": CountTotal()},
            payments=CountTotal(count=1, amount_yen=net), refunds=CountTotal(), net_yen=net,
            ledger_net_yen=net, ledger_kinds={ValueKind.COIN: net},
        )
        return protocol.ServerDayReport(
            business_day=business_day, merchant_id="m-1", terminal_id="term-1",
            terminal=totals, merchant=totals, server_time=datetime.now(UTC).isoformat(),
        )


@dataclass
class ReportLog(ReceiptLog):
    reports: list[tuple[str, DayReport, bool]] = field(default_factory=list)

    def print_report(self, report_id: str, report_json: str, *, copy: bool = False) -> None:
        self.reports.append((report_id, DayReport.model_validate_json(report_json), copy))


@pytest.fixture
def report_api() -> ReportApi:
    return ReportApi()


@pytest.fixture
def report_log() -> ReportLog:
    return ReportLog()


@pytest.fixture
def day_terminal(
    qapp: QApplication, report_api: ReportApi, report_log: ReportLog,
    terminal_config: TerminalConfig,
) -> Iterator[Terminal]:
    apply_theme(qapp)
    config = replace(terminal_config, clerks=CLERKS)
    terminal = build_terminal(qapp, config, report_api, make_info(), "ja", receipts=report_log,
                              long_poll_s=1)
    terminal.window.resize(1024, 600)
    terminal.window.show()
    yield terminal
    terminal.window.close()
    qapp.removeEventFilter(terminal.scan_filter)


def record(store: Store, capture_id: str, amount_yen: int, *, confirmed: bool,
           clerk: str | None = "佐藤") -> None:
    now = datetime.now(UTC)
    store.record_capture(NewCapture(
        capture_id=capture_id, kind="online_payment", amount_yen=amount_yen, method="cpm",
        captured_at=now, tax_lines=(TaxLine(rate_percent=10, amount_yen=amount_yen),),
        payment_id=f"pay-{capture_id}", clerk=clerk,
    ))
    if confirmed:
        store.apply_results([SyncResult(entry_id=capture_id, status="applied",
                                        business_day=day_close.japan_day(now))])


def open_menu(qtbot: QtBot, controller: TerminalController) -> DayCloseFlow:
    qtbot.mouseClick(controller.screens.sale.history_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(controller.screens.history.day_close_button, Qt.MouseButton.LeftButton)
    flow = controller.day_close
    assert controller.current() is flow.pin
    for digit in MANAGER_PIN:
        qtbot.mouseClick(flow.pin.pad.keypad.buttons[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(flow.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is flow.menu, timeout=3000)
    return flow


def test_wrong_pin_keeps_menu_closed(qtbot: QtBot, day_terminal: Terminal) -> None:
    controller = day_terminal.window.controller
    qtbot.mouseClick(controller.screens.sale.history_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(controller.screens.history.day_close_button, Qt.MouseButton.LeftButton)
    flow = controller.day_close
    for digit in "1111":
        qtbot.mouseClick(flow.pin.pad.keypad.buttons[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(flow.pin.pad.ok_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: "違います" in flow.pin.message.text(), timeout=3000)
    assert controller.current() is flow.pin


def test_x_report_shows_totals_and_chart(qtbot: QtBot, day_terminal: Terminal) -> None:
    record(day_terminal.offline.store, "cap-0001", 1_200, confirmed=True)
    record(day_terminal.offline.store, "cap-0002", 800, confirmed=False, clerk="鈴木")
    controller = day_terminal.window.controller
    flow = open_menu(qtbot, controller)

    qtbot.mouseClick(flow.menu.x_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is flow.report, timeout=3000)

    text = flow.report.lines.text()
    assert "点検（X）" in flow.report.title.text()
    assert "2件 ￥2,000" in text
    assert "1件 ￥800" in text  # waiting
    assert "担当 佐藤" in text
    assert "担当 鈴木" in text
    assert sum(flow.report.chart.hourly_yen) == 2_000
    assert "未確認" in flow.report.reconcile_line.text()
    assert flow.report.close_button.isHidden()
    assert day_terminal.offline.store.day_closes() == []


def test_chart_bar_heights_follow_amounts(qtbot: QtBot, day_terminal: Terminal) -> None:
    chart = day_terminal.window.controller.day_close.report.chart
    chart.resize(480, 300)
    hours = [0] * 24
    hours[10], hours[14] = 1_000, 4_000

    chart.set_hours(hours)
    image = chart.grab().toImage()

    assert chart.bar_rect(14).height() == pytest.approx(4 * chart.bar_rect(10).height())
    assert chart.bar_rect(9).height() == 0
    inside = chart.bar_rect(14).center().toPoint()
    assert image.pixelColor(inside).name() == "#1f5fbf"


def test_z_with_waiting_warns_then_closes(
    qtbot: QtBot, day_terminal: Terminal, report_log: ReportLog
) -> None:
    store = day_terminal.offline.store
    record(store, "cap-0001", 1_000, confirmed=True)
    record(store, "cap-0002", 700, confirmed=False)
    controller = day_terminal.window.controller
    flow = open_menu(qtbot, controller)

    qtbot.mouseClick(flow.menu.z_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is flow.report, timeout=3000)
    qtbot.mouseClick(flow.report.close_button, Qt.MouseButton.LeftButton)

    assert controller.current() is flow.warning
    assert "1件（￥700）" in flow.warning.message.text()
    assert store.day_closes() == []

    qtbot.mouseClick(flow.warning.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(report_log.reports) == 1, timeout=3000)

    records = store.day_closes()
    assert [record.z_number for record in records] == [1]
    report_id, printed, copy = report_log.reports[0]
    assert (report_id, printed.z_number, printed.net_yen, copy) == ("z-0001", 1, 1_700, False)
    assert "Z0001" in flow.report.title.text()


def test_second_z_same_day_rejected(qtbot: QtBot, day_terminal: Terminal) -> None:
    store = day_terminal.offline.store
    record(store, "cap-0001", 1_000, confirmed=True)
    day_close.close_day(store, day_close.japan_day(datetime.now(UTC)), datetime.now(UTC))
    controller = day_terminal.window.controller
    flow = open_menu(qtbot, controller)

    qtbot.mouseClick(flow.menu.z_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: "精算済み" in flow.menu.message.text(), timeout=3000)
    assert "Z0001" in flow.menu.message.text()
    assert controller.current() is flow.menu
    assert len(store.day_closes()) == 1


def test_reconcile_line_shows_difference(
    qtbot: QtBot, day_terminal: Terminal, report_api: ReportApi
) -> None:
    record(day_terminal.offline.store, "cap-0001", 1_000, confirmed=True)
    report_api.server_net_yen = 900
    controller = day_terminal.window.controller
    flow = open_menu(qtbot, controller)

    qtbot.mouseClick(flow.menu.x_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is flow.report, timeout=3000)

    assert "不一致" in flow.report.reconcile_line.text()
    assert "￥100" in flow.report.reconcile_line.text()
    assert "地域コイン" in flow.report.lines.text()


def test_reconcile_line_shows_match(
    qtbot: QtBot, day_terminal: Terminal, report_api: ReportApi
) -> None:
    record(day_terminal.offline.store, "cap-0001", 1_000, confirmed=True)
    report_api.server_net_yen = 1_000
    controller = day_terminal.window.controller
    flow = open_menu(qtbot, controller)

    qtbot.mouseClick(flow.menu.x_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is flow.report, timeout=3000)

    assert flow.report.reconcile_line.text() == "サーバー照合：一致"


def test_past_z_reports_view_and_reprint(
    qtbot: QtBot, day_terminal: Terminal, report_log: ReportLog
) -> None:
    store = day_terminal.offline.store
    record(store, "cap-0001", 1_500, confirmed=True)
    day_close.close_day(store, "2024-05-01", datetime.now(UTC))
    day_close.close_day(store, "2024-05-02", datetime.now(UTC))
    controller = day_terminal.window.controller
    flow = open_menu(qtbot, controller)

    qtbot.mouseClick(flow.menu.history_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: flow.history.list.count() == 2, timeout=3000)
    assert flow.history.list.item(0).text().startswith("Z0002")
    flow.history.list.setCurrentRow(1)
    qtbot.mouseClick(flow.history.print_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(report_log.reports) == 1, timeout=3000)
    qtbot.mouseClick(flow.history.view_button, Qt.MouseButton.LeftButton)

    report_id, printed, copy = report_log.reports[0]
    assert (report_id, printed.business_day, copy) == ("z-0001", "2024-05-01", True)
    assert controller.current() is flow.report
    assert "Z0001" in flow.report.title.text()
    assert flow.report.close_button.isHidden()


def test_clerk_chooser_sets_sale_clerk(qtbot: QtBot, day_terminal: Terminal) -> None:
    controller = day_terminal.window.controller
    button = controller.screens.sale.clerk_button
    assert button.isVisible()
    assert button.text() == "担当：未選択"

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert controller.current() is controller.clerks
    qtbot.mouseClick(controller.clerks.buttons[1], Qt.MouseButton.LeftButton)

    assert controller.current() is controller.screens.sale
    assert button.text() == "担当：鈴木"
    assert controller.sale.sale.clerk == "鈴木"


def test_clerk_button_hidden_without_clerks(
    qtbot: QtBot, make_terminal: Callable[[str], Terminal]
) -> None:
    terminal = make_terminal("ja")

    assert terminal.window.controller.screens.sale.clerk_button.isHidden()
