from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from pyzbar.pyzbar import decode as decode_barcodes

from drivers.printer import commands
from drivers.printer.connection import open_printer, read_status, send
from drivers.printer.document import Align, Columns, Cut, Document, QrCode, Rule, Text
from drivers.printer.emulator import PrinterEmulator
from drivers.printer.received import CutMark, DrawerPulse, PrintedImage, ReceivedJob
from drivers.printer.render import render
from drivers.printer.status import PrinterState, StatusCause
from drivers.printer.stream import StreamParser

QR_PAYLOAD = "00020101021226300014jp.chiiki.coin0108T1234565204581253033925406199.00"


def _wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def emulator() -> Iterator[PrinterEmulator]:
    with PrinterEmulator() as running:
        yield running


def _receipt() -> Document:
    return (
        Document()
        .add(Text("会津コイン", align=Align.CENTER, double_width=True, double_height=True))
        .add(Text("ｶﾌｪﾗﾃ ¥480 カフェラテ ￥480"))
        .add(Columns("豚肉・木耳と玉子炒め弁当", "￥1,990"))
        .add(Rule())
        .add(QrCode(QR_PAYLOAD))
        .add(Cut())
    )


def test_emulator_listens_on_real_loopback_port(emulator: PrinterEmulator) -> None:
    assert emulator.port > 0
    assert emulator.url == f"network://127.0.0.1:{emulator.port}"


def test_emulator_decodes_rendered_japanese_text(emulator: PrinterEmulator) -> None:
    send(emulator.url, render(_receipt()))
    job = emulator.wait_for_job()
    assert job.lines[0] == "会津コイン"
    assert job.lines[1] == "ｶﾌｪﾗﾃ ¥480 カフェラテ ￥480"
    assert job.lines[2].startswith("豚肉・木耳と玉子炒め弁当")
    assert job.lines[2].endswith("￥1,990")
    assert job.lines[3] == "-" * 48


def test_emulator_records_qr_data_and_cut(emulator: PrinterEmulator) -> None:
    send(emulator.url, render(_receipt()))
    job = emulator.wait_for_job()
    assert job.qr_data == [QR_PAYLOAD]
    assert job.cuts == [CutMark(partial=True, extra_feed=24)]
    assert job.ended_by_cut


def test_emulator_image_qr_decodes_with_pyzbar(emulator: PrinterEmulator) -> None:
    send(emulator.url, render(_receipt(), paper_width_mm=58))
    job = emulator.wait_for_job()
    assert job.image is not None
    assert [symbol.data.decode() for symbol in decode_barcodes(job.image)] == [QR_PAYLOAD]


def test_emulator_image_width_matches_paper(emulator: PrinterEmulator) -> None:
    send(emulator.url, render(_receipt()))
    job = emulator.wait_for_job()
    assert job.image is not None
    assert job.image.width >= 576


def test_emulator_keeps_raw_job_bytes(emulator: PrinterEmulator) -> None:
    job_bytes = render(_receipt())
    send(emulator.url, job_bytes)
    assert emulator.wait_for_job().raw == job_bytes


def test_job_without_cut_ends_when_connection_closes(emulator: PrinterEmulator) -> None:
    send(emulator.url, render(Document().add(Text("領収書"))))
    job = emulator.wait_for_job()
    assert job.lines == ["領収書"]
    assert not job.ended_by_cut


def test_two_cuts_make_two_jobs(emulator: PrinterEmulator) -> None:
    first = render(Document().add(Text("お客様控え")).add(Cut()))
    second = render(Document().add(Text("店舗控え")).add(Cut()))
    send(emulator.url, first + second)
    assert emulator.wait_for_job().lines == ["お客様控え"]
    assert emulator.wait_for_job().lines == ["店舗控え"]


def test_on_job_callback_receives_job() -> None:
    received: list[ReceivedJob] = []
    arrived = threading.Event()

    def collect(job: ReceivedJob) -> None:
        received.append(job)
        arrived.set()

    with PrinterEmulator(on_job=collect, draw_images=False) as emulator:
        send(emulator.url, render(Document().add(Text("会津コイン")).add(Cut())))
        assert arrived.wait(5)
    assert received[0].lines == ["会津コイン"]
    assert received[0].image is None


def test_emulator_answers_status_ok(emulator: PrinterEmulator) -> None:
    status = read_status(emulator.url)
    assert status.state is PrinterState.OK


@pytest.mark.parametrize(
    ("condition", "cause"),
    [
        ("paper_end", StatusCause.PAPER_END),
        ("cover_open", StatusCause.COVER_OPEN),
        ("offline", StatusCause.OFFLINE),
        ("paper_near_end", StatusCause.PAPER_NEAR_END),
    ],
)
def test_emulator_reports_configured_failure(emulator: PrinterEmulator, condition: str, cause: StatusCause) -> None:
    setattr(emulator.condition, condition, True)
    status = read_status(emulator.url)
    assert status.state is PrinterState.PROBLEM
    assert status.primary_cause is cause


def test_emulator_answers_raw_dle_eot_bytes(emulator: PrinterEmulator) -> None:
    emulator.condition.paper_end = True
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as client:
        replies = []
        for n in (1, 2, 4):
            client.sendall(commands.realtime_status(n))
            replies.append(client.recv(1)[0])
    assert replies == [0x1A, 0x32, 0x7E]


def test_status_over_open_connection_then_print(emulator: PrinterEmulator) -> None:
    with open_printer(emulator.url) as connection:
        assert connection.read_status().state is PrinterState.OK
        connection.write(render(Document().add(Text("会津")).add(Cut())))
    assert emulator.wait_for_job().lines == ["会津"]


def test_emulator_discards_job_while_paper_end(emulator: PrinterEmulator) -> None:
    emulator.condition.paper_end = True
    send(emulator.url, render(Document().add(Text("会津")).add(Cut())))
    assert _wait_until(lambda: emulator.discarded_jobs == 1)
    emulator.condition.paper_end = False
    send(emulator.url, render(Document().add(Text("再印刷")).add(Cut())))
    assert emulator.wait_for_job().lines == ["再印刷"]
    assert emulator.discarded_jobs == 1


def test_silent_printer_status_is_unknown() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        status = read_status(f"network://127.0.0.1:{port}", timeout_s=0.3)
    assert status.state is PrinterState.UNKNOWN
    assert "DLE EOT 1" in status.detail


def test_parser_handles_commands_split_across_reads() -> None:
    jobs: list[ReceivedJob] = []
    parser = StreamParser(48, jobs.append)
    job_bytes = render(Document().add(Text("会津コイン ¥100")).add(QrCode("split")).add(Cut()))
    for index in range(len(job_bytes)):
        parser.feed(job_bytes[index : index + 1])
    assert jobs[0].lines[0] == "会津コイン ¥100"
    assert jobs[0].qr_data == ["split"]


def test_parser_records_drawer_pulse_and_raster() -> None:
    jobs: list[ReceivedJob] = []
    parser = StreamParser(48, jobs.append)
    parser.feed(commands.drawer_pulse(pin=2, on_ms=100, off_ms=100))
    parser.feed(commands.raster_image(2, 3, bytes([0xFF, 0x00] * 3)))
    parser.close()
    items = jobs[0].items
    assert items[0] == DrawerPulse(pin=2, on_ms=100, off_ms=100)
    assert isinstance(items[1], PrintedImage)
    assert items[1].image.size == (16, 3)
    assert items[1].image.getpixel((0, 0)) == 0
    assert items[1].image.getpixel((15, 0)) == 255


def test_parser_wraps_over_long_line_like_printer() -> None:
    jobs: list[ReceivedJob] = []
    parser = StreamParser(32, jobs.append)
    parser.feed(b"\x1b@" + b"A" * 40 + b"\n")
    parser.close()
    assert jobs[0].lines == ["A" * 32, "A" * 8]


def test_parser_reads_0x5c_as_backslash_without_japan_set() -> None:
    jobs: list[ReceivedJob] = []
    parser = StreamParser(48, jobs.append)
    parser.feed(b"\x1b@\x5c\n\x1bR\x08\x5c\n")
    parser.close()
    assert jobs[0].lines == ["\\", "¥"]


def test_parser_skips_barcode_and_position_commands() -> None:
    jobs: list[ReceivedJob] = []
    parser = StreamParser(48, jobs.append)
    parser.feed(b"\x1b@\x1dkA\x05\x31\x32\x33\x34\x35\x1d\x6b\x04AB12\x00\x1b$\x10\x00\x1bc5\x00X\n")
    parser.close()
    assert jobs[0].lines == ["X"]
