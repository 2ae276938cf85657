"""The diagnostics page: ``terminal.diagnostics`` collected on a worker and shown as a table."""

from __future__ import annotations

import logging

from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from terminal.diagnostics import Diagnostics, collect_diagnostics
from terminal.japan_time import format_japan_time
from ui.connection import OfflineParts
from ui.technician.common import Page, printer_status_text, value_label
from ui.technician.context import TechnicianContext
from ui.widgets import format_yen, styled_label
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

ROWS = ("terminal", "printer", "server", "outbox", "clock", "versions")


class DiagnosticsPage(Page):
    def __init__(
        self,
        context: TechnicianContext,
        runner: TaskRunner,
        offline: OfflineParts | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("診断"), parent)
        self._context = context
        self._runner = runner
        self._offline = offline
        self.last: Diagnostics | None = None
        captions = {
            "terminal": self.tr("端末"),
            "printer": self.tr("プリンター"),
            "server": self.tr("サーバー"),
            "outbox": self.tr("未送信"),
            "clock": self.tr("時計のずれ"),
            "versions": self.tr("バージョン"),
        }
        grid = QGridLayout()
        self.values: dict[str, QLabel] = {}
        for row, key in enumerate(ROWS):
            grid.addWidget(styled_label(captions[key], "caption", self), row, 0)
            value = value_label(self)
            value.setObjectName(f"diagnostics_{key}")
            grid.addWidget(value, row, 1)
            self.values[key] = value
        grid.setColumnStretch(1, 1)
        self.body.addLayout(grid)
        self.body.addStretch(1)
        self.refresh_button = self.add_button(self.tr("更新"), "primary")
        self.refresh_button.setObjectName("diagnostics_refresh")
        self.refresh_button.clicked.connect(self.refresh)

    def refresh(self) -> None:
        context = self._context
        store = self._offline.store if self._offline is not None else None
        clock = self._offline.clock if self._offline is not None else None
        versions = {"Qt": qVersion()}
        self.refresh_button.setEnabled(False)
        self.show_message(self.tr("調べています…"))
        self._runner.run(
            lambda: collect_diagnostics(
                context.config,
                context.terminal_id,
                health_api=context.health_api,
                store=store,
                clock=clock,
                extra_versions=versions,
            ),
            self.show_diagnostics,
            self._on_failed,
        )

    def show_diagnostics(self, result: object) -> None:
        assert isinstance(result, Diagnostics)
        self.last = result
        self.refresh_button.setEnabled(True)
        self.values["terminal"].setText(
            self.tr("端末ID {terminal}").format(terminal=result.terminal_id or self.tr("未登録"))
        )
        printer = printer_status_text(result.printer)
        self.values["printer"].setText(f"{result.printer_url}\n{printer}")
        self.values["server"].setText(self._server_text(result))
        self.values["outbox"].setText(self._outbox_text(result))
        self.values["clock"].setText(self._clock_text(result))
        self.values["versions"].setText(
            "  ".join(f"{name} {version}" for name, version in result.versions.items())
        )
        self.show_message(
            self.tr("{time} に調べました").format(time=format_japan_time(result.collected_at, "%H:%M:%S"))
        )

    def _server_text(self, result: Diagnostics) -> str:
        server = result.server
        if server.reachable and server.latency_ms is not None:
            state = self.tr("接続できます（応答 {ms:.0f} ms）").format(ms=server.latency_ms)
        else:
            state = self.tr("接続できません: {error}").format(error=server.error)
        return f"{result.server_url}\n{state}"

    def _outbox_text(self, result: Diagnostics) -> str:
        outbox = result.outbox
        if outbox.error:
            return outbox.error
        text = self.tr("{count}件 {total}　受け付けられなかった取引 {declined}件").format(
            count=outbox.waiting_count,
            total=format_yen(outbox.waiting_total_yen),
            declined=outbox.declined_count,
        )
        if outbox.oldest_waiting_at is not None:
            text += "\n" + self.tr("最も古いもの {time}").format(
                time=format_japan_time(outbox.oldest_waiting_at)
            )
        return text

    def _clock_text(self, result: Diagnostics) -> str:
        if result.clock_offset_s is None:
            return self.tr("不明")
        # The offset is server minus device, so a positive offset means the device is behind.
        # Adding 0.0 turns a rounded -0.0 into 0.0, so a correct clock shows "+0.0".
        seconds = round(-result.clock_offset_s, 1) + 0.0
        text = self.tr("この端末の時計は {seconds:+.1f} 秒ずれています").format(seconds=seconds)
        if result.clock_warning:
            text += "\n" + self.tr("時計を合わせてください")
        return text

    def _on_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        log.error("collecting diagnostics failed", exc_info=exc)
        self.show_message(self.tr("診断に失敗しました: {error}").format(error=exc))
