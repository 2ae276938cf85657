"""The technician's menu: one large button per task."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QVBoxLayout, QWidget

from ui.widgets import big_button, styled_label

# Page names the menu emits; ``TechnicianScreen`` maps each to its page.
DEVICES = "devices"
PRINT_TEST = "print_test"
SCAN_TEST = "scan_test"
DIAGNOSTICS = "diagnostics"
ENROL = "enrol"
BUNDLE = "bundle"
MODE = "mode"


class TechnicianMenu(QWidget):
    page_requested = Signal(str)
    exit_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = styled_label(self.tr("保守メニュー"), "title")
        self.terminal = styled_label("", "caption")
        self.terminal.setObjectName("technician_terminal")
        entries = (
            (DEVICES, self.tr("スキャナーとプリンターの選択")),
            (PRINT_TEST, self.tr("印字テスト")),
            (SCAN_TEST, self.tr("読み取りテスト")),
            (DIAGNOSTICS, self.tr("診断")),
            (ENROL, self.tr("端末の登録")),
            (BUNDLE, self.tr("サポート用データの書き出し")),
        )
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for index, (page, text) in enumerate(entries):
            button = big_button(text, "", self)
            button.setObjectName(f"technician_{page}")
            button.clicked.connect(lambda _checked=False, p=page: self.page_requested.emit(p))
            grid.addWidget(button, index // 2, index % 2)
            self.buttons[page] = button
        # One wide button: it changes what the whole terminal is for.
        self.mode_button = big_button("", "", self)
        self.mode_button.setObjectName("technician_mode")
        self.mode_button.clicked.connect(lambda: self.page_requested.emit(MODE))
        self.mode_button.hide()
        grid.addWidget(self.mode_button, (len(entries) + 1) // 2, 0, 1, 2)
        self.buttons[MODE] = self.mode_button
        self.exit_button = big_button(self.tr("保守を終わる"), "primary", self)
        self.exit_button.setObjectName("technician_exit")
        self.exit_button.clicked.connect(self.exit_requested)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.terminal)
        layout.addLayout(grid, 1)
        layout.addWidget(self.exit_button)

    def show_mode(self, mode: str, switchable: bool) -> None:
        """Offer the switch to the other mode; hidden when the window cannot switch."""
        if mode == "stamp":
            self.mode_button.setText(self.tr("お会計に戻す"))
        else:
            self.mode_button.setText(self.tr("スタンプラリー受付にする"))
        self.mode_button.setVisible(switchable)

    def show_terminal(self, terminal_id: str, config_path: str) -> None:
        self.terminal.setText(
            self.tr("端末ID {terminal}　設定ファイル {path}").format(
                terminal=terminal_id or self.tr("未登録"), path=config_path or self.tr("なし")
            )
        )
