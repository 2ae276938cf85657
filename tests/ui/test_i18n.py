from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from terminal import messages
from tests.ui.test_scanning import enter_amount
from ui import i18n
from ui.app import Terminal
from ui.receipt_preview import ReceiptPreview


def test_english_switches_labels(english: None, make_terminal: Callable[[str], Terminal]) -> None:
    terminal = make_terminal("en")
    screens = terminal.window.controller.screens

    assert screens.sale.qr_button.text() == "Show QR"
    assert screens.sale.code_button.text() == "Scan code"
    assert screens.sale.standard_button.text() == "Add at 10%"
    assert screens.sale.reduced_button.text() == "Add at 8% (reduced)"
    assert screens.mpm.cancel_button.text() == "Cancel"
    assert screens.history.refund_button.text() == "Refund"
    assert terminal.window.windowTitle() == "Local coin payment terminal"


def test_english_decline_message(
    english: None, qtbot: QtBot, make_terminal: Callable[[str], Terminal]
) -> None:
    terminal = make_terminal("en")
    controller = terminal.window.controller

    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)

    assert controller.screens.sale.hint.text() == messages.message_for(messages.NO_ITEMS, "en")


def test_japanese_needs_no_translation(make_terminal: Callable[[str], Terminal]) -> None:
    terminal = make_terminal("ja")

    assert terminal.window.controller.screens.sale.qr_button.text() == "QRを表示"


def test_every_message_translated() -> None:
    text = (i18n.TS_DIR / "chiiki_pos_en.ts").read_text(encoding="utf-8")

    assert text.count("<message") > 40
    assert 'type="unfinished"' not in text


def test_stale_translation_recompiled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    first = i18n.qm_for("en")
    first.write_bytes(b"stale")
    ts_mtime = (i18n.TS_DIR / "chiiki_pos_en.ts").stat().st_mtime
    os.utime(first, (ts_mtime - 10, ts_mtime - 10))
    second = i18n.qm_for("en")

    assert second == first
    assert second.read_bytes() != b"stale"


def test_missing_lrelease_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(i18n.sys, "executable", str(tmp_path / "python"))

    with pytest.raises(i18n.TranslationError, match="pyside6-lrelease was not found"):
        i18n.qm_for("en")


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(i18n.TranslationError, match="no translation for language 'fr'"):
        i18n.qm_for("fr")


def test_english_total_label(
    english: None, qtbot: QtBot, make_terminal: Callable[[str], Terminal]
) -> None:
    terminal = make_terminal("en")
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "500")

    assert controller.screens.sale.total.text() == "Total ￥500"


def test_demo_pin_note_translated(english: None) -> None:
    preview = ReceiptPreview()

    preview.show_demo_pin("1234")

    assert preview.demo_note.text() == "Demo information: the manager PIN for refunds is 1234"
    assert not preview.demo_note.isHidden()


def test_demo_pin_note_japanese(qapp: QApplication) -> None:
    preview = ReceiptPreview()

    preview.show_demo_pin("1234")

    assert preview.demo_note.text() == "デモ情報: 返金に使う責任者暗証番号は 1234 です"
