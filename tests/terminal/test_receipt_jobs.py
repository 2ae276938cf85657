"""The receipt job record: states, exclusive claims, recovery, and printing once after faults."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.printer.document import Cut, Document, Text
from drivers.printer.emulator import PrinterEmulator
from drivers.printer.job import JobCause, JobOutcome, run_job
from drivers.printer.render import render
from terminal.receipt_jobs import (
    ReceiptJob,
    ReceiptJobs,
    ReceiptPrinter,
    RenderError,
    open_receipt_jobs,
    sqlite_engine,
)
from terminal.store import open_store

DEVICE = "network://127.0.0.1:9100"
STATUS_TIMEOUT_S = 0.5


@pytest.fixture
def jobs(tmp_path: Path) -> Iterator[ReceiptJobs]:
    opened = open_receipt_jobs(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def emulator() -> Iterator[PrinterEmulator]:
    with PrinterEmulator(draw_images=False) as running:
        yield running


def render_payload(job: ReceiptJob) -> bytes:
    return render(Document([Text(f"領収書 {job.payload}"), Cut()]), paper_width_mm=58)


def emulator_printer(jobs: ReceiptJobs, emulator: PrinterEmulator, lock_dir: Path) -> ReceiptPrinter:
    return ReceiptPrinter(
        jobs,
        emulator.url,
        render_payload,
        lambda data: run_job(emulator.url, data, lock_dir=lock_dir, status_timeout_s=STATUS_TIMEOUT_S),
    )


def received_lines(emulator: PrinterEmulator) -> list[str]:
    lines: list[str] = []
    while not emulator.jobs.empty():
        lines.append(emulator.jobs.get_nowait().lines[0])
    return lines


def test_table_lives_in_terminal_database(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    jobs = open_receipt_jobs(tmp_path)
    jobs.enqueue("pay-1", "payment", "{}", DEVICE)
    store.close()
    jobs.close()

    with sqlite3.connect(tmp_path / "terminal.db") as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        journal_mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    assert {"captures", "outbox", "receipt_jobs"} <= tables
    assert journal_mode == "wal"


def test_enqueue_twice_keeps_one_job(jobs: ReceiptJobs) -> None:
    first = jobs.enqueue("pay-1", "payment", '{"a": 1}', DEVICE)
    second = jobs.enqueue("pay-1", "payment", '{"a": 2}', DEVICE)

    assert first == second
    assert second.state == "queued"
    assert second.payload == '{"a": 1}'


def test_payment_and_refund_receipts_are_separate(jobs: ReceiptJobs) -> None:
    jobs.enqueue("id-1", "payment", "{}", DEVICE)
    jobs.enqueue("id-1", "refund", "{}", DEVICE)

    assert [job.kind for job in jobs.waiting(DEVICE)] == ["payment", "refund"]


def test_unknown_kind_rejected(jobs: ReceiptJobs) -> None:
    with pytest.raises(ValueError, match="receipt kind 'invoice'"):
        jobs.enqueue("pay-1", "invoice", "{}", DEVICE)  # type: ignore[arg-type]


def test_claim_is_exclusive(jobs: ReceiptJobs) -> None:
    jobs.enqueue("pay-1", "payment", "{}", DEVICE)

    first = jobs.claim("pay-1", "payment")
    second = jobs.claim("pay-1", "payment")

    assert first is not None and first.state == "printing"
    assert first.attempts == 1
    assert second is None


def test_one_print_at_a_time_per_device(jobs: ReceiptJobs) -> None:
    jobs.enqueue("pay-1", "payment", "{}", DEVICE)
    jobs.enqueue("pay-2", "payment", "{}", DEVICE)
    jobs.enqueue("pay-3", "payment", "{}", "usb://04b8:0202")

    assert jobs.claim("pay-1", "payment") is not None
    assert jobs.claim("pay-2", "payment") is None
    assert jobs.claim("pay-3", "payment") is not None


def test_printed_job_not_claimed_again_unless_copy(jobs: ReceiptJobs) -> None:
    jobs.enqueue("pay-1", "payment", "{}", DEVICE)
    jobs.claim("pay-1", "payment")
    jobs.finish("pay-1", "payment", JobOutcome(printed=True))

    assert jobs.claim("pay-1", "payment") is None
    copy = jobs.claim("pay-1", "payment", copy=True)
    assert copy is not None and copy.attempts == 2


def test_unprinted_job_keeps_cause(jobs: ReceiptJobs) -> None:
    jobs.enqueue("pay-1", "payment", "{}", DEVICE)
    jobs.claim("pay-1", "payment")

    job = jobs.finish("pay-1", "payment", JobOutcome.failed(JobCause.PAPER_END, "paper end before the job"))

    assert (job.state, job.cause, job.detail) == ("unprinted", "paper_end", "paper end before the job")
    assert job.printed_count == 0


def test_interrupted_job_becomes_unprinted_on_reopen(tmp_path: Path) -> None:
    jobs = open_receipt_jobs(tmp_path)
    jobs.enqueue("pay-1", "payment", "{}", DEVICE)
    jobs.claim("pay-1", "payment")
    jobs.close()

    reopened = ReceiptJobs(sqlite_engine(tmp_path / "terminal.db"))
    job = reopened.job("pay-1", "payment")
    reopened.close()

    assert job is not None
    assert (job.state, job.cause) == ("unprinted", "interrupted")


def test_layout_error_marks_unprinted(jobs: ReceiptJobs) -> None:
    def broken(job: ReceiptJob) -> bytes:
        raise RenderError("QR data too long")

    sent: list[bytes] = []
    printer = ReceiptPrinter(jobs, DEVICE, broken, lambda data: sent.append(data) or JobOutcome(printed=True))

    attempt = printer.print_receipt("pay-1", "payment", "{}")

    assert attempt.job is not None
    assert (attempt.job.state, attempt.job.cause) == ("unprinted", "layout")
    assert sent == []


def test_receipt_prints_once_on_ok_printer(jobs: ReceiptJobs, emulator: PrinterEmulator, tmp_path: Path) -> None:
    printer = emulator_printer(jobs, emulator, tmp_path)

    first = printer.print_receipt("pay-1", "payment", "A")
    again = printer.print_receipt("pay-1", "payment", "A")

    assert first.printed and first.sent
    assert again.printed and not again.sent
    emulator.wait_for_job(2)
    assert emulator.jobs.empty()


def test_paper_end_then_recovery_prints_each_once(
    jobs: ReceiptJobs, emulator: PrinterEmulator, tmp_path: Path
) -> None:
    printer = emulator_printer(jobs, emulator, tmp_path)
    emulator.condition.paper_end = True
    failed = [printer.print_receipt(f"pay-{n}", "payment", f"R{n}") for n in (1, 2)]
    emulator.condition.paper_end = False

    retried = printer.print_waiting()
    retried_again = printer.print_waiting()

    assert [attempt.job.cause for attempt in failed if attempt.job] == ["paper_end", "paper_end"]
    assert [attempt.printed for attempt in retried] == [True, True]
    assert retried_again == []
    emulator.wait_for_job(2)
    emulator.wait_for_job(2)
    assert emulator.jobs.empty()
    assert [job.printed_count for job in (jobs.job("pay-1", "payment"), jobs.job("pay-2", "payment")) if job] == [1, 1]


def test_queued_job_printed_once_after_printer_returns(
    jobs: ReceiptJobs, emulator: PrinterEmulator, tmp_path: Path
) -> None:
    jobs.enqueue("pay-1", "payment", "Q", emulator.url)
    printer = emulator_printer(jobs, emulator, tmp_path)
    emulator.condition.offline = True
    blocked = printer.print_waiting()
    emulator.condition.offline = False

    printed = printer.print_waiting()

    assert [attempt.job.cause for attempt in blocked if attempt.job] == ["offline"]
    assert [attempt.printed for attempt in printed] == [True]
    assert received_lines(emulator) == ["領収書 Q"]
    assert printer.print_waiting() == []


def test_disconnect_mid_job_then_reprint_prints_once(
    jobs: ReceiptJobs, emulator: PrinterEmulator, tmp_path: Path
) -> None:
    printer = emulator_printer(jobs, emulator, tmp_path)
    emulator.disconnect_after_bytes = 12
    failed = printer.print_receipt("pay-1", "payment", "D")
    emulator.disconnect_after_bytes = None

    reprinted = printer.print_receipt("pay-1", "payment", "D")

    assert failed.job is not None and failed.job.state == "unprinted"
    assert reprinted.printed
    assert received_lines(emulator) == ["領収書 D"]
    assert emulator.interrupted_jobs == 1


def test_retry_and_manual_reprint_race_print_once(
    jobs: ReceiptJobs, emulator: PrinterEmulator, tmp_path: Path
) -> None:
    jobs.enqueue("pay-1", "payment", "RACE", emulator.url)
    jobs.claim("pay-1", "payment")
    jobs.finish("pay-1", "payment", JobOutcome.failed(JobCause.COVER_OPEN, "cover open"))
    # Two terminals' worth of callers on one database: each has its own printer object, so only
    # the database claim keeps them apart.
    printers = [emulator_printer(jobs, emulator, tmp_path) for _ in range(2)]
    start = threading.Barrier(2)
    results: list[bool] = []

    def retry() -> None:
        start.wait()
        results.extend(attempt.sent for attempt in printers[0].print_waiting())

    def reprint() -> None:
        start.wait()
        results.append(printers[1].print_receipt("pay-1", "payment", "RACE").sent)

    threads = [threading.Thread(target=retry), threading.Thread(target=reprint)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    emulator.wait_for_job(2)
    assert emulator.jobs.empty()
    assert results.count(True) == 1
    job = jobs.job("pay-1", "payment")
    assert job is not None and (job.state, job.printed_count) == ("printed", 1)


def test_copy_prints_again_and_counts(jobs: ReceiptJobs, emulator: PrinterEmulator, tmp_path: Path) -> None:
    printer = emulator_printer(jobs, emulator, tmp_path)
    printer.print_receipt("pay-1", "payment", "C")

    copy = printer.print_receipt("pay-1", "payment", "C", copy=True)

    assert copy.printed and copy.sent
    assert copy.job is not None and copy.job.printed_count == 2
    assert received_lines(emulator) == ["領収書 C", "領収書 C"]
