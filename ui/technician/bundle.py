"""Export the support bundle (``terminal.support_bundle``) to a USB stick or the data folder."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QDir, Qt, qVersion
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QWidget

from terminal.diagnostics import collect_diagnostics
from terminal.support_bundle import SupportBundleError, export_directories, write_bundle
from ui.connection import OfflineParts
from ui.technician.common import Page
from ui.technician.context import TechnicianContext
from ui.worker import TaskRunner

log = logging.getLogger(__name__)


def export_bundle(
    context: TechnicianContext, destination: Path, offline: OfflineParts | None, qt_version: str
) -> Path:
    """Collect diagnostics and write the bundle into ``destination``; blocking."""
    destination.mkdir(parents=True, exist_ok=True)
    diagnostics = collect_diagnostics(
        context.config,
        context.terminal_id,
        health_api=context.health_api,
        store=offline.store if offline is not None else None,
        clock=offline.clock if offline is not None else None,
        extra_versions={"Qt": qt_version},
    )
    return write_bundle(
        destination,
        context.config,
        context.terminal_id,
        datetime.now().astimezone(),
        diagnostics=diagnostics.to_dict(),
    )


class BundlePage(Page):
    def __init__(
        self,
        context: TechnicianContext,
        runner: TaskRunner,
        offline: OfflineParts | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("サポート用データの書き出し"), parent)
        self._context = context
        self._runner = runner
        self._offline = offline
        self.destinations = QListWidget(self)
        self.destinations.setObjectName("bundle_destinations")
        self.destinations.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.destinations.currentRowChanged.connect(lambda _row: self._refresh())
        self.body.addWidget(self.destinations, 1)
        self.reload_button = self.add_button(self.tr("再検出"))
        self.reload_button.clicked.connect(self.prepare)
        self.export_button = self.add_button(self.tr("書き出す"), "primary")
        self.export_button.setObjectName("bundle_export")
        self.export_button.clicked.connect(self.export)

    def prepare(self) -> None:
        self.destinations.clear()
        context = self._context
        for directory in export_directories(context.config.data_dir, context.media_roots):
            item = QListWidgetItem(QDir.toNativeSeparators(str(directory)), self.destinations)
            item.setData(Qt.ItemDataRole.UserRole, str(directory))
        self.destinations.setCurrentRow(0)
        self.show_message(
            self.tr("書き出し先を選んでください。設定とログから暗証番号・鍵・支払いコードは取り除かれます")
        )
        self._refresh()

    def _refresh(self) -> None:
        self.export_button.setEnabled(self.destinations.currentItem() is not None)

    def export(self) -> None:
        item = self.destinations.currentItem()
        if item is None:
            return
        destination = Path(str(item.data(Qt.ItemDataRole.UserRole)))
        context, offline, qt_version = self._context, self._offline, qVersion()
        self.export_button.setEnabled(False)
        self.show_message(self.tr("書き出しています…"))
        self._runner.run(
            lambda: export_bundle(context, destination, offline, qt_version),
            self._on_written,
            self._on_failed,
        )

    def _on_written(self, path: object) -> None:
        self._refresh()
        self.show_message(self.tr("書き出しました: {path}").format(path=path))

    def _on_failed(self, exc: BaseException) -> None:
        self._refresh()
        if not isinstance(exc, SupportBundleError | OSError):
            log.error("support bundle export failed", exc_info=exc)
        self.show_message(self.tr("書き出せませんでした: {error}").format(error=exc))
