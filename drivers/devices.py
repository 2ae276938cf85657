"""Find the scanners and printers plugged into this machine, for the technician to choose from.

``detect_devices`` reads, without opening any device:

- ``/sys/bus/usb/devices/*``: vendor and product ids, names, and the class of each interface.
  A USB printer-class interface (07) suggests ``usb://VID:PID``.
- ``/dev/usb/lp*``: printers the kernel's usblp driver claimed, as ``file:///dev/usb/lpN``.
- ``/dev/serial/by-id/*``: serial and USB CDC ports, as a serial scanner on that port or a
  ``serial://`` printer. The by-id name survives replugging, ``/dev/ttyACM0`` may not.
- ``/dev/input/by-id/*-event-kbd``: keyboards, which is what a keyboard-wedge scanner is. Each
  is offered twice: as a wedge scanner (keys read through the window system wherever focus is)
  and as an evdev scanner (the device read directly and grabbed, so no key reaches a widget).
- ``/sys/class/video4linux/video*``: USB video class cameras, as a camera scanner. Only a
  camera's first node (``index`` 0) is offered because the others carry metadata, and only
  nodes on USB because a Raspberry Pi also lists its video codecs here.

Both roots are parameters, so tests build fake trees in a temporary directory.
``probe_network_printer`` reads a network printer's status (DLE EOT on port 9100).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from drivers.printer.status import PrinterStatus, query_socket_status
from drivers.printer.urls import DEFAULT_NETWORK_PORT

logger = logging.getLogger(__name__)

SYSFS_ROOT = Path("/sys")
DEV_ROOT = Path("/dev")

USB_CLASS_CDC = 0x02
USB_CLASS_HID = 0x03
USB_CLASS_PRINTER = 0x07
USB_CLASS_CDC_DATA = 0x0A

# Vendors whose devices a shop counter is likely to have, for labels only.
# NOTE: the ids were not checked against a device or the usb.ids list on this machine; a
# wrong or missing id only loses the label, and a printer-class interface is still found.
PRINTER_VENDORS = {
    0x04B8: "Epson",
    0x0519: "Star Micronics",
    0x1504: "BIXOLON",
    0x0DD4: "Custom",
}
SCANNER_VENDORS = {
    0x0C2E: "Honeywell",
    0x0536: "Honeywell (Hand Held Products)",
    0x05E0: "Zebra (Symbol)",
    0x05F9: "Datalogic",
    0x1EAB: "Newland",
}
# USB-to-serial bridges inside serial scanners and printers; the device behind them is unknown.
SERIAL_BRIDGE_VENDORS = {
    0x0403: "FTDI",
    0x067B: "Prolific",
    0x10C4: "Silicon Labs",
    0x1A86: "QinHeng (CH340)",
}
KNOWN_VENDORS = PRINTER_VENDORS | SCANNER_VENDORS | SERIAL_BRIDGE_VENDORS

# Serial receipt printers ship set to 9600 or 19200 baud; 9600 is the more common default
# (Epson TM-T88 and TM-T20 serial models, Star TSP100 serial).
SERIAL_PRINTER_BAUDRATE = 9600
NETWORK_PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class UsbDevice:
    """One USB device as sysfs describes it."""

    sysfs_name: str  # such as "1-1.2"
    vendor_id: int
    product_id: int
    manufacturer: str
    product: str
    interface_classes: frozenset[int]

    @property
    def ids(self) -> str:
        return f"{self.vendor_id:04x}:{self.product_id:04x}"

    @property
    def vendor_label(self) -> str:
        return KNOWN_VENDORS.get(self.vendor_id, "")

    @property
    def is_printer(self) -> bool:
        return USB_CLASS_PRINTER in self.interface_classes or self.vendor_id in PRINTER_VENDORS

    @property
    def is_scanner(self) -> bool:
        return self.vendor_id in SCANNER_VENDORS


@dataclass(frozen=True)
class ScannerChoice:
    """The ``[scanner]`` settings a detected device needs: its kind and its port or device."""

    kind: str  # "wedge", "serial", "evdev" or "camera", as in the [scanner] table
    port: str = ""  # serial scanners
    device: str = ""  # evdev scanners
    camera_id: str = ""  # camera scanners: the camera's name, which Qt shows as its description


@dataclass(frozen=True)
class DetectedDevice:
    """A device the technician may choose, with the settings that would use it."""

    path: str  # device node or link, or "usb:VID:PID" for a USB device with no node
    name: str  # what the device calls itself, for the list on screen
    vendor: str = ""  # a known vendor's name, "" when the vendor id is not known
    printer_url: str | None = None
    scanner: ScannerChoice | None = None


@dataclass(frozen=True)
class DetectedDevices:
    usb: tuple[UsbDevice, ...]
    printers: tuple[DetectedDevice, ...]
    scanners: tuple[DetectedDevice, ...]


def detect_devices(sysfs_root: Path = SYSFS_ROOT, dev_root: Path = DEV_ROOT) -> DetectedDevices:
    """List the printers and scanners found under ``sysfs_root`` and ``dev_root``."""
    usb = list_usb_devices(sysfs_root)
    printers = [*_usb_printers(usb), *_line_printers(dev_root)]
    serial_ports = _serial_ports(dev_root, usb)
    printers.extend(port for port in serial_ports if port.printer_url is not None)
    scanners = [
        *_keyboards(dev_root, usb),
        *(port for port in serial_ports if port.scanner),
        *_cameras(sysfs_root),
    ]
    logger.info(
        "found %d USB devices, %d possible printers and %d possible scanners",
        len(usb),
        len(printers),
        len(scanners),
    )
    return DetectedDevices(tuple(usb), tuple(printers), tuple(scanners))


# --- USB -----------------------------------------------------------------------------------


def list_usb_devices(sysfs_root: Path = SYSFS_ROOT) -> list[UsbDevice]:
    """Read every USB device under ``sysfs_root``/bus/usb/devices; hubs' own entries included."""
    devices_dir = sysfs_root / "bus" / "usb" / "devices"
    try:
        entries = sorted(devices_dir.iterdir())
    except OSError as exc:
        logger.warning("cannot list USB devices in %s: %s", devices_dir, exc)
        return []
    found = [_read_usb_device(entry) for entry in entries if ":" not in entry.name]
    return [device for device in found if device is not None]


def _read_usb_device(directory: Path) -> UsbDevice | None:
    vendor_id = _read_hex(directory / "idVendor")
    product_id = _read_hex(directory / "idProduct")
    if vendor_id is None or product_id is None:
        return None
    classes = set()
    # Interfaces (such as 1-1:1.0) are subdirectories of the device and are also linked beside
    # it in bus/usb/devices, so both places are read.
    pattern = f"{directory.name}:*"
    interfaces = [*directory.glob(pattern), *directory.parent.glob(pattern)]
    for interface in interfaces:
        interface_class = _read_hex(interface / "bInterfaceClass")
        if interface_class is not None:
            classes.add(interface_class)
    return UsbDevice(
        sysfs_name=directory.name,
        vendor_id=vendor_id,
        product_id=product_id,
        manufacturer=_read_text(directory / "manufacturer"),
        product=_read_text(directory / "product"),
        interface_classes=frozenset(classes),
    )


def _usb_printers(usb: list[UsbDevice]) -> list[DetectedDevice]:
    return [
        DetectedDevice(
            path=f"usb:{device.ids}",
            name=_usb_name(device),
            vendor=device.vendor_label,
            printer_url=f"usb://{device.ids}",
        )
        for device in usb
        if device.is_printer
    ]


def _usb_name(device: UsbDevice) -> str:
    name = " ".join(part for part in (device.manufacturer, device.product) if part)
    return f"{name or device.vendor_label or 'USB'} ({device.ids})"


# --- device nodes --------------------------------------------------------------------------


def _line_printers(dev_root: Path) -> list[DetectedDevice]:
    nodes = sorted((dev_root / "usb").glob("lp[0-9]*"))
    return [
        DetectedDevice(path=str(node), name=node.name, printer_url=f"file://{node}")
        for node in nodes
    ]


def _serial_ports(dev_root: Path, usb: list[UsbDevice]) -> list[DetectedDevice]:
    ports = []
    for link in sorted((dev_root / "serial" / "by-id").glob("*")):
        vendor = _vendor_named_in(link.name, usb)
        ports.append(
            DetectedDevice(
                path=str(link),
                name=_by_id_name(link.name),
                vendor=vendor,
                printer_url=f"serial://{link}?baudrate={SERIAL_PRINTER_BAUDRATE}",
                scanner=ScannerChoice(kind="serial", port=str(link)),
            )
        )
    return ports


def _keyboards(dev_root: Path, usb: list[UsbDevice]) -> list[DetectedDevice]:
    """List keyboards, each as a wedge and as an evdev scanner; see the module docstring."""
    found = []
    for link in sorted((dev_root / "input" / "by-id").glob("*-event-kbd")):
        name, vendor = _by_id_name(link.name), _vendor_named_in(link.name, usb)
        for choice in (ScannerChoice(kind="wedge"), ScannerChoice(kind="evdev", device=str(link))):
            found.append(DetectedDevice(path=str(link), name=name, vendor=vendor, scanner=choice))
    return found


def _cameras(sysfs_root: Path) -> list[DetectedDevice]:
    """List USB cameras, each as a camera scanner named by its video4linux name.

    ui/camera.py accepts the name, as Qt's camera description, in ``scanner.camera_id``. The
    name is kept across replugging, while the node number (``/dev/video0``) may change.
    """
    # NOTE: that the sysfs name equals Qt's description is true for uvcvideo, which gives the
    # node and the V4L2 card the same name. It was not checked with a camera on this machine.
    found = []
    for node in sorted((sysfs_root / "class" / "video4linux").glob("video[0-9]*")):
        name = _read_text(node / "name")
        if not name or _read_text(node / "index") not in ("", "0"):
            continue
        if not _read_text(node / "device" / "modalias").startswith("usb:"):
            continue
        choice = ScannerChoice(kind="camera", camera_id=name)
        found.append(DetectedDevice(path=f"/dev/{node.name}", name=name, scanner=choice))
    return found


def _by_id_name(link_name: str) -> str:
    """Turn ``usb-Honeywell_Imaging_1900-if00-event-kbd`` into ``Honeywell Imaging 1900``."""
    name = link_name.removeprefix("usb-").removeprefix("pci-").removesuffix("-event-kbd")
    # The interface part (-if00, -if00-port0) distinguishes ports of one device, not devices.
    name = name.rsplit("-if", 1)[0]
    return name.replace("_", " ")


def _vendor_named_in(link_name: str, usb: list[UsbDevice]) -> str:
    """Find the known vendor of the USB device whose manufacturer appears in a by-id name.

    udev builds by-id names from the USB manufacturer and product strings, so matching them
    against sysfs gives the vendor id, which the name alone does not contain.
    """
    flat = _alphanumeric(link_name)
    for device in usb:
        manufacturer = _alphanumeric(device.manufacturer)
        if device.vendor_label and manufacturer and manufacturer in flat:
            return device.vendor_label
    return ""


def _alphanumeric(text: str) -> str:
    # udev replaces spaces and symbols in by-id names with "_", so only letters and digits
    # are compared.
    return "".join(char for char in text.lower() if char.isalnum())


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def _read_hex(path: Path) -> int | None:
    text = _read_text(path)
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


# --- network printers ----------------------------------------------------------------------


class AddressError(ValueError):
    """A typed printer address is not an IPv4 address."""


def check_ipv4(text: str) -> str:
    """Return ``text`` as a canonical IPv4 address, or raise AddressError naming it."""
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError as exc:
        raise AddressError(
            f"{text!r} is not an IPv4 address; enter four numbers from 0 to 255, "
            "such as 192.168.1.50"
        ) from exc


def network_printer_url(address: str, port: int = DEFAULT_NETWORK_PORT) -> str:
    host = check_ipv4(address)
    return f"network://{host}" if port == DEFAULT_NETWORK_PORT else f"network://{host}:{port}"


def probe_network_printer(
    address: str, port: int = DEFAULT_NETWORK_PORT, timeout_s: float = NETWORK_PROBE_TIMEOUT_S
) -> PrinterStatus:
    """Connect to ``address``:``port`` and read the printer's status with DLE EOT 1, 2 and 4.

    An unreachable address gives an unknown status whose detail contains the reason. A
    malformed address raises AddressError.
    """
    host = check_ipv4(address)
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            status = query_socket_status(sock, timeout_s)
    except OSError as exc:
        logger.info("network printer %s:%d did not accept a connection: %s", host, port, exc)
        return PrinterStatus.unknown(f"no connection to {host}:{port}: {exc}")
    logger.info("network printer %s:%d status %s", host, port, status.state.value)
    return status
