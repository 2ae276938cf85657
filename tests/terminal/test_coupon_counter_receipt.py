"""The coupon lines of a payment receipt, checked in the ESC/POS bytes sent to the printer."""

from __future__ import annotations

import pytest

from drivers.printer.document import Document
from drivers.printer.received import ReceivedJob
from drivers.printer.render import render
from drivers.printer.stream import StreamParser
from terminal import protocol
from terminal.coupon_receipt import last_usable_day
from terminal.receipt import payment_receipt

TERMINAL = protocol.TerminalInfo(
    terminal_id="term-0001",
    label="レジ1",
    max_amount_yen=100_000,
    merchant=protocol.MerchantInfo(
        merchant_id="m-1", name="さくら商店", name_ascii="SAKURA SHOTEN", city_ascii="AIZU",
        address="福島県会津若松市", invoice_registration_number="T7000012050002",
    ),
)


def coupon_payment(next_coupon: protocol.NextCoupon | None = None) -> protocol.Payment:
    return protocol.Payment(
        payment_id="pay-42", merchant_id="m-1", terminal_id="term-0001", amount_yen=2700,
        refunded_yen=0, method="cpm", created_at="2024-05-01T00:30:00+00:00",
        tax_lines=[protocol.TaxLine(rate_percent=10, amount_yen=3000)],
        coupon=protocol.CouponApplied(
            coupon_id="cp-1", title="秋の市", issuer_name="若松商店会", total_yen=3000,
            discount_yen=300, next_coupon=next_coupon,
        ),
    )


def printed_lines(document: Document, paper_width_mm: int = 58) -> list[str]:
    jobs: list[ReceivedJob] = []
    parser = StreamParser(10_000, jobs.append)
    parser.feed(render(document, paper_width_mm=paper_width_mm))
    parser.close()
    return [" ".join(line.split()) for line in jobs[0].lines]


def test_receipt_prints_total_discount_and_paid() -> None:
    lines = printed_lines(payment_receipt(coupon_payment(), TERMINAL))

    assert "合計 ￥3,000" in lines
    assert "クーポン 秋の市 -￥300" in lines
    assert "お支払い額 ￥2,700" in lines
    assert "10%対象 ￥3,000" in lines
    assert lines.index("合計 ￥3,000") < lines.index("クーポン 秋の市 -￥300")


def test_receipt_prints_next_coupon() -> None:
    following = protocol.NextCoupon(
        shop_name="みどり商店", title="￥200引き", valid_until="2024-12-31T15:00:00+00:00"
    )

    lines = printed_lines(payment_receipt(coupon_payment(following), TERMINAL), 80)

    assert "次回クーポン: みどり商店 ￥200引き (12/31まで)" in lines


def test_receipt_without_coupon_has_no_coupon_lines() -> None:
    payment = coupon_payment().model_copy(update={"coupon": None, "amount_yen": 3000})

    lines = printed_lines(payment_receipt(payment, TERMINAL))

    assert not any("クーポン" in line for line in lines)
    assert "合計 ￥3,000" in lines


@pytest.mark.parametrize(
    ("valid_until", "shown"),
    [
        ("2024-12-31T15:00:00+00:00", "12/31"),  # 00:00 on 1 January in Japan, exclusive
        ("2024-12-31", "12/31"),
        ("2025-01-01T03:00:00+00:00", "01/01"),
        ("soon", ""),
    ],
)
def test_last_usable_day(valid_until: str, shown: str) -> None:
    assert last_usable_day(valid_until) == shown
