"""The clerk chooser: a button on the sale screen naming the current clerk, and a screen of
name buttons to tap. The chosen clerk is stored on every capture for the day close's per-clerk
lines. Shown only when the configuration lists clerks."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QVBoxLayout, QWidget

from ui.widgets import big_button, styled_label

# Names per row on the chooser; four rows of three fit a 600-pixel screen with the title.
CLERKS_PER_ROW = 3


def clerk_button_text(clerk: str | None) -> str:
    """Return the sale screen's clerk button label for ``clerk`` (None: none chosen yet)."""
    if clerk is None:
        return QCoreApplication.translate("ClerkChooser", "担当：未選択")
    return QCoreApplication.translate("ClerkChooser", "担当：{name}").format(name=clerk)


class ClerkChooser(QWidget):
    """One large button per configured clerk; tapping one chooses that clerk."""

    chosen = Signal(str)
    cancelled = Signal()

    def __init__(self, clerks: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clerk_chooser")
        self.title = styled_label(self.tr("担当者を選んでください"), "title")
        self.buttons: list[QPushButton] = []
        grid = QGridLayout()
        for index, name in enumerate(clerks):
            button = big_button(name)
            button.clicked.connect(lambda _checked=False, chosen=name: self.chosen.emit(chosen))
            grid.addWidget(button, index // CLERKS_PER_ROW, index % CLERKS_PER_ROW)
            self.buttons.append(button)
        self.back_button = big_button(self.tr("戻る"))
        self.back_button.clicked.connect(self.cancelled)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(grid, 1)
        layout.addWidget(self.back_button)
