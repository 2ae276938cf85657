"""Receipt printing from the screens: on a worker, reported back, and repeatable.

A failed print never changes the payment: the payment is already approved on the server when a
receipt is printed, and ``reprint`` sends the same receipt again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Signal

from drivers.printer.errors import PrinterConfigError, PrinterConnectionError, PrinterError
from drivers.printer.connection import send
from drivers.printer.document import Document
from drivers.printer.render import render
from terminal import protocol
from terminal.receipt import payment_receipt, refund_receipt
from ui.services import TerminalServices

log = logging.getLogger(__name__)


class PrinterReceipts:
    """Composes receipts with ``terminal.receipt`` and sends them to the configured printer.

    Blocking: presenters call it on a worker thread.
    """

    def __init__(self, terminal: protocol.TerminalInfo, printer_url: str, paper_width_mm: int) -> None:
        self.terminal = terminal
        self.printer_url = printer_url
        self.paper_width_mm = paper_width_mm

    def print_payment(self, payment: protocol.Payment) -> None:
        self._send(payment_receipt(payment, self.terminal))

    def print_refund(self, refund: protocol.Refund) -> None:
        self._send(refund_receipt(refund, self.terminal))

    def _send(self, document: Document) -> None:
        send(self.printer_url, render(document, paper_width_mm=self.paper_width_mm))


def print_failure_message(exc: BaseException) -> str:
    """Say why a receipt did not print and what the clerk can do, in the UI language."""
    if isinstance(exc, PrinterConnectionError):
        return QCoreApplication.translate(
            "Printing",
            "レシートを印刷できませんでした。プリンターの電源・用紙・ケーブルを確認して"
            "「再印刷」を押してください。お支払いは完了しています。",
        )
    if isinstance(exc, PrinterConfigError):
        return QCoreApplication.translate(
            "Printing",
            "プリンターの設定に問題があり、レシートを印刷できませんでした。"
            "お支払いは完了しています。技術担当者に連絡してください。",
        )
    if isinstance(exc, PrinterError):
        return QCoreApplication.translate(
            "Printing",
            "レシートを作れませんでした。お支払いは完了しています。"
            "「再印刷」で直らない場合は技術担当者に連絡してください。",
        )
    log.error("receipt printing failed unexpectedly", exc_info=exc)
    return QCoreApplication.translate(
        "Printing",
        "レシートを印刷できませんでした。お支払いは完了しています。「再印刷」を押してください。",
    )


class ReceiptPresenter(QObject):
    """Prints the receipt of the last payment or refund and can print it again."""

    printing = Signal()
    printed = Signal()
    print_failed = Signal(str)

    def __init__(self, services: TerminalServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._last_job: Callable[[], None] | None = None

    def print_payment(self, payment: protocol.Payment) -> None:
        receipts = self._services.receipts
        self._start(lambda: receipts.print_payment(payment))

    def print_refund(self, refund: protocol.Refund) -> None:
        receipts = self._services.receipts
        self._start(lambda: receipts.print_refund(refund))

    def reprint(self) -> None:
        if self._last_job is not None:
            self._start(self._last_job)

    def _start(self, job: Callable[[], None]) -> None:
        self._last_job = job
        self.printing.emit()
        self._services.runner.run(job, lambda _result: self.printed.emit(), self._on_failed)

    def _on_failed(self, exc: BaseException) -> None:
        log.warning("receipt did not print: %s", exc)
        self.print_failed.emit(print_failure_message(exc))
