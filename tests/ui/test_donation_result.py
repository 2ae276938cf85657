"""The donation line on the approval screen, in Japanese and English, and its screenshot.

Set CHIIKI_SCREENSHOT_DIR to save the approval screen as donation-approved-ja.png there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from terminal import protocol
from terminal.paycode import new_payment_code
from tests.ui.conftest import FakeApi, ReceiptLog, make_payment
from tests.ui.test_scanning import enter_amount, scan
from ui.app import Terminal
from ui.result import ResultScreen

CAUSE = "会津こども食堂"


def with_donations(payment: protocol.Payment, *lines: tuple[str, int]) -> protocol.Payment:
    donations = [protocol.DonationLine(cause=cause, amount_yen=yen) for cause, yen in lines]
    return payment.model_copy(update={"donations": donations})


@pytest.fixture
def donating_api(fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    """Make every consumer-presented payment give 1% to the cause, rounded down."""
    redeem = fake_api.redeem_cpm

    def redeem_with_donation(code: str, amount_yen: int, tax_lines: Sequence[protocol.TaxLine],
                             idempotency_key: str) -> protocol.Payment:
        payment = redeem(code, amount_yen, tax_lines, idempotency_key)
        return with_donations(payment, (CAUSE, amount_yen // 100))

    monkeypatch.setattr(fake_api, "redeem_cpm", redeem_with_donation)
    return fake_api


def test_approved_sale_shows_donation(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], donating_api: FakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    result = controller.screens.result
    enter_amount(qtbot, terminal, "1299")
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)

    scan(terminal.window, new_payment_code())
    qtbot.waitUntil(lambda: controller.current() is result, timeout=3000)
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=3000)
    qtbot.wait(50)

    screenshot_dir = os.environ.get("CHIIKI_SCREENSHOT_DIR")
    if screenshot_dir:
        terminal.window.grab().save(str(Path(screenshot_dir) / "donation-approved-ja.png"))
    assert result.headline.text() == "承認"
    assert result.donation.text() == "このお支払いで 会津こども食堂 に ￥12 を寄付しました"
    assert result.donation.isVisibleTo(terminal.window)
    assert receipt_log.payments[0].donations == [protocol.DonationLine(cause=CAUSE,
                                                                       amount_yen=12)]


def test_two_causes_two_lines(qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    payment = with_donations(make_payment("pay-1", 5_000), (CAUSE, 50), ("喜多方の桜を守る会", 10))

    screen.show_approved(payment)

    assert screen.donation.text().splitlines() == [
        "このお支払いで 会津こども食堂 に ￥50 を寄付しました",
        "このお支払いで 喜多方の桜を守る会 に ￥10 を寄付しました",
    ]


def test_offline_approval_has_no_donation(qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    offline = make_payment("cap-1", 1_000).model_copy(update={"method": "offline"})

    screen.show_approved(with_donations(make_payment("pay-1", 1_000), (CAUSE, 10)))
    screen.show_approved(offline)

    assert screen.donation.text() == ""


def test_decline_clears_donation(qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    screen.show_approved(with_donations(make_payment("pay-1", 1_000), (CAUSE, 10)))

    screen.show_declined("お支払いできませんでした", "残高が足りません", 1_000)

    assert screen.donation.text() == ""


def test_donation_line_in_english(english: None, qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)

    screen.show_approved(with_donations(make_payment("pay-1", 1_200), (CAUSE, 12)))

    assert screen.donation.text() == "This payment gave ￥12 to 会津こども食堂"


def test_coupon_discount_line_above_donation(qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    coupon = protocol.CouponApplied(coupon_id="c1", title="秋の100円引き", issuer_name="若松商店街",
                                    total_yen=1_000, discount_yen=100)
    payment = with_donations(make_payment("pay-1", 900), (CAUSE, 9))

    screen.show_approved(payment.model_copy(update={"coupon": coupon}))

    assert screen.donation.text().splitlines() == [
        "クーポン「秋の100円引き」 ￥100引き（お会計 ￥1,000）",
        "このお支払いで 会津こども食堂 に ￥9 を寄付しました",
    ]
