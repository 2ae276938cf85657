"""Receipts left waiting print once: at startup and after the printer recovers, never twice."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from drivers.printer.emulator import PrinterEmulator, ReceivedJob
from drivers.printer.job import JobCause, JobOutcome
from terminal.receipt_jobs import ReceiptJobs
from tests.ui.conftest import make_payment
from ui.app import Terminal
from ui.printing import PrinterReceipts


@pytest.fixture
def receipt_log(emulated_receipts: PrinterReceipts) -> PrinterReceipts:
    """The real receipt printer, in place of the shared fixture's in-memory log."""
    return emulated_receipts


def leave_waiting(jobs: ReceiptJobs, url: str, payment_id: str, amount_yen: int, cause: JobCause | None) -> None:
    """Record a receipt as a crash or fault left it: queued, or unprinted with ``cause``."""
    jobs.enqueue(payment_id, "payment", make_payment(payment_id, amount_yen).model_dump_json(), url)
    if cause is not None:
        jobs.claim(payment_id, "payment")
        jobs.finish(payment_id, "payment", JobOutcome.failed(cause, "left by an earlier run"))


def received_jobs(emulator: PrinterEmulator, count: int) -> list[ReceivedJob]:
    """Wait for ``count`` printed jobs, then check that no further job arrives."""
    received = [emulator.wait_for_job(2) for _ in range(count)]
    with pytest.raises(TimeoutError):
        emulator.wait_for_job(0.3)
    return received


def amounts_printed(received: list[ReceivedJob], amounts: list[str]) -> list[int]:
    """Count, for each amount, the received jobs whose text shows it."""
    return [sum(1 for job in received if any(amount in line for line in job.lines)) for amount in amounts]


def printed_counts(jobs: ReceiptJobs, payment_ids: list[str]) -> list[int]:
    counts: list[int] = []
    for payment_id in payment_ids:
        job = jobs.job(payment_id, "payment")
        assert job is not None
        counts.append(job.printed_count)
    return counts


def test_paper_end_receipt_prints_after_next_sale(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], emulator: PrinterEmulator, jobs: ReceiptJobs
) -> None:
    terminal = make_terminal()
    presenter = terminal.window.controller.receipts
    presenter.retry_interval_ms = 60_000  # only the waiting receipts may print the first sale's
    emulator.condition.paper_end = True
    with qtbot.waitSignal(presenter.print_failed, timeout=5000):
        presenter.print_payment(make_payment("pay-first", 1100))

    emulator.condition.paper_end = False
    with qtbot.waitSignal(presenter.printed, timeout=5000):
        presenter.print_payment(make_payment("pay-second", 2200))
    qtbot.waitUntil(lambda: jobs.waiting(emulator.url) == [], timeout=5000)
    assert terminal.services.runner.wait(5000)

    received = received_jobs(emulator, 2)
    assert amounts_printed(received, ["1,100", "2,200"]) == [1, 1]
    assert printed_counts(jobs, ["pay-first", "pay-second"]) == [1, 1]


def test_startup_prints_unsent_waiting_receipts(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], emulator: PrinterEmulator, jobs: ReceiptJobs
) -> None:
    leave_waiting(jobs, emulator.url, "pay-queued", 1300, None)
    leave_waiting(jobs, emulator.url, "pay-paper", 1400, JobCause.PAPER_END)
    leave_waiting(jobs, emulator.url, "pay-unconfirmed", 1500, JobCause.UNKNOWN)
    terminal = make_terminal()

    terminal.window.controller.receipts.print_waiting_soon(delay_ms=50)
    qtbot.waitUntil(lambda: [job.receipt_id for job in jobs.waiting(emulator.url)] == ["pay-unconfirmed"], timeout=5000)
    assert terminal.services.runner.wait(5000)

    received = received_jobs(emulator, 2)
    assert amounts_printed(received, ["1,300", "1,400", "1,500"]) == [1, 1, 0]
    unconfirmed = jobs.job("pay-unconfirmed", "payment")
    assert unconfirmed is not None
    assert (unconfirmed.state, unconfirmed.cause, unconfirmed.attempts) == ("unprinted", "unknown", 1)


def test_waiting_receipts_stop_at_failure(
    emulator: PrinterEmulator, jobs: ReceiptJobs, receipt_log: PrinterReceipts
) -> None:
    leave_waiting(jobs, emulator.url, "pay-one", 1000, JobCause.PAPER_END)
    leave_waiting(jobs, emulator.url, "pay-two", 2000, None)
    emulator.condition.cover_open = True

    assert receipt_log.print_waiting() == 0

    waiting = jobs.waiting(emulator.url)
    assert [(job.receipt_id, job.state, job.cause, job.attempts) for job in waiting] == [
        ("pay-one", "unprinted", "cover_open", 2),
        ("pay-two", "queued", None, 0),
    ]
    assert emulator.jobs.empty()


def test_racing_prints_print_each_once(
    emulator: PrinterEmulator, jobs: ReceiptJobs, receipt_log: PrinterReceipts
) -> None:
    leave_waiting(jobs, emulator.url, "pay-left", 1600, JobCause.PAPER_END)
    leave_waiting(jobs, emulator.url, "pay-queued", 1700, None)
    start = threading.Barrier(3)
    counts: list[int] = []
    errors: list[BaseException] = []

    def print_waiting() -> None:
        start.wait()
        counts.append(receipt_log.print_waiting())

    def print_sale() -> None:
        start.wait()
        try:
            receipt_log.print_payment(make_payment("pay-new", 1800))
        except BaseException as exc:  # reported below, so a failure names the exception
            errors.append(exc)

    threads = [threading.Thread(target=target) for target in (print_waiting, print_waiting, print_sale)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    received = received_jobs(emulator, 3)
    assert amounts_printed(received, ["1,600", "1,700", "1,800"]) == [1, 1, 1]
    assert printed_counts(jobs, ["pay-left", "pay-queued", "pay-new"]) == [1, 1, 1]
    # A waiting-receipts call prints the new sale's receipt when it claims it before the sale does.
    assert sum(counts) in (2, 3)
