"""SerialScanner on real pseudo-terminals: scans, rejections, unplug and replug."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import serial

from drivers.scanner.base import ScanResult
from drivers.scanner.serial_framing import (
    FramingSettings,
    Terminator,
    UnreadableDataError,
    UnterminatedDataError,
)
from drivers.scanner.serial_reader import (
    SerialPort,
    SerialScanner,
    SerialSettings,
    open_serial_port,
)
from tests.drivers.scanner.serial_pty import ByIdDir, PtyScanner, Recorder, wait_until

CODE = "91234567890123456789"
OTHER = "98765432109876543210"
THIRD = "4901234567894"
FAST_RETRY_S = (0.05,)

StartReader = Callable[..., SerialScanner]


@pytest.fixture
def ptys() -> Iterator[list[PtyScanner]]:
    made: list[PtyScanner] = []
    yield made
    for scanner in made:
        scanner.unplug()


@pytest.fixture
def start_reader(tmp_path: Path) -> Iterator[StartReader]:
    """Start SerialScanners that look for by-id links under tmp_path; stop them afterwards."""
    started: list[SerialScanner] = []

    def start(port: str, recorder: Recorder, **framing: object) -> SerialScanner:
        settings = SerialSettings(port, 9600, FramingSettings(**framing))  # type: ignore[arg-type]
        reader = SerialScanner(
            settings, recorder, by_id_dir=tmp_path / "serial" / "by-id", retry_delays_s=FAST_RETRY_S
        )
        reader.start()
        started.append(reader)
        return reader

    yield start
    for reader in started:
        reader.stop()
    assert not any(thread.name == "serial-scanner" for thread in threading.enumerate())


def plug(ptys: list[PtyScanner]) -> PtyScanner:
    scanner = PtyScanner()
    ptys.append(scanner)
    return scanner


def connected(recorder: Recorder, start_reader: StartReader, port: str, **framing: object) -> None:
    start_reader(port, recorder, **framing)
    wait_until(lambda: recorder.count("connected") == 1)


def test_bytes_on_pty_arrive_as_scan(
    ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    device = plug(ptys)
    recorder = Recorder()
    connected(recorder, start_reader, device.node)

    device.send(CODE.encode() + b"\r")
    wait_until(lambda: len(recorder.scans) == 1)

    assert recorder.scans == [ScanResult(text=CODE, source="serial")]
    assert recorder.states[0].port == device.node


def test_code_split_across_writes_is_one_scan(
    ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    device = plug(ptys)
    recorder = Recorder()
    connected(recorder, start_reader, device.node, unterminated_timeout_s=60.0)

    data = CODE.encode() + b"\r\n"
    for start in range(0, len(data), 3):
        device.send(data[start : start + 3])
        time.sleep(0.01)
    device.send(OTHER.encode() + b"\r\n")
    wait_until(lambda: len(recorder.scans) == 2)

    assert recorder.texts() == [CODE, OTHER]
    assert recorder.rejections == []


def test_several_codes_in_one_write(ptys: list[PtyScanner], start_reader: StartReader) -> None:
    device = plug(ptys)
    recorder = Recorder()
    connected(recorder, start_reader, device.node)

    device.send(b"".join(code.encode() + b"\r" for code in (CODE, OTHER, THIRD)))
    wait_until(lambda: len(recorder.scans) == 3)

    assert recorder.texts() == [CODE, OTHER, THIRD]


@pytest.mark.parametrize(
    ("terminator", "suffix"),
    [
        ("cr", b"\r"),
        ("lf", b"\n"),
        ("crlf", b"\r\n"),
        ("tab", b"\t"),
        ("etx", b"\x03"),
        ("any", b"\r\n"),
    ],
)
def test_each_terminator_on_pty(
    ptys: list[PtyScanner], start_reader: StartReader, terminator: Terminator, suffix: bytes
) -> None:
    device = plug(ptys)
    recorder = Recorder()
    connected(recorder, start_reader, device.node, terminator=terminator)

    device.send(CODE.encode() + suffix + OTHER.encode() + suffix)
    wait_until(lambda: len(recorder.scans) == 2)

    assert recorder.texts() == [CODE, OTHER]
    assert recorder.rejections == []


def test_no_terminator_scans_end_at_silence(
    ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    device = plug(ptys)
    recorder = Recorder()
    connected(recorder, start_reader, device.node, terminator="none")

    device.send(CODE.encode())
    wait_until(lambda: len(recorder.scans) == 1)
    device.send(OTHER.encode())
    wait_until(lambda: len(recorder.scans) == 2)

    assert recorder.texts() == [CODE, OTHER]


def test_repeat_in_one_write_is_one_scan(
    ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    device = plug(ptys)
    recorder = Recorder()
    connected(recorder, start_reader, device.node, repeat_window_s=60.0)

    device.send((CODE + "\r\r" + CODE + "\r" + OTHER + "\r").encode())
    wait_until(lambda: len(recorder.scans) >= 2)

    assert recorder.texts() == [CODE, OTHER]


def test_garbage_is_rejected_and_reading_continues(
    ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    device = plug(ptys)
    recorder = Recorder()
    connected(recorder, start_reader, device.node)

    device.send(b"\xff\xfe\x80\x81\r")
    device.send(b"12\x0034\r")
    device.send(CODE.encode() + b"\r")
    wait_until(lambda: len(recorder.scans) == 1)

    assert len(recorder.rejections) == 2
    assert all(isinstance(error, UnreadableDataError) for error in recorder.rejections)
    assert "0xff" in str(recorder.rejections[0])
    assert "NUL" in str(recorder.rejections[1])
    assert recorder.texts() == [CODE]
    assert recorder.statuses() == ["connected"]


def test_overlong_line_is_rejected_and_reading_continues(
    ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    device = plug(ptys)
    recorder = Recorder()
    connected(recorder, start_reader, device.node, max_frame_bytes=256)

    device.send(b"7" * 1000 + b"\r")
    device.send(CODE.encode() + b"\r")
    wait_until(lambda: len(recorder.scans) == 1)

    assert len(recorder.rejections) == 1
    assert isinstance(recorder.rejections[0], UnterminatedDataError)
    assert recorder.texts() == [CODE]


def test_replug_through_by_id_link_is_followed(
    tmp_path: Path,
    ptys: list[PtyScanner],
    start_reader: StartReader,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="drivers.scanner.serial_reader")
    by_id = ByIdDir(tmp_path)
    first = plug(ptys)
    by_id.point_at(first.node)
    recorder = Recorder()
    connected(recorder, start_reader, str(by_id.link))
    first.send(CODE.encode() + b"\r")
    wait_until(lambda: len(recorder.scans) == 1)

    # Plug the new device in before the old one is released, so the kernel cannot hand out the
    # same node again and the link must lead the reader to a new name.
    second = plug(ptys)
    first.unplug()
    by_id.remove()
    wait_until(lambda: recorder.count("disconnected") == 1)
    by_id.point_at(second.node)
    wait_until(lambda: recorder.count("connected") == 2)
    second.send(OTHER.encode() + b"\r")
    wait_until(lambda: len(recorder.scans) == 2)

    assert recorder.texts() == [CODE, OTHER]
    assert second.node != first.node
    assert recorder.states[-1].port == f"{second.node} ({by_id.link})"
    disconnected = next(state for state in recorder.states if state.status == "disconnected")
    assert "read failed" in disconnected.reason
    messages = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert sum("connected on" in message for message in messages) == 2
    assert sum("disconnected" in message for message in messages) == 1


def test_plain_node_follows_by_id_link_after_replug(
    tmp_path: Path, ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    by_id = ByIdDir(tmp_path)
    first = plug(ptys)
    by_id.point_at(first.node)
    recorder = Recorder()
    connected(recorder, start_reader, first.node)

    second = plug(ptys)
    first.unplug()
    by_id.remove()
    wait_until(lambda: recorder.count("disconnected") == 1)
    by_id.point_at(second.node)
    wait_until(lambda: recorder.count("connected") == 2)
    second.send(CODE.encode() + b"\r")
    wait_until(lambda: len(recorder.scans) == 1)

    assert recorder.texts() == [CODE]
    assert recorder.states[0].port == f"{first.node} ({by_id.link})"
    assert recorder.states[-1].port == f"{second.node} ({by_id.link})"


def test_scanner_plugged_in_after_start_is_connected(
    tmp_path: Path, ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    by_id = ByIdDir(tmp_path)
    recorder = Recorder()
    start_reader(str(by_id.link), recorder)
    wait_until(lambda: recorder.count("reconnecting") >= 2)

    device = plug(ptys)
    by_id.point_at(device.node)
    wait_until(lambda: recorder.count("connected") == 1)
    device.send(CODE.encode() + b"\r")
    wait_until(lambda: len(recorder.scans) == 1)

    assert recorder.statuses()[0] == "disconnected"
    assert "No such file" in recorder.states[0].reason
    assert recorder.states[1].attempt == 2
    assert recorder.texts() == [CODE]


def test_unplug_drops_partial_code(
    tmp_path: Path, ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    by_id = ByIdDir(tmp_path)
    first = plug(ptys)
    by_id.point_at(first.node)
    recorder = Recorder()
    connected(recorder, start_reader, str(by_id.link), unterminated_timeout_s=60.0)

    first.send(CODE[:8].encode())
    time.sleep(0.1)
    second = plug(ptys)
    first.unplug()
    by_id.point_at(second.node)
    wait_until(lambda: recorder.count("connected") == 2)
    second.send(OTHER.encode() + b"\r")
    wait_until(lambda: len(recorder.scans) == 1)

    assert recorder.texts() == [OTHER]


class SilentPort:
    """A port that returns no data and no error, as some drivers do after a removal."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.in_waiting = 0

    def read(self, size: int = 1) -> bytes:
        time.sleep(self.timeout_s)
        return b""

    def close(self) -> None:
        pass


def test_vanished_node_is_a_disconnect(tmp_path: Path) -> None:
    node = tmp_path / "ttyACM0"
    node.touch()
    recorder = Recorder()
    reader = SerialScanner(
        SerialSettings(str(node)),
        recorder,
        by_id_dir=tmp_path / "by-id",
        open_port=lambda port, baudrate, timeout_s: SilentPort(timeout_s),
        retry_delays_s=FAST_RETRY_S,
    )
    reader.start()
    try:
        wait_until(lambda: recorder.count("connected") == 1)
        node.unlink()
        wait_until(lambda: recorder.count("disconnected") == 1)
    finally:
        reader.stop()

    disconnected = next(state for state in recorder.states if state.status == "disconnected")
    assert disconnected.reason == f"the device node {node} disappeared"


def test_loop_url_reads_what_is_written(tmp_path: Path) -> None:
    opened: list[SerialPort] = []

    def open_loop(port: str, baudrate: int, timeout_s: float) -> SerialPort:
        loop = open_serial_port(port, baudrate, timeout_s)
        opened.append(loop)
        return loop

    recorder = Recorder()
    reader = SerialScanner(
        SerialSettings("loop://"), recorder, by_id_dir=tmp_path, open_port=open_loop
    )
    reader.start()
    try:
        wait_until(lambda: recorder.count("connected") == 1)
        loop = opened[0]
        assert isinstance(loop, serial.SerialBase)
        loop.write(CODE.encode() + b"\r" + OTHER[:4].encode())
        loop.write(OTHER[4:].encode() + b"\r")
        wait_until(lambda: len(recorder.scans) == 2)
    finally:
        reader.stop()

    assert recorder.texts() == [CODE, OTHER]
    assert recorder.states[0].port == "loop://"


class FailingOnce(Recorder):
    """Raises from the first scan callback, as a faulty listener might."""

    def on_scan(self, scan: ScanResult) -> None:
        if not self.scans:
            super().on_scan(scan)
            raise RuntimeError("listener fault")
        super().on_scan(scan)


def test_listener_failure_does_not_stop_reader(
    ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    device = plug(ptys)
    recorder = FailingOnce()
    connected(recorder, start_reader, device.node)

    device.send(CODE.encode() + b"\r")
    wait_until(lambda: len(recorder.scans) == 1)
    device.send(OTHER.encode() + b"\r")
    wait_until(lambda: len(recorder.scans) == 2)

    assert recorder.texts() == [CODE, OTHER]
    assert recorder.statuses() == ["connected"]


def test_second_reader_cannot_take_the_port(
    ptys: list[PtyScanner], start_reader: StartReader
) -> None:
    device = plug(ptys)
    first = Recorder()
    connected(first, start_reader, device.node)
    second = Recorder()

    start_reader(device.node, second)
    wait_until(lambda: second.count("disconnected") == 1)
    device.send(CODE.encode() + b"\r")
    wait_until(lambda: len(first.scans) == 1)

    assert "exclusively lock" in second.states[0].reason
    assert second.scans == []
    assert first.texts() == [CODE]
