"""The technician's area: the PIN first, then the menu and one page per task."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from ui.connection import OfflineParts
from ui.scanning import ScanFilter
from ui.technician import menu
from ui.technician.address import AddressPage
from ui.technician.bundle import BundlePage
from ui.technician.common import Page
from ui.technician.context import TechnicianContext
from ui.technician.devices import DevicesPage
from ui.technician.diagnostics_page import DiagnosticsPage
from ui.technician.enrol import EnrolPage
from ui.technician.mode import ModePage
from ui.technician.pin import PinLockout, TechnicianPinScreen
from ui.technician.print_check import PrintCheckPage
from ui.technician.scan_check import ScanCheckPage
from ui.worker import TaskRunner

log = logging.getLogger(__name__)


class TechnicianScreen(QWidget):
    """One page of the terminal window. ``closed`` requests the return to the sale screen."""

    closed = Signal()

    def __init__(
        self,
        context: TechnicianContext,
        runner: TaskRunner,
        scan_filter: ScanFilter,
        offline: OfflineParts | None,
        lang: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.stack = QStackedWidget(self)
        self.pin = TechnicianPinScreen(context.config.technician_pin_hash, runner, PinLockout())
        self.menu = menu.TechnicianMenu()
        self.devices = DevicesPage(context, runner)
        self.address = AddressPage(runner)
        self.print_check = PrintCheckPage(context, runner)
        self.scan_check = ScanCheckPage(scan_filter, lang)
        self.diagnostics = DiagnosticsPage(context, runner, offline)
        self.enrol = EnrolPage(context, runner)
        self.bundle = BundlePage(context, runner, offline)
        self.mode = ModePage(context, runner)
        for page in self.pages():
            self.stack.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._connect()

    def pages(self) -> list[QWidget]:
        return [
            self.pin,
            self.menu,
            self.devices,
            self.address,
            self.print_check,
            self.scan_check,
            self.diagnostics,
            self.enrol,
            self.bundle,
            self.mode,
        ]

    def _connect(self) -> None:
        self.pin.accepted.connect(self.open_menu)
        self.pin.cancelled.connect(self.closed)
        self.menu.page_requested.connect(self.open_page)
        self.menu.exit_requested.connect(self.closed)
        task_pages: list[Page] = [
            self.devices,
            self.print_check,
            self.scan_check,
            self.diagnostics,
            self.enrol,
            self.bundle,
            self.mode,
        ]
        for page in task_pages:
            page.back_requested.connect(self.open_menu)
        self.devices.network_requested.connect(self._open_address)
        self.address.back_requested.connect(lambda: self.show_page(self.devices))
        self.address.chosen.connect(self._use_network_printer)

    def start(self) -> None:
        """Show the PIN page; called each time the technician's area is opened."""
        self.pin.prepare()
        self.show_page(self.pin)

    def show_page(self, page: QWidget) -> None:
        self.scan_check.active = page is self.scan_check
        self.stack.setCurrentWidget(page)

    def current(self) -> QWidget | None:
        return self.stack.currentWidget()

    def open_menu(self) -> None:
        self.menu.show_terminal(self.context.terminal_id, str(self.context.config_path or ""))
        self.menu.show_mode(self.context.config.mode, self.context.modes is not None)
        self.show_page(self.menu)

    def open_page(self, name: str) -> None:
        log.info("technician opened %s", name)
        if name == menu.DEVICES:
            self.show_page(self.devices)
            self.devices.detect()
        elif name == menu.PRINT_TEST:
            self.print_check.prepare()
            self.show_page(self.print_check)
        elif name == menu.SCAN_TEST:
            self.scan_check.prepare()
            self.show_page(self.scan_check)
        elif name == menu.DIAGNOSTICS:
            self.show_page(self.diagnostics)
            self.diagnostics.refresh()
        elif name == menu.ENROL:
            self.enrol.prepare()
            self.show_page(self.enrol)
        elif name == menu.BUNDLE:
            self.bundle.prepare()
            self.show_page(self.bundle)
        elif name == menu.MODE:
            self.mode.prepare()
            self.show_page(self.mode)

    def _open_address(self) -> None:
        self.address.prepare()
        self.show_page(self.address)

    def _use_network_printer(self, url: str) -> None:
        self.devices.use_printer(url)
        self.show_page(self.devices)

    def leave(self) -> None:
        """Stop listening to the scanner; the window is returning to the sale."""
        self.scan_check.active = False
