"""An HTTP/1.1 proxy on loopback that injects network faults between a terminal and the server.

Each request the client sends is handled on its own upstream connection, and a seeded random
generator picks one fault for it:

- ``pass``: forward the request and relay the response.
- ``drop``: close the client connection without contacting the server.
- ``delay``: wait ``delay_s`` seconds, then pass.
- ``cut_request``: forward only part of the request to the server, then close both sides, so the
  server never sees a whole request.
- ``cut_response``: forward the request, read the whole response, then close the client
  connection after part of the response: the server applied the request but the client cannot
  tell.
- ``duplicate``: send the request to the server twice, on two connections, and relay the second
  response: the server sees a retry the client never made.

Only requests with a Content-Length body (or none) and responses with a Content-Length are
supported, which is what httpx sends and uvicorn returns for the JSON API.

``set_plan`` swaps the fault weights while the proxy runs (for an outage, or to remove every
fault before a final drain). An optional ``hook`` sees each request twice, at ``"request"``
before it is forwarded and at ``"response"`` after the whole response arrived; returning True
closes the client connection there, as ``drop`` or ``cut_response`` do.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

FAULTS = ("pass", "drop", "delay", "cut_request", "cut_response", "duplicate")
READ_CHUNK_BYTES = 65536
SOCKET_TIMEOUT_S = 35.0  # longer than the server's long-poll limit of 30 s
ACCEPT_POLL_S = 0.1


# Called with the stage ("request" or "response") and the raw request; True cuts the connection.
ProxyHook = Callable[[str, bytes], bool]


class ProtocolError(Exception):
    """The proxy could not parse an HTTP message it relays."""


@dataclass
class FaultPlan:
    """Weights of each fault; ``pass`` gets whatever weight the others leave."""

    seed: int
    drop: float = 0.0
    delay: float = 0.0
    cut_request: float = 0.0
    cut_response: float = 0.0
    duplicate: float = 0.0
    delay_s: float = 0.2
    weights: dict[str, float] = field(init=False)

    def __post_init__(self) -> None:
        faults = {
            "drop": self.drop,
            "delay": self.delay,
            "cut_request": self.cut_request,
            "cut_response": self.cut_response,
            "duplicate": self.duplicate,
        }
        rest = 1.0 - sum(faults.values())
        if rest < 0:
            raise ValueError(f"fault weights add up to more than 1: {faults}")
        self.weights = {"pass": rest, **faults}


def _read_until(sock: socket.socket, buffer: bytearray, marker: bytes) -> int:
    while (index := buffer.find(marker)) < 0:
        chunk = sock.recv(READ_CHUNK_BYTES)
        if not chunk:
            raise ConnectionError("peer closed the connection")
        buffer.extend(chunk)
    return index


def read_message(sock: socket.socket, buffer: bytearray) -> bytes:
    """Read one HTTP message (head and Content-Length body) from ``sock``, keeping extra bytes."""
    head_end = _read_until(sock, buffer, b"\r\n\r\n") + 4
    head = bytes(buffer[:head_end])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding":
            raise ProtocolError("chunked messages are not supported by the fault proxy")
    while len(buffer) < head_end + length:
        chunk = sock.recv(READ_CHUNK_BYTES)
        if not chunk:
            raise ConnectionError("peer closed the connection mid-body")
        buffer.extend(chunk)
    message = bytes(buffer[: head_end + length])
    del buffer[: head_end + length]
    return message


class FaultProxy:
    """Listen on 127.0.0.1 and forward to ``upstream`` with faults from ``plan``."""

    def __init__(
        self, upstream: tuple[str, int], plan: FaultPlan, hook: ProxyHook | None = None
    ) -> None:
        self.upstream = upstream
        self.plan = plan
        self.hook = hook
        self.counts: Counter[str] = Counter()
        self._random = random.Random(plan.seed)
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def set_plan(self, plan: FaultPlan) -> None:
        """Use ``plan`` for the requests that arrive from now on."""
        with self._lock:
            self.plan = plan
            self._random = random.Random(plan.seed)

    def _choose(self) -> str:
        with self._lock:
            names: Sequence[str] = list(self.plan.weights)
            fault = self._random.choices(names, weights=list(self.plan.weights.values()))[0]
            self.counts[fault] += 1
            return fault

    def _accept_loop(self) -> None:
        # close() does not wake a thread blocked in accept() on Linux, so poll the stop flag.
        self._listener.settimeout(ACCEPT_POLL_S)
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(SOCKET_TIMEOUT_S)
        buffer = bytearray()
        try:
            while True:
                request = read_message(client, buffer)
                if not self._handle(client, request, self._choose()):
                    return
        except (OSError, ConnectionError, ProtocolError) as exc:
            logger.debug("fault proxy connection ended: %s", exc)
        finally:
            client.close()

    def _handle(self, client: socket.socket, request: bytes, fault: str) -> bool:
        """Apply ``fault`` to one request; return False when the client connection is done."""
        if fault == "drop" or self._hook_cuts("request", request):
            return False
        if fault == "cut_request":
            with socket.create_connection(self.upstream, timeout=SOCKET_TIMEOUT_S) as upstream:
                upstream.sendall(request[: max(1, len(request) // 2)])
            return False
        if fault == "delay":
            self._stopping.wait(self.plan.delay_s)
        if fault == "duplicate":
            self._exchange(request)
        response = self._exchange(request)
        if self._hook_cuts("response", request):
            return False
        if fault == "cut_response":
            client.sendall(response[: len(response) // 3])
            return False
        client.sendall(response)
        return True

    def _hook_cuts(self, stage: str, request: bytes) -> bool:
        return self.hook is not None and self.hook(stage, request)

    def _exchange(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=SOCKET_TIMEOUT_S) as upstream:
            upstream.sendall(request)
            return read_message(upstream, bytearray())
