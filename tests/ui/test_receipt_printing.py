"""The approved screen's receipt line against the printer emulator: confirmed, failed, reprinted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from drivers.printer.emulator import PrinterEmulator
from terminal.config import PrinterConfig
from terminal.paycode import new_payment_code
from terminal.receipt_jobs import ReceiptJobs
from tests.ui.conftest import make_info, make_payment
from tests.ui.test_scanning import enter_amount, scan
from ui import i18n
from ui.app import Terminal
from ui.printing import PrinterReceipts, ReceiptNotPrinted, print_failure_message

PAPER_END_MESSAGE = "用紙がありません。用紙を入れて「もう一度印刷」を押してください。お支払いは完了しています。"


@pytest.fixture
def receipt_log(emulated_receipts: PrinterReceipts) -> PrinterReceipts:
    """The real receipt printer, in place of the shared fixture's in-memory log."""
    return emulated_receipts


def pay_by_code(qtbot: QtBot, terminal: Terminal, amount: str) -> None:
    enter_amount(qtbot, terminal, amount)
    qtbot.mouseClick(terminal.window.controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    scan(terminal.window, new_payment_code())


def test_printed_shown_after_printer_confirms(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], emulator: PrinterEmulator
) -> None:
    terminal = make_terminal()
    result = terminal.window.controller.screens.result

    pay_by_code(qtbot, terminal, "1200")
    qtbot.waitUntil(lambda: result.print_status.text() == "印刷済み", timeout=5000)

    received = emulator.wait_for_job(2)
    assert "領収書" in received.lines
    assert any("1,200" in line for line in received.lines)
    assert emulator.jobs.empty()


def test_paper_end_shows_cause_then_one_tap_reprint(
    qtbot: QtBot,
    make_terminal: Callable[[], Terminal],
    emulator: PrinterEmulator,
    jobs: ReceiptJobs,
) -> None:
    terminal = make_terminal()
    result = terminal.window.controller.screens.result
    emulator.condition.paper_end = True

    pay_by_code(qtbot, terminal, "800")
    qtbot.waitUntil(lambda: result.print_status.text() == PAPER_END_MESSAGE, timeout=5000)

    assert result.headline.text() == "承認"
    assert result.reprint_button.isVisibleTo(terminal.window)
    assert result.reprint_button.text() == "もう一度印刷"
    assert result.reprint_button.property("role") == "primary"
    assert emulator.jobs.empty()
    assert [job.cause for job in jobs.waiting(emulator.url)] == ["paper_end"]

    emulator.condition.paper_end = False
    qtbot.mouseClick(result.reprint_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: result.print_status.text() == "印刷済み", timeout=5000)

    emulator.wait_for_job(2)
    assert emulator.jobs.empty()
    assert jobs.waiting(emulator.url) == []


def test_silent_printer_never_shows_printed(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], emulator: PrinterEmulator
) -> None:
    terminal = make_terminal()
    result = terminal.window.controller.screens.result
    emulator.condition.answers_status = False

    pay_by_code(qtbot, terminal, "500")
    qtbot.waitUntil(lambda: "確認できませんでした" in result.print_status.text(), timeout=10000)

    assert result.print_status.text() != "印刷済み"
    assert result.reprint_button.isVisibleTo(terminal.window)


def test_reprint_after_printed_prints_copy(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], emulator: PrinterEmulator
) -> None:
    terminal = make_terminal()
    result = terminal.window.controller.screens.result
    pay_by_code(qtbot, terminal, "300")
    qtbot.waitUntil(lambda: result.print_status.text() == "印刷済み", timeout=5000)
    emulator.wait_for_job(2)

    qtbot.mouseClick(result.reprint_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not emulator.jobs.empty(), timeout=5000)
    qtbot.waitUntil(lambda: result.print_status.text() == "印刷済み", timeout=5000)

    assert "領収書" in emulator.wait_for_job(1).lines


def test_drawer_kicked_on_first_print_only(
    qtbot: QtBot, emulator: PrinterEmulator, jobs: ReceiptJobs, tmp_path: Path
) -> None:
    config = PrinterConfig(
        url=emulator.url, paper_width_mm=58, open_drawer="on_sale", drawer_pin=5, drawer_on_ms=120, drawer_off_ms=240
    )
    receipts = PrinterReceipts(make_info(), config, jobs, lock_dir=tmp_path)
    payment = make_payment("pay-drawer", 1000)

    receipts.print_payment(payment)
    receipts.print_payment(payment, copy=True)

    first, copy = emulator.wait_for_job(2), emulator.wait_for_job(2)
    assert b"\x1bp\x01\x3c\x78" in first.raw
    assert b"\x1bp" not in copy.raw


def test_no_drawer_kick_by_default(emulator: PrinterEmulator, jobs: ReceiptJobs, tmp_path: Path) -> None:
    receipts = PrinterReceipts(make_info(), PrinterConfig(url=emulator.url), jobs, lock_dir=tmp_path)

    receipts.print_payment(make_payment("pay-plain", 1000))

    assert b"\x1bp" not in emulator.wait_for_job(2).raw


def test_unprinted_receipt_raises_with_cause(emulator: PrinterEmulator, jobs: ReceiptJobs, tmp_path: Path) -> None:
    receipts = PrinterReceipts(make_info(), PrinterConfig(url=emulator.url), jobs, lock_dir=tmp_path)
    emulator.condition.cover_open = True

    with pytest.raises(ReceiptNotPrinted) as raised:
        receipts.print_payment(make_payment("pay-cover", 1000))

    assert raised.value.cause == "cover_open"
    assert "カバーが開いています" in print_failure_message(raised.value)


@pytest.mark.parametrize(
    ("cause", "english"),
    [
        ("paper_end", "The printer is out of paper. Load paper, then press Print again. The payment is complete."),
        ("busy", "Another program is using the printer."),
        ("unknown", "The printer did not confirm the receipt."),
    ],
)
def test_failure_messages_in_english(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cause: str, english: str
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    translator = i18n.install_translator(qapp, "en")
    try:
        message = print_failure_message(ReceiptNotPrinted(cause, "detail"))
    finally:
        if translator is not None:
            qapp.removeTranslator(translator)

    assert message.startswith(english)


def test_receipt_prints_by_itself_once_cover_closed(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], emulator: PrinterEmulator
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    controller.receipts.retry_interval_ms = 100
    result = controller.screens.result
    emulator.condition.cover_open = True

    pay_by_code(qtbot, terminal, "700")
    qtbot.waitUntil(lambda: "カバーが開いています" in result.print_status.text(), timeout=5000)
    emulator.condition.cover_open = False
    qtbot.waitUntil(lambda: result.print_status.text() == "印刷済み", timeout=5000)
    qtbot.wait(300)

    assert any("700" in line for line in emulator.wait_for_job(2).lines)
    assert emulator.jobs.empty()


def test_unconfirmed_receipt_not_retried_by_itself(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], emulator: PrinterEmulator, jobs: ReceiptJobs
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    controller.receipts.retry_interval_ms = 50
    result = controller.screens.result
    emulator.condition.answers_status = False

    pay_by_code(qtbot, terminal, "600")
    qtbot.waitUntil(lambda: "確認できませんでした" in result.print_status.text(), timeout=10000)
    emulator.condition.answers_status = True
    qtbot.wait(400)

    emulator.wait_for_job(2)
    assert emulator.jobs.empty()
    waiting = jobs.waiting(emulator.url)
    assert [(job.cause, job.attempts) for job in waiting] == [("unknown", 1)]
