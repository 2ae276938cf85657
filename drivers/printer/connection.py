"""Open printers by URL with python-escpos connectors, send jobs and read status.

``open_printer`` maps a URL (see ``urls``) to an ``escpos.printer`` connector (Network, Usb,
Serial, File or Dummy), opens it and wraps it in a ``PrinterConnection``. Jobs are written as raw
bytes through the connector's ``_raw``, because the text methods of python-escpos would re-encode
Japanese text. Errors from the connectors are raised as ``PrinterConnectionError`` naming the URL.
"""

from __future__ import annotations

import logging
import socket
from types import TracebackType
from typing import Any

from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, File, Network, Serial, Usb

from drivers.printer.errors import PrinterConfigError, PrinterConnectionError
from drivers.printer.status import PrinterStatus, query_socket_status
from drivers.printer.urls import (
    DummyTarget,
    FileTarget,
    NetworkTarget,
    PrinterTarget,
    SerialTarget,
    UsbTarget,
    parse_printer_url,
)

logger = logging.getLogger(__name__)

DEFAULT_STATUS_TIMEOUT_S = 2.0

# Exceptions python-escpos connectors raise: its own errors, socket and file errors (pyserial's and
# pyusb's errors derive from OSError), pyusb's NoBackendError (a ValueError) and the RuntimeError
# python-escpos raises when pyusb is not installed.
_CONNECTOR_ERRORS = (EscposError, OSError, ValueError, RuntimeError)


class PrinterConnection:
    """An open printer: the URL it was opened with and the python-escpos connector."""

    def __init__(self, url: str, target: PrinterTarget, printer: Any) -> None:
        self.url = url
        self.target = target
        self.printer = printer
        self._closed = False

    def write(self, data: bytes) -> None:
        """Write raw ESC/POS bytes to the printer."""
        if self._closed:
            raise PrinterConnectionError(f"The connection to printer {self.url} is already closed.", self.url)
        try:
            self.printer._raw(data)
        except _CONNECTOR_ERRORS as exc:
            raise PrinterConnectionError(f"Writing to printer {self.url} failed: {_one_line(exc)}", self.url) from exc

    def read_status(self, timeout_s: float = DEFAULT_STATUS_TIMEOUT_S) -> PrinterStatus:
        """Ask the printer for its real-time status (DLE EOT 1, 2 and 4).

        NOTE: only network printers are queried. USB, serial and file connections return an
        unknown status, because their python-escpos connectors read without a bounded timeout
        (USB, file) or have not been tested against a printer (serial).
        """
        if not isinstance(self.target, NetworkTarget):
            return PrinterStatus.unknown(f"status is not read from {_scheme(self.url)} printers")
        if self._closed:
            return PrinterStatus.unknown("the connection is closed")
        sock: socket.socket = self.printer.device
        try:
            return query_socket_status(sock, timeout_s)
        except OSError as exc:
            logger.warning("Reading status from printer %s failed: %s", self.url, exc)
            return PrinterStatus.unknown(f"reading status failed: {exc}")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.printer.close()
        except _CONNECTOR_ERRORS as exc:
            logger.warning("Closing printer %s failed: %s", self.url, exc)

    def __enter__(self) -> PrinterConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_printer(url: str) -> PrinterConnection:
    """Open the printer named by ``url``.

    Raises PrinterConfigError for an invalid URL and PrinterConnectionError when the printer
    cannot be reached.
    """
    target = parse_printer_url(url)
    printer = _create_connector(url, target)
    if not isinstance(target, DummyTarget):
        try:
            printer.open()
        except _CONNECTOR_ERRORS as exc:
            _discard(printer)
            raise PrinterConnectionError(f"Could not open printer {url}: {_one_line(exc)}", url) from exc
    logger.info("Opened printer %s", url)
    return PrinterConnection(url, target, printer)


def send(printer: str | PrinterConnection, job: bytes) -> None:
    """Write ``job`` to a printer URL or open connection, then close the connection."""
    connection = open_printer(printer) if isinstance(printer, str) else printer
    try:
        connection.write(job)
        logger.info("Sent print job of %d bytes to %s", len(job), connection.url)
    finally:
        connection.close()


def read_status(printer: str | PrinterConnection, timeout_s: float = DEFAULT_STATUS_TIMEOUT_S) -> PrinterStatus:
    """Read a printer's status. A URL is opened for the query and closed again.

    A printer that cannot be opened has an unknown status; an invalid URL still raises
    PrinterConfigError.
    """
    if isinstance(printer, PrinterConnection):
        return printer.read_status(timeout_s)
    try:
        connection = open_printer(printer)
    except PrinterConnectionError as exc:
        return PrinterStatus.unknown(str(exc))
    with connection:
        return connection.read_status(timeout_s)


def _create_connector(url: str, target: PrinterTarget) -> Any:
    match target:
        case NetworkTarget():
            return Network(host=target.host, port=target.port, timeout=target.timeout_s)
        case UsbTarget():
            return _create_usb(url, target)
        case SerialTarget():
            return Serial(
                devfile=target.device,
                baudrate=target.baudrate,
                bytesize=target.bytesize,
                parity=target.parity,
                stopbits=target.stopbits,
                timeout=target.timeout_s,
            )
        case FileTarget():
            return File(devfile=target.path)
        case DummyTarget():
            return Dummy()
    raise PrinterConfigError(f"Unsupported printer URL {url!r}.")


def _create_usb(url: str, target: UsbTarget) -> Any:
    if not Usb.is_usable():
        raise PrinterConnectionError(
            f"Could not open printer {url}: USB printing needs the Python package pyusb.", url
        )
    return Usb(
        idVendor=target.vendor_id,
        idProduct=target.product_id,
        timeout=target.timeout_ms,
        in_ep=target.in_ep,
        out_ep=target.out_ep,
    )


def _discard(printer: Any) -> None:
    """Close a connector that failed to open, so its destructor does not retry."""
    try:
        printer.close()
    except _CONNECTOR_ERRORS:
        pass
    printer._device = False


def _one_line(exc: BaseException) -> str:
    """Return the exception's message on one line (python-escpos puts the OS error on a second)."""
    return " ".join(str(exc).split())


def _scheme(url: str) -> str:
    return url.partition("://")[0].lower()
