"""The booth's list of stamps the server did not accept, opened from the stamp screen.

A booth records a stamp before it shows 「スタンプを押しました」. So a stamp given offline can
still be rejected when the sync worker sends it. One example is a booth whose database was
replaced, when the server already has that day's stamp from this booth. Stamps the server rejected while the booth was
online are listed too. Each row shows the Japan time of the scan, the participant code
shortened to its prefix and last characters, and the reason in plain words.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from terminal.japan_time import format_japan_time
from terminal.protocol import ErrorCode
from terminal.rally_code import CODE_PREFIX
from terminal.stamps import DeclinedStamp
from ui.widgets import big_button, styled_label

CONTEXT = "DeclinedStampsScreen"
# Characters of a participant code shown after the prefix; the rest is left out on screen.
SHOWN_CODE_CHARS = 4

STYLESHEET = """
QListWidget#stamp_declined_list { font-size: 18pt; }
QListWidget#stamp_declined_list::item { min-height: 96px; padding: 6px;
                                        border-bottom: 1px solid #dadce0; }
"""


def shortened_code(code: str) -> str:
    """Shorten a participant code to ``CKR1…WXYZ``, enough to tell two rows apart."""
    if len(code) <= len(CODE_PREFIX) + SHOWN_CODE_CHARS:
        return code
    return f"{code[:len(CODE_PREFIX)]}…{code[-SHOWN_CODE_CHARS:]}"


def reason_text(reason: str) -> str:
    """Explain a declined stamp's ``ErrorCode`` value to event staff."""
    if reason == ErrorCode.STAMP_ALREADY_GIVEN:
        return QCoreApplication.translate(CONTEXT, "この参加者には、同じ日にこのブースのスタンプがすでにありました")
    if reason == ErrorCode.RALLY_NOT_OPEN:
        return QCoreApplication.translate(CONTEXT, "スタンプラリーの期間外か、この端末がブースではなくなっていました")
    if reason == ErrorCode.RALLY_CODE_INVALID:
        return QCoreApplication.translate(CONTEXT, "コードが正しくないか、このラリーのブースでは使えないコードでした")
    return QCoreApplication.translate(
        CONTEXT, "サーバーが受け付けませんでした（理由 {reason}）。運営事務局に連絡してください"
    ).format(reason=reason)


class DeclinedStampsScreen(QWidget):
    """Lists declined stamps, newest first, with a back button to the booth screen."""

    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(STYLESHEET)
        self.title = styled_label(self.tr("受付できなかったスタンプ"), "title")
        self.status = styled_label("", "hint")
        self.status.setObjectName("stamp_declined_status")
        self.list = QListWidget(self)
        self.list.setObjectName("stamp_declined_list")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setWordWrap(True)
        self.back_button = big_button(self.tr("戻る"), "primary", self)
        self.back_button.setObjectName("stamp_declined_back")
        self.back_button.clicked.connect(self.back_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.back_button)

    def show_loading(self) -> None:
        self.list.clear()
        self.status.setText(self.tr("読み込んでいます…"))

    def show_failed(self) -> None:
        self.status.setText(self.tr("読み込めませんでした。もう一度開いてください"))

    def show_stamps(self, declined: list[DeclinedStamp]) -> None:
        self.list.clear()
        for stamp in declined:
            QListWidgetItem(self.describe(stamp), self.list)
        if declined:
            self.status.setText(self.tr(
                "これらのスタンプは参加者の数に入っていません。"
                "参加者から問い合わせがあれば、理由を伝えてください"))
        else:
            self.status.setText(self.tr("受付できなかったスタンプはありません"))

    def describe(self, stamp: DeclinedStamp) -> str:
        # Japan time, as the rally's days are, whatever zone the terminal's clock is set to.
        shown_time = format_japan_time(stamp.captured_at, self.tr("%m月%d日 %H:%M"))
        return self.tr("{time}　コード {code}\n{reason}").format(
            time=shown_time, code=shortened_code(stamp.participant_code),
            reason=reason_text(stamp.reason))
