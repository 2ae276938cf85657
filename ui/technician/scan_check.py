"""The scan test: every key the scan filter takes, in hex and as text, and what it became.

The page listens to ``ScanFilter.key_received`` for the raw key text (Enter arrives as CR) and
to ``scanned`` and ``rejected`` for the detector's decision. The page shows whether
the scanner sends a suffix, whether an input method turned digits full-width, and what the
terminal made of it after ``drivers.scanner.base.normalize_scan``.
"""

from __future__ import annotations

import time

from PySide6.QtWidgets import QWidget

from drivers.scanner.base import contains_kana
from terminal import messages
from ui.errors import clerk_message
from ui.scanning import ScanFilter
from ui.technician.common import Page, value_label
from ui.widgets import styled_label

# Control characters a scanner sends, shown as visible symbols.
CONTROL_SYMBOLS = {"\r": "⏎", "\n": "␊", "\t": "⇥"}
# The raw view keeps this many characters; a burst is at most 600 (drivers.scanner.wedge).
MAX_RAW_CHARS = 700


def hex_bytes(text: str) -> str:
    """Show ``text`` as its UTF-8 bytes in hex, such as ``39 31 0d``."""
    return " ".join(f"{byte:02x}" for byte in text.encode("utf-8"))


def printable(text: str) -> str:
    """Show ``text`` with control characters as symbols, so a suffix is visible."""
    return "".join(
        CONTROL_SYMBOLS.get(char, char if char.isprintable() else "·") for char in text
    )


class ScanCheckPage(Page):
    def __init__(self, scan_filter: ScanFilter, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("読み取りテスト"), parent)
        self._lang = lang
        self._raw = ""
        self._first_key_s: float | None = None
        self._last_key_s = 0.0
        self._scan_done = False
        self.active = False
        self.raw_text = value_label(self)
        self.raw_text.setObjectName("scan_check_text")
        self.raw_hex = value_label(self)
        self.raw_hex.setObjectName("scan_check_hex")
        self.raw_hex.setProperty("role", "caption")
        self.result = value_label(self)
        self.result.setObjectName("scan_check_result")
        self.result.setProperty("role", "lines")
        self.body.addWidget(styled_label(self.tr("受け取った文字"), "caption", self))
        self.body.addWidget(self.raw_text)
        self.body.addWidget(self.raw_hex)
        self.body.addWidget(styled_label(self.tr("読み取り結果"), "caption", self))
        self.body.addWidget(self.result, 1)
        self.clear_button = self.add_button(self.tr("表示を消す"))
        self.clear_button.clicked.connect(self.prepare)
        scan_filter.key_received.connect(self.on_key)
        scan_filter.scanned.connect(self.on_scanned)
        scan_filter.rejected.connect(self.on_rejected)
        scan_filter.typed.connect(self.on_typed)

    def prepare(self) -> None:
        self._raw = ""
        self._first_key_s = None
        self._scan_done = False
        self.raw_text.setText("—")
        self.raw_hex.setText("")
        self.result.setText("")
        self.show_message(self.tr("スキャナーでコードを読んでください。受け取った内容をそのまま表示します"))

    def on_key(self, text: str) -> None:
        if not self.active:
            return
        now_s = time.monotonic()
        if self._scan_done:
            self._raw = ""
            self._scan_done = False
        if self._first_key_s is None:
            self._first_key_s = now_s
        self._last_key_s = now_s
        self._raw = (self._raw + text)[-MAX_RAW_CHARS:]
        self.raw_text.setText(printable(self._raw))
        self.raw_hex.setText(hex_bytes(self._raw))

    def on_scanned(self, code: str) -> None:
        if not self.active:
            return
        lines = [
            self.tr("スキャンとして受け付けました（{count}文字）").format(count=len(code)),
            self.tr("変換後: {code}").format(code=printable(code)),
        ]
        if self._raw and not self._scan_done:
            lines.append(self._timing_text())
            if code != self._raw.rstrip("\r\n\t"):
                lines.append(self.tr("全角文字や記号の入れ替えを直しました"))
        else:
            # Serial, evdev and camera scanners deliver the decoded code without key events.
            self.raw_text.setText(printable(code))
            self.raw_hex.setText(hex_bytes(code))
            lines.append(self.tr("キー入力を通らないスキャナーのため、受け取った文字は変換後のものです"))
        self.result.setText("\n".join(lines))
        self._start_next()

    def on_rejected(self, key: str) -> None:
        if not self.active:
            return
        reason = clerk_message(key, self._lang)
        if key == messages.SCANNER_KANA_MODE or contains_kana(self._raw):
            reason = self.tr("かな入力がオンです。入力モードを半角英数にしてください")
        self.result.setText(self.tr("スキャンとして使えません: {reason}").format(reason=reason))
        self._start_next()

    def _timing_text(self) -> str:
        if self._first_key_s is None:
            return ""
        elapsed_ms = (self._last_key_s - self._first_key_s) * 1000.0
        return self.tr("{keys}キーを {ms:.0f} ms で受信").format(keys=len(self._raw), ms=elapsed_ms)

    def on_typed(self, _key: str) -> None:
        if self.active:
            self.result.setText(self.tr("人の入力として扱いました（スキャンではありません）"))
            self._start_next()

    def _start_next(self) -> None:
        # The raw view keeps showing this burst until the next key starts a new one.
        self._first_key_s = None
        self._scan_done = True
