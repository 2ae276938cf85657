"""Move the running terminal window between the sale screens and the stamp rally booth screen.

``ModeSwitcher`` opens the booth screen at start when the config file sets ``mode = "stamp"``, and
carries out the technician's switch (``ui.technician.mode``) in both directions without a
restart. The booth screen is built once and kept in the window's stack, so a second switch to
the booth shows the same screen again with its rally reloaded. The sync worker keeps sending
payments and stamps whichever screen is shown.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject

from terminal.sale import SaleState
from terminal.stamps import BoothCheck, RallyApi, StampBook, check_booth
from ui.connection import OfflineParts
from ui.stamp_mode import StampModeScreen, build_stamp_mode
from ui.terminal_window import TerminalController
from ui.worker import TaskRunner

log = logging.getLogger(__name__)


class ModeSwitcher(QObject):
    """Shows the screen of the terminal's mode; see the module docstring."""

    def __init__(
        self,
        controller: TerminalController,
        parts: OfflineParts,
        runner: TaskRunner,
        rally_api: RallyApi | None,
        mode: str,
    ) -> None:
        super().__init__(controller)
        self.controller = controller
        self.mode = mode
        self.stamp_screen: StampModeScreen | None = None
        self._parts = parts
        self._runner = runner
        # The client the booth check and the booth screen use; None works from the cache.
        self.rally_api = rally_api
        technician = controller.technician
        if technician is not None:
            # Connected after the controller's own slot, which shows the sale screen first.
            technician.closed.connect(self._after_technician)

    def show_current(self) -> None:
        """Show the screen of ``mode``; called once the window is built."""
        if self.mode == "stamp":
            self._show_stamp()

    # --- ModeSwitchHost --------------------------------------------------------------------

    def busy_reason(self) -> str | None:
        if self.controller.sale.busy:
            return self.tr("お会計の途中のため切り替えられません。お会計を終えてから、もう一度開いてください")
        if self._sale_started():
            return self.tr("お会計の途中のため切り替えられません。お会計を終えるか、金額を「C（クリア）」で、"
                           "クーポンを「クーポンを外す」で消してから、もう一度開いてください")
        screen = self.stamp_screen
        if screen is not None and screen.presenter.busy:
            return self.tr("スタンプを記録しています。少し待ってから、もう一度開いてください")
        return None

    def _sale_started(self) -> bool:
        """True when the sale has an amount, a coupon, or a state other than waiting to start.

        「C（クリア）」 leaves an empty sale in amount entry, which counts as not started.
        """
        presenter = self.controller.sale
        sale = presenter.sale
        if presenter.coupons.code is not None or sale.typed_digits or sale.tax_lines:
            return True
        return sale.state not in (SaleState.IDLE, SaleState.AMOUNT_ENTRY)

    def waiting_counts(self) -> tuple[int, int]:
        status = self._parts.status.status
        return status.waiting_count, status.waiting_stamps

    def check_booth(self) -> BoothCheck:
        return check_booth(StampBook(self._parts.store), self._parts.clock, self.rally_api)

    def switch_to(self, mode: str) -> None:
        log.info("switching the terminal from %s to %s mode", self.mode, mode)
        self.mode = mode
        technician = self.controller.technician
        if technician is not None:
            technician.leave()
        if mode == "stamp":
            self._show_stamp()
        else:
            self.controller.stamp_mode = None
            self.controller.back_to_sale()

    # --- screens ---------------------------------------------------------------------------

    def _show_stamp(self) -> None:
        screen = self.stamp_screen
        if screen is None:
            screen = build_stamp_mode(self._parts, self._runner, self.rally_api)
            screen.technician_requested.connect(self.controller.open_technician)
            screen.technician_button.setVisible(self.controller.technician is not None)
            self.stamp_screen = screen
            self.controller.open_stamp_mode(screen)
            return
        screen.show_booth()
        screen.show_waiting()
        screen.show_connection(self._parts.status.status)
        self.controller.stamp_mode = screen
        self.controller.show(screen)
        screen.presenter.start()

    def _after_technician(self) -> None:
        screen = self.stamp_screen
        if self.mode == "stamp" and screen is not None:
            self.controller.show(screen)
