"""The stamp rally booth screen: scans as key events, the text staff read, screenshots."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytestqt.qtbot import QtBot

from terminal import offline_code, protocol, rally_code
from terminal.config import TerminalConfig
from terminal.paycode import new_payment_code
from terminal.stamps import StampBook
from terminal.store import open_store
from terminal.sync import OutboxStatus
from tests.ui.test_wedge_key_events import send_keys
from ui.app import Terminal
from ui.stamp_mode import StampModeScreen, build_stamp_mode

ISSUER_KEY = Ed25519PrivateKey.generate()
RALLY = protocol.RallyInfo(
    rally_id="r_spring2026", name="会津 春の商店街スタンプラリー", booth_name="鶴ヶ城前ブース",
    starts_on="2000-01-01", ends_on="2099-12-31", goal_stamps=5, reward_kind="premium_all",
    reward_yen=500, reward_expires_at="2100-01-01T00:00:00+00:00",
    server_time="2026-04-01T00:00:00+00:00")


def _raw_issuer_key() -> bytes:
    return ISSUER_KEY.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)


def participant(wallet_id: str = "w_hanako", rally_id: str = RALLY.rally_id) -> str:
    key_id = offline_code.issuer_key_id(_raw_issuer_key())
    return rally_code.make_participant_code(rally_id, wallet_id, key_id, ISSUER_KEY)


class FakeRallyServer:
    """Counts stamps per wallet the way the server does, starting from ``known`` stamps."""

    def __init__(self, known: int = 0, coupon: str | None = None) -> None:
        self.known = known
        self.coupon = coupon
        self.given: list[protocol.StampGive] = []

    def rally_booth(self) -> protocol.RallyInfo:
        return RALLY

    def issuer_keys(self) -> protocol.IssuerKeyList:
        raise AssertionError("the booth has the issuer key cached")

    def booth_today(self) -> protocol.BoothDay:
        return protocol.BoothDay(rally_id=RALLY.rally_id, day="2026-04-01", stamps=len(self.given))

    def give_stamp(self, request: protocol.StampGive) -> protocol.StampOutcome:
        self.given.append(request)
        count = self.known + len(self.given)
        at_goal = count == RALLY.goal_stamps
        return protocol.StampOutcome(
            entry_id=request.entry_id, status="given", rally_id=RALLY.rally_id,
            stamp_day="2026-04-01", stamp_count=count, goal_stamps=RALLY.goal_stamps,
            goal_reached=count >= RALLY.goal_stamps,
            reward_yen=RALLY.reward_yen if at_goal and self.coupon is None else 0,
            reward_coupon=self.coupon if at_goal else None)


@pytest.fixture
def terminal_config(terminal_config: TerminalConfig) -> TerminalConfig:
    """A booth terminal: stamp mode, with the issuer key and the rally cached as after a sync."""
    store = open_store(terminal_config.data_dir)
    store.replace_issuer_keys([protocol.IssuerKey(
        key_id=offline_code.issuer_key_id(_raw_issuer_key()),
        public_key=protocol.b64encode(_raw_issuer_key()),
        valid_from="2026-01-01T00:00:00+00:00", valid_until="2100-01-01T00:00:00+00:00")])
    StampBook(store).save_rally(RALLY)
    store.close()
    return replace(terminal_config, mode="stamp")


def booth(terminal: Terminal, server: FakeRallyServer | None = None) -> StampModeScreen:
    """Return the booth screen; with ``server``, one that gives stamps online through it."""
    controller = terminal.window.controller
    if server is not None:
        parts = terminal.services.offline
        assert parts is not None
        controller.open_stamp_mode(build_stamp_mode(parts, terminal.services.runner, server))
    screen = controller.stamp_mode
    assert screen is not None and controller.current() is screen
    return screen


def scan(qtbot: QtBot, screen: StampModeScreen, code: str, start_ms: int = 500_000) -> None:
    send_keys(screen.next_button, code + "\r", start_ms=start_ms)
    qtbot.waitUntil(lambda: not screen.presenter.busy, timeout=3000)
    qtbot.wait(20)


def screenshot(terminal: Terminal, name: str) -> None:
    directory = os.environ.get("CHIIKI_SCREENSHOT_DIR")
    if directory:
        terminal.window.grab().save(str(Path(directory) / name))


def test_stamp_mode_opens_waiting(make_terminal: Callable[[str], Terminal], qtbot: QtBot) -> None:
    terminal = make_terminal("ja")
    screen = booth(terminal)

    qtbot.waitUntil(lambda: screen.rally is not None, timeout=3000)

    assert screen.headline.text() == "参加者のコードを読み取ってください"
    assert screen.rally_name.text() == "会津 春の商店街スタンプラリー"
    assert screen.booth_name.text() == "鶴ヶ城前ブース　目標 5個"
    assert screen.today_count.text() == "0件"
    assert screen.next_button.isHidden()
    screenshot(terminal, "stamp-waiting-ja.png")


def test_scan_gives_stamp_online(make_terminal: Callable[[str], Terminal], qtbot: QtBot) -> None:
    terminal = make_terminal("ja")
    server = FakeRallyServer(known=2)
    screen = booth(terminal, server)
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=3000)

    scan(qtbot, screen, participant())

    assert screen.headline.text() == "スタンプを押しました"
    assert screen.progress.text() == "3 / 5 個"
    assert screen.marks.text() == "●●●○○"
    assert screen.detail.text() == "あと 2個でゴールです"
    assert screen.today_count.text() == "1件"
    assert screen.panel.property("state") == "given"
    assert len(server.given) == 1
    screenshot(terminal, "stamp-given-ja.png")


def test_goal_reached_celebrates(make_terminal: Callable[[str], Terminal], qtbot: QtBot) -> None:
    terminal = make_terminal("ja")
    screen = booth(terminal, FakeRallyServer(known=4))
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=3000)

    scan(qtbot, screen, participant())

    assert screen.headline.text() == "ゴール達成！おめでとうございます"
    assert screen.progress.text() == "5 / 5 個"
    assert screen.detail.text() == "特典 500円分のポイントをウォレットに付与しました"
    assert screen.panel.property("state") == "goal"
    screenshot(terminal, "stamp-goal-ja.png")


def test_goal_coupon_named(make_terminal: Callable[[str], Terminal], qtbot: QtBot) -> None:
    terminal = make_terminal("ja")
    screen = booth(terminal, FakeRallyServer(known=4, coupon="ゴール記念"))
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=3000)

    scan(qtbot, screen, participant())

    assert screen.detail.text() == "特典のクーポン「ゴール記念」をウォレットに付与しました"


def test_repeat_scan_same_day(make_terminal: Callable[[str], Terminal], qtbot: QtBot) -> None:
    terminal = make_terminal("ja")
    server = FakeRallyServer(known=1)
    screen = booth(terminal, server)
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=3000)
    scan(qtbot, screen, participant())

    scan(qtbot, screen, participant(), start_ms=600_000)

    assert screen.headline.text() == "本日このブースでは押印済みです"
    assert screen.progress.text() == "2 / 5 個"
    assert screen.today_count.text() == "1件"
    assert len(server.given) == 1
    screenshot(terminal, "stamp-repeat-ja.png")


def test_offline_stamp_counts_local(make_terminal: Callable[[str], Terminal], qtbot: QtBot) -> None:
    terminal = make_terminal("ja")
    screen = booth(terminal)
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=3000)

    scan(qtbot, screen, participant())

    assert screen.headline.text() == "スタンプを押しました"
    assert screen.progress.text() == "1 / 5 個"
    assert "通信が戻ってから数えます" in screen.detail.text()
    parts = terminal.services.offline
    assert parts is not None
    assert StampBook(parts.store).waiting_count() == 1
    screen.show_connection(OutboxStatus(online=False, waiting_stamps=1))
    assert screen.connection.text() == (
        "オフライン：スタンプは端末に保存し、つながると送信します（未送信 1件）")
    screenshot(terminal, "stamp-offline-ja.png")


def test_payment_code_refused_plainly(
    make_terminal: Callable[[str], Terminal], qtbot: QtBot
) -> None:
    terminal = make_terminal("ja")
    screen = booth(terminal)
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=3000)

    scan(qtbot, screen, new_payment_code())

    assert screen.headline.text() == "このコードは使えません"
    assert screen.detail.text() == ("スタンプラリーのコードではありません。"
                                    "ウォレットのスタンプラリー画面を開いてもらってください")
    assert screen.panel.property("state") == "error"
    assert screen.today_count.text() == "0件"
    screenshot(terminal, "stamp-wrong-code-ja.png")


def test_other_rally_and_foreign_codes(
    make_terminal: Callable[[str], Terminal], qtbot: QtBot
) -> None:
    terminal = make_terminal("ja")
    screen = booth(terminal)
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=3000)
    stranger = Ed25519PrivateKey.generate()
    stranger_raw = stranger.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw)
    foreign = rally_code.make_participant_code(
        RALLY.rally_id, "w_hanako", offline_code.issuer_key_id(stranger_raw), stranger)

    scan(qtbot, screen, participant(rally_id="r_autumn"))
    other_rally = screen.detail.text()
    scan(qtbot, screen, foreign, start_ms=600_000)

    assert other_rally.startswith("別のスタンプラリーのコードです")
    assert screen.detail.text().startswith("この地域のコードではありません")
    assert screen.today_count.text() == "0件"


def test_next_button_returns_to_waiting(
    make_terminal: Callable[[str], Terminal], qtbot: QtBot
) -> None:
    terminal = make_terminal("ja")
    screen = booth(terminal)
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=3000)
    scan(qtbot, screen, participant())

    screen.next_button.click()

    assert screen.headline.text() == "参加者のコードを読み取ってください"
    assert screen.next_button.isHidden()


def test_english_stamp_screen(
    english: None, make_terminal: Callable[[str], Terminal], qtbot: QtBot
) -> None:
    terminal = make_terminal("en")
    screen = booth(terminal, FakeRallyServer(known=2))
    qtbot.waitUntil(lambda: screen.rally is not None, timeout=3000)

    scan(qtbot, screen, participant())

    assert screen.headline.text() == "Stamp given"
    assert screen.progress.text() == "3 / 5"
    assert screen.today_caption.text() == "Stamps today"
    screenshot(terminal, "stamp-given-en.png")


def test_rally_code_on_sale_screen_hint(
    make_terminal: Callable[[str], Terminal], qtbot: QtBot
) -> None:
    terminal = make_terminal("ja")
    controller = terminal.window.controller
    controller.show(controller.screens.sale)

    send_keys(controller.screens.sale, participant() + "\r")

    qtbot.waitUntil(lambda: terminal.window.hint.isVisible(), timeout=3000)
    assert terminal.window.hint.text() == (
        "スタンプラリーのコードです。この端末はお会計の画面なので、スタンプは押せません")
