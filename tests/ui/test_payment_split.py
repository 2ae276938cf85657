"""How the customer paid across value kinds, on the approval and refund screens and the receipt.

Set CHIIKI_SCREENSHOT_DIR to save split-approved-ja.png, split-approved-en.png,
split-refund-ja.png and split-receipt-ja.png there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from drivers.printer.emulator import PrinterEmulator
from drivers.printer.profile import paper_for_printer, printer_profile
from drivers.printer.received import ReceivedJob
from drivers.printer.receipt_image import draw_job
from drivers.printer.render import render
from drivers.printer.stream import StreamParser
from terminal import protocol
from terminal.paycode import new_payment_code
from terminal.protocol import RemainingValue, ValueKind
from terminal.receipt import payment_receipt
from tests.ui.conftest import FakeApi, ReceiptLog, make_info, make_payment
from tests.ui.test_scanning import enter_amount, scan
from ui.app import Terminal
from ui.printing import PrinterReceipts
from ui.result import ResultScreen

LOCAL_AND_ALL = {ValueKind.PREMIUM_LOCAL: 800, ValueKind.PREMIUM_ALL: 400}
END_OF_MARCH_2027 = "2027-03-31T15:00:00+00:00"


def with_kinds(payment: protocol.Payment, kinds: dict[ValueKind, int]) -> protocol.Payment:
    return payment.model_copy(update={"kinds": kinds})


def refund_of(payment: protocol.Payment, amount_yen: int,
              kinds: dict[ValueKind, int]) -> protocol.Refund:
    return protocol.Refund(
        refund_id="r_0001", payment_id=payment.payment_id, amount_yen=amount_yen,
        created_at=payment.created_at,
        payment=payment.model_copy(update={"refunded_yen": amount_yen}), kinds=kinds,
    )


def save_screenshot(widget: QWidget, name: str) -> None:
    screenshot_dir = os.environ.get("CHIIKI_SCREENSHOT_DIR")
    if screenshot_dir:
        widget.grab().save(str(Path(screenshot_dir) / name))


@pytest.fixture
def split_api(fake_api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    """Make every consumer-presented payment paid 2/3 with local points, the rest all-shop."""
    redeem = fake_api.redeem_cpm

    def redeem_split(code: str, amount_yen: int, tax_lines: Sequence[protocol.TaxLine],
                     idempotency_key: str) -> protocol.Payment:
        payment = redeem(code, amount_yen, tax_lines, idempotency_key)
        local_yen = amount_yen * 2 // 3
        kinds = {ValueKind.PREMIUM_LOCAL: local_yen, ValueKind.PREMIUM_ALL: amount_yen - local_yen}
        paid = with_kinds(payment, kinds)
        fake_api.payments[0] = paid
        return paid

    monkeypatch.setattr(fake_api, "redeem_cpm", redeem_split)
    return fake_api


def pay_by_code(qtbot: QtBot, terminal: Terminal, amount: str, receipt_log: ReceiptLog) -> None:
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, amount)
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    scan(terminal.window, new_payment_code())
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=3000)
    qtbot.wait(50)


def test_approved_sale_shows_split(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], split_api: FakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    result = terminal.window.controller.screens.result

    pay_by_code(qtbot, terminal, "1200", receipt_log)

    save_screenshot(terminal.window, "split-approved-ja.png")
    assert result.headline.text() == "承認"
    assert result.split.text() == "￥1,200 = 地元専用 ￥800 + 全店共通 ￥400"
    assert result.split.isVisibleTo(terminal.window)
    assert receipt_log.payments[0].kinds == LOCAL_AND_ALL


def test_english_split_names(
    english: None, qtbot: QtBot, make_terminal: Callable[[str], Terminal], split_api: FakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal("en")
    result = terminal.window.controller.screens.result

    pay_by_code(qtbot, terminal, "1200", receipt_log)

    save_screenshot(terminal.window, "split-approved-en.png")
    assert result.headline.text() == "Approved"
    assert result.split.text() == "￥1,200 = Local only ￥800 + All shops ￥400"


def test_one_kind_shows_only_that_kind(qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)

    screen.show_approved(with_kinds(make_payment("pay-1", 1200), {ValueKind.COIN: 1200}))

    assert screen.split.text() == "コイン ￥1,200"


def test_benefit_and_coin_split(qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    kinds = {ValueKind.COIN: 300, ValueKind.BENEFIT: 700}

    screen.show_approved(with_kinds(make_payment("pay-1", 1000), kinds))

    assert screen.split.text() == "￥1,000 = 給付 ￥700 + コイン ￥300"


def test_offline_payment_shows_no_split(qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    offline = make_payment("cap-1", 1200).model_copy(update={"method": "offline"})

    screen.show_approved(with_kinds(make_payment("pay-1", 1200), LOCAL_AND_ALL))
    screen.show_approved(offline)

    assert screen.headline.text() == "承認（オフライン）"
    assert screen.split.text() == ""
    assert "地元専用" not in screen.detail.text()


def test_declined_clears_split(qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    screen.show_approved(with_kinds(make_payment("pay-1", 1200), LOCAL_AND_ALL))

    screen.show_declined("お支払いできませんでした", "残高が足りません。", 1200)

    assert screen.split.text() == ""


def test_refund_shows_returned_kinds(qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    payment = with_kinds(make_payment("pay-1", 1200), LOCAL_AND_ALL)

    screen.show_refunded(refund_of(payment, 500, {ValueKind.PREMIUM_ALL: 400,
                                                  ValueKind.PREMIUM_LOCAL: 100}))

    assert screen.split.text() == "返金の内訳 ￥500 = 地元専用 ￥100 + 全店共通 ￥400"


def test_unknown_refund_kinds_explained(qtbot: QtBot) -> None:
    screen = ResultScreen()
    qtbot.addWidget(screen)
    payment = with_kinds(make_payment("pay-1", 1200), LOCAL_AND_ALL)

    screen.show_refunded(refund_of(payment, 1200, {}))

    # The payment's own kinds are not shown: a refund may return other kinds.
    assert screen.split.text() == "返金の内訳は、サーバーが返金を受け付けたあとで決まります"
    assert "地元専用" not in screen.split.text()


def test_refund_from_server_shows_kinds(
    qtbot: QtBot, make_terminal: Callable[[], Terminal]
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    payment = with_kinds(make_payment("p_7Q2M9XK4", 1200), LOCAL_AND_ALL)

    controller.on_refunded(refund_of(payment, 1200, LOCAL_AND_ALL))
    qtbot.wait(50)

    save_screenshot(terminal.window, "split-refund-ja.png")
    result = controller.screens.result
    assert controller.current() is result
    assert result.split.text() == "返金の内訳 ￥1,200 = 地元専用 ￥800 + 全店共通 ￥400"


def test_receipt_picture_shows_split_and_remaining() -> None:
    remaining = [
        RemainingValue(kind=ValueKind.PREMIUM_LOCAL, amount_yen=2300,
                       expires_at=END_OF_MARCH_2027),
        RemainingValue(kind=ValueKind.PREMIUM_ALL, amount_yen=1600,
                       expires_at=END_OF_MARCH_2027),
        RemainingValue(kind=ValueKind.COIN, amount_yen=540, expires_at=None),
    ]
    payment = with_kinds(make_payment("pay-1", 1200), LOCAL_AND_ALL)
    payment = payment.model_copy(update={"remaining": remaining,
                                         "created_at": "2026-12-05T01:00:00+00:00"})
    profile = printer_profile("TM-T20II", kanji=True)

    data = render(payment_receipt(payment, make_info()), paper_width_mm=58, profile=profile)
    jobs: list[ReceivedJob] = []
    parser = StreamParser(paper_for_printer(58, profile).columns, jobs.append)
    parser.feed(data)
    parser.close()

    lines = [line.strip() for line in jobs[0].lines]
    assert "(2027/03/31まで)" in lines
    assert any(line.startswith("地元専用 残高") and line.endswith("￥2,300") for line in lines)
    screenshot_dir = os.environ.get("CHIIKI_SCREENSHOT_DIR")
    if screenshot_dir:
        picture = draw_job(jobs[0], paper_for_printer(58, profile).printable_dots)
        picture.save(Path(screenshot_dir) / "split-receipt-ja.png")


def test_printed_receipt_keeps_split_and_remaining(
    emulated_receipts: PrinterReceipts, emulator: PrinterEmulator
) -> None:
    remaining = [RemainingValue(kind=ValueKind.PREMIUM_LOCAL, amount_yen=2300,
                                expires_at=END_OF_MARCH_2027)]
    payment = with_kinds(make_payment("pay-9", 1200), LOCAL_AND_ALL)
    payment = payment.model_copy(update={"remaining": remaining})

    # The job record stores the payment as JSON, and the receipt is composed from that copy.
    emulated_receipts.print_payment(payment)

    lines = [" ".join(line.split()) for line in emulator.wait_for_job(2).lines]
    assert "地元専用 ￥800" in lines
    assert "全店共通 ￥400" in lines
    assert "地元専用 残高 ￥2,300" in lines
    assert "(2027/03/31まで)" in lines
