"""A network receipt printer emulator on a loopback TCP port.

``PrinterEmulator`` accepts ESC/POS jobs like a printer on port 9100 and replies to DLE EOT
status requests from a configurable ``PrinterCondition``. It turns each job into a
``ReceivedJob``: decoded text lines, QR data, cut marks and a PIL picture of the receipt. Jobs are put on
``jobs`` (a queue) and passed to ``on_job``. Both happen on the connection's thread, so a Qt
preview must hand the job to its GUI thread before touching widgets.

While the condition reports paper end, cover open or offline, received jobs are counted in
``discarded_jobs`` and not delivered, since a real printer prints nothing then.

Faults a test can inject, each on the real TCP connection:

- ``condition``: paper end, paper near end, cover open, offline, reported to DLE EOT;
  ``condition.answers_status = False`` leaves DLE EOT unanswered, as a printer that does not
  support it or has hung.
- ``paper_end_after_bytes``: the paper runs out once that many bytes of a connection arrived,
  so the job in progress is discarded and later status replies report paper end.
- ``disconnect_after_bytes``: the emulator closes the connection after that many bytes, as on
  power loss or a pulled cable. The part of the job received is counted in ``interrupted_jobs``
  and not delivered.

Run ``python -m drivers.printer.emulator --port 9100`` to print received jobs to stdout.
"""

from __future__ import annotations

import argparse
import logging
import queue
import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from PIL import Image

from drivers.printer.errors import FontMissingError
from drivers.printer.profile import paper_for_width
from drivers.printer.receipt_image import draw_job
from drivers.printer.received import ReceivedJob
from drivers.printer.stream import StreamParser

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
RECEIVE_CHUNK_BYTES = 4096
# How often the accept loop checks for stop(). socketserver's default of 0.5 s slows tests.
SHUTDOWN_POLL_S = 0.05
JobCallback = Callable[[ReceivedJob], None]


@dataclass
class PrinterCondition:
    """Faults the emulator reports in its DLE EOT replies."""

    paper_end: bool = False
    paper_near_end: bool = False
    cover_open: bool = False
    offline: bool = False
    answers_status: bool = True

    @property
    def blocks_printing(self) -> bool:
        return self.paper_end or self.cover_open or self.offline

    def status_byte(self, n: int) -> int | None:
        """Return the reply byte to DLE EOT ``n``, or None when the printer does not reply."""
        if not self.answers_status:
            return None
        if n == 1:
            flags = 0x08 if self.blocks_printing else 0
        elif n == 2:
            flags = 0x04 if self.cover_open else 0
            flags |= 0x20 if self.paper_end else 0
        elif n == 3:
            flags = 0
        elif n == 4:
            flags = 0x0C if self.paper_near_end or self.paper_end else 0
            flags |= 0x60 if self.paper_end else 0
        else:
            return None
        return 0x12 | flags


class PrinterEmulator:
    """An ESC/POS printer on ``host``:``port`` (port 0 picks a free port)."""

    def __init__(
        self,
        host: str = LOOPBACK,
        port: int = 0,
        *,
        paper_width_mm: int = 80,
        on_job: JobCallback | None = None,
        draw_images: bool = True,
    ) -> None:
        self.paper = paper_for_width(paper_width_mm)
        self.condition = PrinterCondition()
        self.jobs: queue.Queue[ReceivedJob] = queue.Queue()
        self.on_job = on_job
        self.draw_images = draw_images
        self.discarded_jobs = 0
        self.interrupted_jobs = 0
        self.paper_end_after_bytes: int | None = None
        self.disconnect_after_bytes: int | None = None
        self._address = (host, port)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("The emulator is not started.")
        port: int = self._server.server_address[1]
        return port

    @property
    def url(self) -> str:
        """The printer URL that reaches this emulator, such as network://127.0.0.1:40123."""
        return f"network://{self._address[0]}:{self.port}"

    def start(self) -> None:
        self._server = _Server(self._address, _Handler, emulator=self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": SHUTDOWN_POLL_S},
            name="printer-emulator",
            daemon=True,
        )
        self._thread.start()
        logger.info("Printer emulator listening on %s", self.url)

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for client in list(self._clients):
                _shutdown(client)
        if self._thread is not None:
            self._thread.join()
        logger.info("Printer emulator on port %d stopped", self._server.server_address[1])
        self._server = None

    def wait_for_job(self, timeout_s: float = 5.0) -> ReceivedJob:
        """Return the next received job, raising TimeoutError when none arrives in time."""
        try:
            return self.jobs.get(timeout=timeout_s)
        except queue.Empty:
            raise TimeoutError(f"No print job arrived within {timeout_s:g} s.") from None

    def __enter__(self) -> PrinterEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            self._clients.add(client)
        parser = StreamParser(
            self.paper.columns,
            on_job=self._deliver,
            on_status_request=lambda n: self._answer_status(client, n),
        )
        received_bytes = 0
        try:
            while chunk := _receive(client):
                chunk = self._apply_byte_faults(chunk, received_bytes)
                received_bytes += len(chunk)
                parser.feed(chunk)
                if self.disconnect_after_bytes is not None and received_bytes >= self.disconnect_after_bytes:
                    self._disconnect(client)
                    return
            parser.close()
        finally:
            with self._lock:
                self._clients.discard(client)

    def _apply_byte_faults(self, chunk: bytes, received_bytes: int) -> bytes:
        """Cut ``chunk`` at the disconnect point and run out of paper at its point."""
        if self.disconnect_after_bytes is not None:
            chunk = chunk[: max(self.disconnect_after_bytes - received_bytes, 0)]
        if self.paper_end_after_bytes is not None and received_bytes + len(chunk) >= self.paper_end_after_bytes:
            self.condition.paper_end = True
        return chunk

    def _disconnect(self, client: socket.socket) -> None:
        with self._lock:
            self.interrupted_jobs += 1
        logger.warning("Closed the connection after %d bytes, as on power loss", self.disconnect_after_bytes)
        _shutdown(client)
        client.close()

    def _answer_status(self, client: socket.socket, n: int) -> None:
        reply = self.condition.status_byte(n)
        if reply is None:
            return
        try:
            client.sendall(bytes([reply]))
        except OSError as exc:
            logger.warning("Sending the reply to DLE EOT %d failed: %s", n, exc)

    def _deliver(self, job: ReceivedJob) -> None:
        if self.condition.blocks_printing:
            with self._lock:
                self.discarded_jobs += 1
            logger.warning("Discarded a %d-byte job: the emulated printer cannot print", len(job.raw))
            return
        if self.draw_images:
            job.image = _draw(job, self.paper.printable_dots)
        logger.info("Received a print job of %d bytes, %d lines", len(job.raw), len(job.lines))
        self.jobs.put(job)
        if self.on_job is not None:
            self.on_job(job)


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[socketserver.BaseRequestHandler],
        *,
        emulator: PrinterEmulator,
    ) -> None:
        self.emulator = emulator
        super().__init__(address, handler)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.emulator._serve(self.request)


def _receive(client: socket.socket) -> bytes:
    try:
        return client.recv(RECEIVE_CHUNK_BYTES)
    except OSError as exc:
        logger.info("Printer connection closed by an error: %s", exc)
        return b""


def _shutdown(client: socket.socket) -> None:
    try:
        client.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _draw(job: ReceivedJob, printable_dots: int) -> Image.Image | None:
    try:
        return draw_job(job, printable_dots)
    except FontMissingError as exc:
        logger.error("Could not draw the received receipt: %s", exc)
        return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until interrupted, printing each job as text."""
    args = _parse_args(argv)
    # force=True: importing python-escpos 3.1 already called logging.basicConfig() with no level.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)

    emulator = PrinterEmulator(
        args.host, args.port, paper_width_mm=args.paper_width, on_job=_printer_for(args.save_dir)
    )
    emulator.condition = PrinterCondition(
        paper_end=args.paper_end, paper_near_end=args.near_end, cover_open=args.cover_open, offline=args.offline
    )
    try:
        emulator.start()
    except OSError as exc:
        logger.error("Could not listen on %s port %d: %s", args.host, args.port, exc)
        return 1

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopped.set())
    stopped.wait()
    emulator.stop()
    return 0


def _printer_for(save_dir: Path | None) -> JobCallback:
    counter = iter(range(1, sys.maxsize))

    def show(job: ReceivedJob) -> None:
        number = next(counter)
        sys.stdout.write(f"===== job {number} ({len(job.raw)} bytes) =====\n{job.to_text()}\n")
        sys.stdout.flush()
        if save_dir is not None and job.image is not None:
            path = save_dir / f"receipt-{number:04d}.png"
            job.image.save(path)
            logger.info("Saved the receipt picture to %s", path)

    return show


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m drivers.printer.emulator",
        description="Emulate an ESC/POS receipt printer on a TCP port and print received jobs as text.",
    )
    parser.add_argument("--host", default=LOOPBACK, help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=9100, help="TCP port to listen on, 0 for any (default: %(default)s)")
    parser.add_argument("--paper-width", type=int, choices=(58, 80), default=80, help="paper width in mm")
    parser.add_argument("--save-dir", type=Path, help="folder to save each receipt picture as PNG")
    parser.add_argument("--paper-end", action="store_true", help="report paper end to status requests")
    parser.add_argument("--near-end", action="store_true", help="report paper near end")
    parser.add_argument("--cover-open", action="store_true", help="report the cover open")
    parser.add_argument("--offline", action="store_true", help="report the printer offline")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
