from __future__ import annotations

import socket
from pathlib import Path

import pytest

from drivers.devices import (
    AddressError,
    DetectedDevice,
    ScannerChoice,
    check_ipv4,
    detect_devices,
    list_usb_devices,
    network_printer_url,
    probe_network_printer,
)
from drivers.printer.emulator import PrinterEmulator
from drivers.printer.status import PrinterState, StatusCause
from drivers.printer.urls import NetworkTarget, SerialTarget, UsbTarget, parse_printer_url
from terminal.config import SCANNER_KINDS

FTDI_LINK = "usb-FTDI_FT232R_USB_UART_A10KZ3F1-if00-port0"
HONEYWELL_LINK = "usb-Honeywell_Imaging___Mobility_1900-event-kbd"


def add_usb_device(
    sysfs: Path, name: str, ids: tuple[str, str], names: tuple[str, str], classes: list[str]
) -> None:
    devices = sysfs / "bus" / "usb" / "devices"
    device = devices / name
    device.mkdir(parents=True)
    (device / "idVendor").write_text(ids[0] + "\n")
    (device / "idProduct").write_text(ids[1] + "\n")
    (device / "manufacturer").write_text(names[0] + "\n")
    (device / "product").write_text(names[1] + "\n")
    for number, interface_class in enumerate(classes):
        interface = devices / f"{name}:1.{number}"
        interface.mkdir()
        (interface / "bInterfaceClass").write_text(interface_class + "\n")


def add_video_node(sysfs: Path, node: str, name: str, index: int, modalias: str) -> None:
    """Add /sys/class/video4linux/NODE as the kernel lists a camera or codec node."""
    directory = sysfs / "class" / "video4linux" / node
    (directory / "device").mkdir(parents=True)
    (directory / "name").write_text(name + "\n")
    (directory / "index").write_text(f"{index}\n")
    (directory / "device" / "modalias").write_text(modalias + "\n")


UVC_MODALIAS = "usb:v046Dp0825d0012dcEFdsc02dp01ic0Eisc01ip00in00"


@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """A counter with an Epson printer, a Honeywell scanner and an FTDI serial cable."""
    sysfs, dev = tmp_path / "sys", tmp_path / "dev"
    add_usb_device(sysfs, "1-1", ("04b8", "0202"), ("EPSON", "TM-T20III"), ["07"])
    add_usb_device(sysfs, "1-2", ("0c2e", "0b61"), ("Honeywell Imaging & Mobility", "1900"), ["03"])
    add_usb_device(sysfs, "1-3", ("0403", "6001"), ("FTDI", "FT232R USB UART"), ["ff"])
    add_usb_device(sysfs, "1-4", ("046d", "c31c"), ("Logitech", "USB Keyboard"), ["03"])
    (dev / "usb").mkdir(parents=True)
    (dev / "usb" / "lp0").write_text("")
    (dev / "serial" / "by-id").mkdir(parents=True)
    (dev / "serial" / "by-id" / FTDI_LINK).symlink_to("../../ttyUSB0")
    (dev / "input" / "by-id").mkdir(parents=True)
    (dev / "input" / "by-id" / HONEYWELL_LINK).symlink_to("../event3")
    (dev / "input" / "by-id" / "usb-Logitech_USB_Keyboard-event-kbd").symlink_to("../event4")
    (dev / "input" / "by-id" / "usb-Logitech_USB_Keyboard-event-mouse").symlink_to("../event5")
    return sysfs, dev


def by_path(devices: tuple[DetectedDevice, ...]) -> dict[str, DetectedDevice]:
    return {device.path: device for device in devices}


def test_usb_devices_read_from_sysfs(roots: tuple[Path, Path]) -> None:
    usb = list_usb_devices(roots[0])

    assert [device.ids for device in usb] == ["04b8:0202", "0c2e:0b61", "0403:6001", "046d:c31c"]
    assert usb[0].product == "TM-T20III"
    assert usb[0].interface_classes == frozenset({0x07})


def test_usb_printer_suggests_usb_url(roots: tuple[Path, Path]) -> None:
    printers = by_path(detect_devices(*roots).printers)

    epson = printers["usb:04b8:0202"]
    assert epson.printer_url == "usb://04b8:0202"
    assert epson.vendor == "Epson"
    assert epson.name == "EPSON TM-T20III (04b8:0202)"
    assert isinstance(parse_printer_url(epson.printer_url), UsbTarget)


def test_line_printer_suggests_file_url(roots: tuple[Path, Path]) -> None:
    lp0 = str(roots[1] / "usb" / "lp0")

    printers = by_path(detect_devices(*roots).printers)

    assert printers[lp0].printer_url == f"file://{lp0}"


def test_serial_port_offered_for_both_roles(roots: tuple[Path, Path]) -> None:
    link = str(roots[1] / "serial" / "by-id" / FTDI_LINK)

    found = detect_devices(*roots)

    scanner = by_path(found.scanners)[link]
    assert scanner.scanner == ScannerChoice(kind="serial", port=link)
    assert scanner.name == "FTDI FT232R USB UART A10KZ3F1"
    assert scanner.vendor == "FTDI"
    target = parse_printer_url(by_path(found.printers)[link].printer_url or "")
    assert isinstance(target, SerialTarget)
    assert target.device == link
    assert target.baudrate == 9600


def test_keyboards_offered_as_wedge_and_evdev(roots: tuple[Path, Path]) -> None:
    by_id = roots[1] / "input" / "by-id"
    honeywell_link = str(by_id / HONEYWELL_LINK)

    scanners = detect_devices(*roots).scanners

    honeywell = [device for device in scanners if device.path == honeywell_link]
    assert [device.scanner for device in honeywell] == [
        ScannerChoice(kind="wedge"),
        ScannerChoice(kind="evdev", device=honeywell_link),
    ]
    assert {device.vendor for device in honeywell} == {"Honeywell"}
    assert honeywell[0].name == "Honeywell Imaging   Mobility 1900"
    keyboard = by_path(scanners)[str(by_id / "usb-Logitech_USB_Keyboard-event-kbd")]
    assert keyboard.vendor == ""
    assert str(by_id / "usb-Logitech_USB_Keyboard-event-mouse") not in by_path(scanners)


def test_usb_camera_offered_as_camera_scanner(tmp_path: Path) -> None:
    sysfs = tmp_path / "sys"
    add_video_node(sysfs, "video0", "UVC Camera (046d:0825)", 0, UVC_MODALIAS)
    add_video_node(sysfs, "video1", "UVC Camera (046d:0825)", 1, UVC_MODALIAS)
    add_video_node(sysfs, "video10", "bcm2835-codec-decode", 0, "platform:bcm2835-codec")

    scanners = detect_devices(sysfs, tmp_path / "dev").scanners

    assert [device.path for device in scanners] == ["/dev/video0"]
    assert scanners[0].name == "UVC Camera (046d:0825)"
    assert scanners[0].scanner == ScannerChoice(kind="camera", camera_id="UVC Camera (046d:0825)")


def test_every_scanner_kind_offered(roots: tuple[Path, Path]) -> None:
    add_video_node(roots[0], "video0", "USB Camera", 0, UVC_MODALIAS)

    scanners = detect_devices(*roots).scanners

    kinds = {device.scanner.kind for device in scanners if device.scanner is not None}
    assert kinds == set(SCANNER_KINDS)


def test_plain_keyboard_not_a_printer(roots: tuple[Path, Path]) -> None:
    printers = detect_devices(*roots).printers

    assert all("046d" not in device.path for device in printers)
    assert all("0c2e" not in device.path for device in printers)


def test_missing_roots_find_nothing(tmp_path: Path) -> None:
    found = detect_devices(tmp_path / "no-sys", tmp_path / "no-dev")

    assert found.usb == ()
    assert found.printers == ()
    assert found.scanners == ()


def test_device_without_ids_skipped(tmp_path: Path) -> None:
    hub = tmp_path / "bus" / "usb" / "devices" / "usb1"
    hub.mkdir(parents=True)
    (hub / "idVendor").write_text("not hex\n")

    assert list_usb_devices(tmp_path) == []


@pytest.mark.parametrize("text", ["192.168.1", "192.168.1.256", "192.168.01.5", "", "1.2.3.4.5"])
def test_invalid_address_rejected(text: str) -> None:
    with pytest.raises(AddressError, match="is not an IPv4 address"):
        check_ipv4(text)


def test_network_url_omits_default_port() -> None:
    assert network_printer_url("192.168.1.50") == "network://192.168.1.50"
    assert network_printer_url("10.0.0.7", 9101) == "network://10.0.0.7:9101"
    target = parse_printer_url(network_printer_url("192.168.1.50"))
    assert isinstance(target, NetworkTarget)
    assert target.port == 9100


def test_probe_reads_printer_status() -> None:
    with PrinterEmulator(draw_images=False) as emulator:
        emulator.condition.paper_end = True
        status = probe_network_printer("127.0.0.1", emulator.port, timeout_s=2.0)

    assert status.state is PrinterState.PROBLEM
    assert StatusCause.PAPER_END in status.causes


def test_probe_healthy_printer_is_ok() -> None:
    with PrinterEmulator(draw_images=False) as emulator:
        status = probe_network_printer("127.0.0.1", emulator.port, timeout_s=2.0)

    assert status.state is PrinterState.OK


def test_probe_closed_port_is_unknown() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    status = probe_network_printer("127.0.0.1", port, timeout_s=1.0)

    assert status.state is PrinterState.UNKNOWN
    assert f"127.0.0.1:{port}" in status.detail
