"""A loopback TCP relay between the demo terminal and the demo server, with an off switch.

The demo's 「オフラインにする」 button cuts the terminal off from the server while the phone
keeps its own connection, as when a shop's network goes down. The terminal's API clients
connect to this relay, which copies bytes to the server and back. Switched off, it closes every
open connection and closes each new one as soon as it is accepted, so the terminal's requests
fail as they do when the network is down. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import socket
import threading

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
CHUNK_BYTES = 65536
# The accept loop wakes this often to notice stop().
ACCEPT_TIMEOUT_S = 0.2


class Relay:
    """Forwards TCP connections from a loopback port to ``target_port`` while online."""

    def __init__(self, target_port: int, target_host: str = LOOPBACK) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.create_server((LOOPBACK, 0))
        self._listener.settimeout(ACCEPT_TIMEOUT_S)
        self.port: int = self._listener.getsockname()[1]
        self._online = True
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="demo-relay", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def online(self) -> bool:
        with self._lock:
            return self._online

    def start(self) -> None:
        self._thread.start()
        log.info("demo relay %s forwards to %s:%d", self.url, *self._target)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        self._listener.close()
        self._close_all()

    def set_online(self, online: bool) -> None:
        """Switch forwarding on or off; off also closes the connections that are open."""
        with self._lock:
            self._online = online
        if not online:
            self._close_all()
        log.info("demo relay switched %s", "on" if online else "off")

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            if not self.online:
                client.close()
                continue
            self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self._target, timeout=5)
        except OSError as exc:
            log.warning("demo relay cannot reach the server: %s", exc)
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._open.update((client, upstream))
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(
                target=self._pump, args=(source, sink), name="demo-relay-pump", daemon=True
            ).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(CHUNK_BYTES)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass  # the other direction or set_online(False) closed a socket
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close_all(self) -> None:
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed or never connected
        sock.close()
