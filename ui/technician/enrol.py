"""Enrol the terminal with the operator's activation code, typed on an on-screen keyboard."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

from terminal.enrolment import EnrolmentError
from terminal.protocol import TerminalInfo
from ui.technician.common import Page
from ui.technician.context import TechnicianContext
from ui.widgets import big_button, styled_label
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

# The characters of activation codes as the operator's server issues them: 0/O, 1/I/L and U
# are left out so a code read aloud or from paper is not mistyped.
ACTIVATION_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
ACTIVATION_GROUPS = 3
ACTIVATION_GROUP_CHARS = 4
ACTIVATION_CODE_CHARS = ACTIVATION_GROUPS * ACTIVATION_GROUP_CHARS
# Eleven columns make three rows of keys, which fit a 1024 x 600 screen with the code above.
KEY_COLUMNS = 11
# One character in the 20 pt key font is about 20 pixels wide, so 48 pixels (54 with the border
# and padding) leaves a margin, and eleven keys with their spacing take about 650 pixels.
KEY_MIN_WIDTH_PX = 48
KEY_BACK = "back"
KEY_CLEAR = "clear"


def format_activation_code(characters: str) -> str:
    """Insert the hyphens: ``K7QM2XRAP9DW`` shows as ``K7QM-2XRA-P9DW``."""
    groups = [
        characters[start : start + ACTIVATION_GROUP_CHARS]
        for start in range(0, len(characters), ACTIVATION_GROUP_CHARS)
    ]
    return "-".join(groups)


class EnrolPage(Page):
    enrolled = Signal(object)  # the TerminalInfo the server returned

    def __init__(
        self, context: TechnicianContext, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(self.tr("端末の登録"), parent)
        self._context = context
        self._runner = runner
        self.characters = ""
        self.display = styled_label("", "amount")
        self.display.setObjectName("enrol_code")
        self.display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.keys: dict[str, QPushButton] = {}
        self.body.addWidget(self.display)
        self.body.addLayout(self._keyboard(), 1)
        self.enrol_button = self.add_button(self.tr("登録する"), "primary")
        self.enrol_button.setObjectName("enrol_submit")
        self.enrol_button.clicked.connect(self.submit)
        self.prepare()

    def _keyboard(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setSpacing(4)
        keys = [*ACTIVATION_ALPHABET, KEY_BACK, KEY_CLEAR]
        for index, key in enumerate(keys):
            text = {KEY_BACK: "←", KEY_CLEAR: "C"}.get(key, key)
            button = big_button(text, "danger" if key == KEY_CLEAR else "", self)
            button.setObjectName(f"enrol_key_{key}")
            # Less side padding than other buttons, and a minimum width below the style's
            # default for a text button, so eleven keys fit across a 720-pixel portrait screen.
            button.setStyleSheet(f"padding: 4px 2px; min-width: {KEY_MIN_WIDTH_PX}px;")
            button.clicked.connect(lambda _checked=False, k=key: self.press(k))
            grid.addWidget(button, index // KEY_COLUMNS, index % KEY_COLUMNS)
            self.keys[key] = button
        return grid

    def prepare(self) -> None:
        self.characters = ""
        self.show_message(self.tr("運営者から受け取った登録コード（12文字）を入力してください"))
        self._refresh()

    def press(self, key: str) -> None:
        if key == KEY_CLEAR:
            self.characters = ""
        elif key == KEY_BACK:
            self.characters = self.characters[:-1]
        elif key in ACTIVATION_ALPHABET and len(self.characters) < ACTIVATION_CODE_CHARS:
            self.characters += key
        self._refresh()

    def _refresh(self) -> None:
        self.display.setText(format_activation_code(self.characters) or "—")
        self.enrol_button.setEnabled(len(self.characters) == ACTIVATION_CODE_CHARS)

    def submit(self) -> None:
        code = format_activation_code(self.characters)
        context = self._context
        config = context.config
        self.enrol_button.setEnabled(False)
        self.show_message(self.tr("サーバーに登録しています…"))
        self._runner.run(lambda: context.enrol(config, code), self._on_enrolled, self._on_failed)

    def _on_enrolled(self, info: object) -> None:
        assert isinstance(info, TerminalInfo)
        self._context.terminal_id = info.terminal_id
        self.characters = ""
        self._refresh()
        self.show_message(
            self.tr("登録しました: 端末ID {terminal}（{shop}）。端末を再起動してください").format(
                terminal=info.terminal_id, shop=info.merchant.name
            )
        )
        self.enrolled.emit(info)

    def _on_failed(self, exc: BaseException) -> None:
        self._refresh()
        if not isinstance(exc, EnrolmentError):
            log.error("enrolment failed unexpectedly", exc_info=exc)
        self.show_message(self.tr("登録できませんでした: {error}").format(error=exc))
