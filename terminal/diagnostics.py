"""What the technician's diagnostics screen shows, collected without Qt.

``collect_diagnostics`` blocks (a printer status query, a GET /v1/health), so the screen runs
it on a worker thread. Each part that fails is recorded in the result with the reason and
never raises, so one broken part does not hide the others.
"""

from __future__ import annotations

import ctypes
import logging
import platform
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from typing import Any, Protocol

from drivers.printer.connection import read_status
from drivers.printer.errors import PrinterError
from drivers.printer.status import PrinterStatus
from terminal.api_client import ApiError, Health
from terminal.clock import CLOCK_WARNING_OFFSET_S, ServerClock, device_now, parse_utc
from terminal.config import TerminalConfig
from terminal.store import Store, StoreError

logger = logging.getLogger(__name__)

# Distribution names whose versions are reported; the keys are the labels shown.
PACKAGE_VERSIONS = {
    "chiiki-pos": "chiiki-pos",
    "PySide6": "PySide6",
    "python-escpos": "python-escpos",
    "pyzbar": "pyzbar",
}
UNKNOWN_VERSION = "?"


class HealthApi(Protocol):
    """The health check of ``terminal.api_client.ApiClient``."""

    def health(self) -> Health: ...


@dataclass(frozen=True)
class ServerCheck:
    """The result of one GET /v1/health."""

    reachable: bool
    latency_ms: float | None = None
    server_time: str = ""
    # Server time minus device time measured by this check, None without a readable time.
    clock_offset_s: float | None = None
    error: str = ""


@dataclass(frozen=True)
class OutboxCheck:
    """Entries waiting to be sent, the oldest one's capture time, and declined entries."""

    waiting_count: int = 0
    waiting_total_yen: int = 0
    oldest_waiting_at: datetime | None = None
    declined_count: int = 0
    error: str = ""


@dataclass(frozen=True)
class Diagnostics:
    terminal_id: str
    server_url: str
    printer_url: str
    printer: PrinterStatus
    server: ServerCheck
    outbox: OutboxCheck
    # Server time minus device time: measured by the health check when the server responded,
    # else the offset the terminal last measured; None when neither is known.
    clock_offset_s: float | None
    clock_warning: bool
    versions: Mapping[str, str] = field(default_factory=dict)
    collected_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready values, for the support bundle."""
        data = asdict(self)
        data["printer"] = {
            "state": self.printer.state.value,
            "causes": sorted(cause.value for cause in self.printer.causes),
            "detail": self.printer.detail,
        }
        oldest = self.outbox.oldest_waiting_at
        data["outbox"]["oldest_waiting_at"] = oldest.isoformat() if oldest else None
        data["versions"] = dict(self.versions)
        return data


def collect_diagnostics(
    config: TerminalConfig,
    terminal_id: str,
    *,
    health_api: HealthApi | None,
    store: Store | None,
    clock: ServerClock | None,
    extra_versions: Mapping[str, str] | None = None,
    printer_status: Callable[[str], PrinterStatus] = read_status,
    monotonic: Callable[[], float] = time.monotonic,
) -> Diagnostics:
    """Check the printer, the server, the outbox and the clock; see the module docstring.

    ``extra_versions`` adds versions only the caller can read, such as Qt's.
    """
    server = check_server(health_api, clock, monotonic)
    offset_s = server.clock_offset_s
    if offset_s is None and clock is not None:
        offset_s = clock.offset_s
    return Diagnostics(
        terminal_id=terminal_id,
        server_url=config.server_url,
        printer_url=config.printer.url,
        printer=check_printer(config.printer.url, printer_status),
        server=server,
        outbox=check_outbox(store),
        clock_offset_s=offset_s,
        clock_warning=offset_s is not None and abs(offset_s) > CLOCK_WARNING_OFFSET_S,
        versions={**software_versions(), **(extra_versions or {})},
        collected_at=(clock.device_now() if clock else datetime.now().astimezone()).isoformat(),
    )


def check_printer(
    url: str, printer_status: Callable[[str], PrinterStatus] = read_status
) -> PrinterStatus:
    try:
        return printer_status(url)
    except PrinterError as exc:
        return PrinterStatus.unknown(str(exc))


def check_server(
    health_api: HealthApi | None,
    clock: ServerClock | None,
    monotonic: Callable[[], float] = time.monotonic,
) -> ServerCheck:
    """Time one GET /v1/health and measure the clock offset from its ``server_time``.

    ``clock`` supplies the device time and is not changed; the sync worker keeps it up to date.
    """
    if health_api is None:
        return ServerCheck(reachable=False, error="no server connection is configured")
    device_clock = clock.device_now if clock is not None else device_now
    sent_at = device_clock()
    started_s = monotonic()
    try:
        health = health_api.health()
    except ApiError as exc:
        logger.info("diagnostics: health check failed: %s", exc)
        return ServerCheck(reachable=False, error=str(exc))
    latency_ms = (monotonic() - started_s) * 1000.0
    received_at = device_clock()
    return ServerCheck(
        reachable=True,
        latency_ms=latency_ms,
        server_time=health.server_time,
        clock_offset_s=_measured_offset_s(health.server_time, sent_at, received_at),
    )


def _measured_offset_s(server_time: str, sent_at: datetime, received_at: datetime) -> float | None:
    # As in ServerClock.observe: the server read its clock about halfway through the request.
    try:
        server_at = parse_utc(server_time)
    except ValueError:
        logger.warning("diagnostics: server_time %r is not an ISO 8601 time", server_time)
        return None
    return (server_at - (sent_at + (received_at - sent_at) / 2)).total_seconds()


def check_outbox(store: Store | None) -> OutboxCheck:
    if store is None:
        return OutboxCheck(error="the terminal database is not open")
    try:
        waiting = store.waiting()
        declined = store.declined_count()
    except StoreError as exc:
        return OutboxCheck(error=str(exc))
    return OutboxCheck(
        waiting_count=waiting.count,
        waiting_total_yen=waiting.total_yen,
        oldest_waiting_at=waiting.oldest_captured_at,
        declined_count=declined,
    )


def software_versions() -> dict[str, str]:
    """Return the versions of Python, SQLite, zbar and the packages in PACKAGE_VERSIONS."""
    versions = {"Python": platform.python_version(), "SQLite": sqlite3.sqlite_version}
    for label, distribution in PACKAGE_VERSIONS.items():
        try:
            versions[label] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            versions[label] = UNKNOWN_VERSION
    versions["zbar"] = zbar_version()
    return versions


def zbar_version() -> str:
    """Ask the zbar library pyzbar loads for its version; "?" when it cannot be loaded."""
    try:
        from pyzbar import zbar_library

        library, _dependencies = zbar_library.load()
    except (ImportError, OSError) as exc:
        logger.info("zbar library not loaded: %s", exc)
        return UNKNOWN_VERSION
    major, minor, patch = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    # zbar_version(major, minor, patch) since zbar 0.23; older versions take two pointers
    # and leave the third untouched, which then reads 0.
    library.zbar_version(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(patch))
    return f"{major.value}.{minor.value}.{patch.value}"
