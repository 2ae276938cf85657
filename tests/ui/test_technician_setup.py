from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from terminal.config import TerminalConfig, hash_pin
from terminal.protocol import TerminalInfo
from tests.ui.conftest import make_info
from ui import app as app_module
from ui.technician.setup import SetupWindow
from ui.theme import apply_theme

TECHNICIAN_PIN = "1357"


def write_config(tmp_path: Path) -> Path:
    path = tmp_path / "terminal.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'technician_pin_hash = "{hash_pin(TECHNICIAN_PIN, iterations=1000)}"\n'
        '[printer]\nurl = "network://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def window(qapp: QApplication, tmp_path: Path) -> Iterator[SetupWindow]:
    apply_theme(qapp)
    config = TerminalConfig(
        data_dir=tmp_path / "data",
        technician_pin_hash=hash_pin(TECHNICIAN_PIN, iterations=1000),
    )
    setup = SetupWindow(qapp, config, tmp_path / "terminal.toml", "ja")
    setup.resize(1024, 600)
    setup.show()
    yield setup
    setup.close()
    setup.runner.wait(5000)
    qapp.removeEventFilter(setup.scan_filter)


def test_setup_starts_at_pin(window: SetupWindow) -> None:
    technician = window.technician

    assert technician.current() is technician.pin
    assert window.windowTitle() == "地域コイン 決済端末の設定"


def test_setup_enrols_terminal(qtbot: QtBot, window: SetupWindow) -> None:
    technician = window.technician
    for digit in TECHNICIAN_PIN:
        qtbot.mouseClick(technician.pin.pad.keypad.buttons[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(technician.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: technician.current() is technician.menu, timeout=5000)
    assert technician.menu.terminal.text().startswith("端末ID 未登録")

    def fake_enrol(config: TerminalConfig, code: str) -> TerminalInfo:
        return make_info()

    technician.context.enrol = fake_enrol
    qtbot.mouseClick(technician.menu.buttons["enrol"], Qt.MouseButton.LeftButton)
    for key in "K7QM2XRAP9DW":
        qtbot.mouseClick(technician.enrol.keys[key], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(technician.enrol.enrol_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.enrolled, timeout=5000)

    assert technician.context.terminal_id == "term-1"


def test_unenrolled_start_opens_setup(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = write_config(tmp_path)
    calls: list[tuple[TerminalConfig, Path | None, str]] = []

    def fake_run_setup(
        app: QApplication,
        config: TerminalConfig,
        path: Path | None,
        lang: str,
        *,
        fullscreen: bool = False,
    ) -> int:
        calls.append((config, path, lang))
        return 1

    # The real run_setup enters the Qt event loop; SetupWindow is tested above.
    monkeypatch.setattr(app_module, "run_setup", fake_run_setup)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")

    code = app_module.main(["--config", str(config_path)])

    assert code == 1
    assert len(calls) == 1
    config, path, lang = calls[0]
    assert path == config_path
    assert lang == "ja"
    assert config.data_dir == tmp_path / "data"


def test_unenrolled_kiosk_start_opens_setup_full_screen(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path = write_config(tmp_path)
    fullscreen_requests: list[bool] = []

    def fake_run_setup(
        app: QApplication,
        config: TerminalConfig,
        path: Path | None,
        lang: str,
        *,
        fullscreen: bool = False,
    ) -> int:
        fullscreen_requests.append(fullscreen)
        return 1

    monkeypatch.setattr(app_module, "run_setup", fake_run_setup)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")

    app_module.main(["--config", str(config_path), "--fullscreen"])
    app_module.main(["--config", str(config_path)])

    assert fullscreen_requests == [True, False]
