"""Screen rotation under a real cage: the captured picture and the installer's touch matrix agree.

cage runs on wlroots' headless backend through the kiosk launcher, with CHIIKI_ROTATION set. A Qt
window whose top-left quarter is red is shown in it, and the output's buffer is read back with the
wlr-screencopy protocol, untransformed, as a panel would scan it out. A finger on the red quarter
of that buffer must be reported, through the matrix install-kiosk.sh writes for the same
rotation, inside the red quarter of the picture.

Skipped where cage, Xwayland (which cage 0.1.4 needs to start) or Qt's Wayland plugin is missing.
"""

from __future__ import annotations

import array
import mmap
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

PROJECT = Path(__file__).resolve().parent.parent
LAUNCHER = PROJECT / "packaging" / "kiosk" / "chiiki-kiosk"
INSTALLER = PROJECT / "packaging" / "install-kiosk.sh"

# The test window: a white picture whose top-left quarter is red.
CLIENT_SOURCE = """
import sys
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QApplication, QWidget

class Quarters(QWidget):
    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        painter.fillRect(0, 0, self.width() // 2, self.height() // 2, QColor("red"))

app = QApplication(sys.argv)
window = Quarters()
window.showMaximized()
app.exec()
"""


# --- a minimal Wayland client for wlr-screencopy ----------------------------------------


def _padded(length: int) -> int:
    return (length + 3) & ~3


def _wire_string(text: str) -> bytes:
    data = text.encode() + b"\0"
    return struct.pack("<I", len(data)) + data.ljust(_padded(len(data)), b"\0")


def _read_wire_string(body: bytes, offset: int) -> tuple[str, int]:
    (length,) = struct.unpack_from("<I", body, offset)
    text = body[offset + 4 : offset + 4 + length - 1].decode()
    return text, offset + 4 + _padded(length)


class WaylandWire:
    """A Wayland connection spoken on the socket directly: requests out, events in."""

    def __init__(self, socket_path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(socket_path)
        self.next_object_id = 2  # 1 is wl_display
        self.pending = b""

    def new_id(self) -> int:
        object_id = self.next_object_id
        self.next_object_id += 1
        return object_id

    def request(self, object_id: int, opcode: int, payload: bytes = b"", fd: int | None = None) -> None:
        message = struct.pack("<II", object_id, ((8 + len(payload)) << 16) | opcode) + payload
        if fd is None:
            self.sock.sendall(message)
        else:
            rights = array.array("i", [fd])
            self.sock.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)])

    def events(self) -> Iterator[tuple[int, int, bytes]]:
        while True:
            while len(self.pending) >= 8:
                object_id, word = struct.unpack_from("<II", self.pending)
                size = word >> 16
                if len(self.pending) < size:
                    break
                body = self.pending[8:size]
                self.pending = self.pending[size:]
                if object_id == 1 and word & 0xFFFF == 0:
                    raise RuntimeError(f"Wayland protocol error: {body!r}")
                yield object_id, word & 0xFFFF, body
            data = self.sock.recv(65536)
            if not data:
                raise RuntimeError("the compositor closed the connection")
            self.pending += data

    def close(self) -> None:
        self.sock.close()


def _bind_globals(wire: WaylandWire, wanted: dict[str, int]) -> dict[str, int]:
    """Bind each wanted interface at the given version; return their object ids."""
    registry = wire.new_id()
    wire.request(1, 1, struct.pack("<I", registry))  # wl_display.get_registry
    callback = wire.new_id()
    wire.request(1, 0, struct.pack("<I", callback))  # wl_display.sync
    names: dict[str, int] = {}
    for object_id, opcode, body in wire.events():
        if object_id == registry and opcode == 0:
            (name,) = struct.unpack_from("<I", body)
            interface, _ = _read_wire_string(body, 4)
            names.setdefault(interface, name)
        elif object_id == callback:
            break

    bound = {}
    for interface, version in wanted.items():
        if interface not in names:
            raise RuntimeError(f"the compositor has no {interface}")
        object_id = wire.new_id()
        payload = struct.pack("<I", names[interface]) + _wire_string(interface)
        wire.request(registry, 0, payload + struct.pack("<II", version, object_id))
        bound[interface] = object_id
    return bound


def capture_raw_output(socket_path: str) -> Image.Image:
    """Copy the first output's buffer with zwlr_screencopy_manager_v1 version 1, untransformed."""
    wire = WaylandWire(socket_path)
    try:
        bound = _bind_globals(wire, {"wl_shm": 1, "wl_output": 1, "zwlr_screencopy_manager_v1": 1})
        frame = wire.new_id()
        manager = bound["zwlr_screencopy_manager_v1"]
        wire.request(manager, 0, struct.pack("<IiI", frame, 0, bound["wl_output"]))
        for object_id, opcode, body in wire.events():
            if object_id == frame and opcode == 0:  # buffer: format, width, height, stride
                shm_format, width, height, stride = struct.unpack_from("<IIII", body)
                break
            if object_id == frame and opcode == 3:
                raise RuntimeError("screencopy failed")

        size = stride * height
        fd = os.memfd_create("chiiki-screencopy")
        os.ftruncate(fd, size)
        pool = wire.new_id()
        wire.request(bound["wl_shm"], 0, struct.pack("<Ii", pool, size), fd=fd)
        buffer = wire.new_id()
        wire.request(pool, 0, struct.pack("<IiiiiI", buffer, 0, width, height, stride, shm_format))
        wire.request(frame, 0, struct.pack("<I", buffer))  # copy
        flags = 0
        for object_id, opcode, body in wire.events():
            if object_id == frame and opcode == 1:
                (flags,) = struct.unpack_from("<I", body)
            elif object_id == frame and opcode == 2:  # ready
                break
            elif object_id == frame and opcode == 3:
                raise RuntimeError("screencopy failed")
        with mmap.mmap(fd, size) as mapped:
            pixels = bytes(mapped)
        os.close(fd)
    finally:
        wire.close()

    # wl_shm's argb8888 and xrgb8888 are little-endian, so bytes run B, G, R, A.
    image = Image.frombuffer("RGBA", (width, height), pixels, "raw", "BGRA", stride, 1).convert("RGB")
    if flags & 1:  # y_invert
        image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    return image


# --- the test ---------------------------------------------------------------------------


def _red_centre(image: Image.Image) -> tuple[float, float] | None:
    """Return the centre of the red pixels as fractions of the image, or None without red."""
    width, height = image.size
    xs, ys = [], []
    for y in range(0, height, 8):
        for x in range(0, width, 8):
            red, green, blue = image.getpixel((x, y))  # type: ignore[misc]
            if red > 200 and green < 80 and blue < 80:
                xs.append(x)
                ys.append(y)
    if not xs:
        return None
    return (sum(xs) / len(xs) + 4) / width, (sum(ys) / len(ys) + 4) / height


def _touch_matrix_from_installer(rotation: int, work: Path) -> list[float]:
    root = work / f"root-{rotation}"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text("ID=debian\nVERSION_CODENAME=bookworm\n")
    fake_bin = work / "fake-dpkg"
    fake_bin.mkdir(exist_ok=True)
    (fake_bin / "dpkg").write_text("#!/bin/sh\necho arm64\n")
    (fake_bin / "dpkg").chmod(0o755)
    env = dict(os.environ, PATH=f"{fake_bin}:{os.environ['PATH']}")
    subprocess.run(
        ["bash", str(INSTALLER), "--root", str(root), "--rotation", str(rotation)],
        env=env, check=True, capture_output=True, timeout=120,
    )
    rule = (root / "etc/udev/rules.d/70-chiiki-pos-touch.rules").read_text()
    matrix_text = rule.split('LIBINPUT_CALIBRATION_MATRIX}="', 1)[1].split('"', 1)[0]
    return [float(value) for value in matrix_text.split()]


def _skip_without_tools() -> None:
    for tool in ("cage", "Xwayland"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install cage xwayland)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("cage refuses to run as root and runuser is not installed")


def _start_cage(rotation: int, work: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """Start the launcher's cage as an unprivileged user; return it and its runtime dir."""
    runtime = work / "runtime"
    runtime.mkdir(mode=0o700)
    prefix = work / "prefix"
    (prefix / "venv/bin").mkdir(parents=True)
    (prefix / "venv/bin/chiiki-pos").write_text("#!/bin/sh\nexec sleep 60\n")
    (prefix / "venv/bin/chiiki-pos").chmod(0o755)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(work),
        "XDG_RUNTIME_DIR": str(runtime),
        "WLR_BACKENDS": "headless",
        "WLR_HEADLESS_OUTPUTS": "1",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "WLR_RENDERER": "pixman",
        "CHIIKI_PREFIX": str(prefix),
        "CHIIKI_ROTATION": str(rotation),
    }
    command = ["bash", str(LAUNCHER), "cage"]
    if os.geteuid() == 0:
        # cage starts Xwayland, which creates /tmp/.X11-unix when it is missing. Create it as the
        # system does at boot, so it is not left owned by nobody for every later X server.
        x11_sockets = Path("/tmp/.X11-unix")
        if not x11_sockets.exists():
            x11_sockets.mkdir()
            x11_sockets.chmod(0o1777)
        shutil.chown(runtime, "nobody")
        command = ["runuser", "-u", "nobody", "--", "env", *(f"{k}={v}" for k, v in env.items()), *command]
    cage = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return cage, runtime


def _wait_for_socket(runtime: Path, cage: subprocess.Popen[bytes]) -> Path:
    for _ in range(100):
        sockets = sorted(runtime.glob("wayland-[0-9]"))
        if sockets:
            return sockets[0]
        if cage.poll() is not None:
            stderr = cage.stderr.read().decode() if cage.stderr else ""
            pytest.fail(f"cage exited with {cage.returncode}: {stderr}")
        time.sleep(0.1)
    pytest.fail("cage did not open a Wayland socket within 10 s")


@pytest.mark.parametrize("rotation", (90, 180, 270))
def test_cage_picture_matches_touch_matrix(rotation: int, tmp_path: Path) -> None:
    _skip_without_tools()
    work = Path(tempfile.mkdtemp(prefix="chiiki-cage-"))
    work.chmod(0o755)  # readable by the unprivileged user that runs cage
    cage, runtime = _start_cage(rotation, work)
    client = None
    try:
        wayland_socket = _wait_for_socket(runtime, cage)
        client_runtime = work / "client-runtime"
        client_runtime.mkdir(mode=0o700)
        client_env = dict(
            os.environ,
            QT_QPA_PLATFORM="wayland",
            WAYLAND_DISPLAY=str(wayland_socket),
            XDG_RUNTIME_DIR=str(client_runtime),
        )
        client = subprocess.Popen(
            [sys.executable, "-c", CLIENT_SOURCE], env=client_env, stderr=subprocess.PIPE
        )

        centre = None
        for _ in range(40):
            time.sleep(0.25)
            if client.poll() is not None:
                stderr = client.stderr.read().decode() if client.stderr else ""
                if "Could not load the Qt platform plugin" in stderr:
                    pytest.skip("Qt's Wayland plugin cannot load (apt-get install libwayland-cursor0 libwayland-egl1)")
                pytest.fail(f"the test window exited: {stderr}")
            panel = capture_raw_output(str(wayland_socket))
            centre = _red_centre(panel)
            if centre is not None and abs(centre[0] - 0.5) > 0.1 and abs(centre[1] - 0.5) > 0.1:
                break
        assert centre is not None, "the red quarter never appeared on the output"
    finally:
        if client is not None:
            client.kill()
            client.wait()
        cage.terminate()
        cage.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    matrix = _touch_matrix_from_installer(rotation, tmp_path)
    a, b, c, d, e, f = matrix
    x, y = centre
    # The red quarter's centre in the picture is (0.25, 0.25).
    assert a * x + b * y + c == pytest.approx(0.25, abs=0.02)
    assert d * x + e * y + f == pytest.approx(0.25, abs=0.02)
