"""Open printers by URL with python-escpos connectors, send jobs and read status.

``open_printer`` maps a URL (see ``urls``) to an ``escpos.printer`` connector (Network, Usb,
Serial, File or Dummy) or a CUPS queue (see ``cups``), opens it and wraps it in a
``PrinterConnection``. Jobs are written as raw
bytes through the connector's ``_raw``, because the text methods of python-escpos would re-encode
Japanese text. Errors from the connectors are raised as ``PrinterConnectionError`` naming the URL.
"""

from __future__ import annotations

import errno
import logging
import socket
from types import TracebackType
from typing import Any

from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, File, Network, Serial, Usb

from drivers.printer.cups import cups_connector
from drivers.printer.errors import PrinterBusyError, PrinterConfigError, PrinterConnectionError
from drivers.printer.status import (
    PrinterStatus,
    query_serial_status,
    query_socket_status,
    query_usb_status,
)
from drivers.printer.urls import (
    CupsTarget,
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

    def submit(self) -> None:
        """Hand the written bytes over as one job where the connector collects them (CUPS).

        Other connectors write through at once, so for them this does nothing.
        """
        submit = getattr(self.printer, "submit", None)
        if submit is not None and not self._closed:
            submit()

    def read_status(self, timeout_s: float = DEFAULT_STATUS_TIMEOUT_S) -> PrinterStatus:
        """Ask the printer for its real-time status (DLE EOT 1, 2 and 4) within ``timeout_s``.

        Network, serial and USB printers are queried. One that does not reply in time has an
        unknown status.

        NOTE: file printers (``file://``, such as /dev/usb/lp0) and CUPS queues always have an
        unknown status. The usblp device node and a file do not return the printer's reply in
        a way that can be read back reliably, and a CUPS queue passes no reply on. So their jobs
        are never confirmed, but a usb:// or serial:// URL for the same printer has them confirmed.
        """
        if self._closed:
            return PrinterStatus.unknown("the connection is closed")
        try:
            return self._query_status(timeout_s)
        except (OSError, ValueError) as exc:
            logger.warning("Reading status from printer %s failed: %s", self.url, _one_line(exc))
            return PrinterStatus.unknown(f"reading status failed: {_one_line(exc)}")

    def _query_status(self, timeout_s: float) -> PrinterStatus:
        match self.target:
            case NetworkTarget():
                return query_socket_status(self.printer.device, timeout_s)
            case SerialTarget():
                return query_serial_status(self.printer.device, timeout_s)
            case UsbTarget():
                return query_usb_status(self.printer.device, self.printer.in_ep, self.printer.out_ep, timeout_s)
            case FileTarget():
                return PrinterStatus.unknown(
                    f"status is not read from file printers ({self.target.path} cannot return the "
                    "printer's reply reliably); use a usb:// or serial:// URL to have jobs confirmed"
                )
        return PrinterStatus.unknown(f"status is not read from {_scheme(self.url)} printers")

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
        except PrinterConnectionError:
            raise
        except _CONNECTOR_ERRORS as exc:
            _discard(printer)
            error_class = PrinterBusyError if _is_busy(exc) else PrinterConnectionError
            raise error_class(
                f"Could not open printer {url}: {_explain_open_failure(target, exc)}", url
            ) from exc
    logger.info("Opened printer %s", url)
    return PrinterConnection(url, target, printer)


def send(printer: str | PrinterConnection, job: bytes) -> None:
    """Write ``job`` to a printer URL or open connection, then close the connection."""
    connection = open_printer(printer) if isinstance(printer, str) else printer
    try:
        connection.write(job)
        connection.submit()
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
        case CupsTarget():
            return cups_connector(target.queue, url)
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


def _explain_open_failure(target: PrinterTarget, exc: BaseException) -> str:
    """Say why a printer did not open and what to check, from the OS error under ``exc``.

    python-escpos raises DeviceNotFoundError for every open failure and keeps the real error
    only as the exception's context, so that chain is searched for it.
    """
    os_error = _os_error_in_chain(exc)
    what = _device_name(target)
    if isinstance(target, UsbTarget):
        return _explain_usb(what, os_error)
    if isinstance(os_error, socket.gaierror):
        return f"the host name in {what} was not found. Check the printer's address."
    if isinstance(os_error, TimeoutError | socket.timeout):
        return (
            f"{what} did not answer in time. Check that the printer is switched on, that its "
            "network cable is connected and that the address is right."
        )
    code = os_error.errno if os_error is not None else None
    advice = _OS_ERROR_ADVICE.get(code) if code is not None else None
    reason = os_error.strerror if os_error is not None and os_error.strerror else _one_line(exc)
    if advice is None:
        return f"{reason} ({what}). Check the printer's power, cable and address."
    return f"{reason} ({what}). {advice}"


# Advice for each OS error that opening a network, serial or file printer can raise.
_OS_ERROR_ADVICE = {
    errno.ECONNREFUSED: (
        "Nothing accepts print jobs at that address and port. Check that the printer is "
        "switched on and that the address and port are the printer's (raw printing, usually 9100)."
    ),
    errno.EHOSTUNREACH: "Check the network cable and that the printer's address is right.",
    errno.ENETUNREACH: "Check that this terminal is connected to the network.",
    errno.ENOENT: (
        "Check that the printer is switched on and its cable is plugged in, and that the "
        "device path is right."
    ),
    errno.EISDIR: "Give the printer's device file, such as /dev/usb/lp0, not a directory.",
    errno.ENOTDIR: "Check the device path.",
    errno.EACCES: (
        "This user may not write to the device. Add the user to the group that owns it "
        "(usually lp or dialout) or install the terminal's udev rules."
    ),
    errno.EPERM: (
        "This user may not write to the device. Add the user to the group that owns it "
        "(usually lp or dialout) or install the terminal's udev rules."
    ),
    errno.EBUSY: "Another program is using the printer. Close it and try again.",
    errno.ENODEV: "Check that the printer is switched on and its cable is plugged in.",
    errno.ENXIO: "Check that the printer is switched on and its cable is plugged in.",
}


def _explain_usb(what: str, os_error: OSError | None) -> str:
    if os_error is not None and os_error.errno in (errno.EACCES, errno.EPERM):
        return (
            f"permission denied on {what}. Install the terminal's udev rules or run as a user "
            "allowed to use the device."
        )
    if os_error is not None and os_error.errno == errno.EBUSY:
        return (
            f"{what} is busy (Resource busy): a CUPS queue through the usblp driver, or another "
            "copy of the terminal, holds it. Either print through that queue with a cups:// URL, "
            "or remove the queue (lpadmin -x QUEUE) and unload the driver (modprobe -r usblp), "
            "then try again."
        )
    return (
        f"{what} was not found. Check that the printer is switched on and its USB cable is "
        "plugged in, and that the ids match the printer's (lsusb lists them)."
    )


def _is_busy(exc: BaseException) -> bool:
    os_error = _os_error_in_chain(exc)
    return os_error is not None and os_error.errno == errno.EBUSY


def _os_error_in_chain(exc: BaseException) -> OSError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _device_name(target: PrinterTarget) -> str:
    match target:
        case NetworkTarget():
            return f"{target.host}:{target.port}"
        case UsbTarget():
            return f"USB device {target.vendor_id:04x}:{target.product_id:04x}"
        case SerialTarget():
            return target.device
        case FileTarget():
            return target.path
        case CupsTarget():
            return f"CUPS queue {target.queue}"
    return "the printer"


def _one_line(exc: BaseException) -> str:
    """Return the exception's message on one line (python-escpos puts the OS error on a second)."""
    return " ".join(str(exc).split())


def _scheme(url: str) -> str:
    return url.partition("://")[0].lower()
