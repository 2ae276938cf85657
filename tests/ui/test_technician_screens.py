from __future__ import annotations

import socket
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from drivers.printer.emulator import PrinterEmulator
from terminal.api_client import Health
from terminal.config import PrinterConfig, ScannerConfig, TerminalConfig, hash_pin, load_config
from terminal.enrolment import EnrolmentError
from terminal.paycode import new_payment_code
from terminal.protocol import TerminalInfo
from tests.drivers.test_devices_detection import (
    FTDI_LINK,
    HONEYWELL_LINK,
    UVC_MODALIAS,
    add_usb_device,
    add_video_node,
)
from tests.ui.conftest import PIN_HASH, FakeApi, ReceiptLog, ShownTerminals, make_info
from tests.ui.test_scanning import send_text_keys
from ui.app import Terminal, build_terminal
from ui.technician.pin import PinLockout
from ui.technician.screen import TechnicianScreen
from ui.theme import apply_theme

TECHNICIAN_PIN = "1357"


class HealthyServer:
    def health(self) -> Health:
        return Health(status="ok", server_time=datetime.now(UTC).isoformat())


@pytest.fixture
def emulator() -> Iterator[PrinterEmulator]:
    with PrinterEmulator(draw_images=False) as running:
        yield running


@pytest.fixture
def fake_roots(tmp_path: Path) -> tuple[Path, Path]:
    sysfs, dev = tmp_path / "sys", tmp_path / "dev"
    add_usb_device(sysfs, "1-1", ("04b8", "0202"), ("EPSON", "TM-T20III"), ["07"])
    add_usb_device(sysfs, "1-2", ("0c2e", "0b61"), ("Honeywell Imaging & Mobility", "1900"), ["03"])
    (dev / "serial" / "by-id").mkdir(parents=True)
    (dev / "serial" / "by-id" / FTDI_LINK).symlink_to("../../ttyUSB0")
    (dev / "input" / "by-id").mkdir(parents=True)
    (dev / "input" / "by-id" / HONEYWELL_LINK).symlink_to("../event3")
    return sysfs, dev


@pytest.fixture
def make_technician(
    qapp: QApplication, tmp_path: Path, emulator: PrinterEmulator, fake_roots: tuple[Path, Path],
    shown_terminals: ShownTerminals,
) -> Callable[..., Terminal]:
    def build(pin_hash: str = hash_pin(TECHNICIAN_PIN, iterations=1000), lang: str = "ja") -> Terminal:
        apply_theme(qapp)
        config_path = tmp_path / "terminal.toml"
        config = TerminalConfig(
            data_dir=tmp_path / "data",
            manager_pin_hash=PIN_HASH,
            technician_pin_hash=pin_hash,
            printer=PrinterConfig(url=emulator.url),
            scanner=ScannerConfig(repeat_window_ms=0),
            source=config_path,
        )
        terminal = build_terminal(qapp, config, FakeApi(), make_info(), lang, receipts=ReceiptLog())
        context = terminal.services.technician
        assert context is not None
        context.sysfs_root, context.dev_root = fake_roots
        context.health_api = HealthyServer()
        context.media_roots = ()
        return shown_terminals.show(terminal)

    return build


def click(qtbot: QtBot, button: QWidget) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def technician_of(terminal: Terminal) -> TechnicianScreen:
    technician = terminal.window.controller.technician
    assert technician is not None
    return technician


def open_with_pin(qtbot: QtBot, terminal: Terminal, pin: str) -> TechnicianScreen:
    controller = terminal.window.controller
    click(qtbot, controller.screens.sale.history_button)
    click(qtbot, controller.screens.history.technician_button)
    technician = technician_of(terminal)
    type_pin(qtbot, terminal, technician, pin)
    return technician


def type_pin(qtbot: QtBot, terminal: Terminal, technician: TechnicianScreen, pin: str) -> None:
    """Type ``pin`` on the technician PIN pad, press OK, and let the PIN check finish."""
    for digit in pin:
        click(qtbot, technician.pin.pad.keypad.buttons[digit])
    click(qtbot, technician.pin.pad.ok_button)
    terminal.services.runner.wait(5000)
    qtbot.wait(20)


def open_menu(qtbot: QtBot, terminal: Terminal) -> TechnicianScreen:
    technician = open_with_pin(qtbot, terminal, TECHNICIAN_PIN)
    assert technician.current() is technician.menu
    return technician


def settle(qtbot: QtBot, terminal: Terminal, condition: Callable[[], bool]) -> None:
    qtbot.waitUntil(condition, timeout=5000)
    terminal.services.runner.wait(5000)


# --- PIN -------------------------------------------------------------------------------------


def test_history_button_opens_pin(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()
    controller = terminal.window.controller

    click(qtbot, controller.screens.sale.history_button)
    click(qtbot, controller.screens.history.technician_button)

    technician = technician_of(terminal)
    assert controller.current() is technician
    assert technician.current() is technician.pin
    assert technician.pin.pad.display.text() == "—"


def test_right_pin_opens_menu(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()

    technician = open_with_pin(qtbot, terminal, TECHNICIAN_PIN)

    assert technician.current() is technician.menu
    assert "term-1" in technician.menu.terminal.text()


def test_manager_pin_does_not_open(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()

    technician = open_with_pin(qtbot, terminal, "2468")

    assert technician.current() is technician.pin
    assert technician.pin.message.text() == (
        "暗証番号が違います。あと 4 回まちがえると しばらく使えなくなります"
    )


def test_repeated_wrong_pins_lock(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()
    technician = technician_of(terminal)
    now_s = [1000.0]
    technician.pin.lockout = PinLockout(max_failures=3, lockout_s=300, monotonic=lambda: now_s[0])

    for _ in range(3):
        open_with_pin(qtbot, terminal, "9999")
    open_with_pin(qtbot, terminal, TECHNICIAN_PIN)

    assert technician.current() is technician.pin
    assert technician.pin.message.text() == "暗証番号を何度もまちがえたため 5 分間は使えません"

    now_s[0] += 301
    open_with_pin(qtbot, terminal, TECHNICIAN_PIN)
    assert technician.current() is technician.menu


def test_unset_pin_keeps_locked(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician(pin_hash="")

    technician = open_with_pin(qtbot, terminal, TECHNICIAN_PIN)

    assert technician.current() is technician.pin
    assert "technician_pin_hash" in technician.pin.message.text()


def test_exit_returns_to_sale(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)

    click(qtbot, technician.menu.exit_button)

    assert terminal.window.controller.current() is terminal.window.controller.screens.sale


# --- devices -------------------------------------------------------------------------------


def test_devices_listed_and_saved(
    qtbot: QtBot, make_technician: Callable[..., Terminal], fake_roots: tuple[Path, Path]
) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    page = technician.devices

    click(qtbot, technician.menu.buttons["devices"])
    settle(qtbot, terminal, lambda: page.printers.count() > 0)
    printers = [page.printers.item(row).text() for row in range(page.printers.count())]
    scanners = [page.scanners.item(row).text() for row in range(page.scanners.count())]
    assert printers[0] == "［Epson］EPSON TM-T20III (04b8:0202)\n  usb://04b8:0202"
    assert any("Honeywell" in text and "キーボード入力" in text for text in scanners)

    serial_row = next(row for row, text in enumerate(scanners) if "シリアル" in text)
    page.printers.setCurrentRow(0)
    page.printers.itemClicked.emit(page.printers.item(0))
    page.scanners.itemClicked.emit(page.scanners.item(serial_row))
    click(qtbot, page.paper_button)
    click(qtbot, page.save_button)
    settle(qtbot, terminal, lambda: "保存しました" in page.message.text())

    saved = load_config(terminal.services.technician.config_path)  # type: ignore[union-attr,arg-type]
    assert saved.printer.url == "usb://04b8:0202"
    assert saved.printer.paper_width_mm == 80
    assert saved.scanner.kind == "serial"
    assert saved.scanner.port == str(fake_roots[1] / "serial" / "by-id" / FTDI_LINK)
    assert saved.scanner.device == ""
    assert saved.technician_pin_hash == terminal.services.technician.config.technician_pin_hash  # type: ignore[union-attr]


def test_evdev_choice_saved(
    qtbot: QtBot, make_technician: Callable[..., Terminal], fake_roots: tuple[Path, Path]
) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    page = technician.devices
    click(qtbot, technician.menu.buttons["devices"])
    settle(qtbot, terminal, lambda: page.scanners.count() > 0)
    texts = [page.scanners.item(row).text() for row in range(page.scanners.count())]
    evdev_row = next(row for row, text in enumerate(texts) if "evdev" in text)

    page.scanners.itemClicked.emit(page.scanners.item(evdev_row))
    click(qtbot, page.save_button)
    settle(qtbot, terminal, lambda: "保存しました" in page.message.text())

    saved = load_config(terminal.services.technician.config_path)  # type: ignore[union-attr,arg-type]
    assert saved.scanner.kind == "evdev"
    assert saved.scanner.device == str(fake_roots[1] / "input" / "by-id" / HONEYWELL_LINK)


def test_camera_choice_saved(
    qtbot: QtBot, make_technician: Callable[..., Terminal], fake_roots: tuple[Path, Path]
) -> None:
    add_video_node(fake_roots[0], "video0", "USB Camera", 0, UVC_MODALIAS)
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    page = technician.devices
    click(qtbot, technician.menu.buttons["devices"])
    settle(qtbot, terminal, lambda: page.scanners.count() > 0)
    texts = [page.scanners.item(row).text() for row in range(page.scanners.count())]
    camera_row = next(row for row, text in enumerate(texts) if "カメラ" in text)
    assert texts[camera_row] == "USB Camera\n  カメラ USB Camera"

    page.scanners.itemClicked.emit(page.scanners.item(camera_row))
    assert "スキャナー: カメラ USB Camera" in page.current.text()
    click(qtbot, page.save_button)
    settle(qtbot, terminal, lambda: "保存しました" in page.message.text())

    saved = load_config(terminal.services.technician.config_path)  # type: ignore[union-attr,arg-type]
    assert saved.scanner.kind == "camera"
    assert saved.scanner.camera_id == "USB Camera"
    assert saved.scanner.port == ""
    assert saved.scanner.device == ""


def test_save_without_path_explains(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    technician.context.config_path = None

    click(qtbot, technician.menu.buttons["devices"])
    click(qtbot, technician.devices.save_button)

    assert technician.devices.message.text() == "設定ファイルの場所が決まっていないため保存できません"


def test_address_keypad_builds_ipv4(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    click(qtbot, technician.menu.buttons["devices"])
    click(qtbot, technician.devices.network_button)
    page = technician.address

    # A leading dot, a second dot in a row, a fourth digit in a group and a fourth dot are
    # all ignored.
    for key in ".1921.68..1.50.":
        click(qtbot, page.keys[key])
    assert page.display.text() == "192.68.1.50"

    click(qtbot, page.keys["clear"])
    for key in "192.168.1":
        click(qtbot, page.keys[key])
    assert not page.use_button.isEnabled()
    for key in ".50":
        click(qtbot, page.keys[key])
    assert page.display.text() == "192.168.1.50"
    assert page.use_button.isEnabled()

    click(qtbot, page.use_button)
    assert technician.current() is technician.devices
    assert technician.devices.chosen_config().printer.url == "network://192.168.1.50"


def test_probe_shows_printer_status(
    qtbot: QtBot, make_technician: Callable[..., Terminal], emulator: PrinterEmulator
) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    page = technician.address
    emulator.condition.paper_end = True

    page.prepare("127.0.0.1")
    page.port = emulator.port
    click(qtbot, page.probe_button)
    settle(qtbot, terminal, lambda: page.status.text().startswith("応答あり"))

    # The paper-end cause comes first; the emulator also reports what follows from it.
    assert page.status.text().startswith("応答あり: 用紙がありません")


def test_probe_without_printer_explains(
    qtbot: QtBot, make_technician: Callable[..., Terminal]
) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    page = technician.address
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        page.port = placeholder.getsockname()[1]

    page.prepare("127.0.0.1")
    click(qtbot, page.probe_button)
    settle(qtbot, terminal, lambda: page.probe_button.isEnabled())

    assert page.status.text().startswith(
        "プリンターから応答がありません。電源、LANケーブル、アドレスを確認してください\n"
    )


# --- tests and diagnostics -------------------------------------------------------------------


def test_print_check_sends_test_page(
    qtbot: QtBot, make_technician: Callable[..., Terminal], emulator: PrinterEmulator
) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    click(qtbot, technician.menu.buttons["print_test"])

    click(qtbot, technician.print_check.print_button)
    job = emulator.wait_for_job(timeout_s=5.0)
    settle(qtbot, terminal, lambda: technician.print_check.print_button.isEnabled())

    assert "PRINT TEST" in job.to_text()
    assert any(data.startswith("CHIIKI-POS PRINT TEST ") for data in job.qr_data)
    assert technician.print_check.result.text() == (
        "テストページを送りました。印刷されたページとQRコードを確認してください\n"
        "プリンターの状態: 正常（印刷できます）"
    )


def test_print_check_stops_on_paper_end(
    qtbot: QtBot, make_technician: Callable[..., Terminal], emulator: PrinterEmulator
) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    emulator.condition.paper_end = True
    click(qtbot, technician.menu.buttons["print_test"])

    click(qtbot, technician.print_check.print_button)
    settle(qtbot, terminal, lambda: technician.print_check.print_button.isEnabled())

    outcome, status = technician.print_check.result.text().split("\n")
    assert outcome == "プリンターの問題を直してから、もう一度押してください"
    assert status.startswith("プリンターの状態: 用紙がありません")
    assert emulator.jobs.empty()


def test_scan_check_shows_raw_and_folded(
    qtbot: QtBot, make_technician: Callable[..., Terminal]
) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    click(qtbot, technician.menu.buttons["scan_test"])
    code = new_payment_code()
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in code)

    with qtbot.waitSignal(terminal.scan_filter.scanned, timeout=2000):
        send_text_keys(terminal.window, full_width)
        QTest.keyClick(terminal.window, Qt.Key.Key_Return)

    page = technician.scan_check
    assert page.raw_text.text() == full_width + "⏎"
    assert page.raw_hex.text().startswith("ef bc 99 ef bc 91 ")
    assert page.raw_hex.text().endswith(" 0d")
    lines = page.result.text().splitlines()
    assert lines[0] == "スキャンとして受け付けました（20文字）"
    assert lines[1] == f"変換後: {code}"
    assert lines[-1] == "全角文字や記号の入れ替えを直しました"
    assert terminal.window.hint.isHidden()


def test_scan_check_ignores_keys_elsewhere(
    qtbot: QtBot, make_technician: Callable[..., Terminal]
) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    technician.scan_check.prepare()

    with qtbot.waitSignal(terminal.scan_filter.scanned, timeout=2000):
        QTest.keyClicks(terminal.window, new_payment_code())
        QTest.keyClick(terminal.window, Qt.Key.Key_Return)

    assert technician.scan_check.raw_text.text() == "—"


def test_diagnostics_show_checks(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    page = technician.diagnostics

    click(qtbot, technician.menu.buttons["diagnostics"])
    settle(qtbot, terminal, lambda: page.last is not None)

    assert page.values["terminal"].text() == "端末ID term-1"
    assert page.values["printer"].text().endswith("正常（印刷できます）")
    assert "接続できます（応答 " in page.values["server"].text()
    assert page.values["outbox"].text() == "0件 ￥0　受け付けられなかった取引 0件"
    assert "Qt " in page.values["versions"].text()
    assert "python-escpos " in page.values["versions"].text()


# --- enrolment and support bundle ----------------------------------------------------------


def test_enrol_sends_typed_code(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    sent: list[str] = []

    def fake_enrol(config: TerminalConfig, code: str) -> TerminalInfo:
        sent.append(code)
        return make_info().model_copy(update={"terminal_id": "t_new"})

    technician.context.enrol = fake_enrol
    click(qtbot, technician.menu.buttons["enrol"])
    page = technician.enrol
    for key in "K7QM2XRAP9DW":
        click(qtbot, page.keys[key])
    assert page.display.text() == "K7QM-2XRA-P9DW"

    click(qtbot, page.enrol_button)
    settle(qtbot, terminal, lambda: "登録しました" in page.message.text())

    assert sent == ["K7QM-2XRA-P9DW"]
    assert page.message.text() == "登録しました: 端末ID t_new（テスト商店）。端末を再起動してください"
    assert technician.context.terminal_id == "t_new"


def test_enrol_failure_shown(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)

    def failing_enrol(config: TerminalConfig, code: str) -> TerminalInfo:
        raise EnrolmentError("this terminal is already enrolled")

    technician.context.enrol = failing_enrol
    click(qtbot, technician.menu.buttons["enrol"])
    for key in "ABCDEFGHJKMN":
        click(qtbot, technician.enrol.keys[key])
    click(qtbot, technician.enrol.enrol_button)
    settle(qtbot, terminal, lambda: "登録できませんでした" in technician.enrol.message.text())

    assert technician.enrol.message.text() == "登録できませんでした: this terminal is already enrolled"
    assert technician.enrol.enrol_button.isEnabled()


def test_bundle_exported_to_data_dir(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    page = technician.bundle

    click(qtbot, technician.menu.buttons["bundle"])
    assert page.destinations.count() == 1
    click(qtbot, page.export_button)
    settle(qtbot, terminal, lambda: "書き出しました" in page.message.text())

    support_dir = technician.context.config.data_dir / "support"
    [bundle_path] = list(support_dir.glob("chiiki-pos-support-term-1-*.zip"))
    with zipfile.ZipFile(bundle_path) as bundle:
        config_text = bundle.read("config/terminal.toml").decode("utf-8")
        diagnostics = bundle.read("diagnostics.json").decode("utf-8")
    assert "pbkdf2_sha256" not in config_text
    assert '"terminal_id": "term-1"' in diagnostics


# --- English -------------------------------------------------------------------------------


def test_english_technician_screens(
    qtbot: QtBot, english: None, make_technician: Callable[..., Terminal]
) -> None:
    terminal = make_technician(lang="en")
    controller = terminal.window.controller
    assert controller.screens.history.technician_button.text() == "Service"

    technician = open_with_pin(qtbot, terminal, "9999")
    assert technician.pin.title.text() == "Service menu: technician PIN"
    assert technician.pin.message.text() == (
        "Wrong PIN. After 4 more wrong tries the PIN is locked for a while"
    )

    technician = open_with_pin(qtbot, terminal, TECHNICIAN_PIN)
    assert technician.menu.buttons["devices"].text() == "Choose scanner and printer"
    assert technician.menu.exit_button.text() == "Leave service menu"
    click(qtbot, technician.menu.buttons["print_test"])
    click(qtbot, technician.print_check.print_button)
    settle(qtbot, terminal, lambda: technician.print_check.print_button.isEnabled())
    assert technician.print_check.result.text().endswith("Printer status: OK (ready to print)")
    assert technician.print_check.back_button.text() == "Back"


def test_scan_check_without_keys(qtbot: QtBot, make_technician: Callable[..., Terminal]) -> None:
    terminal = make_technician()
    technician = open_menu(qtbot, terminal)
    click(qtbot, technician.menu.buttons["scan_test"])
    code = new_payment_code()

    # A serial or evdev scanner emits the decoded code on the filter's signal, without keys.
    terminal.scan_filter.scanned.emit(code)

    page = technician.scan_check
    assert page.raw_text.text() == code
    assert page.raw_hex.text() == " ".join(f"{ord(digit):02x}" for digit in code)
    assert page.result.text().splitlines() == [
        "スキャンとして受け付けました（20文字）",
        f"変換後: {code}",
        "キー入力を通らないスキャナーのため、受け取った文字は変換後のものです",
    ]
