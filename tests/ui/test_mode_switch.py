"""Switching a running terminal between sales and the stamp booth, and the declined stamp list."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from cryptography.hazmat.primitives import serialization

from terminal import offline_code, protocol
from terminal.api_client import ApiError, Declined
from terminal.config import (
    PrinterConfig,
    ScannerConfig,
    TerminalConfig,
    hash_pin,
    load_config,
    write_config,
)
from terminal.protocol import ErrorCode, SyncResult
from terminal.stamps import StampBook
from terminal.store import open_store
from terminal.sync import OutboxStatus
from tests.ui.conftest import PIN_HASH, FakeApi, ReceiptLog, ShownTerminals, make_info
from tests.ui.test_scanning import enter_amount
from tests.ui.test_stamp_mode import ISSUER_KEY, RALLY, participant, scan
from tests.ui.test_technician_screens import type_pin
from ui.app import Terminal, build_terminal
from ui.mode_switch import ModeSwitcher
from ui.stamp_mode import StampModeScreen
from ui.technician.screen import TechnicianScreen
from ui.theme import apply_theme

TECHNICIAN_PIN = "1357"
ENDED_RALLY = RALLY.model_copy(update={"starts_on": "2001-04-01", "ends_on": "2001-04-30"})
UPCOMING_RALLY = RALLY.model_copy(update={"starts_on": "2098-04-01", "ends_on": "2098-04-30"})


class FakeBoothServer:
    """The rally routes of a server that lists this terminal as a booth of ``rally``.

    With ``rally`` None, the server rejects GET /rally/booth as for a terminal in no rally.
    With ``unreachable``, every call fails as when the network is down.
    """

    def __init__(
        self, rally: protocol.RallyInfo | None = RALLY, *, unreachable: bool = False
    ) -> None:
        self.rally = rally
        self.unreachable = unreachable
        self.booth_requests = 0

    def rally_booth(self) -> protocol.RallyInfo:
        self.booth_requests += 1
        if self.unreachable:
            raise ApiError("cannot reach the server: connection refused")
        if self.rally is None:
            raise Declined("terminal term-1 is not a booth of any rally", ErrorCode.RALLY_NOT_OPEN,
                           409)
        return self.rally

    def booth_today(self) -> protocol.BoothDay:
        if self.unreachable or self.rally is None:
            raise ApiError("cannot reach the server: connection refused")
        return protocol.BoothDay(rally_id=self.rally.rally_id, day="2026-04-01", stamps=0)

    def give_stamp(self, request: protocol.StampGive) -> protocol.StampOutcome:
        raise ApiError("cannot reach the server: connection refused")

    def issuer_keys(self) -> protocol.IssuerKeyList:
        raise ApiError("cannot reach the server: connection refused")


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return tmp_path / "terminal.toml"


@pytest.fixture
def make_switchable(
    qapp: QApplication, tmp_path: Path, config_path: Path, shown_terminals: ShownTerminals,
) -> Callable[..., Terminal]:
    """Build terminals whose config file exists and whose technician PIN is set."""
    def build(
        mode: str = "sale", server: FakeBoothServer | None = None, lang: str = "ja",
        cached_rally: protocol.RallyInfo | None = None,
    ) -> Terminal:
        apply_theme(qapp)
        config = write_config(TerminalConfig(
            data_dir=tmp_path / "data",
            mode="stamp" if mode == "stamp" else "sale",
            manager_pin_hash=PIN_HASH,
            technician_pin_hash=hash_pin(TECHNICIAN_PIN, iterations=1000),
            printer=PrinterConfig(url="file:///dev/null"),
            scanner=ScannerConfig(repeat_window_ms=0),
        ), config_path)
        store = open_store(config.data_dir)
        store.replace_issuer_keys([issuer_key()])
        if cached_rally is not None:
            StampBook(store).save_rally(cached_rally)
        store.close()
        terminal = build_terminal(qapp, config, FakeApi(), make_info(), lang, receipts=ReceiptLog())
        modes_of(terminal).rally_api = server
        return shown_terminals.show(terminal)

    return build


def issuer_key() -> protocol.IssuerKey:
    """The key participant codes of the tests are signed with, as a sync would cache it."""
    raw = ISSUER_KEY.public_key().public_bytes(serialization.Encoding.Raw,
                                               serialization.PublicFormat.Raw)
    return protocol.IssuerKey(
        key_id=offline_code.issuer_key_id(raw), public_key=protocol.b64encode(raw),
        valid_from="2026-01-01T00:00:00+00:00", valid_until="2100-01-01T00:00:00+00:00")


def modes_of(terminal: Terminal) -> ModeSwitcher:
    assert terminal.modes is not None
    return terminal.modes


def click(qtbot: QtBot, button: QWidget) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def enter_pin(qtbot: QtBot, terminal: Terminal, pin: str) -> TechnicianScreen:
    technician = terminal.window.controller.technician
    assert technician is not None
    assert terminal.window.controller.current() is technician
    type_pin(qtbot, terminal, technician, pin)
    return technician


def open_technician(qtbot: QtBot, terminal: Terminal, pin: str = TECHNICIAN_PIN) -> TechnicianScreen:
    """Open the technician's area from the screen shown: the sale or the stamp booth."""
    controller = terminal.window.controller
    stamp_screen = modes_of(terminal).stamp_screen
    if stamp_screen is not None and controller.current() is stamp_screen:
        click(qtbot, stamp_screen.technician_button)
    else:
        click(qtbot, controller.screens.sale.history_button)
        click(qtbot, controller.screens.history.technician_button)
    return enter_pin(qtbot, terminal, pin)


def open_mode_page(qtbot: QtBot, terminal: Terminal) -> TechnicianScreen:
    technician = open_technician(qtbot, terminal)
    assert technician.current() is technician.menu
    click(qtbot, technician.menu.mode_button)
    assert technician.current() is technician.mode
    terminal.services.runner.wait(5000)
    qtbot.wait(20)
    return technician


def stamp_screen_of(terminal: Terminal) -> StampModeScreen:
    screen = modes_of(terminal).stamp_screen
    assert screen is not None
    return screen


def screenshot(widget: QWidget, name: str) -> None:
    directory = os.environ.get("CHIIKI_SCREENSHOT_DIR")
    if directory:
        widget.window().grab().save(str(Path(directory) / name))


# --- the PIN ---------------------------------------------------------------------------------


def test_switch_needs_technician_pin(
    qtbot: QtBot, make_switchable: Callable[..., Terminal], config_path: Path
) -> None:
    terminal = make_switchable(server=FakeBoothServer())

    technician = open_technician(qtbot, terminal, pin="2468")  # the manager PIN

    assert technician.current() is technician.pin
    assert technician.menu.mode_button.isHidden()
    assert load_config(config_path).mode == "sale"


def test_menu_offers_booth_on_sale_terminal(
    qtbot: QtBot, make_switchable: Callable[..., Terminal]
) -> None:
    terminal = make_switchable(server=FakeBoothServer())

    technician = open_technician(qtbot, terminal)

    assert technician.current() is technician.menu
    assert not technician.menu.mode_button.isHidden()
    assert technician.menu.mode_button.text() == "スタンプラリー受付にする"
    screenshot(technician, "technician-menu-mode-ja.png")


# --- switching -------------------------------------------------------------------------------


def test_switch_to_booth_and_back(
    qtbot: QtBot, make_switchable: Callable[..., Terminal], config_path: Path
) -> None:
    server = FakeBoothServer()
    terminal = make_switchable(server=server)
    controller = terminal.window.controller

    technician = open_mode_page(qtbot, terminal)
    qtbot.waitUntil(technician.mode.confirm_button.isEnabled, timeout=5000)
    assert technician.mode.booth.text() == (
        "ブース：会津 春の商店街スタンプラリー　鶴ヶ城前ブース\n期間 2000-01-01 〜 2099-12-31")
    screenshot(technician, "stamp-mode-confirm-ja.png")
    click(qtbot, technician.mode.confirm_button)
    qtbot.waitUntil(lambda: controller.current() is modes_of(terminal).stamp_screen, timeout=5000)
    screen = stamp_screen_of(terminal)
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=5000)

    assert load_config(config_path).mode == "stamp"
    assert controller.stamp_mode is screen
    assert screen.headline.text() == "参加者のコードを読み取ってください"

    technician = open_mode_page(qtbot, terminal)
    assert technician.mode.title.text() == "お会計に戻す"
    assert technician.mode.confirm_button.isEnabled()
    screenshot(technician, "stamp-mode-back-ja.png")
    click(qtbot, technician.mode.confirm_button)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.sale, timeout=5000)

    assert load_config(config_path).mode == "sale"
    assert controller.stamp_mode is None
    assert server.booth_requests >= 2  # the check, then the booth screen's own load


def test_booth_again_after_sale(
    qtbot: QtBot, make_switchable: Callable[..., Terminal], config_path: Path
) -> None:
    terminal = make_switchable(mode="stamp", server=FakeBoothServer())
    controller = terminal.window.controller
    first = stamp_screen_of(terminal)
    for expected_mode in ("sale", "stamp"):
        technician = open_mode_page(qtbot, terminal)
        qtbot.waitUntil(technician.mode.confirm_button.isEnabled, timeout=5000)
        click(qtbot, technician.mode.confirm_button)
        qtbot.waitUntil(lambda: modes_of(terminal).mode == expected_mode, timeout=5000)
        assert load_config(config_path).mode == expected_mode

    assert stamp_screen_of(terminal) is first
    assert controller.current() is first
    assert controller.stamp_mode is first


def test_leaving_menu_returns_to_booth(
    qtbot: QtBot, make_switchable: Callable[..., Terminal]
) -> None:
    terminal = make_switchable(mode="stamp", server=FakeBoothServer())
    controller = terminal.window.controller

    technician = open_technician(qtbot, terminal)
    click(qtbot, technician.menu.exit_button)

    assert controller.current() is stamp_screen_of(terminal)


# --- refusals --------------------------------------------------------------------------------


def test_not_a_booth_refused(
    qtbot: QtBot, make_switchable: Callable[..., Terminal], config_path: Path
) -> None:
    terminal = make_switchable(server=FakeBoothServer(rally=None))

    technician = open_mode_page(qtbot, terminal)
    qtbot.waitUntil(lambda: "登録されていません" in technician.mode.booth.text(), timeout=5000)
    screenshot(technician, "stamp-mode-not-booth-ja.png")

    assert "term-1" in technician.mode.booth.text()
    assert not technician.mode.confirm_button.isEnabled()
    assert load_config(config_path).mode == "sale"
    assert modes_of(terminal).stamp_screen is None


def test_ended_rally_refused(qtbot: QtBot, make_switchable: Callable[..., Terminal]) -> None:
    terminal = make_switchable(server=FakeBoothServer(rally=ENDED_RALLY))

    technician = open_mode_page(qtbot, terminal)
    qtbot.waitUntil(lambda: "終わりました" in technician.mode.booth.text(), timeout=5000)

    assert "2001-04-30" in technician.mode.booth.text()
    assert not technician.mode.confirm_button.isEnabled()


def test_upcoming_rally_allowed(qtbot: QtBot, make_switchable: Callable[..., Terminal]) -> None:
    terminal = make_switchable(server=FakeBoothServer(rally=UPCOMING_RALLY))

    technician = open_mode_page(qtbot, terminal)
    qtbot.waitUntil(technician.mode.confirm_button.isEnabled, timeout=5000)

    assert "まだ始まっていません。2098-04-01 からスタンプを押せます" in technician.mode.booth.text()


def test_offline_uses_cached_rally(
    qtbot: QtBot, make_switchable: Callable[..., Terminal]
) -> None:
    terminal = make_switchable(server=FakeBoothServer(unreachable=True), cached_rally=RALLY)

    technician = open_mode_page(qtbot, terminal)
    qtbot.waitUntil(technician.mode.confirm_button.isEnabled, timeout=5000)

    assert "前回受け取った情報です" in technician.mode.booth.text()


def test_offline_without_cache_refused(
    qtbot: QtBot, make_switchable: Callable[..., Terminal]
) -> None:
    terminal = make_switchable(server=FakeBoothServer(unreachable=True))

    technician = open_mode_page(qtbot, terminal)
    qtbot.waitUntil(lambda: "確認できません" in technician.mode.booth.text(), timeout=5000)

    assert not technician.mode.confirm_button.isEnabled()


def test_refused_while_stamp_recorded(
    qtbot: QtBot, make_switchable: Callable[..., Terminal], config_path: Path
) -> None:
    terminal = make_switchable(mode="stamp", server=FakeBoothServer())
    screen = stamp_screen_of(terminal)
    technician = open_technician(qtbot, terminal)
    screen.presenter.busy = True  # a scan is being recorded on a worker

    click(qtbot, technician.menu.mode_button)

    assert technician.mode.message.text() == (
        "スタンプを記録しています。少し待ってから、もう一度開いてください")
    assert not technician.mode.confirm_button.isEnabled()
    assert load_config(config_path).mode == "stamp"


def test_unwritable_config_keeps_screen(
    qtbot: QtBot, make_switchable: Callable[..., Terminal], tmp_path: Path
) -> None:
    terminal = make_switchable(server=FakeBoothServer())
    context = terminal.services.technician
    assert context is not None
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    context.config_path = tmp_path / "not-a-folder" / "terminal.toml"
    technician = open_mode_page(qtbot, terminal)
    qtbot.waitUntil(technician.mode.confirm_button.isEnabled, timeout=5000)

    click(qtbot, technician.mode.confirm_button)
    qtbot.waitUntil(lambda: technician.mode.message.text().startswith("保存できませんでした"),
                    timeout=5000)

    assert "not-a-folder" in technician.mode.message.text()
    assert terminal.window.controller.current() is technician
    assert modes_of(terminal).mode == "sale"
    assert context.config.mode == "sale"
    assert technician.mode.confirm_button.isEnabled()


def test_refused_during_sale(qtbot: QtBot, make_switchable: Callable[..., Terminal]) -> None:
    terminal = make_switchable(server=FakeBoothServer())
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "500")

    click(qtbot, controller.screens.sale.qr_button)
    qtbot.waitUntil(lambda: controller.sale.busy, timeout=3000)

    assert modes_of(terminal).busy_reason() == (
        "お会計の途中のため切り替えられません。お会計を終えてから、もう一度開いてください")
    click(qtbot, controller.screens.mpm.cancel_button)
    qtbot.waitUntil(lambda: not controller.sale.busy, timeout=5000)
    assert modes_of(terminal).busy_reason() == (
        "お会計の途中のため切り替えられません。お会計を終えるか、金額を「C（クリア）」で、"
        "クーポンを「クーポンを外す」で消してから、もう一度開いてください")


def test_waiting_entries_keep_syncing_note(
    qtbot: QtBot, make_switchable: Callable[..., Terminal]
) -> None:
    terminal = make_switchable(server=FakeBoothServer())
    parts = terminal.services.offline
    assert parts is not None
    parts.status.deliver(OutboxStatus(online=False, waiting_count=3, waiting_stamps=2))
    qtbot.waitUntil(lambda: parts.status.status.waiting_count == 3, timeout=3000)

    technician = open_mode_page(qtbot, terminal)

    assert technician.mode.waiting.text() == (
        "未送信のお支払い 3件・スタンプ 2件は、切り替えたあとも自動で送信を続けます")


def test_confirm_screen_english(
    english: None, qtbot: QtBot, make_switchable: Callable[..., Terminal]
) -> None:
    terminal = make_switchable(server=FakeBoothServer(), lang="en")

    technician = open_mode_page(qtbot, terminal)
    qtbot.waitUntil(technician.mode.confirm_button.isEnabled, timeout=5000)
    screenshot(technician, "stamp-mode-confirm-en.png")

    assert technician.mode.title.text() == "Make this a stamp rally booth"
    assert technician.mode.confirm_button.text() == "Make this a stamp rally booth"
    assert technician.mode.booth.text().startswith("Booth: ")
    assert technician.mode.waiting.text() == "No payments or stamps wait to be sent"


# --- declined stamps -------------------------------------------------------------------------


def test_declined_stamp_listed(qtbot: QtBot, make_switchable: Callable[..., Terminal]) -> None:
    terminal = make_switchable(mode="stamp", cached_rally=RALLY)
    screen = stamp_screen_of(terminal)
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=5000)
    code = participant()
    scan(qtbot, screen, code)
    assert screen.headline.text() == "スタンプを押しました"
    assert screen.declined_button.isHidden()
    parts = terminal.services.offline
    assert parts is not None
    book = StampBook(parts.store)
    [entry] = book.pending_entries(10)

    book.apply_results([SyncResult(
        entry_id=entry.entry.entry_id, status="declined", reason=ErrorCode.STAMP_ALREADY_GIVEN,
        message="the participant already has a stamp from this booth on 2026-04-01")])
    parts.status.deliver(OutboxStatus(online=True, waiting_stamps=0))
    qtbot.waitUntil(lambda: not screen.declined_button.isHidden(), timeout=5000)
    screenshot(screen, "stamp-declined-count-ja.png")

    assert screen.declined_button.text() == "受付できなかった\nスタンプ 1件"
    click(qtbot, screen.declined_button)
    qtbot.waitUntil(lambda: screen.declined.list.count() == 1, timeout=5000)
    row = screen.declined.list.item(0).text()
    assert f"コード {code[:4]}…{code[-4:]}" in row
    assert code not in row
    assert "この参加者には、同じ日にこのブースのスタンプがすでにありました" in row
    assert screen.pages.currentWidget() is screen.declined
    screenshot(screen, "stamp-declined-list-ja.png")

    click(qtbot, screen.declined.back_button)
    assert screen.pages.currentWidget() is screen.booth_page
