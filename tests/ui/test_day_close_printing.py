"""Day reports printed through the receipt job path on the printer emulator, once per Z report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.printer.emulator import PrinterEmulator
from terminal import day_close
from terminal.protocol import TaxLine
from terminal.receipt_jobs import ReceiptJobs
from terminal.store import NewCapture, Store, open_store
from ui.day_close import ReportPrinter, report_id
from ui.printing import PrinterReceipts

NOW = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def printer(emulated_receipts: PrinterReceipts) -> PrinterReceipts:
    return emulated_receipts


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(tmp_path / "data")
    opened.record_capture(NewCapture(
        capture_id="cap-00000001", kind="online_payment", amount_yen=2_400, method="mpm",
        captured_at=NOW, tax_lines=(TaxLine(rate_percent=10, amount_yen=2_400),),
        payment_id="pay-1",
    ))
    return opened


def test_z_report_prints_on_emulator(
    printer: PrinterReceipts, emulator: PrinterEmulator, store: Store
) -> None:
    report = day_close.close_day(store, "2024-05-01", NOW, max_waiting=1)

    assert isinstance(printer, ReportPrinter)
    printer.print_report(report_id(report), report.model_dump_json())
    lines = [" ".join(line.split()) for line in emulator.wait_for_job().lines]

    assert "精算レポート（Z）" in lines
    assert "精算番号 Z0001" in lines
    assert "純売上 ￥2,400" in lines
    assert "12時 ■■■■■■■ ￥2,400" in lines


def test_z_report_printed_again_only_as_copy(
    printer: PrinterReceipts, emulator: PrinterEmulator, jobs: ReceiptJobs, store: Store
) -> None:
    report = day_close.close_day(store, "2024-05-01", NOW, max_waiting=1)
    payload = report.model_dump_json()
    printer.print_report("z-0001", payload)
    emulator.wait_for_job()

    printer.print_report("z-0001", payload, copy=True)
    emulator.wait_for_job()
    printer.print_report("z-0001", payload)

    job = jobs.job("z-0001", "report")
    assert job is not None
    assert job.state == "printed"
    assert job.attempts == 2
    assert emulator.jobs.empty()
