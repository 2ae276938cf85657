"""The manager's money screens behind the manager PIN: cash out to yen, its list, and CSV export.

``MoneyFlow`` adds its screens to the terminal's stack and moves between them; the history
screen's button starts it, and leaving it returns to the history.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtWidgets import QStackedWidget, QWidget

from terminal import protocol
from terminal.export import StatementSource
from terminal.store import Capture
from terminal.support_bundle import MEDIA_ROOTS
from ui.cashout import (
    CashOutAmountScreen,
    CashOutConfirmScreen,
    CashOutListScreen,
    MoneyMenuScreen,
)
from ui.cashout_presenter import CashOutPresenter, MoneyApi, japan_today, money_api
from ui.export import ExportPresenter, ExportScreen
from ui.refund import PinScreen
from ui.services import TerminalServices

log = logging.getLogger(__name__)


class MoneyScreens:
    """The money screens, built once and kept in the terminal's stack."""

    def __init__(self, services: TerminalServices, export: ExportPresenter,
                 stack: QStackedWidget) -> None:
        data_dir, media_roots = _export_folders(services)
        self.pin = PinScreen()
        self.pin.title.setText(QCoreApplication.translate(
            "MoneyScreens", "円への交換と売上データには責任者の暗証番号が必要です"
        ))
        self.menu = MoneyMenuScreen()
        self.amount = CashOutAmountScreen()
        self.confirm = CashOutConfirmScreen(services.lang)
        self.list = CashOutListScreen(services.lang)
        self.export = ExportScreen(export, data_dir, media_roots, services.lang)
        for screen in (self.pin, self.menu, self.amount, self.confirm, self.list, self.export):
            stack.addWidget(screen)


class MoneyFlow(QObject):
    """Carries the manager from the PIN through the money screens and back to the history."""

    def __init__(
        self,
        services: TerminalServices,
        stack: QStackedWidget,
        show: Callable[[QWidget], None],
        leave: Callable[[], None],
    ) -> None:
        super().__init__(stack)
        self._services = services
        self._stack = stack
        self._show = show
        self._leave = leave
        self.cash_out = CashOutPresenter(services, self._api, self)
        self.exporter = ExportPresenter(services.runner, self._statements, self._captures,
                                        services.lang, self)
        self.screens = MoneyScreens(services, self.exporter, stack)
        self._connect_pin()
        self._connect_menu()
        self._connect_cash_out()

    @staticmethod
    def available(services: TerminalServices) -> bool:
        """Say whether the terminal's API client makes the money calls."""
        return money_api(services) is not None

    def start(self) -> None:
        """Ask for the manager PIN; the menu follows when it matches."""
        self.screens.pin.prepare()
        self._show(self.screens.pin)

    # --- wiring ----------------------------------------------------------------------------

    def _connect_pin(self) -> None:
        pin = self.screens.pin
        pin.pad.submitted.connect(self._check_pin)
        pin.pad.cancelled.connect(self._leave)

    def _connect_menu(self) -> None:
        screens = self.screens
        screens.menu.cash_out_requested.connect(self.open_cash_out)
        screens.menu.list_requested.connect(self.open_list)
        screens.menu.export_requested.connect(self.open_export)
        screens.menu.back_requested.connect(self._leave)
        screens.list.back_requested.connect(self.open_menu)
        screens.list.reload_button.clicked.connect(self.open_list)
        screens.export.back_requested.connect(self.open_menu)

    def _connect_cash_out(self) -> None:
        screens, presenter = self.screens, self.cash_out
        screens.amount.cancelled.connect(self.open_menu)
        screens.amount.next_requested.connect(presenter.request_preview)
        screens.confirm.back_requested.connect(self._back_to_amount)
        screens.confirm.confirmed.connect(self._confirm)
        screens.confirm.list_requested.connect(self.open_list)
        presenter.balance_loaded.connect(screens.amount.show_balance)
        presenter.previewed.connect(self._on_previewed)
        presenter.rejected.connect(self._on_rejected)
        presenter.checking.connect(screens.confirm.show_checking)
        presenter.booked.connect(screens.confirm.show_booked)
        presenter.list_loaded.connect(screens.list.show_cash_outs)
        presenter.list_failed.connect(screens.list.show_failed)

    # --- navigation ------------------------------------------------------------------------

    def open_menu(self) -> None:
        self._show(self.screens.menu)

    def open_cash_out(self) -> None:
        if self.cash_out.pending is not None:
            # An earlier request's outcome is still unknown: finish it before anything new.
            self._show(self.screens.confirm)
            self.cash_out.confirm()
            return
        self.screens.amount.prepare()
        self._show(self.screens.amount)
        self.cash_out.load_balance()

    def open_list(self) -> None:
        self.screens.list.prepare()
        self._show(self.screens.list)
        self.cash_out.load_list()

    def open_export(self) -> None:
        self.screens.export.prepare(japan_today())
        self._show(self.screens.export)

    def _back_to_amount(self) -> None:
        self.cash_out.stop()
        if self.cash_out.pending is not None:
            # The request's outcome is still unknown; 「円に交換」 resumes checking it.
            self.open_menu()
            return
        self.open_cash_out()

    def _confirm(self) -> None:
        if self.cash_out.confirm():
            self.screens.confirm.show_sending()

    # --- outcomes --------------------------------------------------------------------------

    def _check_pin(self, pin: str) -> None:
        verify = self._services.verify_manager_pin
        self._services.runner.run(
            lambda: verify(pin), lambda matches: self._on_pin_checked(bool(matches)),
            lambda exc: self.screens.pin.show_message(str(exc)),
        )

    def _on_pin_checked(self, matches: bool) -> None:
        if not matches:
            log.warning("manager PIN rejected for the money screens")
            self.screens.pin.show_rejected()
            return
        self.open_menu()

    def _on_previewed(self, preview: protocol.CashOutPreview) -> None:
        self.screens.confirm.show_preview(preview)
        self._show(self.screens.confirm)

    def _on_rejected(self, text: str) -> None:
        confirm = self.screens.confirm
        if self._stack.currentWidget() is confirm:
            confirm.show_rejected(text)
        else:
            self.screens.amount.show_message(text)

    # --- parts for the presenters ------------------------------------------------------------

    def _api(self) -> MoneyApi:
        api = money_api(self._services)
        if api is None:
            raise RuntimeError("the terminal's API client does not make the money calls")
        return api

    def _statements(self) -> StatementSource:
        return self._api()

    def _captures(self) -> list[Capture]:
        parts = self._services.offline
        return [] if parts is None else parts.store.captures()


def _export_folders(services: TerminalServices) -> tuple[Path, tuple[Path, ...]]:
    context = services.technician
    if context is not None:
        return context.config.data_dir, context.media_roots
    parts = services.offline
    data_dir = parts.store.path.parent if parts is not None else Path.cwd()
    return data_dir, MEDIA_ROOTS
