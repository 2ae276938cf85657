"""CUPS queues: cups:// URLs, the raw lp command and the errors when CUPS is missing or fails."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from escpos.printer import CupsPrinter

from drivers.printer.connection import open_printer, send
from drivers.printer.cups import CUPS_MISSING_ADVICE, LpQueue, cups_connector, lp_command
from drivers.printer.errors import PrinterConfigError, PrinterConnectionError
from drivers.printer.urls import CupsTarget, parse_printer_url


class FakeLp:
    """Stands in for subprocess.run: records each lp call and returns a set exit status."""

    def __init__(self, returncode: int = 0, stderr: bytes = b"") -> None:
        self.returncode = returncode
        self.stderr = stderr
        self.calls: list[tuple[list[str], bytes]] = []

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        self.calls.append((command, kwargs["input"]))
        return subprocess.CompletedProcess(command, self.returncode, b"", self.stderr)


def test_cups_url_names_queue() -> None:
    assert parse_printer_url("cups://TM-T88V") == CupsTarget(queue="TM-T88V")


def test_cups_queue_name_keeps_case_and_underscores() -> None:
    assert parse_printer_url("cups://Receipt_Printer-2") == CupsTarget(queue="Receipt_Printer-2")


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("cups://", "the queue name is missing"),
        ("cups://TM T88", "'TM T88' has a character CUPS does not allow"),
        ("cups://TM#1", "fragment '1' is not allowed"),
        ("cups://TM/extra", "path '/extra' is not allowed"),
        ("cups://TM?copies=2", "parameter 'copies' is not supported"),
    ],
)
def test_bad_cups_url_names_value(url: str, named: str) -> None:
    with pytest.raises(PrinterConfigError) as raised:
        parse_printer_url(url)

    assert named in str(raised.value)
    assert "cups://QUEUE" in str(raised.value)


def test_lp_command_sends_raw_job_to_queue() -> None:
    assert lp_command("TM-T88V") == ["lp", "-d", "TM-T88V", "-o", "raw", "-t", "chiiki-pos receipt"]


def test_lp_queue_submits_collected_bytes_once() -> None:
    fake = FakeLp()
    queue = LpQueue("TM-T88V", "cups://TM-T88V", run=fake, which=lambda name: "/usr/bin/lp")
    queue.open()

    queue._raw(b"\x1b@")
    queue._raw(b"abc\n")
    queue.submit()
    queue.submit()

    assert fake.calls == [(lp_command("TM-T88V"), b"\x1b@abc\n")]


def test_lp_failure_names_status_and_queue() -> None:
    fake = FakeLp(returncode=1, stderr=b"lp: The printer or class does not exist.\n")
    queue = LpQueue("missing", "cups://missing", run=fake, which=lambda name: "/usr/bin/lp")
    queue._raw(b"job")

    with pytest.raises(PrinterConnectionError) as raised:
        queue.submit()

    message = str(raised.value)
    assert "status 1" in message
    assert "The printer or class does not exist." in message
    assert "lpstat -p" in message
    assert raised.value.url == "cups://missing"


def test_missing_lp_is_clear_error() -> None:
    queue = LpQueue("TM-T88V", "cups://TM-T88V", which=lambda name: None)

    with pytest.raises(PrinterConnectionError) as raised:
        queue.open()

    assert CUPS_MISSING_ADVICE in str(raised.value)
    assert "cups-client" in str(raised.value)


def test_lp_route_chosen_without_pycups(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CupsPrinter, "is_usable", staticmethod(lambda: False))

    assert isinstance(cups_connector("TM-T88V", "cups://TM-T88V"), LpQueue)


def test_open_cups_printer_without_cups_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CupsPrinter, "is_usable", staticmethod(lambda: False))
    monkeypatch.setattr("drivers.printer.cups.shutil.which", lambda name: None)

    with pytest.raises(PrinterConnectionError) as raised:
        open_printer("cups://TM-T88V")

    assert "Could not open printer cups://TM-T88V" in str(raised.value)
    assert "cups-client" in str(raised.value)


def test_send_to_cups_runs_lp_with_whole_job(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeLp()
    monkeypatch.setattr(CupsPrinter, "is_usable", staticmethod(lambda: False))
    monkeypatch.setattr("drivers.printer.cups.shutil.which", lambda name: "/usr/bin/lp")
    monkeypatch.setattr("drivers.printer.cups.subprocess.run", fake)

    send("cups://TM-T88V", b"\x1b@receipt\x1dVB\x18")

    assert fake.calls == [(lp_command("TM-T88V"), b"\x1b@receipt\x1dVB\x18")]
