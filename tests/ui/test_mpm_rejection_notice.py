"""The QR screen shows the clerk why the server rejected a wallet's payment of the intent."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from terminal import messages, protocol
from terminal.coupons import coupon_message
from terminal.protocol import ErrorCode
from terminal.sale import SaleState
from tests.ui.conftest import FakeApi
from tests.ui.test_scanning import enter_amount
from ui.app import Terminal


def reject_pay_calls(fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    """Make every pending intent the fake returns carry one rejected pay call with ``code``."""
    answer = fake_api.wait_intent
    rejection = protocol.IntentRejection(code=code, at="2026-04-01T01:00:10+00:00")

    def wait_intent(
        intent_id: str, wait_s: float, seen_rejection_at: str = protocol.NO_REJECTION_SEEN
    ) -> protocol.Intent:
        intent = answer(intent_id, wait_s, seen_rejection_at)
        if intent.status != "pending":
            return intent
        return intent.model_copy(update={"last_rejection": rejection})

    monkeypatch.setattr(fake_api, "wait_intent", wait_intent)


@pytest.fixture
def make_rejecting_terminal(
    make_terminal: Callable[[str], Terminal], fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch,
) -> Callable[[str, str], Terminal]:
    """Build a terminal whose pending intents carry one rejected pay call with a given code."""
    def build(code: str, lang: str = "ja") -> Terminal:
        reject_pay_calls(fake_api, monkeypatch, code)
        return make_terminal(lang)

    return build


def open_qr(qtbot: QtBot, terminal: Terminal, digits: str) -> None:
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, digits)
    qtbot.mouseClick(controller.screens.sale.qr_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.screens.mpm.qr.pixmap().isNull(), timeout=3000)


def screenshot(terminal: Terminal, name: str) -> None:
    directory = os.environ.get("CHIIKI_SCREENSHOT_DIR")
    if directory:
        terminal.window.grab().save(str(Path(directory) / name))


def test_wrong_wallet_coupon_shown_on_qr(
    qtbot: QtBot, make_rejecting_terminal: Callable[[str, str], Terminal], fake_api: FakeApi,
) -> None:
    terminal = make_rejecting_terminal("coupon_wrong_wallet", "ja")
    controller = terminal.window.controller
    mpm = controller.screens.mpm
    notices: list[str] = []
    controller.sale.notice.connect(notices.append)
    expected = messages.message_for(messages.MPM_REJECTED_COUPON_WRONG_WALLET, "ja")

    open_qr(qtbot, terminal, "1990")
    qtbot.waitUntil(lambda: mpm.status.text() == expected, timeout=3000)
    # Later polls return the same rejection, which is shown once while the QR stays up.
    polls = fake_api.names().count("wait_intent")
    qtbot.waitUntil(lambda: fake_api.names().count("wait_intent") >= polls + 3, timeout=3000)
    screenshot(terminal, "mpm-rejected-coupon-ja.png")

    assert notices == [expected]
    assert controller.current() is mpm
    assert controller.sale.state is SaleState.MPM_WAITING
    assert mpm.status.property("role") == "banner"
    assert mpm.status.isVisibleTo(terminal.window)
    assert mpm.cancel_button.isEnabled()


def test_rejected_qr_still_approves(
    qtbot: QtBot, make_rejecting_terminal: Callable[[str, str], Terminal], fake_api: FakeApi,
) -> None:
    terminal = make_rejecting_terminal("insufficient_funds", "ja")
    controller = terminal.window.controller
    expected = messages.message_for(messages.MPM_REJECTED_INSUFFICIENT_FUNDS, "ja")
    open_qr(qtbot, terminal, "800")
    qtbot.waitUntil(lambda: controller.screens.mpm.status.text() == expected, timeout=3000)

    fake_api.intent_status = "approved"
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)

    assert controller.screens.result.headline.text() == "承認"


def test_rejection_shown_in_english(
    qtbot: QtBot, make_rejecting_terminal: Callable[[str, str], Terminal],
) -> None:
    terminal = make_rejecting_terminal("coupon_used", "en")
    mpm = terminal.window.controller.screens.mpm

    open_qr(qtbot, terminal, "500")
    qtbot.waitUntil(lambda: mpm.status.text().startswith("The payment did not go"), timeout=3000)
    screenshot(terminal, "mpm-rejected-coupon-used-en.png")

    assert "This coupon has already been used." in mpm.status.text()
    assert mpm.status.text().endswith("Press Cancel first.")


def test_cancel_after_rejection_clears_banner(
    qtbot: QtBot, make_rejecting_terminal: Callable[[str, str], Terminal], fake_api: FakeApi,
) -> None:
    terminal = make_rejecting_terminal("coupon_wrong_wallet", "ja")
    controller = terminal.window.controller
    mpm = controller.screens.mpm
    open_qr(qtbot, terminal, "700")
    qtbot.waitUntil(lambda: mpm.status.property("role") == "banner", timeout=3000)

    qtbot.mouseClick(mpm.cancel_button, Qt.MouseButton.LeftButton)
    cancelling_role = mpm.status.property("role")
    qtbot.waitUntil(lambda: controller.current() is controller.screens.sale, timeout=3000)

    assert cancelling_role == "hint"
    assert "cancel_intent" in fake_api.names()
    assert controller.sale.state is SaleState.AMOUNT_ENTRY


def every_rejection_text(lang: messages.Language) -> dict[str, str]:
    """Each rejection text in ``lang``, with every coupon reason filled into the coupon text."""
    texts = {key: messages.message_for(key, lang) for key in messages.MPM_REJECTION_MESSAGES_JA
             if key != messages.MPM_REJECTED_COUPON}
    for code in ErrorCode:
        if code.value.startswith("coupon_"):
            reason = coupon_message(code.value, lang, minimum_spend_yen=1_000)
            texts[code.value] = messages.message_for(messages.MPM_REJECTED_COUPON, lang,
                                                     reason=reason)
    return texts


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", [(1024, 600), (720, 1280)], ids=["1024x600", "720x1280"])
def test_rejection_texts_fit_beside_qr(
    qtbot: QtBot, make_terminal: Callable[[str], Terminal], lang: messages.Language,
    size: tuple[int, int],
) -> None:
    terminal = make_terminal(lang)
    window = terminal.window
    mpm = window.controller.screens.mpm
    mpm.prepare(1990)
    # A rejected coupon sale also shows the coupon line, which takes room from the notice.
    mpm.coupon_note.setText("クーポン 秋の100円引き −￥100（合計 ￥2,090）")
    mpm.coupon_note.show()
    window.controller.show(mpm)
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().toTuple() == size, timeout=2000)

    clipped = []
    for key, text in every_rejection_text(lang).items():
        mpm.show_notice(text)
        qtbot.wait(10)
        needed_px = mpm.status.heightForWidth(mpm.status.width())
        if needed_px > mpm.status.height():
            clipped.append(f"{key}: needs {needed_px} px, has {mpm.status.height()} px")

    assert clipped == []
