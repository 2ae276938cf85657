from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drivers.printer.emulator import PrinterEmulator
from drivers.printer.errors import PrinterConfigError
from drivers.printer.status import PrinterState, PrinterStatus, StatusCause
from terminal.api_client import Health, Unreachable
from terminal.clock import ServerClock
from terminal.config import PrinterConfig, TerminalConfig
from terminal.diagnostics import check_printer, collect_diagnostics, software_versions
from terminal.protocol import TaxLine
from terminal.store import NewCapture, Store, open_store

DEVICE_NOW = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


class FakeHealth:
    def __init__(self, server_time: str | None = None, error: Exception | None = None) -> None:
        self.server_time = server_time
        self.error = error
        self.calls = 0

    def health(self) -> Health:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return Health(status="ok", server_time=self.server_time or "")


class Ticks:
    """A monotonic clock that advances by ``step_s`` on every read."""

    def __init__(self, step_s: float) -> None:
        self.now_s = 100.0
        self.step_s = step_s

    def __call__(self) -> float:
        self.now_s += self.step_s
        return self.now_s


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "data")
    yield opened
    opened.close()


def config_for(url: str = "network://127.0.0.1:9") -> TerminalConfig:
    return TerminalConfig(server_url="http://127.0.0.1:8000", printer=PrinterConfig(url=url))


def record_sale(store: Store, capture_id: str, amount_yen: int, captured_at: datetime) -> None:
    store.record_capture(
        NewCapture(
            capture_id=capture_id,
            kind="online_payment",
            amount_yen=amount_yen,
            method="cpm",
            captured_at=captured_at,
            tax_lines=(TaxLine(rate_percent=10, amount_yen=amount_yen),),
            payment_id=f"pay-{capture_id}",
        )
    )


def ok_printer(url: str) -> PrinterStatus:
    return PrinterStatus(PrinterState.OK)


def test_server_latency_and_clock_skew(store: Store) -> None:
    clock = ServerClock(device_clock=lambda: DEVICE_NOW)
    server_time = (DEVICE_NOW + timedelta(seconds=300)).isoformat()

    result = collect_diagnostics(
        config_for(),
        "term-1",
        health_api=FakeHealth(server_time),
        store=store,
        clock=clock,
        printer_status=ok_printer,
        monotonic=Ticks(0.25),
    )

    assert result.server.reachable
    assert result.server.latency_ms == pytest.approx(250.0)
    assert result.clock_offset_s == pytest.approx(300.0)
    assert result.clock_warning
    assert clock.offset_s == 0.0


def test_unreachable_server_keeps_last_offset(store: Store) -> None:
    clock = ServerClock(device_clock=lambda: DEVICE_NOW, offset_s=-4.0)

    result = collect_diagnostics(
        config_for(),
        "term-1",
        health_api=FakeHealth(error=Unreachable("GET /v1/health failed: connection refused")),
        store=store,
        clock=clock,
        printer_status=ok_printer,
    )

    assert not result.server.reachable
    assert "connection refused" in result.server.error
    assert result.clock_offset_s == -4.0
    assert not result.clock_warning


def test_outbox_depth_and_oldest_entry(store: Store) -> None:
    record_sale(store, "cap-1", 1_200, DEVICE_NOW - timedelta(hours=3))
    record_sale(store, "cap-2", 800, DEVICE_NOW - timedelta(hours=1))

    result = collect_diagnostics(
        config_for(), "term-1", health_api=None, store=store, clock=None, printer_status=ok_printer
    )

    assert result.outbox.waiting_count == 2
    assert result.outbox.waiting_total_yen == 2_000
    assert result.outbox.oldest_waiting_at == DEVICE_NOW - timedelta(hours=3)
    assert result.outbox.declined_count == 0
    assert result.server.error == "no server connection is configured"


def test_printer_status_from_emulator(store: Store) -> None:
    with PrinterEmulator(draw_images=False) as emulator:
        emulator.condition.cover_open = True
        result = collect_diagnostics(
            config_for(emulator.url), "term-1", health_api=None, store=store, clock=None
        )

    assert result.printer.state is PrinterState.PROBLEM
    assert result.printer.primary_cause is StatusCause.COVER_OPEN


def test_invalid_printer_url_reported() -> None:
    def invalid(url: str) -> PrinterStatus:
        raise PrinterConfigError(f"Printer URL {url!r} is invalid.")

    status = check_printer("bogus://x", invalid)

    assert status.state is PrinterState.UNKNOWN
    assert "bogus://x" in status.detail


def test_versions_name_every_component() -> None:
    versions = software_versions()

    for name in ("Python", "SQLite", "chiiki-pos", "PySide6", "python-escpos", "pyzbar", "zbar"):
        assert versions[name], name
    assert versions["Python"].count(".") == 2


def test_report_serialises_to_json(store: Store) -> None:
    record_sale(store, "cap-1", 500, DEVICE_NOW)
    result = collect_diagnostics(
        config_for(),
        "term-9",
        health_api=FakeHealth(DEVICE_NOW.isoformat()),
        store=store,
        clock=ServerClock(device_clock=lambda: DEVICE_NOW),
        extra_versions={"Qt": "6.11.3"},
        printer_status=lambda url: PrinterStatus(PrinterState.PROBLEM, frozenset({StatusCause.PAPER_END})),
    )

    data = json.loads(json.dumps(result.to_dict()))

    assert data["terminal_id"] == "term-9"
    assert data["printer"] == {"state": "problem", "causes": ["paper_end"], "detail": ""}
    assert data["outbox"]["oldest_waiting_at"] == DEVICE_NOW.isoformat()
    assert data["versions"]["Qt"] == "6.11.3"
