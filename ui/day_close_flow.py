"""Moves the manager through the day close screens: PIN, menu, report, warning, past reports.

``DayCloseFlow`` adds its screens to the terminal's stack and shows them with the stack, so
``TerminalController`` only starts the flow and takes the manager back when it emits ``left``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QStackedWidget, QWidget

from terminal.day_close import DayReport, waiting_count
from ui.day_close import DayClosePresenter
from ui.day_close_screens import DayCloseHistory, DayCloseMenu, DayReportScreen, WaitingWarning
from ui.refund import PinScreen
from ui.services import TerminalServices


class DayCloseFlow(QObject):
    """Connects the day close presenter to its screens."""

    left = Signal()

    def __init__(self, services: TerminalServices, stack: QStackedWidget) -> None:
        super().__init__(stack)
        self.services = services
        self.stack = stack
        self.presenter = DayClosePresenter(services, self)
        self.pin = PinScreen()
        self.pin.setObjectName("day_close_pin")
        self.pin.title.setText(self.tr("締め処理には責任者の暗証番号が必要です"))
        self.menu = DayCloseMenu()
        self.report = DayReportScreen()
        self.warning = WaitingWarning()
        self.history = DayCloseHistory()
        for screen in (self.pin, self.menu, self.report, self.warning, self.history):
            stack.addWidget(screen)
        self._connect_screens()
        self._connect_presenter()

    def start(self) -> None:
        """Ask for the manager PIN; the menu follows when it matches."""
        self.pin.prepare()
        self.stack.setCurrentWidget(self.pin)

    def _connect_screens(self) -> None:
        presenter = self.presenter
        self.pin.pad.submitted.connect(presenter.check_pin)
        self.pin.pad.cancelled.connect(self.left)
        self.menu.x_requested.connect(presenter.load_x)
        self.menu.z_requested.connect(presenter.load_z_draft)
        self.menu.history_requested.connect(self.open_history)
        self.menu.back_requested.connect(self.left)
        self.report.back_requested.connect(self.open_menu)
        self.report.print_requested.connect(self.print_shown)
        self.report.close_requested.connect(self.close_requested)
        self.warning.confirmed.connect(presenter.close_day)
        self.warning.cancelled.connect(lambda: self.show(self.report))
        self.history.back_requested.connect(self.open_menu)
        self.history.view_requested.connect(self.show_report)
        self.history.print_requested.connect(
            lambda report: presenter.print_report(report, copy=True)
        )

    def _connect_presenter(self) -> None:
        presenter = self.presenter
        presenter.pin_rejected.connect(self.pin.show_rejected)
        presenter.pin_accepted.connect(self.open_menu)
        presenter.loading.connect(lambda: self.show_status(self.tr("読み込んでいます…")))
        presenter.report_ready.connect(self.show_report)
        presenter.closed.connect(self.on_closed)
        presenter.close_refused.connect(self.on_close_refused)
        presenter.waiting_grew.connect(self.on_waiting_grew)
        presenter.history_loaded.connect(self.history.show_reports)
        presenter.failed.connect(self.show_status)
        presenter.printing.connect(lambda: self.show_status(self.tr("印刷しています…")))
        presenter.printed.connect(lambda: self.show_status(self.tr("印刷しました")))
        presenter.print_failed.connect(self.show_status)

    # --- navigation ------------------------------------------------------------------------

    def show(self, screen: QWidget) -> None:
        self.stack.setCurrentWidget(screen)

    def open_menu(self) -> None:
        self.menu.show_message(
            self.tr("点検（X）は何度でも見られます。精算（Z）はその日を締めます。")
        )
        self.show(self.menu)

    def open_history(self) -> None:
        self.show(self.history)
        self.presenter.load_history()

    def show_report(self, report: DayReport) -> None:
        self.report.show_report(report, lang=self.services.lang)
        self.show(self.report)

    def print_shown(self) -> None:
        report = self.report.report
        if report is not None:
            # A stored Z report that is shown again prints as a copy; an X report is new.
            self.presenter.print_report(report, copy=report.z_number is not None)

    def close_requested(self) -> None:
        draft = self.presenter.draft
        if draft is not None and self.presenter.needs_warning():
            self.warning.prepare(waiting_count(draft), draft.waiting.net_yen)
            self.show(self.warning)
            return
        self.presenter.close_day()

    # --- outcomes --------------------------------------------------------------------------

    def on_closed(self, report: DayReport) -> None:
        self.show_report(report)
        self.report.show_status(
            self.tr("精算しました（Z{number}）。レポートを印刷します。").format(
                number=f"{report.z_number or 0:04d}")
        )

    def on_close_refused(self, message: str) -> None:
        self.show(self.menu)
        self.menu.show_message(message)

    def on_waiting_grew(self, count: int, amount_yen: int) -> None:
        # More payments are waiting than the manager confirmed: read the day again and ask again.
        self.presenter.load_z_draft()
        self.warning.prepare(count, amount_yen)

    def show_status(self, text: str) -> None:
        """Show ``text`` on the day close screen in front, or on the menu."""
        handlers = {
            id(self.report): self.report.show_status,
            id(self.history): self.history.show_status,
            id(self.pin): self.pin.show_message,
        }
        handler = handlers.get(id(self.stack.currentWidget()), self.menu.show_message)
        handler(text)
