"""The connection strip at the top of the sale screen.

It tells the clerk whether the server is reachable and what is still waiting to be sent. While
offline, payments are kept on the terminal, and the strip says so, with the number and total of
payments waiting. While a backlog is being sent, a progress bar counts the entries. Entries the
server declined are counted on a red button that opens their list. A clock warning appears
when the device clock is far from the server's.

An online payment whose result the terminal did not learn during its sale (a restart, or a
clerk who stopped waiting) is checked in the background. While that runs, a line tells the clerk
not to ring the sale up again; an approval found that way is shown, one at a time, until the
clerk confirms it with 「確認しました」.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from terminal import messages
from terminal.japan_time import format_japan_time
from terminal.store import Redemption
from terminal.sync import OutboxStatus
from ui.errors import clerk_message
from ui.widgets import big_button, format_yen, styled_label

# After a backlog is sent, the full progress bar stays this long so the clerk sees it finish.
SENT_SHOWN_MS = 3000


class _Line(QFrame):
    """One coloured line of the strip: a label and an optional button at its right."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.label = styled_label("", "", self)
        self.label.setObjectName(f"{name}_text")
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(10, 2, 10, 2)
        self.row.addWidget(self.label, 1)


class ConnectionBanner(QWidget):
    """Shows an ``OutboxStatus``: online state, waiting payments, progress, declines, clock."""

    declined_requested = Signal()
    recovery_confirmed = Signal(str)  # the redemption key of the approval the clerk confirmed

    def __init__(self, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lang = lang
        self.status = OutboxStatus()
        self.state = _Line("connection_state", self)
        self.state.setProperty("online", "unknown")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("sync_progress")
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.state.row.addWidget(self.progress, 1)
        # The declined count is a red button in the same row, so the strip stays within the
        # height of a 600-pixel panel when it is shown together with the offline lines.
        self.declined_button = big_button("", "danger", self.state)
        self.declined_button.setObjectName("declined_open")
        self.declined_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.declined_button.clicked.connect(self.declined_requested)
        self.declined_button.hide()
        self.state.row.addWidget(self.declined_button)
        self.clock = _Line("clock_warning", self)
        self.clock.hide()
        self.checking = _Line("checking_payment", self)
        self.checking.hide()
        self.recovered = _Line("recovered_payment", self)
        self.recovered.label.setWordWrap(True)
        self.recovered_button = big_button(self.tr("確認しました"), "primary", self.recovered)
        self.recovered_button.setObjectName("recovered_confirm")
        self.recovered_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.recovered_button.clicked.connect(self._confirm_recovery)
        self.recovered.row.addWidget(self.recovered_button)
        self.recovered.hide()
        self._shown_recovery: Redemption | None = None
        self._confirmed_keys: set[str] = set()
        self._sent_timer = QTimer(self)
        self._sent_timer.setSingleShot(True)
        self._sent_timer.setInterval(SENT_SHOWN_MS)
        self._sent_timer.timeout.connect(self.progress.hide)

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        for line in (self.recovered, self.checking, self.state, self.clock):
            column.addWidget(line)
        self.show_status(self.status)

    @property
    def state_text(self) -> str:
        return self.state.label.text()

    def show_status(self, status: OutboxStatus) -> None:
        previous = self.status
        self.status = status
        self._show_state(status)
        self._show_progress(status, previous)
        self._show_declined(status)
        self._show_clock(status)
        self._show_checking(status)
        self._show_recovered(status)

    # --- lines -----------------------------------------------------------------------------

    def _show_state(self, status: OutboxStatus) -> None:
        waiting = self.tr("未送信 {count}件 {total}").format(
            count=status.waiting_count, total=format_yen(status.waiting_total_yen)
        )
        if status.online is False:
            text = self.tr("オフライン　{waiting}\nお支払いは端末に安全に保存されています。"
                           "つながると自動で送信します").format(waiting=waiting)
            online = "no"
        elif status.online is True:
            text = self.tr("オンライン")
            if status.waiting_count:
                text += "　" + waiting
            online = "yes"
        else:
            text = self.tr("サーバーに接続しています…")
            online = "unknown"
        self.state.label.setText(text)
        self._set_property(self.state, "online", online)

    def _show_progress(self, status: OutboxStatus, previous: OutboxStatus) -> None:
        if status.online is False:
            # Nothing is being sent while offline, and a leftover 「送信しました」 would
            # contradict the offline line next to it.
            self._sent_timer.stop()
            self.progress.hide()
            return
        if status.backlog_total > 0:
            self._sent_timer.stop()
            self.progress.setRange(0, status.backlog_total)
            self.progress.setValue(min(status.backlog_sent, status.backlog_total))
            self.progress.setFormat(
                self.tr("送信中 {sent}/{total}").format(
                    sent=status.backlog_sent, total=status.backlog_total
                )
            )
            self.progress.show()
        elif previous.backlog_total > 0 and status.waiting_count == 0 and status.online:
            self.progress.setRange(0, previous.backlog_total)
            self.progress.setValue(previous.backlog_total)
            self.progress.setFormat(self.tr("送信しました"))
            self._sent_timer.start()
        elif not self._sent_timer.isActive():
            self.progress.hide()

    def _show_declined(self, status: OutboxStatus) -> None:
        self.declined_button.setVisible(status.declined_count > 0)
        self.declined_button.setText(
            self.tr("受け付けられなかった取引 {count}件").format(count=status.declined_count)
        )

    def _show_clock(self, status: OutboxStatus) -> None:
        self.clock.setVisible(status.clock_warning)
        self.clock.label.setText(clerk_message(messages.CLOCK_WRONG, self._lang))

    def _show_checking(self, status: OutboxStatus) -> None:
        self.checking.setVisible(status.unresolved_count > 0)
        self.checking.label.setText(
            self.tr("前回の会計の結果を確認しています（{count}件）。"
                    "確認が終わるまで、同じお客様の会計をやり直さないでください。").format(
                count=status.unresolved_count
            )
        )

    def _show_recovered(self, status: OutboxStatus) -> None:
        waiting = [r for r in status.recovered if r.key not in self._confirmed_keys]
        self._shown_recovery = waiting[0] if waiting else None
        self.recovered.setVisible(self._shown_recovery is not None)
        if self._shown_recovery is None:
            return
        opened_at = format_japan_time(self._shown_recovery.opened_at, "%H:%M")
        text = self.tr("{time} の会計 {amount} は承認されていました。"
                       "もう一度会計しないでください。").format(
            time=opened_at, amount=format_yen(self._shown_recovery.amount_yen)
        )
        if len(waiting) > 1:
            text += self.tr("（ほかに {count}件）").format(count=len(waiting) - 1)
        self.recovered.label.setText(text)

    def _confirm_recovery(self) -> None:
        if self._shown_recovery is None:
            return
        key = self._shown_recovery.key
        # Hidden at once; the store is updated on a worker and the next status agrees.
        self._confirmed_keys.add(key)
        self.recovery_confirmed.emit(key)
        self._show_recovered(self.status)

    @staticmethod
    def _set_property(widget: QWidget, name: str, value: str) -> None:
        widget.setProperty(name, value)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        label = widget.findChild(QLabel)
        if label is not None:
            label.style().unpolish(label)
            label.style().polish(label)

