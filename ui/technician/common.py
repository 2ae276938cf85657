"""Pieces the technician's pages share: the page frame and printer status in words."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from drivers.printer.status import CAUSE_PRIORITY, PrinterState, PrinterStatus, StatusCause
from ui.widgets import big_button, styled_label

CONTEXT = "TechnicianStatus"


def printer_status_text(status: PrinterStatus) -> str:
    """Describe ``status`` in the screen's language, with the reason when it is unknown."""
    if status.state is PrinterState.OK:
        return QCoreApplication.translate(CONTEXT, "正常（印刷できます）")
    if status.state is PrinterState.UNKNOWN:
        return QCoreApplication.translate(CONTEXT, "状態は不明です: {detail}").format(
            detail=status.detail
        )
    # The first cause is the one to fix first.
    causes = [_cause_text(cause) for cause in CAUSE_PRIORITY if cause in status.causes]
    return QCoreApplication.translate(CONTEXT, "、").join(causes)


def _cause_text(cause: StatusCause) -> str:
    texts = {
        StatusCause.COVER_OPEN: QCoreApplication.translate(CONTEXT, "カバーが開いています"),
        StatusCause.PAPER_END: QCoreApplication.translate(CONTEXT, "用紙がありません"),
        StatusCause.OFFLINE: QCoreApplication.translate(CONTEXT, "オフラインです"),
        StatusCause.PAPER_NEAR_END: QCoreApplication.translate(CONTEXT, "用紙が残りわずかです"),
    }
    return texts[cause]


class Page(QWidget):
    """A technician page: a title, a message line, the page's body and a back button."""

    back_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = styled_label(title, "title")
        self.message = styled_label("", "hint")
        self.back_button = big_button(QCoreApplication.translate(CONTEXT, "戻る"))
        self.back_button.clicked.connect(self.back_requested)
        self.body = QVBoxLayout()
        self.buttons = QHBoxLayout()
        self.buttons.addWidget(self.back_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.body, 1)
        layout.addWidget(self.message)
        layout.addLayout(self.buttons)

    def add_button(self, text: str, role: str = "") -> QPushButton:
        button: QPushButton = big_button(text, role, self)
        self.buttons.addWidget(button)
        return button

    def show_message(self, text: str) -> None:
        self.message.setText(text)


def value_label(parent: QWidget | None = None) -> QLabel:
    label: QLabel = styled_label("", "", parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return label
