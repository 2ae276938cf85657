from __future__ import annotations

import socket
from pathlib import Path

import pytest
from escpos.printer import Dummy

from drivers.printer.connection import open_printer, read_status, send
from drivers.printer.document import Cut, Document, Text
from drivers.printer.errors import PrinterConfigError, PrinterConnectionError, PrinterError
from drivers.printer.render import render
from drivers.printer.status import PrinterState


def _unused_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_dummy_url_opens_escpos_dummy() -> None:
    connection = open_printer("dummy://")
    assert isinstance(connection.printer, Dummy)


def test_send_writes_raw_job_to_dummy() -> None:
    job = render(Document().add(Text("会津コイン")).add(Cut()))
    connection = open_printer("dummy://")
    send(connection, job)
    assert connection.printer.output == job


def test_send_writes_job_to_file(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    job = render(Document().add(Text("ｶﾌｪﾗﾃ ¥480")))
    send(f"file://{target}", job)
    assert target.read_bytes() == job


def test_write_after_close_raises() -> None:
    connection = open_printer("dummy://")
    connection.close()
    with pytest.raises(PrinterConnectionError, match="dummy://"):
        connection.write(b"\x1b@")


def test_refused_network_connection_names_url() -> None:
    url = f"network://127.0.0.1:{_unused_loopback_port()}?timeout=2"
    with pytest.raises(PrinterConnectionError) as raised:
        open_printer(url)
    assert url in str(raised.value)
    assert raised.value.url == url


def test_missing_file_directory_is_connection_error(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/missing/lp0"
    with pytest.raises(PrinterConnectionError, match="missing/lp0"):
        send(url, b"\x1b@")


def test_unopenable_usb_printer_is_printer_error() -> None:
    # No such device is attached (and libusb may be absent): either way a PrinterError.
    with pytest.raises(PrinterConnectionError, match="usb://04b8:0202"):
        open_printer("usb://04b8:0202")


def test_missing_serial_port_is_connection_error(tmp_path: Path) -> None:
    url = f"serial://{tmp_path}/ttyUSB9?baudrate=19200"
    with pytest.raises(PrinterConnectionError, match="ttyUSB9"):
        open_printer(url)


def test_bad_url_raises_config_error_before_connecting() -> None:
    with pytest.raises(PrinterConfigError):
        send("network://192.0.2.10:99999", b"")


def test_errors_share_printer_error_base() -> None:
    assert issubclass(PrinterConfigError, PrinterError)
    assert issubclass(PrinterConnectionError, PrinterError)


def test_status_of_dummy_printer_is_unknown() -> None:
    status = read_status("dummy://")
    assert status.state is PrinterState.UNKNOWN
    assert "dummy" in status.detail


def test_status_of_unreachable_printer_is_unknown() -> None:
    status = read_status(f"network://127.0.0.1:{_unused_loopback_port()}?timeout=2")
    assert status.state is PrinterState.UNKNOWN


def test_directory_named_as_file_printer_explained(tmp_path: Path) -> None:
    with pytest.raises(PrinterConnectionError) as raised:
        open_printer(f"file://{tmp_path}")

    message = str(raised.value)
    assert "Device not found" not in message
    assert f"Is a directory ({tmp_path})" in message
    assert "device file, such as /dev/usb/lp0" in message


def test_refused_network_connection_explained() -> None:
    port = _unused_loopback_port()

    with pytest.raises(PrinterConnectionError) as raised:
        open_printer(f"network://127.0.0.1:{port}?timeout=2")

    message = str(raised.value)
    assert "Device not found" not in message
    assert f"Connection refused (127.0.0.1:{port})" in message
    assert "switched on" in message


def test_missing_file_printer_explained(tmp_path: Path) -> None:
    with pytest.raises(PrinterConnectionError) as raised:
        open_printer(f"file://{tmp_path}/missing/lp0")

    message = str(raised.value)
    assert "No such file or directory" in message
    assert "cable is plugged in" in message


def test_usb_ids_shown_in_hex() -> None:
    with pytest.raises(PrinterConnectionError) as raised:
        open_printer("usb://04b8:0202")

    message = str(raised.value)
    assert "04b8:0202" in message.removeprefix("Could not open printer usb://04b8:0202")
    assert "1208" not in message
    assert "514" not in message
