"""Parse printer URLs into connection settings.

Accepted forms::

    network://HOST[:PORT][?timeout=SECONDS]          raw TCP, port 9100 by default
    usb://VID:PID[?in_ep=0x82&out_ep=0x01&timeout=MS]  vendor and product id in hex
    serial:///dev/ttyUSB0[?baudrate=19200&bytesize=8&parity=N&stopbits=1&timeout=SECONDS]
    file:///dev/usb/lp0                               any writable file or device node
    cups://QUEUE                                      a raw CUPS queue on this computer
    dummy://                                          python-escpos's in-memory Dummy printer

``dummy://`` prints nothing, so it is meant for tests, and error messages leave it out of the
list of forms they suggest. Every part is checked, and an invalid one raises
``PrinterConfigError`` naming the value and the form expected.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, urlsplit

from drivers.printer.errors import PrinterConfigError

DEFAULT_NETWORK_PORT = 9100
# python-escpos waits 60 s by default, far too long for a clerk waiting at the counter.
DEFAULT_NETWORK_TIMEOUT_S = 10.0
DEFAULT_SERIAL_TIMEOUT_S = 1.0
DEFAULT_BAUDRATE = 9600
# Bulk endpoints of Epson TM printers, as python-escpos assumes.
DEFAULT_USB_IN_EP = 0x82
DEFAULT_USB_OUT_EP = 0x01

BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
BYTESIZES = (5, 6, 7, 8)
PARITIES = ("N", "E", "O", "M", "S")
STOPBITS = {"1": 1.0, "1.5": 1.5, "2": 2.0}

FORMS = {
    "network": "network://HOST[:PORT]",
    "usb": "usb://VID:PID (hexadecimal, for example usb://04b8:0202)",
    "serial": "serial:///dev/ttyUSB0?baudrate=19200 (or serial://COM3)",
    "file": "file:///ABSOLUTE/PATH",
    "cups": "cups://QUEUE (a CUPS queue name, for example cups://TM-T88V)",
    "dummy": "dummy://",
}
# The forms that messages suggest: every real printer connection, without the test-only dummy.
SUGGESTED_SCHEMES = ("network", "usb", "serial", "file", "cups")

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
_USB_IDS = re.compile(r"^([0-9A-Fa-f]{1,4}):([0-9A-Fa-f]{1,4})$")
_WINDOWS_COM_PORT = re.compile(r"^COM[1-9][0-9]{0,2}$", re.IGNORECASE)
# CUPS takes queue names of up to 127 printable characters without spaces. "/", "#", "\\",
# quotes and "?" are rejected here too, because they break URLs and shell commands.
_CUPS_QUEUE = re.compile(r"""^[^\s/\\#'"?]{1,127}$""")


@dataclass(frozen=True)
class NetworkTarget:
    host: str
    port: int = DEFAULT_NETWORK_PORT
    timeout_s: float = DEFAULT_NETWORK_TIMEOUT_S


@dataclass(frozen=True)
class UsbTarget:
    vendor_id: int
    product_id: int
    in_ep: int = DEFAULT_USB_IN_EP
    out_ep: int = DEFAULT_USB_OUT_EP
    timeout_ms: int = 0


@dataclass(frozen=True)
class SerialTarget:
    device: str
    baudrate: int = DEFAULT_BAUDRATE
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1.0
    timeout_s: float = DEFAULT_SERIAL_TIMEOUT_S


@dataclass(frozen=True)
class FileTarget:
    path: str


@dataclass(frozen=True)
class CupsTarget:
    queue: str


@dataclass(frozen=True)
class DummyTarget:
    pass


PrinterTarget = NetworkTarget | UsbTarget | SerialTarget | FileTarget | CupsTarget | DummyTarget


def parse_printer_url(url: str) -> PrinterTarget:
    """Parse a printer URL, raising PrinterConfigError for any invalid part."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise _invalid(url, f"it cannot be parsed ({exc})", None) from exc

    scheme = parts.scheme.lower()
    if "://" not in url:
        raise _invalid(url, "the scheme is missing", None)
    if scheme not in FORMS:
        raise PrinterConfigError(
            f"Invalid printer URL {url!r}: scheme {parts.scheme!r} is not supported. "
            f"Use one of {_suggested_forms()}."
        )
    if parts.fragment:
        raise _invalid(url, f"fragment {parts.fragment!r} is not allowed", scheme)

    parsers: dict[str, Callable[[str, SplitResult], PrinterTarget]] = {
        "network": _parse_network,
        "usb": _parse_usb,
        "serial": _parse_serial,
        "file": _parse_file,
        "cups": _parse_cups,
        "dummy": _parse_dummy,
    }
    return parsers[scheme](url, parts)


def _suggested_forms() -> str:
    return ", ".join(FORMS[scheme] for scheme in SUGGESTED_SCHEMES)


def _invalid(url: str, reason: str, scheme: str | None) -> PrinterConfigError:
    expected = FORMS[scheme] if scheme else _suggested_forms()
    return PrinterConfigError(f"Invalid printer URL {url!r}: {reason}. Expected {expected}.")


def _query(url: str, parts: SplitResult, scheme: str, allowed: set[str]) -> dict[str, str]:
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise _invalid(url, f"query {parts.query!r} is malformed", scheme) from exc

    query: dict[str, str] = {}
    for key, value in pairs:
        if key not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            raise _invalid(url, f"parameter {key!r} is not supported (supported: {names})", scheme)
        if key in query:
            raise _invalid(url, f"parameter {key!r} is given twice", scheme)
        query[key] = value
    return query


def _parse_network(url: str, parts: SplitResult) -> NetworkTarget:
    netloc = parts.netloc
    if "@" in netloc:
        raise _invalid(url, "user names and passwords are not supported", "network")
    if parts.path not in ("", "/"):
        raise _invalid(url, f"path {parts.path!r} is not allowed", "network")
    host = parts.hostname or ""
    if not host:
        raise _invalid(url, "the host is missing", "network")
    if not _is_valid_host(host):
        raise _invalid(url, f"host {host!r} is not a valid host name or IPv4 address", "network")
    if ":" in host:
        # python-escpos 3.1's Network connector opens AF_INET sockets only.
        raise _invalid(url, f"IPv6 address {host!r} is not supported; use IPv4 or a host name", "network")

    port = _network_port(url, netloc)
    query = _query(url, parts, "network", {"timeout"})
    timeout_s = _positive_float(url, query, "timeout", DEFAULT_NETWORK_TIMEOUT_S, "network")
    return NetworkTarget(host=host, port=port, timeout_s=timeout_s)


def _network_port(url: str, netloc: str) -> int:
    host_end = netloc.rfind("]") if netloc.startswith("[") else -1
    _, colon, port_text = netloc[host_end + 1 :].rpartition(":")
    if not colon:
        return DEFAULT_NETWORK_PORT
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise _invalid(url, f"port {port_text!r} is not a number from 1 to 65535", "network")
    return int(port_text)


def _is_valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOSTNAME.match(host)) and not host.replace(".", "").isdigit()


def _parse_usb(url: str, parts: SplitResult) -> UsbTarget:
    if parts.path not in ("", "/"):
        raise _invalid(url, f"path {parts.path!r} is not allowed", "usb")
    match = _USB_IDS.match(parts.netloc)
    if match is None:
        raise _invalid(url, f"device {parts.netloc!r} is not VID:PID in hexadecimal", "usb")
    vendor_id, product_id = int(match.group(1), 16), int(match.group(2), 16)
    if vendor_id == 0 or product_id == 0:
        raise _invalid(url, f"device {parts.netloc!r} has a zero vendor or product id", "usb")

    query = _query(url, parts, "usb", {"in_ep", "out_ep", "timeout"})
    return UsbTarget(
        vendor_id=vendor_id,
        product_id=product_id,
        in_ep=_endpoint(url, query, "in_ep", DEFAULT_USB_IN_EP),
        out_ep=_endpoint(url, query, "out_ep", DEFAULT_USB_OUT_EP),
        timeout_ms=_non_negative_int(url, query, "timeout", 0, "usb"),
    )


def _endpoint(url: str, query: dict[str, str], key: str, default: int) -> int:
    text = query.get(key)
    if text is None:
        return default
    try:
        value = int(text, 0)
    except ValueError:
        value = -1
    if not 0 < value <= 0xFF:
        raise _invalid(url, f"{key} {text!r} is not an endpoint address such as 0x82", "usb")
    return value


def _parse_serial(url: str, parts: SplitResult) -> SerialTarget:
    device = _serial_device(url, parts)
    query = _query(url, parts, "serial", {"baudrate", "bytesize", "parity", "stopbits", "timeout"})

    baudrate = _choice(url, query, "baudrate", str(DEFAULT_BAUDRATE), [str(b) for b in BAUDRATES])
    bytesize = _choice(url, query, "bytesize", "8", [str(b) for b in BYTESIZES])
    parity = _choice(url, query, "parity", "N", list(PARITIES), upper=True)
    stopbits = _choice(url, query, "stopbits", "1", list(STOPBITS))
    timeout_s = _non_negative_float(url, query, "timeout", DEFAULT_SERIAL_TIMEOUT_S)
    return SerialTarget(
        device=device,
        baudrate=int(baudrate),
        bytesize=int(bytesize),
        parity=parity,
        stopbits=STOPBITS[stopbits],
        timeout_s=timeout_s,
    )


def _serial_device(url: str, parts: SplitResult) -> str:
    if parts.netloc:
        if _WINDOWS_COM_PORT.match(parts.netloc) and parts.path in ("", "/"):
            return parts.netloc.upper()
        raise _invalid(url, f"{parts.netloc!r} is neither an absolute device path nor COMn", "serial")
    if not parts.path.startswith("/") or parts.path.rstrip("/") == "":
        raise _invalid(url, "the device path is missing or not absolute", "serial")
    return parts.path


def _parse_file(url: str, parts: SplitResult) -> FileTarget:
    if parts.netloc not in ("", "localhost"):
        raise _invalid(url, f"host {parts.netloc!r} is not allowed (use file:///PATH)", "file")
    if not parts.path.startswith("/") or parts.path.endswith("/"):
        raise _invalid(url, f"path {parts.path!r} is not an absolute file path", "file")
    _query(url, parts, "file", set())
    return FileTarget(path=parts.path)


def _parse_cups(url: str, parts: SplitResult) -> CupsTarget:
    if parts.path not in ("", "/"):
        raise _invalid(url, f"path {parts.path!r} is not allowed after the queue name", "cups")
    queue = parts.netloc
    if not queue:
        raise _invalid(url, "the queue name is missing", "cups")
    if not _CUPS_QUEUE.match(queue) or not queue.isprintable():
        raise _invalid(url, f"queue name {queue!r} has a character CUPS does not allow", "cups")
    _query(url, parts, "cups", set())
    return CupsTarget(queue=queue)


def _parse_dummy(url: str, parts: SplitResult) -> DummyTarget:
    if parts.netloc or parts.path not in ("", "/"):
        raise _invalid(url, f"{parts.netloc + parts.path!r} is not allowed after dummy://", "dummy")
    _query(url, parts, "dummy", set())
    return DummyTarget()


def _choice(
    url: str, query: dict[str, str], key: str, default: str, allowed: list[str], *, upper: bool = False
) -> str:
    value = query.get(key, default)
    value = value.upper() if upper else value
    if value not in allowed:
        raise _invalid(url, f"{key} {query.get(key)!r} is not one of {', '.join(allowed)}", "serial")
    return value


def _positive_float(url: str, query: dict[str, str], key: str, default: float, scheme: str) -> float:
    value = _float(url, query, key, default, scheme)
    if value <= 0:
        raise _invalid(url, f"{key} {query[key]!r} must be greater than 0 seconds", scheme)
    return value


def _non_negative_float(url: str, query: dict[str, str], key: str, default: float) -> float:
    value = _float(url, query, key, default, "serial")
    if value < 0:
        raise _invalid(url, f"{key} {query[key]!r} must not be negative", "serial")
    return value


def _float(url: str, query: dict[str, str], key: str, default: float, scheme: str) -> float:
    text = query.get(key)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise _invalid(url, f"{key} {text!r} is not a number of seconds", scheme)
    return value


def _non_negative_int(url: str, query: dict[str, str], key: str, default: int, scheme: str) -> int:
    text = query.get(key)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()):
        raise _invalid(url, f"{key} {text!r} is not a whole number of milliseconds", scheme)
    return int(text)
