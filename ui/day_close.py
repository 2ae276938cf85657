"""The day close behind the manager PIN: the X report, the Z report, past Z reports, printing.

``DayClosePresenter`` does the work on a worker (``terminal.day_close`` on the terminal
database, and the server's day report when the server can be reached) and reports by signal.
A Z report is first shown as a draft. When captures are still waiting to be sent, the manager
confirms a warning that names how many and how much before the day is closed. The close
itself rejects more waiting captures than were confirmed. A business day is closed once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QObject, Signal

from terminal import day_close
from terminal.api_client import ApiError
from terminal.day_close import DayReport, WaitingNotConfirmed
from terminal.protocol import ServerDayReport
from terminal.store import DayAlreadyClosed, Store
from ui.connection import OfflineParts
from ui.errors import clerk_message
from ui.services import TerminalServices

log = logging.getLogger(__name__)


@runtime_checkable
class DayReportApi(Protocol):
    """The server call of ``terminal.api_client.ApiClient`` that the reconcile line needs."""

    def day_report(self, business_day: str) -> ServerDayReport: ...


@runtime_checkable
class ReportPrinter(Protocol):
    """A receipt printer that prints day reports (``ui.printing.PrinterReceipts``)."""

    def print_report(self, report_id: str, report_json: str, *, copy: bool = False) -> None: ...


def report_id(report: DayReport) -> str:
    """Return the print job id: one per Z report, a new one for every X report."""
    if report.kind == "Z" and report.z_number is not None:
        return f"z-{report.z_number:04d}"
    return f"x-{uuid.uuid4().hex[:16]}"


class DayClosePresenter(QObject):
    """Carries the manager from PIN to report, close and print."""

    pin_accepted = Signal()
    pin_rejected = Signal()
    loading = Signal()
    report_ready = Signal(object)  # DayReport: an X report or a Z draft
    closed = Signal(object)  # DayReport: the stored Z report
    close_refused = Signal(str)
    waiting_grew = Signal(int, int)  # waiting count and yen, more than the manager confirmed
    history_loaded = Signal(list)  # list[DayReport], newest first
    failed = Signal(str)
    printing = Signal()
    printed = Signal()
    print_failed = Signal(str)

    def __init__(self, services: TerminalServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.draft: DayReport | None = None
        self._busy = False

    @property
    def per_clerk(self) -> bool:
        return bool(self._services.clerks)

    def check_pin(self, pin: str) -> None:
        verify = self._services.verify_manager_pin
        self._services.runner.run(
            lambda: verify(pin), self._on_pin_checked, lambda exc: self.failed.emit(str(exc))
        )

    def _on_pin_checked(self, matches: object) -> None:
        if matches:
            self.pin_accepted.emit()
        else:
            log.warning("manager PIN rejected for the day close")
            self.pin_rejected.emit()

    # --- reports -----------------------------------------------------------------------

    def load_x(self) -> None:
        self._run_report(lambda parts, day, server: day_close.x_report(
            parts.store, day, parts.clock.now(), per_clerk=self.per_clerk, server=server))

    def load_z_draft(self) -> None:
        """Load the Z report of the oldest unclosed day as a draft.

        Emits ``close_refused`` if that day is closed already.
        """
        self._run_report(self._z_draft, oldest_unclosed=True)

    def _z_draft(self, parts: OfflineParts, day: str, server: ServerDayReport | None) -> DayReport:
        record = parts.store.day_close(day)
        if record is not None:
            raise DayAlreadyClosed(day, record.z_number)
        today = day_close.japan_day(parts.clock.now())
        selected = day_close.captures_of_day(
            parts.store.captures(), day, include_waiting=day >= today
        )
        return day_close.build_report("Z", selected, day, parts.clock.now(),
                                      per_clerk=self.per_clerk, server=server,
                                      coupon_discounts=day_close.coupon_discounts(parts.store))

    def needs_warning(self) -> bool:
        return self.draft is not None and day_close.waiting_count(self.draft) > 0

    def close_day(self) -> None:
        """Close the draft's day, with the waiting captures the manager saw in the draft."""
        draft, parts = self.draft, self._services.offline
        if draft is None or parts is None or self._busy:
            return
        confirmed_waiting = day_close.waiting_count(draft)
        per_clerk = self.per_clerk

        def close() -> DayReport:
            server = self._server_report(draft.business_day)
            return day_close.close_day(parts.store, draft.business_day, parts.clock.now(),
                                       per_clerk=per_clerk, server=server,
                                       max_waiting=confirmed_waiting)

        self._start(close, self._on_closed)

    def load_history(self) -> None:
        parts = self._services.offline
        if parts is None:
            return
        store = parts.store
        self._start(lambda: _stored_reports(store), self.history_loaded.emit)

    def _run_report(self, make: _ReportMaker, *, oldest_unclosed: bool = False) -> None:
        """Make today's report, or with ``oldest_unclosed`` that of the oldest unclosed day."""
        parts = self._services.offline
        if parts is None:
            self.failed.emit(self.tr("端末のデータベースが使えないため、締め処理ができません。"))
            return

        def run() -> DayReport:
            day = day_close.japan_day(parts.clock.now())
            if oldest_unclosed:
                day = day_close.day_to_close(parts.store, day)
            return make(parts, day, self._server_report(day))

        self._start(run, self._on_report)

    def _server_report(self, business_day: str) -> ServerDayReport | None:
        """Fetch the server's day report; None when offline or the request fails."""
        api = self._services.api
        if self._services.is_offline() or not isinstance(api, DayReportApi):
            return None
        try:
            return api.day_report(business_day)
        except ApiError as exc:
            log.warning("the server's day report of %s could not be read: %s", business_day, exc)
            return None

    def _start(self, job: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        self._busy = True
        self.loading.emit()

        def done(result: object) -> None:
            self._busy = False
            on_done(result)

        self._services.runner.run(job, done, self._on_failed)

    def _on_report(self, report: DayReport) -> None:
        if report.kind == "Z":
            self.draft = report
        self.report_ready.emit(report)

    def _on_closed(self, report: DayReport) -> None:
        self.draft = None
        self.closed.emit(report)
        self.print_report(report)

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        if isinstance(exc, DayAlreadyClosed):
            self.draft = None
            self.close_refused.emit(self.tr(
                "営業日 {day} は精算済みです（精算番号 Z{number}）。「過去の精算」で見て印刷できます。"
            ).format(day=exc.business_day, number=f"{exc.z_number:04d}"))
        elif isinstance(exc, WaitingNotConfirmed):
            self.waiting_grew.emit(exc.waiting_count, exc.waiting_yen)
        else:
            log.error("day close failed: %s", exc)
            self.failed.emit(clerk_message(exc, self._services.lang))

    # --- printing ----------------------------------------------------------------------

    def print_report(self, report: DayReport, *, copy: bool = False) -> None:
        receipts = self._services.receipts
        if not isinstance(receipts, ReportPrinter):
            self.print_failed.emit(self.tr("この端末ではレポートを印刷できません。"))
            return
        job_id, payload = report_id(report), report.model_dump_json()
        self.printing.emit()
        self._services.runner.run(
            lambda: receipts.print_report(job_id, payload, copy=copy),
            lambda _result: self.printed.emit(),
            self._on_print_failed,
        )

    def _on_print_failed(self, exc: BaseException) -> None:
        log.warning("day report did not print: %s", exc)
        self.print_failed.emit(self.tr(
            "レポートを印刷できませんでした。用紙・カバー・電源を確認して「印刷」を押してください。"
        ))


class _ReportMaker(Protocol):
    def __call__(
        self, parts: OfflineParts, day: str, server: ServerDayReport | None
    ) -> DayReport: ...


def _stored_reports(store: Store) -> list[DayReport]:
    return [day_close.stored_report(record) for record in store.day_closes()]
