"""The test print: read the printer's status, print the test page, show both outcomes."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from drivers.printer.connection import read_status
from drivers.printer.errors import PrinterError
from drivers.printer.status import PrinterStatus
from drivers.printer.testpage import print_test_page
from ui.technician.common import Page, printer_status_text, value_label
from ui.technician.context import TechnicianContext
from ui.worker import TaskRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrintCheck:
    """The status before printing, whether the page was sent, and why not if it was not."""

    status: PrinterStatus
    printed: bool
    error: str = ""


def run_print_check(url: str, paper_width_mm: int) -> PrintCheck:
    """Print the test page unless the printer reports a fault that stops printing."""
    try:
        status = read_status(url)
    except PrinterError as exc:
        return PrintCheck(PrinterStatus.unknown(str(exc)), printed=False, error=str(exc))
    if not status.can_print and status.primary_cause is not None:
        return PrintCheck(status, printed=False)
    try:
        print_test_page(url, paper_width_mm)
    except PrinterError as exc:
        return PrintCheck(status, printed=False, error=" ".join(str(exc).split()))
    return PrintCheck(status, printed=True)


class PrintCheckPage(Page):
    def __init__(
        self, context: TechnicianContext, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(self.tr("印字テスト"), parent)
        self._context = context
        self._runner = runner
        self.printer = value_label(self)
        self.printer.setObjectName("print_check_printer")
        self.result = value_label(self)
        self.result.setProperty("role", "lines")
        self.result.setObjectName("print_check_result")
        self.body.addWidget(self.printer)
        self.body.addWidget(self.result, 1)
        self.print_button = self.add_button(self.tr("テストページを印刷"), "primary")
        self.print_button.setObjectName("print_check_print")
        self.print_button.clicked.connect(self.start)

    def prepare(self) -> None:
        printer = self._context.config.printer
        self.printer.setText(
            self.tr("プリンター: {url}　用紙 {width} mm").format(
                url=printer.url, width=printer.paper_width_mm
            )
        )
        self.result.setText("")
        self.show_message(self.tr("「テストページを印刷」を押すと、日本語・QRコード入りのページを印刷します"))

    def start(self) -> None:
        printer = self._context.config.printer
        url, width = printer.url, printer.paper_width_mm
        self.print_button.setEnabled(False)
        self.result.setText(self.tr("印刷しています…"))
        self._runner.run(lambda: run_print_check(url, width), self._on_done, self._on_failed)

    def _on_done(self, check: object) -> None:
        assert isinstance(check, PrintCheck)
        self.print_button.setEnabled(True)
        status = self.tr("プリンターの状態: {status}").format(status=printer_status_text(check.status))
        if check.printed:
            outcome = self.tr("テストページを送りました。印刷されたページとQRコードを確認してください")
        elif check.error:
            outcome = self.tr("印刷できませんでした: {error}").format(error=check.error)
        else:
            outcome = self.tr("プリンターの問題を直してから、もう一度押してください")
        self.result.setText(f"{outcome}\n{status}")

    def _on_failed(self, exc: BaseException) -> None:
        self.print_button.setEnabled(True)
        log.error("test print failed", exc_info=exc)
        self.result.setText(self.tr("印刷できませんでした: {error}").format(error=exc))
