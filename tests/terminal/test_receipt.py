from __future__ import annotations

import pytest

from drivers.printer.document import Columns, Cut, Document, QrCode, Text
from drivers.printer.received import ReceivedJob
from drivers.printer.render import render
from drivers.printer.stream import StreamParser
from terminal import protocol
from terminal.receipt import (
    METHOD_LABELS,
    format_jst,
    format_yen,
    payment_receipt,
    refund_receipt,
)
from terminal.tax import Rounding

MERCHANT = protocol.MerchantInfo(
    merchant_id="m-1",
    name="さくら商店",
    name_ascii="SAKURA SHOTEN",
    city_ascii="KAMAKURA",
    address="神奈川県鎌倉市小町1-2-3",
    phone="0467-00-0000",
    invoice_registration_number="T7000012050002",
)
TERMINAL = protocol.TerminalInfo(
    terminal_id="term-0001", label="レジ1", merchant=MERCHANT, max_amount_yen=100_000
)


def make_payment(
    *lines: tuple[int, int], method: str = "cpm", refunded_yen: int = 0
) -> protocol.Payment:
    tax_lines = [protocol.TaxLine(rate_percent=rate, amount_yen=amount) for rate, amount in lines]
    return protocol.Payment(
        payment_id="pay-42",
        merchant_id="m-1",
        terminal_id="term-0001",
        amount_yen=sum(line.amount_yen for line in tax_lines),
        refunded_yen=refunded_yen,
        method=method,
        created_at="2024-04-30T15:05:00+00:00",
        tax_lines=tax_lines,
    )


def texts(document: Document) -> list[str]:
    """Each block as one line of text, columns joined by a tab."""
    lines = []
    for block in document.blocks:
        if isinstance(block, Text):
            lines.append(block.text)
        elif isinstance(block, Columns):
            lines.append(f"{block.left}\t{block.right}")
    return lines


def render_text(document: Document, paper_width_mm: int) -> list[str]:
    """Render for the paper, decode the ESC/POS bytes, and return the printed lines."""
    # Wide enough that the parser never wraps, so a line longer than the paper stays one line.
    jobs: list[ReceivedJob] = []
    parser = StreamParser(10_000, jobs.append)
    parser.feed(render(document, paper_width_mm=paper_width_mm))
    parser.close()
    return [" ".join(line.split()) for line in jobs[0].lines]


def test_format_yen_full_width_sign_and_commas() -> None:
    assert format_yen(1990) == "￥1,990"
    assert format_yen(0) == "￥0"
    assert format_yen(1_234_567) == "￥1,234,567"
    assert format_yen(-500) == "-￥500"


def test_format_jst_converts_from_utc() -> None:
    assert format_jst("2024-04-30T15:05:00+00:00") == "2024年05月01日 00:05"
    assert format_jst("2024-12-31T14:59:59Z") == "2024年12月31日 23:59"


def test_receipt_has_registration_number() -> None:
    lines = texts(payment_receipt(make_payment((10, 1100)), TERMINAL))

    assert "登録番号 T7000012050002" in lines


def test_receipt_header_shop_name_large() -> None:
    document = payment_receipt(make_payment((10, 1100)), TERMINAL)

    first = document.blocks[0]
    assert isinstance(first, Text)
    assert first.text == "さくら商店"
    assert first.double_width and first.double_height
    assert "神奈川県鎌倉市小町1-2-3" in texts(document)
    assert "TEL 0467-00-0000" in texts(document)


def test_receipt_date_terminal_and_transaction() -> None:
    lines = texts(payment_receipt(make_payment((10, 1100)), TERMINAL))

    assert "2024年05月01日 00:05" in lines
    assert "端末\tレジ1 (term-0001)" in lines
    assert "取引番号\tpay-42" in lines


def test_reduced_items_marked_with_legend() -> None:
    lines = texts(payment_receipt(make_payment((10, 1100), (8, 1080)), TERMINAL))

    assert "商品 10%\t￥1,100" in lines
    assert "商品 8% ※\t￥1,080" in lines
    assert "※は軽減税率対象" in lines


def test_no_legend_without_reduced_items() -> None:
    lines = texts(payment_receipt(make_payment((10, 1100)), TERMINAL))

    assert not any("※" in line for line in lines)


def test_per_rate_totals_and_tax() -> None:
    lines = texts(payment_receipt(make_payment((10, 550), (8, 1080), (10, 550)), TERMINAL))

    standard = lines.index("10%対象\t￥1,100")
    reduced = lines.index("8%対象\t￥1,080")
    assert lines[standard + 1] == "　内消費税\t￥100"
    assert lines[reduced + 1] == "　内消費税\t￥80"
    assert "合計\t￥2,180" in lines


def test_tax_rounding_mode_applies() -> None:
    # 1000 * 10 / 110 = 90.9...
    floor = texts(payment_receipt(make_payment((10, 1000)), TERMINAL))
    ceil = texts(payment_receipt(make_payment((10, 1000)), TERMINAL, Rounding.CEIL))

    assert "　内消費税\t￥90" in floor
    assert "　内消費税\t￥91" in ceil


@pytest.mark.parametrize(
    ("method", "label"),
    [("mpm", "QRコード(スマホで読取)"), ("cpm", "バーコード(お店で読取)")],
)
def test_payment_method_shown(method: str, label: str) -> None:
    lines = texts(payment_receipt(make_payment((10, 1100), method=method), TERMINAL))

    assert "お支払い\t地域コイン" in lines
    assert f"支払方法\t{label}" in lines
    assert not any("MPM" in line or "CPM" in line for line in lines)


@pytest.mark.parametrize("paper_width_mm", [58, 80])
@pytest.mark.parametrize("method", ["mpm", "cpm"])
def test_payment_method_fits_paper(method: str, paper_width_mm: int) -> None:
    document = payment_receipt(make_payment((10, 1100), method=method), TERMINAL)

    printed = render_text(document, paper_width_mm)

    label = METHOD_LABELS[method]
    assert any(line.startswith("支払方法") and line.endswith(label) for line in printed)


def test_receipt_ends_with_qr_then_cut() -> None:
    blocks = payment_receipt(make_payment((10, 1100)), TERMINAL).blocks

    qr_codes = [block for block in blocks if isinstance(block, QrCode)]
    assert qr_codes == [QrCode("pay-42")]
    assert isinstance(blocks[-1], Cut)
    assert blocks.index(qr_codes[0]) < len(blocks) - 1


def test_refund_receipt_names_original_and_remaining() -> None:
    refund = protocol.Refund(
        refund_id="rf-7",
        payment_id="pay-42",
        amount_yen=500,
        created_at="2024-05-01T01:00:00+00:00",
        payment=make_payment((10, 1100), (8, 1080), refunded_yen=800),
    )

    document = refund_receipt(refund, TERMINAL)
    lines = texts(document)

    assert "返品・返金" in lines
    assert "元取引番号\tpay-42" in lines
    assert "取引番号\trf-7" in lines
    assert "返金額\t￥500" in lines
    assert "返金済み合計\t￥800" in lines
    assert "残額\t￥1,380" in lines
    assert "登録番号 T7000012050002" in lines
    assert isinstance(document.blocks[-1], Cut)
