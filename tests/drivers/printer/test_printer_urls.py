from __future__ import annotations

import pytest

from drivers.printer.errors import PrinterConfigError
from drivers.printer.urls import (
    DummyTarget,
    FileTarget,
    NetworkTarget,
    SerialTarget,
    UsbTarget,
    parse_printer_url,
)


def test_network_url_with_port() -> None:
    assert parse_printer_url("network://192.0.2.10:9100") == NetworkTarget("192.0.2.10", 9100)


def test_network_url_defaults_to_port_9100() -> None:
    assert parse_printer_url("network://printer.local") == NetworkTarget("printer.local", 9100)


def test_network_url_timeout_parameter() -> None:
    assert parse_printer_url("network://127.0.0.1:9101?timeout=2.5").timeout_s == 2.5  # type: ignore[union-attr]


def test_usb_url_hex_ids() -> None:
    assert parse_printer_url("usb://04b8:0202") == UsbTarget(0x04B8, 0x0202)


def test_usb_url_endpoints() -> None:
    target = parse_printer_url("usb://04B8:0E15?in_ep=0x81&out_ep=0x02&timeout=500")
    assert target == UsbTarget(0x04B8, 0x0E15, in_ep=0x81, out_ep=0x02, timeout_ms=500)


def test_serial_url_with_baudrate() -> None:
    assert parse_printer_url("serial:///dev/ttyUSB0?baudrate=19200") == SerialTarget("/dev/ttyUSB0", 19200)


def test_serial_url_all_parameters() -> None:
    target = parse_printer_url("serial:///dev/ttyS1?baudrate=38400&bytesize=7&parity=e&stopbits=2&timeout=0.5")
    assert target == SerialTarget("/dev/ttyS1", 38400, 7, "E", 2.0, 0.5)


def test_serial_url_windows_com_port() -> None:
    assert parse_printer_url("serial://com3?baudrate=9600") == SerialTarget("COM3", 9600)


def test_file_url() -> None:
    assert parse_printer_url("file:///dev/usb/lp0") == FileTarget("/dev/usb/lp0")


def test_dummy_url() -> None:
    assert parse_printer_url("dummy://") == DummyTarget()


@pytest.mark.parametrize(
    ("url", "named_value", "expected_form"),
    [
        ("lpt://1", "'lpt'", "network://HOST[:PORT]"),
        ("192.0.2.10:9100", "scheme is missing", "file:///ABSOLUTE/PATH"),
        ("network://", "host is missing", "network://HOST[:PORT]"),
        ("network://192.0.2.10:0", "'0'", "network://HOST[:PORT]"),
        ("network://192.0.2.10:70000", "'70000'", "network://HOST[:PORT]"),
        ("network://192.0.2.10:abc", "'abc'", "network://HOST[:PORT]"),
        ("network://bad_host!:9100", "bad_host!", "network://HOST[:PORT]"),
        ("network://user:pw@192.0.2.10", "passwords", "network://HOST[:PORT]"),
        ("network://192.0.2.10/print", "'/print'", "network://HOST[:PORT]"),
        ("network://192.0.2.10?timeout=0", "'0'", "network://HOST[:PORT]"),
        ("network://192.0.2.10?speed=1", "'speed'", "network://HOST[:PORT]"),
        ("network://[::1]:9100", "'::1'", "network://HOST[:PORT]"),
        ("network://192.0.2.10#x", "'x'", "network://HOST[:PORT]"),
        ("usb://04b8", "'04b8'", "usb://VID:PID"),
        ("usb://04b8:xyz1", "'04b8:xyz1'", "usb://VID:PID"),
        ("usb://0000:0202", "zero", "usb://VID:PID"),
        ("usb://04b8:0202?in_ep=300", "'300'", "usb://VID:PID"),
        ("usb://04b8:0202?timeout=-1", "'-1'", "usb://VID:PID"),
        ("serial://", "missing", "serial:///dev/ttyUSB0"),
        ("serial://dev/ttyUSB0", "'dev'", "serial:///dev/ttyUSB0"),
        ("serial:///dev/ttyUSB0?baudrate=12345", "'12345'", "serial:///dev/ttyUSB0"),
        ("serial:///dev/ttyUSB0?bytesize=9", "'9'", "serial:///dev/ttyUSB0"),
        ("serial:///dev/ttyUSB0?parity=X", "'X'", "serial:///dev/ttyUSB0"),
        ("serial:///dev/ttyUSB0?stopbits=3", "'3'", "serial:///dev/ttyUSB0"),
        ("serial:///dev/ttyUSB0?timeout=soon", "'soon'", "serial:///dev/ttyUSB0"),
        ("serial:///dev/ttyUSB0?baudrate=9600&baudrate=19200", "twice", "serial:///dev/ttyUSB0"),
        ("file://printer/dev/usb/lp0", "'printer'", "file:///ABSOLUTE/PATH"),
        ("file:///dev/usb/", "'/dev/usb/'", "file:///ABSOLUTE/PATH"),
        ("file:///dev/usb/lp0?mode=a", "'mode'", "file:///ABSOLUTE/PATH"),
        ("dummy://printer", "'printer'", "dummy://"),
    ],
)
def test_bad_url_names_value_and_form(url: str, named_value: str, expected_form: str) -> None:
    with pytest.raises(PrinterConfigError) as raised:
        parse_printer_url(url)
    message = str(raised.value)
    assert named_value in message
    assert expected_form in message
    assert url.strip() in message or repr(url) in message


def test_config_error_is_value_error() -> None:
    with pytest.raises(ValueError):
        parse_printer_url("nothing")


@pytest.mark.parametrize("url", ["lpt://1", "ipp://TM-T88", "192.0.2.10:9100"])
def test_suggested_forms_leave_out_dummy(url: str) -> None:
    with pytest.raises(PrinterConfigError) as raised:
        parse_printer_url(url)
    message = str(raised.value)
    assert "network://HOST[:PORT]" in message
    assert "usb://VID:PID" in message
    assert "dummy" not in message
