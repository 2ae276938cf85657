"""The technician PIN: a masked pad, and a lockout after repeated wrong PINs."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from terminal.config import verify_pin
from ui.widgets import PinPad, styled_label
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

# Five tries cover a mistyped PIN or two; 10^4 PINs at five per five minutes take weeks.
MAX_FAILED_PINS = 5
LOCKOUT_S = 300.0


class PinLockout:
    """Counts wrong PINs and refuses checks for ``lockout_s`` after ``max_failures`` in a row.

    NOTE: the count is kept in memory, so restarting the terminal clears a lockout.
    """

    def __init__(
        self,
        max_failures: int = MAX_FAILED_PINS,
        lockout_s: float = LOCKOUT_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self._monotonic = monotonic
        self._failures = 0
        self._locked_until: float | None = None

    def remaining_s(self) -> float:
        """Return the seconds until PINs are accepted again, 0 when not locked."""
        if self._locked_until is None:
            return 0.0
        remaining = self._locked_until - self._monotonic()
        if remaining <= 0:
            self._locked_until = None
            return 0.0
        return remaining

    def record(self, matched: bool) -> None:
        if matched:
            self._failures = 0
            return
        self._failures += 1
        if self._failures >= self.max_failures:
            self._failures = 0
            self._locked_until = self._monotonic() + self.lockout_s
            log.warning(
                "technician PIN locked for %.0f s after repeated wrong PINs", self.lockout_s
            )

    @property
    def tries_left(self) -> int:
        return self.max_failures - self._failures


class TechnicianPinScreen(QWidget):
    """Asks for the technician PIN and emits ``accepted`` when it matches."""

    accepted = Signal()
    cancelled = Signal()

    def __init__(
        self, pin_hash: str, runner: TaskRunner, lockout: PinLockout, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._pin_hash = pin_hash
        self._runner = runner
        self.lockout = lockout
        self.title = styled_label(self.tr("保守メニュー：技術者の暗証番号"), "title")
        self.message = styled_label("", "hint")
        self.message.setObjectName("technician_pin_message")
        self.pad = PinPad(self)
        self.pad.submitted.connect(self.check)
        self.pad.cancelled.connect(self.cancelled)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message)
        layout.addWidget(self.pad, 1)

    def prepare(self) -> None:
        self.pad.clear()
        if not self._pin_hash:
            self.message.setText(
                self.tr("技術者の暗証番号が設定されていません。設定ファイルに technician_pin_hash を入れてください")
            )
        elif not self._show_lockout():
            self.message.setText(self.tr("暗証番号を入力して「OK」を押してください"))

    def check(self, pin: str) -> None:
        """Verify ``pin`` on a worker (PBKDF2 takes a noticeable fraction of a second)."""
        if not self._pin_hash or self._show_lockout():
            return
        pin_hash = self._pin_hash
        self.pad.setEnabled(False)
        self.message.setText(self.tr("確認しています…"))
        self._runner.run(lambda: verify_pin(pin, pin_hash), self._on_checked, self._on_failed)

    def _on_checked(self, matched: object) -> None:
        self.pad.setEnabled(True)
        self.lockout.record(bool(matched))
        if matched:
            log.info("technician PIN accepted")
            self.accepted.emit()
            return
        log.warning("technician PIN rejected")
        if not self._show_lockout():
            self.message.setText(
                self.tr("暗証番号が違います。あと {tries} 回まちがえると しばらく使えなくなります").format(
                    tries=self.lockout.tries_left
                )
            )

    def _on_failed(self, exc: BaseException) -> None:
        self.pad.setEnabled(True)
        log.error("technician PIN check failed", exc_info=exc)
        self.message.setText(self.tr("暗証番号を確認できませんでした。もう一度入力してください"))

    def _show_lockout(self) -> bool:
        remaining_s = self.lockout.remaining_s()
        if remaining_s <= 0:
            return False
        self.message.setText(
            self.tr("暗証番号を何度もまちがえたため {minutes} 分間は使えません").format(
                minutes=math.ceil(remaining_s / 60)
            )
        )
        return True
