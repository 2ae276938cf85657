"""The stamp rally booth screen: event staff scan a participant's code and show the progress.

One large screen, no typing. It waits for a scan, then shows 「スタンプを押しました」 with the
participant's progress (``3 / 5 個``), or a celebration at the goal. A second scan on the same
day shows 「本日このブースでは押印済みです」, and a code it cannot use a plain message. Today's
count for this booth stays in the top corner. After ``RESULT_SHOWN_MS`` (or a tap on 「次の方へ」) it
waits for the next participant. When the server has rejected stamps recorded here, a button
「受付できなかったスタンプ n件」 opens their list (``ui.stamp_declined``). A small 「保守」 button
opens the technician's screens, where the terminal is switched back to sales.

``StampModePresenter`` runs ``terminal.stamps.StampDesk`` on the task runner, because a scan
writes the terminal database and may call the server. Scans that arrive while one is being
handled are dropped, and the screen shows a request to scan again, so one participant never
gets two stamps from a double scan.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from terminal import protocol
from terminal.stamps import RallyApi, ScanResult, StampBook, StampDesk, StampOutcome
from terminal.sync import OutboxStatus
from ui.connection import OfflineParts
from ui.stamp_declined import DeclinedStampsScreen
from ui.theme import AMBER, BLUE, GREEN, GREY, RED
from ui.widgets import big_button, styled_label
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

# How long a result stays before the screen waits for the next participant: long enough for
# the participant to read the progress over the counter.
RESULT_SHOWN_MS = 10_000
# Goals up to this many stamps are drawn as a row of stamp marks; longer ones only as numbers.
MAX_DRAWN_STAMPS = 10
STAMP_DONE = "●"
STAMP_OPEN = "○"

# Two lines of the 18 pt detail text.
DETAIL_MIN_HEIGHT_PX = 80
# The bottom row keeps most of its width for the connection line and 「次の方へ」.
DECLINED_BUTTON_MAX_WIDTH_PX = 260
TECHNICIAN_BUTTON_MAX_WIDTH_PX = 110

GOLD = "#b8860b"
STYLESHEET = f"""
QLabel#stamp_rally_name {{ font-size: 20pt; font-weight: bold; }}
QLabel#stamp_booth_name {{ font-size: 15pt; color: {GREY}; }}
QFrame#stamp_today {{ border: 3px solid {BLUE}; border-radius: 10px; background: #e8f0fe; }}
QLabel#stamp_today_caption {{ font-size: 14pt; color: {BLUE}; }}
QLabel#stamp_today_count {{ font-size: 32pt; font-weight: bold; color: {BLUE}; }}
QFrame#stamp_panel {{ border-radius: 16px; border: 4px solid #dadce0; background: white; }}
QFrame#stamp_panel[state="given"] {{ border-color: {GREEN}; background: #e6f4ea; }}
QFrame#stamp_panel[state="goal"] {{ border: 8px solid {GOLD}; background: #fff8e1; }}
QFrame#stamp_panel[state="repeat"] {{ border-color: {AMBER}; background: #fef7e0; }}
QFrame#stamp_panel[state="error"] {{ border-color: {RED}; background: #fce8e6; }}
QLabel#stamp_headline {{ font-size: 30pt; font-weight: bold; }}
QLabel#stamp_progress {{ font-size: 64pt; font-weight: bold; }}
QLabel#stamp_marks {{ font-size: 34pt; color: {GREEN}; }}
QLabel#stamp_detail {{ font-size: 18pt; }}
QLabel#stamp_connection {{ font-size: 15pt; color: {GREY}; }}
QPushButton#stamp_declined_open {{ font-size: 15pt; font-weight: bold; color: {RED};
                                  border: 3px solid {RED}; background: #fce8e6; }}
QPushButton#stamp_technician {{ font-size: 14pt; color: {GREY}; }}
"""


class StampModePresenter(QObject):
    """Runs the booth's desk off the GUI thread and reports each outcome by signal."""

    loaded = Signal(object)  # protocol.RallyInfo, or None when no rally is cached or served
    scanned = Signal(object)  # terminal.stamps.ScanResult
    today_changed = Signal(int)
    failed = Signal(str)  # a scan could not be recorded; nothing was stamped
    ignored = Signal()  # a scan arrived while the previous one was being handled
    declined_changed = Signal(int)  # how many stamps recorded here the server rejected
    declined_loaded = Signal(list)  # list[terminal.stamps.DeclinedStamp], newest first
    declined_failed = Signal()

    def __init__(self, desk: StampDesk, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self._runner = runner
        self.busy = False

    def start(self) -> None:
        """Read the booth's rally (from the server when online) and today's count."""
        def load() -> tuple[protocol.RallyInfo | None, int, int]:
            return self.desk.load(), self.desk.today_count(), self.desk.book.declined_count()

        self._runner.run(load, self._on_loaded, self._on_load_failed)

    def refresh_declined(self) -> None:
        """Count the declined stamps again, after the sync worker reported results."""
        self._runner.run(self.desk.book.declined_count, self.declined_changed.emit,
                         self._on_count_failed)

    def load_declined(self) -> None:
        self._runner.run(self.desk.book.declined_stamps, self.declined_loaded.emit,
                         self._on_list_failed)

    def scan(self, code: str) -> None:
        if self.busy:
            self.ignored.emit()
            return
        self.busy = True

        def give() -> tuple[ScanResult, int, int]:
            return self.desk.scan(code), self.desk.today_count(), self.desk.book.declined_count()

        self._runner.run(give, self._on_scanned, self._on_scan_failed)

    def _on_loaded(self, loaded: tuple[protocol.RallyInfo | None, int, int]) -> None:
        info, today, declined = loaded
        self.loaded.emit(info)
        self.today_changed.emit(today)
        self.declined_changed.emit(declined)

    def _on_load_failed(self, exc: BaseException) -> None:
        log.error("reading the booth's rally failed: %s", exc)
        self.loaded.emit(None)

    def _on_scanned(self, outcome: tuple[ScanResult, int, int]) -> None:
        self.busy = False
        result, today, declined = outcome
        self.scanned.emit(result)
        self.today_changed.emit(today)
        self.declined_changed.emit(declined)

    def _on_scan_failed(self, exc: BaseException) -> None:
        self.busy = False
        log.error("recording a stamp failed: %s", exc)
        self.failed.emit(str(exc))

    def _on_count_failed(self, exc: BaseException) -> None:
        log.error("counting declined stamps failed: %s", exc)

    def _on_list_failed(self, exc: BaseException) -> None:
        log.error("reading declined stamps failed: %s", exc)
        self.declined_failed.emit()


class StampModeScreen(QWidget):
    """The booth screen; see the module docstring."""

    technician_requested = Signal()

    def __init__(self, presenter: StampModePresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stamp_mode")
        self.setStyleSheet(STYLESHEET)
        self.presenter = presenter
        self.rally: protocol.RallyInfo | None = None
        self._build()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RESULT_SHOWN_MS)
        self._timer.timeout.connect(self.show_waiting)
        presenter.loaded.connect(self.show_rally)
        presenter.scanned.connect(self.show_result)
        presenter.today_changed.connect(self.show_today)
        presenter.failed.connect(self.show_failure)
        presenter.ignored.connect(self.show_busy)
        presenter.declined_changed.connect(self.show_declined_count)
        presenter.declined_loaded.connect(self.declined.show_stamps)
        presenter.declined_failed.connect(self.declined.show_failed)
        self.show_waiting()

    # --- building ----------------------------------------------------------------------

    def _build(self) -> None:
        self.rally_name = self._label("", "stamp_rally_name")
        self.booth_name = self._label("", "stamp_booth_name")
        names = QVBoxLayout()
        names.addWidget(self.rally_name)
        names.addWidget(self.booth_name)
        top = QHBoxLayout()
        top.addLayout(names, 1)
        top.addWidget(self._today_box())

        self.panel = QFrame(self)
        self.panel.setObjectName("stamp_panel")
        self.headline = self._label("", "stamp_headline", center=True)
        self.progress = self._label("", "stamp_progress", center=True)
        self.marks = self._label("", "stamp_marks", center=True)
        self.detail = self._label("", "stamp_detail", center=True)
        # Room for two lines, so a wrapped message is never cut when the rows above it hide.
        self.detail.setMinimumHeight(DETAIL_MIN_HEIGHT_PX)
        panel_layout = QVBoxLayout(self.panel)
        # Tight spacing keeps the result on a 1024 x 600 panel with the window's own margins.
        panel_layout.setContentsMargins(12, 4, 12, 4)
        panel_layout.setSpacing(0)
        panel_layout.addStretch(1)
        for label in (self.headline, self.progress, self.marks, self.detail):
            panel_layout.addWidget(label)
        panel_layout.addStretch(1)

        self.connection = self._label("", "stamp_connection")
        self.next_button = big_button(self.tr("次の方へ"), "primary", self)
        self.next_button.setObjectName("stamp_next")
        self.next_button.setMinimumSize(260, 80)
        self.next_button.clicked.connect(self.show_waiting)
        bottom = QHBoxLayout()
        bottom.addWidget(self.connection, 1)
        bottom.addWidget(self._declined_button())
        bottom.addWidget(self._technician_button())
        bottom.addWidget(self.next_button)

        self.booth_page = QWidget(self)
        layout = QVBoxLayout(self.booth_page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.panel, 1)
        layout.addLayout(bottom)
        self.declined = DeclinedStampsScreen(self)
        self.declined.back_requested.connect(self.show_booth)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.booth_page)
        self.pages.addWidget(self.declined)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)

    def _declined_button(self) -> QPushButton:
        button: QPushButton = big_button("", "", self)
        button.setObjectName("stamp_declined_open")
        button.setMaximumWidth(DECLINED_BUTTON_MAX_WIDTH_PX)
        button.clicked.connect(self.open_declined)
        button.hide()
        self.declined_button = button
        return button

    def _technician_button(self) -> QPushButton:
        button: QPushButton = big_button(self.tr("保守"), "", self)
        button.setObjectName("stamp_technician")
        button.setMaximumWidth(TECHNICIAN_BUTTON_MAX_WIDTH_PX)
        button.clicked.connect(self.technician_requested)
        self.technician_button = button
        return button

    def _today_box(self) -> QFrame:
        box = QFrame(self)
        box.setObjectName("stamp_today")
        self.today_caption = self._label(self.tr("本日の押印"), "stamp_today_caption", center=True)
        self.today_count = self._label("0", "stamp_today_count", center=True)
        layout = QVBoxLayout(box)
        layout.addWidget(self.today_caption)
        layout.addWidget(self.today_count)
        box.setMinimumWidth(220)
        return box

    def _label(self, text: str, name: str, *, center: bool = False) -> QLabel:
        label: QLabel = styled_label(text, "", self)
        label.setObjectName(name)
        if center:
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return label

    # --- states ------------------------------------------------------------------------

    def show_rally(self, info: protocol.RallyInfo | None) -> None:
        self.rally = info
        if info is None:
            self.rally_name.setText(self.tr("スタンプラリー"))
            self.booth_name.setText("")
            self._show("error", self.tr("スタンプラリーの情報がありません"), "", "",
                       self.tr("ネットワークにつないでから、端末を起動し直してください"))
            return
        self.rally_name.setText(info.name)
        self.booth_name.setText(self.tr("{booth}　目標 {goal}個").format(
            booth=info.booth_name, goal=info.goal_stamps))
        self.show_waiting()

    def show_today(self, count: int) -> None:
        self.today_count.setText(self.tr("{count}件").format(count=count))

    def show_declined_count(self, count: int) -> None:
        self.declined_button.setText(self.tr("受付できなかった\nスタンプ {count}件").format(count=count))
        self.declined_button.setVisible(count > 0)

    def open_declined(self) -> None:
        self.declined.show_loading()
        self.pages.setCurrentWidget(self.declined)
        self.presenter.load_declined()

    def show_booth(self) -> None:
        self.pages.setCurrentWidget(self.booth_page)

    def show_connection(self, status: OutboxStatus) -> None:
        # Each report may follow a sync batch whose results declined some of the stamps.
        self.presenter.refresh_declined()
        if status.online is False:
            text = self.tr("オフライン：スタンプは端末に保存し、つながると送信します（未送信 {count}件）")
            self.connection.setText(text.format(count=status.waiting_stamps))
        elif status.waiting_stamps:
            self.connection.setText(self.tr("未送信のスタンプ {count}件").format(
                count=status.waiting_stamps))
        else:
            self.connection.setText(self.tr("オンライン"))

    def show_waiting(self) -> None:
        self._timer.stop()
        if self.rally is None:
            self._show("waiting", self.tr("準備しています"), "", "",
                       self.tr("スタンプラリーの情報を読み込んでいます"))
            self.next_button.hide()
            return
        if self._show_closed_rally(self.rally):
            self.next_button.hide()
            return
        self._show("waiting", self.tr("参加者のコードを読み取ってください"), "", "",
                   self.tr("スマホのスタンプラリー画面のコードを\nスキャナーにかざしてもらってください"))
        self.next_button.hide()

    def _show_closed_rally(self, rally: protocol.RallyInfo) -> bool:
        """Show that the rally has ended or not started yet; False while it is open.

        Checked each time the screen waits for a participant, so a rally that ends at midnight
        shows so with the next wait. RallyInfo days are Japan dates and compare as text.
        """
        today = self.presenter.desk.today()
        period = self.tr("期間：{start} 〜 {end}").format(start=rally.starts_on, end=rally.ends_on)
        if rally.ends_on < today:
            self._show("error", self.tr("このスタンプラリーは終了しました"), "", "",
                       period + "\n" + self.tr("スタンプは押せません。係の責任者に確認してください"))
            return True
        if rally.starts_on > today:
            self._show("error", self.tr("このスタンプラリーはまだ始まっていません"), "", "",
                       period + "\n" + self.tr("開始日からスタンプを押せます"))
            return True
        return False

    def show_result(self, result: ScanResult) -> None:
        self.show_booth()
        if result.outcome is StampOutcome.GIVEN:
            self._show_given(result)
        elif result.outcome is StampOutcome.ALREADY_TODAY:
            self._show("repeat", self.tr("本日このブースでは押印済みです"),
                       self._progress_text(result), self._marks_text(result),
                       self.tr("スタンプは1日1回です。ほかのブースも回ってください"))
        elif result.outcome is StampOutcome.NO_RALLY:
            self.show_rally(None)
            return
        else:
            self._show("error", *self._refusal_texts(result))
        self._hold_result()

    def show_failure(self, _message: str) -> None:
        self.show_booth()
        self._show("error", self.tr("スタンプを記録できませんでした"), "", "",
                   self.tr("スタンプは押されていません。もう一度読み取ってください。"
                           "続くときは係の責任者に連絡してください"))
        self._hold_result()

    def show_busy(self) -> None:
        self.show_booth()
        self.detail.setText(self.tr("前の読み取りを処理しています。少し待ってからもう一度読み取ってください"))

    def _show_given(self, result: ScanResult) -> None:
        if result.goal_reached:
            detail = self._goal_detail(result)
            self._show("goal", self.tr("ゴール達成！おめでとうございます"),
                       self._progress_text(result), self._marks_text(result), detail)
            return
        detail = self.tr("あと {left}個でゴールです").format(
            left=result.goal_stamps - result.stamp_count)
        if result.offline:
            detail += "\n" + self.tr("（オフラインのため、ほかのブースの分は通信が戻ってから数えます）")
        self._show("given", self.tr("スタンプを押しました"), self._progress_text(result),
                   self._marks_text(result), detail)

    def _goal_detail(self, result: ScanResult) -> str:
        if result.offline:
            return self.tr("特典は、通信が戻るとウォレットに届きます")
        if result.reward_yen:
            return self.tr("特典 {reward}円分のポイントをウォレットに付与しました").format(
                reward=f"{result.reward_yen:,}")
        if result.reward_coupon:
            return self.tr("特典のクーポン「{title}」をウォレットに付与しました").format(
                title=result.reward_coupon)
        if result.stamp_count > result.goal_stamps:
            return self.tr("特典はすでにウォレットに付与されています")
        return self.tr("特典については係の責任者に確認してください")

    def _refusal_texts(self, result: ScanResult) -> tuple[str, str, str, str]:
        unusable = self.tr("このコードは使えません")
        if result.outcome is StampOutcome.NOT_A_PARTICIPANT_CODE:
            return (unusable, "", "", self.tr(
                "スタンプラリーのコードではありません。"
                "ウォレットのスタンプラリー画面を開いてもらってください"))
        if result.outcome is StampOutcome.UNREADABLE:
            return (self.tr("読み取れませんでした"), "", "",
                    self.tr("画面を明るくして、もう一度かざしてもらってください"))
        if result.outcome is StampOutcome.OTHER_RALLY:
            return (unusable, "", "", self.tr(
                "別のスタンプラリーのコードです。このラリーの画面を開いてもらってください"))
        if result.outcome is StampOutcome.FOREIGN:
            return (unusable, "", "", self.tr(
                "この地域のコードではありません。続くときはネットワークにつないで"
                "端末を起動し直してください"))
        if result.outcome is StampOutcome.NOT_OPEN and self.rally is not None:
            return (self.tr("スタンプラリーの期間外です"), "", "",
                    self.tr("期間：{start} 〜 {end}").format(
                        start=self.rally.starts_on, end=self.rally.ends_on))
        return (unusable, "", "", self.tr("係の責任者に確認してください"))

    def _progress_text(self, result: ScanResult) -> str:
        return self.tr("{count} / {goal} 個").format(count=result.stamp_count,
                                                    goal=result.goal_stamps)

    @staticmethod
    def _marks_text(result: ScanResult) -> str:
        if result.goal_stamps > MAX_DRAWN_STAMPS:
            return ""
        done = min(result.stamp_count, result.goal_stamps)
        return STAMP_DONE * done + STAMP_OPEN * (result.goal_stamps - done)

    def _show(self, state: str, headline: str, progress: str, marks: str, detail: str) -> None:
        self.panel.setProperty("state", state)
        self.panel.style().unpolish(self.panel)
        self.panel.style().polish(self.panel)
        self.headline.setText(headline)
        self.progress.setText(progress)
        self.progress.setVisible(bool(progress))
        self.marks.setText(marks)
        self.marks.setVisible(bool(marks))
        self.detail.setText(detail)

    def _hold_result(self) -> None:
        self.next_button.show()
        self._timer.start()


def build_stamp_mode(
    parts: OfflineParts, runner: TaskRunner, rally_api: RallyApi | None
) -> StampModeScreen:
    """Build the booth screen on the terminal database; ``rally_api`` None works offline only."""
    desk = StampDesk(StampBook(parts.store), parts.clock, rally_api,
                     is_online=lambda: not parts.is_offline(), on_recorded=parts.wake)
    return StampModeScreen(StampModePresenter(desk, runner))
