"""A scripted walk through the demo that saves a screenshot at each step (``--tour``).

It presses the same buttons a clerk and a customer would: a QR payment of ￥1,990 split over
both tax rates, then a code payment of ￥500 scanned through the wedge filter, then a payment
of ￥600 with the phone's code that carries the demo coupon (￥100 off, so the wallet pays ￥500).
Then it cuts the terminal off the server with the demo's network switch, takes an offline code
payment of ￥800, and switches the network back on until the payment has been sent. Used headless to
check the screens and to make the pictures of the user guide.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from terminal.sale import SaleState
from ui.app import Terminal
from ui.phone import PhoneWindow
from ui.receipt_preview import ReceiptPreview

log = logging.getLogger(__name__)

CHECK_INTERVAL_MS = 100
STEP_TIMEOUT_MS = 20_000


@dataclass
class Step:
    name: str
    action: Callable[[], None]
    done: Callable[[], bool]


class Tour(QObject):
    """Runs the steps one after another and quits the application at the end."""

    def __init__(self, app: QApplication, terminal: Terminal, phone: PhoneWindow,
                 preview: ReceiptPreview, out_dir: Path) -> None:
        super().__init__(app)
        self.app = app
        self.terminal = terminal
        self.phone = phone
        self.preview = preview
        self.out_dir = out_dir
        self.failed = False
        self._steps = self._build_steps()
        self._index = -1
        self._waited_ms = 0
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(self._check)

    def start(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._next()

    def _build_steps(self) -> list[Step]:
        controller = self.terminal.window.controller
        screens = controller.screens
        sale = controller.sale
        return [
            Step("start", lambda: self.shoot("terminal-start", self.terminal.window), lambda: True),
            Step("amount", lambda: self._enter_lines(("1100", "dept_10"), ("890", "dept_8")), lambda: True),
            Step("sale", lambda: self.shoot("terminal-sale", self.terminal.window), lambda: True),
            Step("show QR", screens.sale.qr_button.click, lambda: sale.state is SaleState.MPM_WAITING),
            Step("QR shown", lambda: self.shoot("terminal-qr", self.terminal.window), lambda: True),
            Step("phone pays", self.phone.pay_terminal_qr, lambda: sale.state is SaleState.APPROVED),
            Step("printed", lambda: None, lambda: self._receipt_count() >= 1),
            Step("approved", self._shoot_approved, lambda: True),
            Step("next sale", lambda: self._start_code_sale("500"), lambda: True),
            Step("code", self.phone.show_payment_code, lambda: self.phone.wedge_button.isEnabled()),
            Step("phone code", lambda: self.shoot("phone-code", self.phone), lambda: True),
            Step("scan", self.phone.scan_code_at_terminal, lambda: sale.state is SaleState.APPROVED),
            Step("cpm printed", lambda: None, lambda: self._receipt_count() >= 2),
            Step("cpm approved", lambda: self.shoot("terminal-cpm-approved", self.terminal.window),
                 lambda: True),
            *self._coupon_steps(),
            *self._offline_steps(),
        ]

    def _coupon_steps(self) -> list[Step]:
        window = self.terminal.window
        sale = window.controller.sale
        return [
            Step("coupon sale", lambda: self._start_code_sale("600"), lambda: True),
            Step("coupon code", self.phone.show_coupon_code,
                 lambda: self.phone.wedge_button.isEnabled()),
            Step("phone coupon code", lambda: self.shoot("phone-coupon-code", self.phone),
                 lambda: True),
            Step("coupon scan", self.phone.scan_code_at_terminal,
                 lambda: sale.state is SaleState.APPROVED),
            Step("coupon printed", lambda: None, lambda: self._receipt_count() >= 3),
            Step("coupon approved", lambda: self.shoot("terminal-coupon-approved", window),
                 lambda: True),
        ]

    def _offline_steps(self) -> list[Step]:
        window = self.terminal.window
        screens = window.controller.screens
        sale = window.controller.sale
        status = self.terminal.offline.status
        return [
            Step("go offline", self._go_offline, lambda: status.status.online is False),
            Step("offline", lambda: self.shoot("terminal-offline", window), lambda: True),
            Step("offline sale", lambda: self._start_sale_from_result("800"), lambda: True),
            Step("offline code", self.phone.show_offline_code,
                 lambda: self.phone.wedge_button.isEnabled()),
            Step("phone offline code", lambda: self.shoot("phone-offline-code", self.phone),
                 lambda: True),
            Step("offline scan", self.phone.scan_code_at_terminal,
                 lambda: sale.state is SaleState.APPROVED),
            Step("offline printed", lambda: None, lambda: self._receipt_count() >= 4),
            Step("offline approved", self._shoot_offline_approved, lambda: True),
            Step("waiting", screens.result.next_button.click,
                 lambda: status.status.waiting_count >= 1),
            Step("offline waiting", lambda: self.shoot("terminal-offline-waiting", window),
                 lambda: True),
            Step("go online", self.preview.network_button.click,
                 lambda: status.status.online is True and status.status.waiting_count == 0),
            Step("reconnected", lambda: self.shoot("terminal-reconnected", window), lambda: True),
        ]

    def _go_offline(self) -> None:
        self.terminal.window.controller.screens.result.next_button.click()
        self.preview.network_button.click()

    def _start_sale_from_result(self, amount: str) -> None:
        screens = self.terminal.window.controller.screens
        self._enter_lines((amount, "dept_10"))
        screens.sale.code_button.click()

    def _shoot_offline_approved(self) -> None:
        self.shoot("terminal-offline-approved", self.terminal.window)
        self.shoot("receipts-offline", self.preview)

    def _receipt_count(self) -> int:
        return len(self.preview.jobs)

    def _start_code_sale(self, amount: str) -> None:
        screens = self.terminal.window.controller.screens
        screens.result.next_button.click()
        self._enter_lines((amount, "dept_10"))
        screens.sale.code_button.click()

    def _enter_lines(self, *lines: tuple[str, str]) -> None:
        screen = self.terminal.window.controller.screens.sale
        for digits, department in lines:
            for digit in digits:
                screen.keypad.buttons[digit].click()
            button = screen.findChild(QPushButton, department)
            assert button is not None
            button.click()

    def _shoot_approved(self) -> None:
        self.shoot("terminal-approved", self.terminal.window)
        self.shoot("receipts", self.preview)
        self.shoot("phone", self.phone)

    def shoot(self, name: str, window: QWidget) -> None:
        path = self.out_dir / f"{name}.png"
        window.grab().save(str(path))
        log.info("tour screenshot %s", path)

    def _next(self) -> None:
        self._index += 1
        if self._index >= len(self._steps):
            self._timer.stop()
            self.app.quit()
            return
        step = self._steps[self._index]
        log.info("tour step: %s", step.name)
        step.action()
        self._waited_ms = 0
        self._timer.start()

    def _check(self) -> None:
        step = self._steps[self._index]
        if step.done():
            self._timer.stop()
            # One more event-loop turn lets the screen repaint before the next screenshot.
            QTimer.singleShot(300, self._next)
            return
        self._waited_ms += CHECK_INTERVAL_MS
        if self._waited_ms > STEP_TIMEOUT_MS:
            log.error("tour step %r did not finish in %d ms", step.name, STEP_TIMEOUT_MS)
            self.failed = True
            self.app.exit(1)
