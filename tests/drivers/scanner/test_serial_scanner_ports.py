"""PortLocator: which node to open for a serial scanner, with a temporary by-id directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.scanner.serial_ports import PortLocator


@pytest.fixture
def dev(tmp_path: Path) -> Path:
    """A stand-in for /dev with two nodes and an empty serial/by-id directory."""
    (tmp_path / "serial" / "by-id").mkdir(parents=True)
    for name in ("ttyACM0", "ttyACM1"):
        (tmp_path / name).touch()
    return tmp_path


def link(dev: Path, name: str, node: str) -> Path:
    path = dev / "serial" / "by-id" / name
    if path.is_symlink():
        path.unlink()
    path.symlink_to(dev / node)
    return path


def test_by_id_path_is_opened_as_configured(dev: Path) -> None:
    scanner = link(dev, "usb-Scanner_0001-if00", "ttyACM0")
    locator = PortLocator(str(scanner), dev / "serial" / "by-id")

    assert locator.candidates() == [str(scanner)]


def test_plain_node_learns_its_by_id_link(dev: Path) -> None:
    scanner = link(dev, "usb-Scanner_0001-if00", "ttyACM0")
    locator = PortLocator(str(dev / "ttyACM0"), dev / "serial" / "by-id")

    locator.remember(str(dev / "ttyACM0"))

    assert locator.by_id_link == scanner
    assert locator.candidates() == [str(scanner)]


def test_plain_node_follows_link_to_new_node(dev: Path) -> None:
    scanner = link(dev, "usb-Scanner_0001-if00", "ttyACM0")
    locator = PortLocator(str(dev / "ttyACM0"), dev / "serial" / "by-id")
    locator.remember(str(dev / "ttyACM0"))

    scanner.unlink()
    (dev / "ttyACM0").unlink()
    link(dev, "usb-Scanner_0001-if00", "ttyACM1")

    assert locator.candidates() == [str(scanner)]
    assert locator.describe(str(scanner)) == f"{dev / 'ttyACM1'} ({scanner})"


def test_plain_node_retried_while_link_is_missing(dev: Path) -> None:
    scanner = link(dev, "usb-Scanner_0001-if00", "ttyACM0")
    locator = PortLocator(str(dev / "ttyACM0"), dev / "serial" / "by-id")
    locator.remember(str(dev / "ttyACM0"))

    scanner.unlink()

    assert locator.candidates() == [str(dev / "ttyACM0")]


def test_plain_node_of_another_device_is_not_opened(dev: Path) -> None:
    scanner = link(dev, "usb-Scanner_0001-if00", "ttyACM0")
    locator = PortLocator(str(dev / "ttyACM0"), dev / "serial" / "by-id")
    locator.remember(str(dev / "ttyACM0"))

    scanner.unlink()
    link(dev, "usb-Printer_0042-if00", "ttyACM0")

    assert locator.candidates() == []


def test_plain_node_without_link_stays_configured(dev: Path) -> None:
    locator = PortLocator(str(dev / "ttyACM0"), dev / "serial" / "by-id")

    locator.remember(str(dev / "ttyACM0"))

    assert locator.by_id_link is None
    assert locator.candidates() == [str(dev / "ttyACM0")]


def test_missing_by_id_directory_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "ttyACM0").touch()
    locator = PortLocator(str(tmp_path / "ttyACM0"), tmp_path / "serial" / "by-id")

    locator.remember(str(tmp_path / "ttyACM0"))

    assert locator.by_id_link is None
    assert locator.candidates() == [str(tmp_path / "ttyACM0")]


def test_url_is_used_as_is(dev: Path) -> None:
    locator = PortLocator("loop://", dev / "serial" / "by-id")

    locator.remember("loop://")

    assert locator.candidates() == ["loop://"]
    assert locator.describe("loop://") == "loop://"


def test_empty_port_is_refused(dev: Path) -> None:
    with pytest.raises(ValueError, match="scanner.port"):
        PortLocator("", dev / "serial" / "by-id")
