from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from drivers.scanner.qrimage import read_valid_qr
from terminal import emv

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
    for name in ("terminal-qr", "terminal-approved", "receipts", "phone-code", "terminal-cpm-approved"):
        assert (shots / f"{name}.png").stat().st_size > 1000
    with Image.open(shots / "terminal-qr.png") as picture:
        payload = read_valid_qr(picture, emv.parse_payload)
    assert emv.read_payment_request(payload).amount_yen == 1990


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
