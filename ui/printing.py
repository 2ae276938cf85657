"""Receipt printing from the screens: on a worker, confirmed by the printer, and repeatable.

A failed print never changes the payment: the payment is recorded before its receipt is
printed, and each receipt's print job is recorded in ``terminal.receipt_jobs``, keyed by the
payment or refund id. "印刷済み" is shown only after the printer confirmed the job. Otherwise the
clerk sees the cause in plain words and one button, 「もう一度印刷」, which prints the same
receipt again. A retry and a tap of that button that race print the receipt once.

Receipts left waiting (queued, or unprinted because the printer could not print) are printed
shortly after the terminal opens and again after any receipt prints, since the printer has
then recovered. Only receipts of which no paper can have come out are printed this way (see
``PrinterReceipts.print_waiting``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from drivers.printer.document import Document, DrawerKick
from drivers.printer.errors import (
    PrinterBusyError,
    PrinterConfigError,
    PrinterConnectionError,
    PrinterError,
)
from drivers.printer.job import run_job
from drivers.printer.profile import PrinterProfile, printer_profile
from drivers.printer.render import render
from terminal import protocol
from terminal.config import PrinterConfig
from terminal.day_close import DayReport
from terminal.day_close_print import report_document
from terminal.receipt import payment_receipt, refund_receipt
from terminal.receipt_jobs import (
    PrintAttempt,
    ReceiptJob,
    ReceiptJobs,
    ReceiptKind,
    ReceiptPrinter,
    RenderError,
)
from ui.services import TerminalServices

log = logging.getLogger(__name__)

IN_PROGRESS = "in_progress"
# Causes after which the printer printed nothing of the receipt, so trying again by itself
# cannot make a second copy. After "unknown" or "interrupted" paper may have come out, so only
# the clerk decides.
AUTO_RETRY_CAUSES = frozenset({"paper_end", "cover_open", "offline", "busy"})
# One DLE EOT exchange per try; often enough that the receipt follows soon after the clerk
# loads paper or closes the cover.
AUTO_RETRY_INTERVAL_MS = 3000
# How long after the terminal opens the receipts left waiting are printed: the window is drawn
# first, so the clerk sees the terminal while they print.
WAITING_PRINT_DELAY_MS = 2000


class ReceiptNotPrinted(PrinterError):
    """The printer did not confirm the receipt. ``cause`` is a ``receipt_jobs`` cause."""

    def __init__(self, cause: str, detail: str) -> None:
        super().__init__(f"The receipt did not print ({cause}): {detail}")
        self.cause = cause


class PrinterReceipts:
    """Composes receipts with ``terminal.receipt`` and prints each one through its job record.

    Blocking: presenters call it on a worker thread. ``lock_dir`` holds the printer's lock file.
    """

    def __init__(
        self,
        terminal: protocol.TerminalInfo,
        printer: PrinterConfig,
        jobs: ReceiptJobs,
        lock_dir: Path,
    ) -> None:
        self.terminal = terminal
        self.config = printer
        self.profile: PrinterProfile = printer_profile(printer.profile, kanji=printer.kanji)
        self.printer = ReceiptPrinter(
            jobs, printer.url, self.render_job, lambda data: run_job(printer.url, data, lock_dir=lock_dir)
        )

    def print_payment(self, payment: protocol.Payment, *, copy: bool = False) -> None:
        self._print(payment.payment_id, "payment", payment.model_dump_json(), copy)

    def print_refund(self, refund: protocol.Refund, *, copy: bool = False) -> None:
        self._print(refund.refund_id, "refund", refund.model_dump_json(), copy)

    def print_report(self, report_id: str, report_json: str, *, copy: bool = False) -> None:
        """Print an X or Z report (``terminal.day_close.DayReport`` as JSON) under ``report_id``."""
        self._print(report_id, "report", report_json, copy)

    def print_waiting(self) -> int:
        """Print the waiting receipts of which nothing came out yet; return how many printed now.

        Those are receipts still queued and receipts unprinted for a cause in
        ``AUTO_RETRY_CAUSES``. After "unknown", "interrupted" or "disconnected" paper may have
        come out, so such a receipt waits for the clerk's 「もう一度印刷」 rather than risk a
        second copy. A "config" or "layout" receipt waits too, because it fails again until the
        cause is fixed. The oldest prints first, and printing stops at the first receipt that
        does not print. Each receipt is claimed in ``receipt_jobs`` before it is sent, so a call
        that races another call or a clerk's reprint prints every receipt once.
        """
        printed = 0
        for job in self.printer.jobs.waiting(self.config.url):
            if not _prints_by_itself(job):
                continue
            attempt = self.printer.print_receipt(job.receipt_id, job.kind, job.payload)
            if attempt.sent and not attempt.printed:
                break
            if attempt.sent:
                printed += 1
        if printed:
            log.info("printed %d waiting receipts", printed)
        return printed

    def render_job(self, job: ReceiptJob) -> bytes:
        """Turn a job's payload into the print job, with a drawer kick on a sale's first print."""
        try:
            document = self._document(job)
            if self._kicks_drawer(job):
                document.blocks.insert(0, self._drawer_kick())
            return render(document, paper_width_mm=self.config.paper_width_mm, profile=self.profile)
        except (PrinterError, ValueError) as exc:
            raise RenderError(str(exc)) from exc

    def _document(self, job: ReceiptJob) -> Document:
        if job.kind == "payment":
            return payment_receipt(protocol.Payment.model_validate_json(job.payload), self.terminal)
        if job.kind == "report":
            return report_document(DayReport.model_validate_json(job.payload), self.terminal)
        return refund_receipt(protocol.Refund.model_validate_json(job.payload), self.terminal)

    def _kicks_drawer(self, job: ReceiptJob) -> bool:
        # Only the first try of a sale's receipt opens the drawer, never a reprint or a copy.
        return self.config.open_drawer == "on_sale" and job.kind == "payment" and job.attempts == 1

    def _drawer_kick(self) -> DrawerKick:
        return DrawerKick(self.config.drawer_pin, self.config.drawer_on_ms, self.config.drawer_off_ms)

    def _print(self, receipt_id: str, kind: ReceiptKind, payload: str, copy: bool) -> None:
        attempt = self.printer.print_receipt(receipt_id, kind, payload, copy=copy)
        _raise_unless_printed(attempt)


def _prints_by_itself(job: ReceiptJob) -> bool:
    return job.state == "queued" or (job.state == "unprinted" and job.cause in AUTO_RETRY_CAUSES)


@runtime_checkable
class WaitingReceipts(Protocol):
    """A receipt printer that can print the receipts left waiting (``PrinterReceipts``)."""

    def print_waiting(self) -> int: ...


def _raise_unless_printed(attempt: PrintAttempt) -> None:
    job = attempt.job
    if job is None:
        raise ReceiptNotPrinted("unknown", "the receipt job is not recorded")
    if job.state == "printed":
        return
    if job.state == "printing":
        raise ReceiptNotPrinted(IN_PROGRESS, "another print of this receipt is running")
    if not attempt.sent:
        # Not claimed although waiting: another receipt is printing on the same device.
        raise ReceiptNotPrinted("busy", "another receipt is printing on this printer")
    raise ReceiptNotPrinted(job.cause or "unknown", job.detail or "")


def _cause_messages() -> dict[str, str]:
    """Return the clerk's message for each cause of an unprinted receipt, in the UI language."""

    def tr(text: str) -> str:
        return QCoreApplication.translate("Printing", text)

    return {
        "paper_end": tr("用紙がありません。用紙を入れて「もう一度印刷」を押してください。お支払いは完了しています。"),
        "cover_open": tr(
            "プリンターのカバーが開いています。カバーを閉めて「もう一度印刷」を押してください。お支払いは完了しています。"
        ),
        "offline": tr(
            "プリンターが印刷できない状態です。プリンターのランプと用紙を確認して「もう一度印刷」を押してください。"
            "お支払いは完了しています。"
        ),
        "unknown": tr(
            "印刷できたか確認できませんでした。レシートが出ていなければ「もう一度印刷」を押してください。"
            "お支払いは完了しています。"
        ),
        "interrupted": tr(
            "印刷の途中で止まりました。レシートが出ていなければ「もう一度印刷」を押してください。お支払いは完了しています。"
        ),
        "disconnected": tr(
            "プリンターにつながりません。プリンターの電源とケーブルを確認して「もう一度印刷」を押してください。"
            "お支払いは完了しています。"
        ),
        "busy": tr(
            "プリンターを別のプログラムが使っています。もう一つの端末アプリを閉じて「もう一度印刷」を押してください。"
            "お支払いは完了しています。"
        ),
        "config": tr(
            "プリンターの設定に問題があり、レシートを印刷できませんでした。"
            "お支払いは完了しています。技術担当者に連絡してください。"
        ),
        "layout": tr(
            "レシートを作れませんでした。お支払いは完了しています。"
            "「もう一度印刷」で直らない場合は技術担当者に連絡してください。"
        ),
        IN_PROGRESS: tr("このレシートは印刷中です。レシートが出るまでお待ちください。"),
    }


def print_failure_message(exc: BaseException) -> str:
    """Say why a receipt did not print and what the clerk can do, in the UI language."""
    messages = _cause_messages()
    if isinstance(exc, ReceiptNotPrinted):
        return messages.get(exc.cause, messages["unknown"])
    if isinstance(exc, PrinterBusyError):
        return messages["busy"]
    if isinstance(exc, PrinterConnectionError):
        return messages["disconnected"]
    if isinstance(exc, PrinterConfigError):
        return messages["config"]
    if isinstance(exc, PrinterError):
        return messages["layout"]
    log.error("receipt printing failed unexpectedly", exc_info=exc)
    return messages["unknown"]


class ReceiptPresenter(QObject):
    """Prints the receipt of the last payment or refund and can print it again.

    A reprint after a failure prints the unprinted receipt; a reprint after "印刷済み" prints
    a copy. After a failure in ``AUTO_RETRY_CAUSES`` the receipt is tried again every
    ``retry_interval_ms`` until it prints or another receipt starts. The job record makes a try
    that races the clerk's tap a no-op. After a receipt prints, and once ``print_waiting_soon``
    was called at startup, the receipts left waiting are printed on a worker.
    """

    printing = Signal()
    printed = Signal()
    print_failed = Signal(str)

    def __init__(self, services: TerminalServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._last: protocol.Payment | protocol.Refund | None = None
        self._last_printed = False
        self._running = False
        self._printing_waiting = False
        self.retry_interval_ms = AUTO_RETRY_INTERVAL_MS
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._retry_quietly)

    def print_payment(self, payment: protocol.Payment) -> None:
        self._last, self._last_printed = payment, False
        self._start(copy=False)

    def print_refund(self, refund: protocol.Refund) -> None:
        self._last, self._last_printed = refund, False
        self._start(copy=False)

    def reprint(self) -> None:
        if self._last is not None and not self._running:
            self._start(copy=self._last_printed)

    def print_waiting_soon(self, delay_ms: int = WAITING_PRINT_DELAY_MS) -> None:
        """Print the receipts left waiting ``delay_ms`` from now; called once the window opens."""
        QTimer.singleShot(delay_ms, self, self.print_waiting)

    def print_waiting(self) -> None:
        """Print the receipts left waiting on a worker, unless that is running already.

        Nothing is shown to the clerk: these receipts belong to earlier sales, and the screen
        shows the current one.
        """
        receipts = self._services.receipts
        if self._printing_waiting or not isinstance(receipts, WaitingReceipts):
            return
        self._printing_waiting = True
        self._services.runner.run(receipts.print_waiting, self._on_waiting_done, self._on_waiting_failed)

    def _on_waiting_done(self, _count: object) -> None:
        self._printing_waiting = False

    def _on_waiting_failed(self, exc: BaseException) -> None:
        self._printing_waiting = False
        log.warning("printing the waiting receipts failed: %s", exc)

    def _retry_quietly(self) -> None:
        if self._last is not None and not self._running and not self._last_printed:
            self._start(copy=False, quiet=True)

    def _start(self, *, copy: bool, quiet: bool = False) -> None:
        receipts = self._services.receipts
        last = self._last
        self._retry.stop()
        self._running = True
        if not quiet:
            self.printing.emit()

        def job() -> None:
            if isinstance(last, protocol.Payment):
                receipts.print_payment(last, copy=copy)
            elif isinstance(last, protocol.Refund):
                receipts.print_refund(last, copy=copy)

        self._services.runner.run(job, lambda _result: self._on_printed(last), lambda exc: self._on_failed(last, exc))

    def _on_printed(self, receipt: object) -> None:
        self._running = False
        if receipt is self._last:
            self._last_printed = True
            self.printed.emit()
        # The printer printed, so receipts left waiting by an earlier fault can follow.
        self.print_waiting()

    def _on_failed(self, receipt: object, exc: BaseException) -> None:
        self._running = False
        log.warning("receipt did not print: %s", exc)
        if receipt is not self._last:
            return
        self.print_failed.emit(print_failure_message(exc))
        if isinstance(exc, ReceiptNotPrinted) and exc.cause in AUTO_RETRY_CAUSES:
            self._retry.start(self.retry_interval_ms)
