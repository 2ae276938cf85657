"""The clerk's window: one stack of screens and the controller that moves between them.

``TerminalController`` decides which screen is shown; screens and presenters never switch
screens themselves. Scanner input arrives from the application-wide ``ScanFilter`` and goes to
the sale only while the code screen is shown.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from terminal import messages, protocol
from terminal.coupon_code import looks_like_coupon_code
from terminal.coupon_pairing import looks_like_paired_code
from terminal.coupons import coupon_reason
from terminal.sale import SaleState
from ui.cashout_flow import MoneyFlow
from ui.cpm import CpmScreen
from ui.day_close_clerk import ClerkChooser, clerk_button_text
from ui.day_close_flow import DayCloseFlow
from ui.declined import DeclinedPresenter, DeclinedScreen
from ui.errors import clerk_message
from ui.history import HistoryPresenter, HistoryScreen, RefundDecline
from ui.mpm import MpmScreen
from ui.paired_scan import PairedScan
from ui.printing import ReceiptPresenter
from ui.refund import PinScreen, RefundAmountScreen
from ui.result import ResultScreen
from ui.sale import SalePresenter
from ui.sale_screen import SaleScreen
from terminal.rally_code import looks_like_participant_code
from ui.stamp_mode import StampModeScreen
from ui.scanning import ScanFilter
from ui.services import TerminalServices
from ui.technician.screen import TechnicianScreen
from ui.widgets import styled_label

log = logging.getLogger(__name__)

METHOD_MPM = "mpm"
METHOD_CPM = "cpm"
# How long a hint stays below the screen: long enough to read two lines of Japanese.
HINT_SHOWN_MS = 6000


class Screens:
    """The screen widgets, built once and kept in one stack."""

    def __init__(self, controller: TerminalController, stack: QStackedWidget) -> None:
        self.sale = SaleScreen(controller.sale)
        self.mpm = MpmScreen(controller.sale)
        self.cpm = CpmScreen(controller.sale)
        self.result = ResultScreen()
        self.history = HistoryScreen(controller.history)
        self.pin = PinScreen()
        self.refund_amount = RefundAmountScreen()
        self.declined = DeclinedScreen(controller.declined)
        for screen in (
            self.sale,
            self.mpm,
            self.cpm,
            self.result,
            self.history,
            self.pin,
            self.refund_amount,
            self.declined,
        ):
            stack.addWidget(screen)


class TerminalController(QObject):
    """Connects presenters to screens and carries a sale from amount to receipt."""

    hint = Signal(str)  # a short notice for the clerk, shown below every screen

    def __init__(
        self, services: TerminalServices, scan_filter: ScanFilter, stack: QStackedWidget
    ) -> None:
        super().__init__(stack)
        self.services = services
        self.stack = stack
        self.sale = SalePresenter(services, self)
        self.history = HistoryPresenter(services, self)
        self.receipts = ReceiptPresenter(services, self)
        self.declined = DeclinedPresenter(services, self)
        self.paired = PairedScan(self.sale, self)
        self.screens = Screens(self, stack)
        self.day_close = DayCloseFlow(services, stack)
        self.clerks = ClerkChooser(services.clerks)
        stack.addWidget(self.clerks)
        self._last_method = METHOD_MPM
        self._connect_sale()
        self._connect_result()
        self._connect_history()
        self._connect_status()
        self._connect_day_close()
        self.technician = self._add_technician(scan_filter)
        self.money = self._add_money()
        # The stamp rally booth screen, once ``open_stamp_mode`` has shown it.
        self.stamp_mode: StampModeScreen | None = None
        scan_filter.scanned.connect(self.on_scan)
        scan_filter.typed.connect(self.on_typed)
        scan_filter.rejected.connect(
            lambda key: self.on_notice(clerk_message(key, self.services.lang))
        )
        self.show(self.screens.sale)

    # --- wiring ----------------------------------------------------------------------------

    def _connect_sale(self) -> None:
        screens = self.screens
        screens.sale.qr_requested.connect(lambda: self.start_payment(METHOD_MPM))
        screens.sale.code_requested.connect(lambda: self.start_payment(METHOD_CPM))
        screens.sale.history_requested.connect(self.open_history)
        screens.cpm.back_requested.connect(self.leave_cpm)
        self.sale.notice.connect(self.on_sale_notice)
        self.sale.finished.connect(self.on_finished)
        self.paired.notice.connect(self.on_notice)
        self.paired.coupon_rejected.connect(self.on_paired_coupon_rejected)
        self.paired.stopped.connect(self.back_to_sale)

    def _connect_result(self) -> None:
        result = self.screens.result
        result.next_sale_requested.connect(self.next_sale)
        result.retry_requested.connect(lambda: self.start_payment(self._last_method))
        result.back_requested.connect(self.back_to_sale)
        result.reprint_requested.connect(self.receipts.reprint)
        result.history_requested.connect(self.open_history)
        self.receipts.printing.connect(result.show_printing)
        self.receipts.printed.connect(result.show_printed)
        self.receipts.print_failed.connect(result.show_print_failed)

    def _connect_history(self) -> None:
        screens = self.screens
        screens.history.back_requested.connect(self.back_to_sale)
        screens.history.refund_requested.connect(self.ask_manager_pin)
        screens.pin.pad.submitted.connect(self.history.check_pin)
        screens.pin.pad.cancelled.connect(lambda: self.show(screens.history))
        self.history.pin_rejected.connect(screens.pin.show_rejected)
        self.history.pin_accepted.connect(self.ask_refund_amount)
        screens.refund_amount.confirmed.connect(self.start_refund)
        screens.refund_amount.cancelled.connect(lambda: self.show(screens.history))
        self.history.refund_rejected.connect(self.on_refund_rejected)
        self.history.refund_done.connect(self.on_refunded)
        self.history.refund_declined.connect(self.on_refund_declined)

    def _connect_status(self) -> None:
        screens = self.screens
        screens.sale.banner.declined_requested.connect(self.open_declined)
        screens.history.declined_requested.connect(self.open_declined)
        screens.declined.back_requested.connect(self.back_to_sale)
        parts = self.services.offline
        if parts is not None:
            parts.status.changed.connect(screens.sale.banner.show_status)
            screens.sale.banner.recovery_confirmed.connect(self.confirm_recovery)

    def _connect_day_close(self) -> None:
        self.screens.history.day_close_requested.connect(self.open_day_close)
        self.day_close.left.connect(self.open_history)
        sale_screen = self.screens.sale
        if self.services.clerks:
            sale_screen.clerk_button.setText(clerk_button_text(self.sale.sale.clerk))
            sale_screen.clerk_button.show()
        sale_screen.clerk_requested.connect(self.open_clerks)
        self.clerks.chosen.connect(self.choose_clerk)
        self.clerks.cancelled.connect(self.back_to_sale)

    def open_day_close(self) -> None:
        if not self.sale.busy:
            self.day_close.start()

    def open_clerks(self) -> None:
        if not self.sale.busy:
            self.show(self.clerks)

    def choose_clerk(self, clerk: str) -> None:
        """Record ``clerk`` on the sales from now on; the clerk stays until another is chosen."""
        self.sale.sale.clerk = clerk
        self.screens.sale.clerk_button.setText(clerk_button_text(clerk))
        self.back_to_sale()

    def confirm_recovery(self, key: str) -> None:
        """Record that the clerk read an approval found after its sale had ended."""
        parts = self.services.offline
        if parts is None:
            return
        store = parts.store
        self.services.runner.run(
            lambda: store.acknowledge_recovery(key),
            lambda _result: parts.wake(),
            lambda exc: log.error("confirming recovered payment %s failed: %s", key, exc),
        )

    def _add_technician(self, scan_filter: ScanFilter) -> TechnicianScreen | None:
        context = self.services.technician
        if context is None:
            self.screens.history.technician_button.hide()
            return None
        services = self.services
        technician = TechnicianScreen(
            context, services.runner, scan_filter, services.offline, services.lang
        )
        self.stack.addWidget(technician)
        self.screens.history.technician_requested.connect(self.open_technician)
        technician.closed.connect(self.close_technician)
        return technician

    def _add_money(self) -> MoneyFlow | None:
        if not MoneyFlow.available(self.services):
            self.screens.history.money_button.hide()
            return None
        money = MoneyFlow(self.services, self.stack, self.show, self.open_history)
        self.screens.history.money_requested.connect(money.start)
        return money

    # --- navigation ------------------------------------------------------------------------

    def show(self, screen: QWidget) -> None:
        self.stack.setCurrentWidget(screen)

    def current(self) -> QWidget | None:
        return self.stack.currentWidget()

    def start_payment(self, method: str) -> None:
        self._last_method = method
        amount_yen = self.sale.due_yen
        if method == METHOD_MPM and self.services.is_offline():
            # A QR payment is approved by the server, so it cannot work offline; an offline
            # code scanned through 「コードを読む」 can.
            self.back_to_sale()
            self.on_notice(clerk_message(messages.QR_NEEDS_CONNECTION, self.services.lang))
            return
        if method == METHOD_MPM:
            self.screens.mpm.prepare(amount_yen)
            started = self.sale.start_mpm()
            next_screen: QWidget = self.screens.mpm
        else:
            self.screens.cpm.prepare(amount_yen)
            started = self.sale.start_cpm()
            next_screen = self.screens.cpm
        self.show(next_screen if started else self.screens.sale)

    def leave_cpm(self) -> None:
        if self.paired.waiting:
            # The sale already left the wait for a code to check the paired coupon.
            self.paired.abandon()
            self.show(self.screens.sale)
            return
        outcome_unknown = self.sale.outcome_unknown
        if self.sale.cancel_cpm():
            self.show(self.screens.sale)
            if outcome_unknown:
                self.on_notice(clerk_message(messages.OUTCOME_CHECKED_LATER, self.services.lang))

    def back_to_sale(self) -> None:
        self.sale.back_to_entry()
        self.show(self.screens.sale)

    def next_sale(self) -> None:
        self.sale.reset()
        self.show(self.screens.sale)

    def open_history(self) -> None:
        if self.sale.busy:
            return
        self.show(self.screens.history)
        self.history.load()

    def open_technician(self) -> None:
        if self.technician is None or self.sale.busy:
            return
        self.technician.start()
        self.show(self.technician)

    def close_technician(self) -> None:
        if self.technician is not None:
            self.technician.leave()
        self.back_to_sale()

    def open_declined(self) -> None:
        if self.sale.busy:
            return
        self.show(self.screens.declined)
        self.screens.declined.load()

    def ask_manager_pin(self) -> None:
        if not self.history.can_refund():
            return
        self.screens.pin.prepare()
        self.show(self.screens.pin)

    def ask_refund_amount(self, payment: protocol.Payment) -> None:
        self.screens.refund_amount.prepare(payment, self.history.refundable_yen(payment))
        self.show(self.screens.refund_amount)

    def start_refund(self, amount_yen: int) -> None:
        if self.history.refund(amount_yen):
            self.screens.refund_amount.show_sending()

    # --- outcomes --------------------------------------------------------------------------

    def on_notice(self, text: str) -> None:
        screen = self.current()
        if screen is self.screens.sale:
            self.screens.sale.show_hint(text)
        elif screen is self.screens.mpm:
            self.screens.mpm.show_notice(text)
        elif screen is self.screens.cpm:
            self.screens.cpm.show_notice(text)
        else:
            self.hint.emit(text)

    def on_sale_notice(self, text: str) -> None:
        """Show a notice of the sale, or leave the code screen when the coupon was rejected.

        Offline, the terminal itself rejects a coupon that does not belong to the wallet of the
        scanned offline code, before anything is recorded. The sale then goes back to the sale
        screen, whose coupon panel gives the reason, as when the server declines the coupon of
        an online payment: the clerk removes the coupon there and pays again.
        """
        if self._coupon_rejected_at_code_screen() and self.sale.cancel_cpm():
            log.info("coupon rejected for the scanned code, so the sale screen is shown again")
            self.show(self.screens.sale)
            return
        self.on_notice(text)

    def _coupon_rejected_at_code_screen(self) -> bool:
        sale = self.sale.sale
        rejection = sale.coupon_rejection
        return (
            self.current() is self.screens.cpm
            and sale.state is SaleState.CPM_WAITING
            and rejection is not None
            and sale.notice == rejection.reason
        )

    def on_finished(self, state: str) -> None:
        result = self.screens.result
        payment = self.sale.payment
        if state == SaleState.APPROVED and payment is not None:
            result.show_approved(payment)
            self.show(result)
            self.receipts.print_payment(payment)
        elif state == SaleState.CANCELLED:
            self.back_to_sale()
        elif state == SaleState.DECLINED and coupon_reason(self.sale.sale.decline_code):
            # The coupon was rejected and nothing was charged: the coupon panel of the sale
            # screen shows why, and the clerk removes the coupon and pays again, or clears
            # the sale.
            self.back_to_sale()
        elif state == SaleState.EXPIRED:
            result.show_declined(
                self.tr("QRコードの有効期限が切れました"),
                self.sale.expired_text(),
                self.sale.due_yen,
                self._applied_coupon(),
            )
            self.show(result)
        else:
            result.show_declined(
                self.tr("お支払いできませんでした"),
                self.sale.notice_text() or clerk_message(messages.UNKNOWN_ERROR, self.services.lang),
                self.sale.due_yen,
                self._applied_coupon(),
            )
            self.show(result)

    def _applied_coupon(self) -> protocol.CouponApplied | None:
        # The amount asked for was the total less this coupon's discount.
        coupon = self.sale.sale.coupon
        if coupon is None or coupon.total_yen != self.sale.sale.total_yen:
            return None
        return coupon.applied()

    def on_refunded(self, refund: protocol.Refund) -> None:
        self.screens.result.show_refunded(refund)
        self.show(self.screens.result)
        self.receipts.print_refund(refund)

    def on_refund_declined(self, decline: RefundDecline) -> None:
        # Nothing went back to the customer, so no refund receipt prints.
        self.screens.result.show_refund_declined(
            decline.amount_yen, decline.message, decline.refund_number,
            decline.payment.payment_id, final=decline.final,
        )
        self.show(self.screens.result)

    def on_refund_rejected(self, message: str) -> None:
        if self.current() is self.screens.refund_amount:
            self.screens.refund_amount.show_message(message)
        elif self.current() is self.screens.pin:
            self.screens.pin.show_message(message)
        else:
            self.hint.emit(message)

    # --- keyboard and scanner --------------------------------------------------------------

    def on_scan(self, code: str) -> None:
        if self.technician is not None and self.current() is self.technician:
            return  # the technician's scan test shows scans itself
        stamp_mode = self.stamp_mode
        on_stamp_screen = stamp_mode is not None and self.current() is stamp_mode
        if stamp_mode is not None and on_stamp_screen:
            stamp_mode.presenter.scan(code)
            return
        if looks_like_coupon_code(code):
            self.on_coupon_scan(code)
            return
        on_code_screen = self.current() is self.screens.cpm
        if on_code_screen and looks_like_paired_code(code):
            self.paired.scan(code)
            return
        if on_code_screen:
            self.sale.scan(code)
            return
        if looks_like_participant_code(code):
            self.hint.emit(self.tr("スタンプラリーのコードです。この端末はお会計の画面なので、"
                                   "スタンプは押せません"))
            return
        log.info("a scan arrived outside the code screen and was not used")
        if self.current() is self.screens.sale and self._amount_entered():
            self.hint.emit(self.tr("「コードを読む」を押してから、お客様のコードを読み取ってください"))
            return
        self.hint.emit(self.tr("先に金額を入力して「コードを読む」を押してください"))

    def _amount_entered(self) -> bool:
        sale = self.sale.sale
        return sale.total_yen > 0 or bool(sale.typed_digits)

    def on_coupon_scan(self, code: str) -> None:
        """Apply a scanned coupon on the sale screen, or on the code screen before any code.

        A coupon scanned on the code screen takes the clerk back to the sale screen, where
        the discount shows, unless a payment code was already sent.
        """
        if self.current() is self.screens.cpm and self.sale.cancel_cpm():
            self.show(self.screens.sale)
        if self.current() is not self.screens.sale or self.sale.busy:
            self.hint.emit(self.tr("クーポンはお支払いを始める前に、金額入力の画面で読み取ってください"))
            return
        self.sale.coupons.scan(code)

    def on_paired_coupon_rejected(self, text: str) -> None:
        """Show the sale screen, whose coupon panel gives the reason, and what to do next."""
        if self.current() is self.screens.cpm:
            self.show(self.screens.sale)
        self.on_notice(text)

    def open_stamp_mode(self, screen: StampModeScreen) -> None:
        """Show the stamp rally booth screen; every scan goes to it from now on."""
        self.stamp_mode = screen
        self.stack.addWidget(screen)
        parts = self.services.offline
        if parts is not None:
            parts.status.changed.connect(screen.show_connection)
        self.show(screen)
        screen.presenter.start()

    def on_typed(self, key: str) -> None:
        if self.current() is self.screens.sale:
            self.sale.type_key(key)

    def shutdown(self) -> None:
        """Stop the sale's timers and the sync worker; the window is closing."""
        self.sale.stop()
        if self.services.offline is not None:
            self.services.offline.stop()


class TerminalWindow(QMainWindow):
    """The top-level window of the clerk's terminal."""

    def __init__(self, services: TerminalServices, scan_filter: ScanFilter) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("地域コイン 決済端末"))
        self.setObjectName("terminal_window")
        central = QWidget(self)
        self.stack = QStackedWidget(central)
        self.hint = styled_label("", "banner", central)
        self.hint.setObjectName("terminal_hint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.hide()
        self._hint_timer = QTimer(self)
        self._hint_timer.setSingleShot(True)
        self._hint_timer.setInterval(HINT_SHOWN_MS)
        self._hint_timer.timeout.connect(self.hint.hide)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.hint)
        self.setCentralWidget(central)
        self.controller = TerminalController(services, scan_filter, self.stack)
        self.controller.hint.connect(self.show_hint)

    def show_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.show()
        self._hint_timer.start()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.controller.shutdown()
        super().closeEvent(event)
