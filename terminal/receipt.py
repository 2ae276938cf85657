"""Receipts composed as printer-independent documents.

A payment receipt is a 適格簡易請求書 (simplified qualified invoice), which shops selling to the
general public may issue. It must show the issuer's name and registration number (T and 13
digits), the transaction date, the items with reduced-rate (8%) items marked, the total per tax
rate, and the tax per rate. Tax is computed once per rate by ``terminal.tax``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from drivers.printer.document import Align, Columns, Cut, Document, Feed, QrCode, Rule, Text
from terminal.coupon_receipt import coupon_discount_blocks, next_coupon_blocks
from terminal.donations import receipt_columns as donation_columns
from terminal.japan_time import format_japan_time
from terminal.protocol import Payment, Refund, TerminalInfo, ValueKind
from terminal.tax import REDUCED_RATE_PERCENT, Rounding, TaxBreakdown, TaxSummary, summarize
from terminal.value_split import (
    KIND_NAMES_JA,
    expiry_date,
    remaining_in_order,
    split_parts,
)

logger = logging.getLogger(__name__)

REDUCED_MARK = "※"
REDUCED_LEGEND = "※は軽減税率対象"
PAYMENT_TITLE = "領収書"
REFUND_TITLE = "返品・返金"
COIN_NAME = "地域コイン"
TAX_LABEL = "　内消費税"
# Plain words for the customer, saying who scanned what (MPM and CPM are industry terms). The
# brackets are half-width so that "支払方法" and the label fit one line of 58 mm paper (32 columns).
METHOD_LABELS = {
    "mpm": "QRコード(スマホで読取)",
    "cpm": "バーコード(お店で読取)",
    "offline": "バーコード(お店で読取)",
}
# An offline payment was approved by the terminal alone and reaches the server later, so the
# receipt marks it. Its transaction number is the terminal's capture id, which the server keeps.
OFFLINE_NOTE = "オフライン承認（後で送信）"
REGISTRATION_NUMBER_PATTERN = re.compile(r"T\d{13}")
# Lines of the value kinds under "お支払い" and "ご利用後の残高" start with a full-width space.
KIND_INDENT = "　"
REMAINING_TITLE = "ご利用後の残高"


def format_yen(amount_yen: int) -> str:
    """Format yen as on a receipt: ``￥1,990`` (full-width yen sign, comma groups)."""
    sign = "-" if amount_yen < 0 else ""
    return f"{sign}￥{abs(amount_yen):,}"


def format_jst(timestamp: str) -> str:
    """Format an ISO 8601 timestamp as Japan time: ``2024年05月01日 09:30``."""
    return format_japan_time(timestamp)


def payment_receipt(
    payment: Payment, terminal: TerminalInfo, rounding: Rounding = Rounding.FLOOR
) -> Document:
    """Compose the customer's receipt for an approved payment."""
    breakdown = summarize(payment.tax_lines, rounding)
    # With a coupon, the lines add up to the sale's total and the wallet paid less.
    total_yen = payment.coupon.total_yen if payment.coupon is not None else payment.amount_yen
    if payment.tax_lines and breakdown.total_yen != total_yen:
        # The server checks that the lines add up; print the paid amount as the total anyway.
        logger.warning(
            "payment %s: tax lines sum to %d yen but the amount is %d yen",
            payment.payment_id,
            breakdown.total_yen,
            payment.amount_yen,
        )

    document = Document()
    _add_header(document, terminal, PAYMENT_TITLE)
    _add_transaction(document, terminal, payment.created_at, payment.payment_id)
    document.add(Rule())
    _add_items(document, payment)
    document.add(Rule())
    document.add(Columns("合計", format_yen(total_yen), double_height=True, bold=True))
    _add_tax_breakdown(document, breakdown)
    document.add(Rule())
    for coupon_block in coupon_discount_blocks(payment):
        document.add(coupon_block)
    document.add(Columns("お支払い", COIN_NAME))
    _add_kind_lines(document, payment.amount_yen, payment.kinds)
    document.add(Columns("支払方法", METHOD_LABELS[payment.method]))
    if payment.method == "offline":
        document.add(Text(OFFLINE_NOTE, bold=True))
    for donation in donation_columns(payment):
        document.add(donation)
    for coupon_block in next_coupon_blocks(payment):
        document.add(coupon_block)
    _add_remaining(document, payment)
    _add_footer(document, payment.payment_id)
    return document


def refund_receipt(refund: Refund, terminal: TerminalInfo) -> Document:
    """Compose the receipt for a refund, naming the original transaction."""
    payment = refund.payment
    remaining_yen = payment.amount_yen - payment.refunded_yen

    document = Document()
    _add_header(document, terminal, REFUND_TITLE)
    _add_transaction(document, terminal, refund.created_at, refund.refund_id)
    document.add(Columns("元取引番号", payment.payment_id))
    document.add(Columns("元取引日時", format_jst(payment.created_at)))
    document.add(Rule())
    document.add(Columns("元のお支払い", format_yen(payment.amount_yen)))
    document.add(Columns("返金額", format_yen(refund.amount_yen), double_height=True, bold=True))
    document.add(Columns("返金済み合計", format_yen(payment.refunded_yen)))
    document.add(Columns("残額", format_yen(remaining_yen)))
    document.add(Rule())
    document.add(Columns("返金方法", COIN_NAME))
    _add_kind_lines(document, refund.amount_yen, refund.kinds)
    _add_footer(document, refund.refund_id)
    return document


def _add_header(document: Document, terminal: TerminalInfo, title: str) -> None:
    merchant = terminal.merchant
    number = merchant.invoice_registration_number
    if not REGISTRATION_NUMBER_PATTERN.fullmatch(number):
        logger.warning(
            "merchant %s has registration number %r, expected T and 13 digits",
            merchant.merchant_id,
            number,
        )

    document.add(
        Text(merchant.name, Align.CENTER, double_width=True, double_height=True, bold=True)
    )
    document.add(Text(merchant.address, Align.CENTER))
    if merchant.phone:
        document.add(Text(f"TEL {merchant.phone}", Align.CENTER))
    document.add(Text(f"登録番号 {number}", Align.CENTER))
    document.add(Feed())
    document.add(Text(title, Align.CENTER, double_height=True, bold=True))


def _add_transaction(
    document: Document, terminal: TerminalInfo, created_at: str, transaction_id: str
) -> None:
    document.add(Text(format_jst(created_at)))
    document.add(Columns("端末", f"{terminal.label} ({terminal.terminal_id})"))
    document.add(Columns("取引番号", transaction_id))


def _add_items(document: Document, payment: Payment) -> None:
    if not payment.tax_lines:
        document.add(Columns("お買い上げ", format_yen(payment.amount_yen)))
        return
    for line in payment.tax_lines:
        mark = f" {REDUCED_MARK}" if line.rate_percent == REDUCED_RATE_PERCENT else ""
        document.add(Columns(f"商品 {line.rate_percent}%{mark}", format_yen(line.amount_yen)))


def _add_tax_breakdown(document: Document, breakdown: TaxBreakdown) -> None:
    for summary in breakdown.summaries:
        # One line per amount: "10%対象 ￥1,100 (内消費税 ￥100)" does not fit 58 mm paper once
        # amounts reach six digits, and the renderer would shorten the label to make room.
        document.add(Columns(_rate_label(summary), format_yen(summary.total_yen)))
        document.add(Columns(TAX_LABEL, format_yen(summary.tax_yen)))
    if any(summary.reduced for summary in breakdown.summaries):
        document.add(Text(REDUCED_LEGEND))


def _rate_label(summary: TaxSummary) -> str:
    return f"{summary.rate_percent}%対象"


def _add_kind_lines(document: Document, amount_yen: int, kinds: Mapping[ValueKind, int]) -> None:
    """Add one indented line per value kind of ``amount_yen``, when the server reported them."""
    for part in split_parts(amount_yen, kinds) or []:
        label = f"{KIND_INDENT}{KIND_NAMES_JA[part.kind]}"
        document.add(Columns(label, format_yen(part.amount_yen)))


def _add_remaining(document: Document, payment: Payment) -> None:
    """Add the wallet's value after the payment, per kind with its earliest expiry.

    The server sends it only for wallets that turned it on. The expiry gets a line of its own,
    right-aligned under the amount, so a label never has to be shortened on 58 mm paper.
    """
    if payment.remaining is None:
        return
    held = remaining_in_order(payment.remaining)
    document.add(Rule())
    document.add(Columns(REMAINING_TITLE, format_yen(sum(value.amount_yen for value in held))))
    for value in held:
        label = f"{KIND_INDENT}{KIND_NAMES_JA[value.kind]} 残高"
        document.add(Columns(label, format_yen(value.amount_yen)))
        if value.expires_at is not None:
            document.add(Text(f"({expiry_date(value.expires_at)}まで)", Align.RIGHT))


def _add_footer(document: Document, transaction_id: str) -> None:
    document.add(Feed())
    document.add(QrCode(transaction_id))
    document.add(Text(transaction_id, Align.CENTER))
    document.add(Cut())
