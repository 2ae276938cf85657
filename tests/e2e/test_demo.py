from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from drivers.scanner.qrimage import read_valid_qr
from terminal import coupon_pairing, emv

DEMO_TIMEOUT_S = 120


def test_demo_tour_takes_both_payments(tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CACHE_HOME": str(tmp_path / "cache")}

    result = subprocess.run(
        [sys.executable, "-m", "terminal.cli", "demo", "--offscreen", "--screenshot", str(shots), "--tour"],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("terminal-qr", "terminal-approved", "receipts", "phone-code", "terminal-cpm-approved",
                 "phone-coupon-code", "terminal-coupon-approved"):
        assert (shots / f"{name}.png").stat().st_size > 1000
    with Image.open(shots / "terminal-qr.png") as picture:
        payload = read_valid_qr(picture, emv.parse_payload)
    assert emv.read_payment_request(payload).amount_yen == 1990
    with Image.open(shots / "phone-coupon-code.png") as picture:
        paired = read_valid_qr(picture, coupon_pairing.check)
    assert coupon_pairing.split(paired) is not None


def test_demo_without_display_prints_hint(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}

    result = subprocess.run(
        [sys.executable, "-m", "terminal.cli", "demo", "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )

    assert result.returncode == 2
    assert "--offscreen" in result.stderr
    assert "xvfb-run" in result.stderr


def _wait_for_line(process: subprocess.Popen[str], marker: str, timeout_s: float) -> str:
    """Read the process's stderr until a line contains ``marker``; return what was read."""
    assert process.stderr is not None
    seen = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 0.5)
        if not ready:
            continue
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"{marker!r} not seen; stderr so far:\n{''.join(seen)[-2000:]}")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_demo_stops_cleanly_on_signal(tmp_path: Path, stop_signal: signal.Signals) -> None:
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "TMPDIR": str(temp_root),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "demo", "--offscreen"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        _wait_for_line(process, "demo running", DEMO_TIMEOUT_S)
        assert list(temp_root.glob("chiiki-demo-*"))

        process.send_signal(stop_signal)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, rest[-2000:]
    assert "Traceback" not in rest
    assert f"{stop_signal.name} received" in rest
    assert list(temp_root.glob("chiiki-demo-*")) == []


def test_demo_help_is_plain_text() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "terminal.cli", "demo", "--help"],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )

    assert result.returncode == 0
    assert "Ctrl+C" in result.stdout
    assert "``" not in result.stdout
