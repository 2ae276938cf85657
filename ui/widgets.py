"""Small touch widgets shared by the screens: buttons, the amount keypad, the PIN pad."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from terminal.receipt import format_yen
from terminal.sale import Key
from ui.theme import MIN_TOUCH_PX

__all__ = ["Keypad", "PinPad", "big_button", "format_yen", "styled_label"]

# The keypad emits the key names of terminal.sale.Key, so the sale takes them as they come.
KEY_CLEAR = Key.CLEAR.value
KEY_BACKSPACE = Key.BACKSPACE.value
KEY_DOUBLE_ZERO = Key.DOUBLE_ZERO.value

# Longest PIN the pad accepts; manager PINs are 4 to 8 digits.
MAX_PIN_DIGITS = 8


def big_button(text: str, role: str = "", parent: QWidget | None = None) -> QPushButton:
    """Make a touch button that never takes keyboard focus, so scans never land in it."""
    button = QPushButton(text, parent)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    button.setMinimumHeight(MIN_TOUCH_PX)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    if role:
        button.setProperty("role", role)
    return button


def styled_label(text: str = "", role: str = "", parent: QWidget | None = None) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    if role:
        label.setProperty("role", role)
    return label


class Keypad(QWidget):
    """A 4 x 3 digit grid plus 00, C and backspace; emits each key as a string."""

    key_pressed = Signal(str)

    LAYOUT = (
        ("7", "8", "9"),
        ("4", "5", "6"),
        ("1", "2", "3"),
        ("0", KEY_DOUBLE_ZERO, KEY_BACKSPACE),
    )

    def __init__(self, parent: QWidget | None = None, with_clear: bool = True) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setSpacing(8)
        self.buttons: dict[str, QPushButton] = {}
        for row, keys in enumerate(self.LAYOUT):
            for column, key in enumerate(keys):
                self._add_key(grid, key, row, column)
        if with_clear:
            self._add_key(grid, KEY_CLEAR, len(self.LAYOUT), 0, span=3)

    def _add_key(self, grid: QGridLayout, key: str, row: int, column: int, span: int = 1) -> None:
        text = {KEY_BACKSPACE: "←", KEY_CLEAR: self.tr("C（クリア）")}.get(key, key)
        button = big_button(text, "danger" if key == KEY_CLEAR else "", self)
        button.setObjectName(f"key_{key}")
        button.setProperty("key", key)
        button.clicked.connect(lambda _checked=False, k=key: self.key_pressed.emit(k))
        grid.addWidget(button, row, column, 1, span)
        self.buttons[key] = button


class PinPad(QWidget):
    """A numeric PIN pad with a masked display; emits the digits when OK is pressed."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._digits = ""
        self.display = styled_label("", "amount", self)
        self.display.setObjectName("pin_display")
        self.display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.keypad = Keypad(self, with_clear=False)
        self.keypad.key_pressed.connect(self.press)
        self.ok_button = big_button(self.tr("OK"), "primary", self)
        self.ok_button.setObjectName("pin_ok")
        self.ok_button.clicked.connect(self._submit)
        self.cancel_button = big_button(self.tr("やめる"), "", self)
        self.cancel_button.setObjectName("pin_cancel")
        self.cancel_button.clicked.connect(self.cancelled)

        # Display and buttons beside the keypad, not above and below it, so the screen fits
        # the 600-pixel height of a small counter tablet.
        side = QVBoxLayout()
        side.addWidget(self.display)
        side.addStretch(1)
        buttons = QGridLayout()
        buttons.addWidget(self.cancel_button, 0, 0)
        buttons.addWidget(self.ok_button, 0, 1)
        side.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(side, 1)
        layout.addWidget(self.keypad, 1)
        self._refresh()

    def press(self, key: str) -> None:
        if key == KEY_BACKSPACE:
            self._digits = self._digits[:-1]
        elif key.isdigit():
            self._digits = (self._digits + key)[:MAX_PIN_DIGITS]
        self._refresh()

    def clear(self) -> None:
        self._digits = ""
        self._refresh()

    def _submit(self) -> None:
        digits = self._digits
        self.clear()
        self.submitted.emit(digits)

    def _refresh(self) -> None:
        self.display.setText("●" * len(self._digits) or "—")
        self.ok_button.setEnabled(bool(self._digits))
