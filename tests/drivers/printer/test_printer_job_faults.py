"""Print jobs against the emulator through the real network connector, with each fault injected."""

from __future__ import annotations

import errno
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from escpos.exceptions import DeviceNotFoundError

from drivers.printer.connection import open_printer, read_status
from drivers.printer.document import Cut, Document, QrCode, Text
from drivers.printer.emulator import PrinterEmulator
from drivers.printer.errors import PrinterBusyError
from drivers.printer.job import JobCause, run_job
from drivers.printer.lock import DeviceLock, lock_path
from drivers.printer.profile import printer_profile
from drivers.printer.render import render
from drivers.printer.status import PrinterState, StatusCause

STATUS_TIMEOUT_S = 0.5


@pytest.fixture
def emulator() -> Iterator[PrinterEmulator]:
    with PrinterEmulator(draw_images=False) as running:
        yield running


def receipt_job() -> bytes:
    document = Document([Text("領収書"), Text("合計 ¥1,200"), QrCode("https://coin.example.jp/r/1"), Cut()])
    return render(document, paper_width_mm=80, profile=printer_profile("TM-T20II"))


def test_ok_printer_confirms_job(emulator: PrinterEmulator, tmp_path: Path) -> None:
    outcome = run_job(emulator.url, receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert outcome.printed
    assert outcome.cause is None
    assert emulator.wait_for_job(2).lines[:2] == ["領収書", "合計 ¥1,200"]


@pytest.mark.parametrize(
    ("condition", "cause"),
    [("paper_end", JobCause.PAPER_END), ("cover_open", JobCause.COVER_OPEN), ("offline", JobCause.OFFLINE)],
)
def test_problem_before_job_sends_nothing(
    emulator: PrinterEmulator, tmp_path: Path, condition: str, cause: JobCause
) -> None:
    setattr(emulator.condition, condition, True)

    outcome = run_job(emulator.url, receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause is cause
    assert "before the job" in outcome.detail
    assert emulator.discarded_jobs == 0
    assert emulator.jobs.empty()


def test_near_end_still_prints_and_warns(emulator: PrinterEmulator, tmp_path: Path) -> None:
    emulator.condition.paper_near_end = True

    outcome = run_job(emulator.url, receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert outcome.printed
    assert outcome.paper_near_end
    assert emulator.wait_for_job(2).lines[0] == "領収書"


def test_paper_running_out_mid_job_is_unprinted(emulator: PrinterEmulator, tmp_path: Path) -> None:
    emulator.paper_end_after_bytes = 20

    outcome = run_job(emulator.url, receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause is JobCause.PAPER_END
    assert "after the job" in outcome.detail
    assert emulator.discarded_jobs == 1
    assert emulator.jobs.empty()


def test_disconnect_mid_job_is_unprinted(emulator: PrinterEmulator, tmp_path: Path) -> None:
    emulator.disconnect_after_bytes = 30
    job = receipt_job() + b"\n" * 300_000

    outcome = run_job(emulator.url, job, lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause in (JobCause.DISCONNECTED, JobCause.UNKNOWN)
    assert emulator.interrupted_jobs == 1
    assert emulator.jobs.empty()


def test_disconnect_after_short_job_is_unconfirmed(emulator: PrinterEmulator, tmp_path: Path) -> None:
    job = receipt_job()
    emulator.disconnect_after_bytes = len(job) - 5

    outcome = run_job(emulator.url, job, lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause in (JobCause.DISCONNECTED, JobCause.UNKNOWN)
    assert emulator.jobs.empty()


def test_silent_printer_job_is_unconfirmed(emulator: PrinterEmulator, tmp_path: Path) -> None:
    emulator.condition.answers_status = False

    outcome = run_job(emulator.url, receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause is JobCause.UNKNOWN
    assert "did not confirm" in outcome.detail
    # The job was sent, because an unknown status does not stop it; only the confirmation is missing.
    assert emulator.wait_for_job(2).lines[0] == "領収書"


def test_silent_printer_status_is_unknown_state(emulator: PrinterEmulator) -> None:
    emulator.condition.answers_status = False

    status = read_status(emulator.url, timeout_s=STATUS_TIMEOUT_S)

    assert status.state is PrinterState.UNKNOWN


def test_emulator_recovers_after_paper_loaded(emulator: PrinterEmulator, tmp_path: Path) -> None:
    emulator.condition.paper_end = True
    first = run_job(emulator.url, receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)
    emulator.condition.paper_end = False

    second = run_job(emulator.url, receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert (first.printed, second.printed) == (False, True)
    assert read_status(emulator.url, STATUS_TIMEOUT_S).causes == frozenset()
    emulator.wait_for_job(2)
    assert emulator.jobs.empty()


def test_unreachable_printer_is_disconnected(tmp_path: Path) -> None:
    with PrinterEmulator(draw_images=False) as stopped:
        url = stopped.url

    outcome = run_job(url, receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause is JobCause.DISCONNECTED
    assert url in outcome.detail


def test_file_printer_job_is_unconfirmed(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    target.touch()

    outcome = run_job(f"file://{target}", receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause is JobCause.UNKNOWN
    assert target.read_bytes() == receipt_job()


def test_invalid_url_is_config_cause(tmp_path: Path) -> None:
    outcome = run_job("lpt://1", b"x", lock_dir=tmp_path)

    assert outcome.cause is JobCause.CONFIG


def test_device_lock_rejects_second_holder(tmp_path: Path) -> None:
    url = "network://127.0.0.1:9100"
    with DeviceLock(tmp_path, url):
        with pytest.raises(PrinterBusyError) as raised:
            DeviceLock(tmp_path, url).acquire()

    message = str(raised.value)
    assert url in message
    assert "Close the other copy of the terminal" in message
    DeviceLock(tmp_path, url).acquire()


def test_second_process_holding_printer_gives_busy(emulator: PrinterEmulator, tmp_path: Path) -> None:
    path = lock_path(tmp_path, emulator.url)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "os.write(fd, str(os.getpid()).encode())\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"

        outcome = run_job(emulator.url, receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)
    finally:
        holder.communicate("", timeout=10)

    assert not outcome.printed
    assert outcome.cause is JobCause.BUSY
    assert f"process {holder.pid}" in outcome.detail
    assert emulator.jobs.empty()


def test_lock_released_when_holder_exits(emulator: PrinterEmulator, tmp_path: Path) -> None:
    path = lock_path(tmp_path, emulator.url)
    subprocess.run(
        [sys.executable, "-c", f"import fcntl, os; fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX)"],
        check=True,
    )

    outcome = run_job(emulator.url, receipt_job(), lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert outcome.printed


def test_status_cause_on_cover_open_mid_session(emulator: PrinterEmulator) -> None:
    emulator.condition.cover_open = True

    status = read_status(emulator.url, STATUS_TIMEOUT_S)

    assert status.state is PrinterState.PROBLEM
    assert status.primary_cause is StatusCause.COVER_OPEN


class BusyUsbConnector:
    """A USB connector whose open fails the way python-escpos reports a claimed interface."""

    def open(self) -> None:
        try:
            raise OSError(errno.EBUSY, "Resource busy")
        except OSError as exc:
            raise DeviceNotFoundError("Unable to open USB printer") from exc

    def close(self) -> None:
        pass


def test_busy_usb_printer_names_cause_and_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("drivers.printer.connection._create_usb", lambda url, target: BusyUsbConnector())

    with pytest.raises(PrinterBusyError) as raised:
        open_printer("usb://04b8:0202")
    outcome = run_job("usb://04b8:0202", b"x", lock_dir=tmp_path)

    message = str(raised.value)
    assert "USB device 04b8:0202 is busy (Resource busy)" in message
    assert "usblp" in message
    assert "cups://" in message
    assert outcome.cause is JobCause.BUSY
