"""Export a month of sales and fees as CSV (``terminal.export``) to a USB stick or the data folder.

The month is chosen with buttons and the folder from a list, so nothing is typed. The export
runs on a worker and reports progress by rows; 「中止」 stops it at the next progress step, and
the files of a stopped export are removed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDir, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from terminal.api_client import ApiError, Unreachable
from terminal.export import (
    ExportCancelled,
    ExportError,
    ExportResult,
    StatementSource,
    export_destinations,
    export_month,
    recent_months,
)
from terminal.store import Capture
from ui.errors import clerk_message
from ui.theme import BLUE
from ui.widgets import big_button, styled_label
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

# The current month and five before it: half a year, enough for a monthly bookkeeping routine.
MONTHS_SHOWN = 6
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_text(month: str, lang: str) -> str:
    """Write YYYY-MM as 2026年12月, or Dec 2026 in English."""
    year, number = (int(part) for part in month.split("-"))
    if lang == "en":
        return f"{_MONTHS_EN[number - 1]} {year}"
    return f"{year}年{number}月"


class ExportPresenter(QObject):
    """Runs one export at a time on a worker and relays its progress to the GUI thread."""

    progressed = Signal(int, int)  # rows written, rows in all
    finished = Signal(object)  # terminal.export.ExportResult
    failed = Signal(str)
    cancelled = Signal()
    _worker_progress = Signal(int, int)

    def __init__(
        self,
        runner: TaskRunner,
        source: Callable[[], StatementSource],
        captures: Callable[[], list[Capture]],
        lang: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._source = source
        self._captures = captures
        self._lang = lang
        self._cancel: threading.Event | None = None
        # Queued, so progress emitted on the worker thread is handled on the GUI thread.
        self._worker_progress.connect(self.progressed, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        return self._cancel is not None

    def start(self, month: str, destination: Path) -> bool:
        if self._cancel is not None:
            return False
        cancel = threading.Event()
        self._cancel = cancel
        source, captures, report = self._source(), self._captures, self._worker_progress.emit
        log.info("exporting %s to %s", month, destination)
        self._runner.run(
            lambda: export_month(source, captures, month, destination, report, cancel.is_set),
            self._on_finished,
            self._on_failed,
        )
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _on_finished(self, result: ExportResult) -> None:
        self._cancel = None
        self.finished.emit(result)

    def _on_failed(self, exc: BaseException) -> None:
        self._cancel = None
        if isinstance(exc, ExportCancelled):
            self.cancelled.emit()
        elif isinstance(exc, Unreachable):
            self.failed.emit(self.tr(
                "売上データの取得にはサーバーとの接続が必要です。つながってからもう一度お試しください"
            ))
        elif isinstance(exc, ApiError):
            self.failed.emit(clerk_message(exc, self._lang))
        elif isinstance(exc, ExportError | OSError):
            log.warning("export failed: %s", exc)
            self.failed.emit(self.tr(
                "書き出せませんでした。USBメモリが差し込まれているか確認してください（{error}）"
            ).format(error=exc))
        else:
            self.failed.emit(clerk_message(exc, self._lang))


class ExportScreen(QWidget):
    """Month buttons, the destination list, a progress bar, and export and cancel buttons."""

    back_requested = Signal()

    def __init__(
        self,
        presenter: ExportPresenter,
        data_dir: Path,
        media_roots: Sequence[Path],
        lang: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.presenter = presenter
        self._data_dir = data_dir
        self._media_roots = tuple(media_roots)
        self._lang = lang
        self.title = styled_label(self.tr("売上・手数料のCSV"), "title")
        # The chosen month stays blue, as a pressed key would.
        self.setStyleSheet(
            f"QPushButton:checked {{ background: {BLUE}; color: white; font-weight: bold; }}"
        )
        self.months = QButtonGroup(self)
        self.months.setExclusive(True)
        self.month_grid = QGridLayout()
        self.destinations = QListWidget(self)
        self.destinations.setObjectName("export_destinations")
        self.destinations.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.destinations.currentRowChanged.connect(lambda _row: self._refresh())
        self.progress = QProgressBar(self)
        self.progress.setObjectName("export_progress")
        self.message = styled_label("", "hint")
        self.message.setObjectName("export_message")
        self.back_button = big_button(self.tr("戻る"))
        self.back_button.setObjectName("export_back")
        self.back_button.clicked.connect(self.back_requested)
        self.rescan_button = big_button(self.tr("再検出"))
        self.rescan_button.setObjectName("export_rescan")
        self.rescan_button.clicked.connect(self.list_destinations)
        self.cancel_button = big_button(self.tr("中止"), "danger")
        self.cancel_button.setObjectName("export_cancel")
        self.cancel_button.clicked.connect(presenter.cancel)
        self.export_button = big_button(self.tr("書き出す"), "primary")
        self.export_button.setObjectName("export_start")
        self.export_button.clicked.connect(self.export)

        buttons = QHBoxLayout()
        for button in (self.back_button, self.rescan_button, self.cancel_button,
                       self.export_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.month_grid)
        layout.addWidget(self.destinations, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

        presenter.progressed.connect(self.show_progress)
        presenter.finished.connect(self._on_finished)
        presenter.failed.connect(self._on_failed)
        presenter.cancelled.connect(self._on_cancelled)

    def prepare(self, today: date) -> None:
        """Offer the months up to ``today``'s and list the folders; the newest month is chosen."""
        self._add_month_buttons(recent_months(today, MONTHS_SHOWN))
        self.list_destinations()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.message.setText(self.tr("月と書き出し先を選んで「書き出す」を押してください"))
        self._refresh()

    def _add_month_buttons(self, months: list[str]) -> None:
        for old_button in self.months.buttons():
            self.months.removeButton(old_button)
            old_button.deleteLater()
        columns = MONTHS_SHOWN // 2
        for index, month in enumerate(months):
            button: QPushButton = big_button(month_text(month, self._lang), "", self)
            button.setCheckable(True)
            button.setObjectName(f"export_month_{month}")
            button.setProperty("month", month)
            button.setChecked(index == 0)
            self.months.addButton(button)
            self.month_grid.addWidget(button, index // columns, index % columns)

    def list_destinations(self) -> None:
        self.destinations.clear()
        for directory in export_destinations(self._data_dir, self._media_roots):
            item = QListWidgetItem(QDir.toNativeSeparators(str(directory)), self.destinations)
            item.setData(Qt.ItemDataRole.UserRole, str(directory))
        self.destinations.setCurrentRow(0)
        self._refresh()

    def selected_month(self) -> str | None:
        button = self.months.checkedButton()
        return None if button is None else str(button.property("month"))

    def export(self) -> None:
        month = self.selected_month()
        item = self.destinations.currentItem()
        if month is None or item is None:
            return
        destination = Path(str(item.data(Qt.ItemDataRole.UserRole)))
        if self.presenter.start(month, destination):
            self.progress.setRange(0, 0)  # busy until the first row count arrives
            self.message.setText(self.tr("書き出しています…"))
        self._refresh()

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_finished(self, result: ExportResult) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.message.setText(self.tr("書き出しました: {statement}、{register}").format(
            statement=result.statement_path.name, register=result.register_path.name
        ) + "\n" + QDir.toNativeSeparators(str(result.statement_path.parent)))
        self._refresh()

    def _on_failed(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.message.setText(text)
        self._refresh()

    def _on_cancelled(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.message.setText(self.tr("書き出しを中止しました。途中のファイルは残っていません"))
        self._refresh()

    def _refresh(self) -> None:
        busy = self.presenter.busy
        ready = self.selected_month() is not None and self.destinations.currentItem() is not None
        self.export_button.setEnabled(ready and not busy)
        self.cancel_button.setEnabled(busy)
        self.back_button.setEnabled(not busy)
        self.rescan_button.setEnabled(not busy)
        for button in self.months.buttons():
            button.setEnabled(not busy)
