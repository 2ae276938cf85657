"""The split of a payment across value kinds, and the remaining value, on screen and receipt."""

from __future__ import annotations

from typing import Literal

import pytest

from drivers.printer.document import Align, Columns, Document, Text
from drivers.printer.profile import PrinterProfile, printer_profile
from drivers.printer.received import PrintedLine, ReceivedJob
from drivers.printer.render import render
from drivers.printer.stream import StreamParser
from drivers.printer.width import display_width
from terminal import protocol
from terminal.protocol import RemainingValue, ValueKind
from terminal.receipt import payment_receipt, refund_receipt
from terminal.value_split import (
    KIND_NAMES_JA,
    expiry_date,
    format_split,
    remaining_in_order,
    split_parts,
)

MERCHANT = protocol.MerchantInfo(
    merchant_id="m-1",
    name="会津若松ふれあい商店街まるやま精肉店",
    name_ascii="MARUYAMA",
    city_ascii="AIZUWAKAMATSU",
    address="福島県会津若松市中央1-2-3",
    invoice_registration_number="T7000012050002",
)
TERMINAL = protocol.TerminalInfo(
    terminal_id="term-0001", label="レジ1", merchant=MERCHANT, max_amount_yen=1_000_000
)
# End of the usage period: midnight at the start of 1 April 2027, Japan time.
END_OF_MARCH_2027 = "2027-03-31T15:00:00+00:00"
END_OF_SEPTEMBER_2027 = "2027-09-30T15:00:00+00:00"

TM_T88V = printer_profile("TM-T88V", kanji=True)
TM_T20II = printer_profile("TM-T20II", kanji=True)
# (printer, paper width in mm, columns of font A across the paper)
PAPERS = [(TM_T88V, 80, 42), (TM_T20II, 80, 48), (TM_T20II, 58, 32)]


def make_payment(
    amount_yen: int,
    kinds: dict[ValueKind, int],
    remaining: list[RemainingValue] | None = None,
    method: Literal["mpm", "cpm", "offline"] = "cpm",
) -> protocol.Payment:
    return protocol.Payment(
        payment_id="p_0123456789abcdef",
        merchant_id="m-1",
        terminal_id="term-0001",
        amount_yen=amount_yen,
        refunded_yen=0,
        method=method,
        created_at="2026-12-05T01:00:00+00:00",
        tax_lines=[protocol.TaxLine(rate_percent=10, amount_yen=amount_yen)],
        kinds=kinds,
        remaining=remaining,
    )


def texts(document: Document) -> list[str]:
    lines = []
    for block in document.blocks:
        if isinstance(block, Text):
            lines.append(block.text)
        elif isinstance(block, Columns):
            lines.append(f"{block.left}\t{block.right}")
    return lines


def received(document: Document, profile: PrinterProfile, width_mm: int) -> ReceivedJob:
    """Render the receipt to ESC/POS bytes and parse them back as the printer would."""
    data = render(document, paper_width_mm=width_mm, profile=profile)
    jobs: list[ReceivedJob] = []
    # Wider than any paper, so a line too long for the paper would show as one long line.
    parser = StreamParser(10_000, jobs.append)
    parser.feed(data)
    parser.close()
    return jobs[0]


def printed(document: Document, profile: PrinterProfile, width_mm: int) -> tuple[bytes, list[str]]:
    """Return the receipt's ESC/POS bytes and its printed lines."""
    job = received(document, profile, width_mm)
    return job.raw, job.lines


# --- the split ------------------------------------------------------------------------------


def test_split_in_spend_order() -> None:
    kinds = {ValueKind.COIN: 100, ValueKind.PREMIUM_ALL: 400, ValueKind.PREMIUM_LOCAL: 700}

    parts = split_parts(1200, kinds)

    assert parts is not None
    assert [(part.kind, part.amount_yen) for part in parts] == [
        (ValueKind.PREMIUM_LOCAL, 700), (ValueKind.PREMIUM_ALL, 400), (ValueKind.COIN, 100),
    ]


def test_split_two_kinds_text() -> None:
    kinds = {ValueKind.PREMIUM_ALL: 400, ValueKind.PREMIUM_LOCAL: 800}

    assert format_split(1200, kinds) == "￥1,200 = 地元専用 ￥800 + 全店共通 ￥400"


def test_split_one_kind_text() -> None:
    assert format_split(1200, {ValueKind.COIN: 1200}) == "コイン ￥1,200"
    assert format_split(500, {ValueKind.BENEFIT: 500}) == "給付 ￥500"


def test_split_unknown_kinds_not_shown() -> None:
    assert format_split(1200, {}) is None
    assert split_parts(1200, {}) is None


def test_split_not_adding_up_not_shown() -> None:
    assert format_split(1200, {ValueKind.COIN: 1000}) is None
    assert format_split(1200, {ValueKind.COIN: 1000, ValueKind.BENEFIT: 300}) is None


def test_split_zero_kinds_left_out() -> None:
    kinds = {ValueKind.PREMIUM_LOCAL: 0, ValueKind.COIN: 900}

    assert format_split(900, kinds) == "コイン ￥900"


def test_split_uses_given_names() -> None:
    names = {ValueKind.PREMIUM_LOCAL: "Local only", ValueKind.PREMIUM_ALL: "All shops",
             ValueKind.BENEFIT: "Benefit", ValueKind.COIN: "Coin"}
    kinds = {ValueKind.PREMIUM_LOCAL: 800, ValueKind.COIN: 400}

    assert format_split(1200, kinds, names) == "￥1,200 = Local only ￥800 + Coin ￥400"


# --- expiry dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires_at", "shown"),
    [
        # Midnight Japan time ends the day before.
        ("2027-03-31T15:00:00+00:00", "2027/03/31"),
        ("2027-03-31T14:59:59Z", "2027/03/31"),
        # 03:00 on 1 April Japan time: still usable on 1 April.
        ("2027-03-31T18:00:00+00:00", "2027/04/01"),
        # A time without an offset is UTC, as the server sends it.
        ("2027-12-31T15:00:00", "2027/12/31"),
    ],
)
def test_expiry_date_in_japan_time(expires_at: str, shown: str) -> None:
    assert expiry_date(expires_at) == shown


def test_remaining_in_spend_order_without_empty_kinds() -> None:
    remaining = [
        RemainingValue(kind=ValueKind.COIN, amount_yen=500, expires_at=None),
        RemainingValue(kind=ValueKind.BENEFIT, amount_yen=0, expires_at=END_OF_MARCH_2027),
        RemainingValue(kind=ValueKind.PREMIUM_LOCAL, amount_yen=2300,
                       expires_at=END_OF_MARCH_2027),
    ]

    kinds = [value.kind for value in remaining_in_order(remaining)]

    assert kinds == [ValueKind.PREMIUM_LOCAL, ValueKind.COIN]


def test_every_kind_named() -> None:
    assert set(KIND_NAMES_JA) == set(ValueKind)


# --- the receipt ----------------------------------------------------------------------------


def test_receipt_lists_kinds_under_payment() -> None:
    payment = make_payment(1200, {ValueKind.PREMIUM_LOCAL: 800, ValueKind.PREMIUM_ALL: 400})

    lines = texts(payment_receipt(payment, TERMINAL))

    start = lines.index("お支払い\t地域コイン")
    assert lines[start + 1] == "　地元専用\t￥800"
    assert lines[start + 2] == "　全店共通\t￥400"
    assert lines[start + 3].startswith("支払方法\t")


def test_receipt_one_kind_one_line() -> None:
    lines = texts(payment_receipt(make_payment(1200, {ValueKind.COIN: 1200}), TERMINAL))

    start = lines.index("お支払い\t地域コイン")
    assert lines[start + 1] == "　コイン\t￥1,200"
    assert lines[start + 2].startswith("支払方法\t")


def test_offline_receipt_names_no_kinds() -> None:
    payment = make_payment(1200, {}, method="offline")

    lines = texts(payment_receipt(payment, TERMINAL))

    start = lines.index("お支払い\t地域コイン")
    assert lines[start + 1].startswith("支払方法\t")
    for name in KIND_NAMES_JA.values():
        assert not any(line.startswith(f"　{name}") for line in lines)
    assert not any("残高" in line for line in lines)


def test_receipt_without_permission_shows_no_balance() -> None:
    payment = make_payment(1200, {ValueKind.COIN: 1200}, remaining=None)

    lines = texts(payment_receipt(payment, TERMINAL))

    assert not any("残高" in line for line in lines)


def test_receipt_remaining_with_expiry() -> None:
    remaining = [
        RemainingValue(kind=ValueKind.PREMIUM_LOCAL, amount_yen=2300,
                       expires_at=END_OF_MARCH_2027),
        RemainingValue(kind=ValueKind.COIN, amount_yen=500, expires_at=None),
    ]
    payment = make_payment(1200, {ValueKind.PREMIUM_LOCAL: 1200}, remaining)

    lines = texts(payment_receipt(payment, TERMINAL))

    start = lines.index("ご利用後の残高\t￥2,800")
    assert lines[start + 1:start + 4] == [
        "　地元専用 残高\t￥2,300", "(2027/03/31まで)", "　コイン 残高\t￥500",
    ]


def test_receipt_expiry_right_aligned() -> None:
    remaining = [RemainingValue(kind=ValueKind.PREMIUM_ALL, amount_yen=100,
                                expires_at=END_OF_SEPTEMBER_2027)]
    document = payment_receipt(make_payment(100, {ValueKind.COIN: 100}, remaining), TERMINAL)

    expiry = [block for block in document.blocks
              if isinstance(block, Text) and block.text == "(2027/09/30まで)"]

    assert [block.align for block in expiry] == [Align.RIGHT]


def test_receipt_empty_wallet_shows_zero() -> None:
    payment = make_payment(1200, {ValueKind.COIN: 1200}, remaining=[])

    lines = texts(payment_receipt(payment, TERMINAL))

    assert "ご利用後の残高\t￥0" in lines


@pytest.mark.parametrize(("profile", "width_mm", "columns"), PAPERS)
def test_receipt_bytes_fit_paper(profile: PrinterProfile, width_mm: int, columns: int) -> None:
    remaining = [
        RemainingValue(kind=ValueKind.PREMIUM_LOCAL, amount_yen=123_456,
                       expires_at=END_OF_MARCH_2027),
        RemainingValue(kind=ValueKind.BENEFIT, amount_yen=30_000,
                       expires_at=END_OF_SEPTEMBER_2027),
        RemainingValue(kind=ValueKind.PREMIUM_ALL, amount_yen=99_999,
                       expires_at=END_OF_MARCH_2027),
        RemainingValue(kind=ValueKind.COIN, amount_yen=1_000_000, expires_at=None),
    ]
    kinds = {ValueKind.PREMIUM_LOCAL: 80_000, ValueKind.BENEFIT: 10_000,
             ValueKind.PREMIUM_ALL: 9_000, ValueKind.COIN: 888}
    document = payment_receipt(make_payment(99_888, kinds, remaining), TERMINAL)

    data, lines = printed(document, profile, width_mm)

    assert all(display_width(line) <= columns for line in lines)
    # Kanji mode is switched on (FS &) and off (FS .) around full-width runs, so only runs of
    # one width appear as contiguous Shift_JIS bytes.
    for text in ("地元専用", "全店共通", "給付", "コイン", "ご利用後の残高", "まで", "￥"):
        assert text.encode("shift_jis") in data
    assert b"(2027/03/31" in data
    assert b"123,456" in data
    assert any(line.startswith("　地元専用 残高") and line.endswith("￥123,456") for line in lines)
    assert any(line.startswith("　給付") and line.endswith("￥10,000") for line in lines)
    assert "(2027/09/30まで)" in [line.strip() for line in lines]


@pytest.mark.parametrize(("profile", "width_mm", "columns"), PAPERS)
def test_receipt_expiry_line_ends_at_edge(
    profile: PrinterProfile, width_mm: int, columns: int
) -> None:
    remaining = [RemainingValue(kind=ValueKind.PREMIUM_LOCAL, amount_yen=2300,
                                expires_at=END_OF_MARCH_2027)]
    document = payment_receipt(make_payment(100, {ValueKind.PREMIUM_LOCAL: 100}, remaining),
                               TERMINAL)

    job = received(document, profile, width_mm)

    lines = [item for item in job.items if isinstance(item, PrintedLine)]
    expiry = next(line for line in lines if "まで" in line.text)
    balance = next(line for line in lines if line.text.startswith("　地元専用 残高"))
    assert (expiry.text, expiry.align) == ("(2027/03/31まで)", "right")
    assert balance.width_columns == columns
    assert balance.text.endswith("￥2,300")


def test_refund_receipt_lists_returned_kinds() -> None:
    payment = make_payment(1200, {ValueKind.PREMIUM_LOCAL: 800, ValueKind.PREMIUM_ALL: 400})
    refund = protocol.Refund(refund_id="r_1", payment_id=payment.payment_id, amount_yen=500,
                             created_at="2026-12-05T02:00:00+00:00",
                             payment=payment.model_copy(update={"refunded_yen": 500}))
    reported = refund.model_copy(update={"kinds": {ValueKind.PREMIUM_ALL: 400,
                                                   ValueKind.PREMIUM_LOCAL: 100}})

    with_kinds = texts(refund_receipt(reported, TERMINAL))
    without_kinds = texts(refund_receipt(refund, TERMINAL))

    start = with_kinds.index("返金方法\t地域コイン")
    assert with_kinds[start + 1:start + 3] == ["　地元専用\t￥100", "　全店共通\t￥400"]
    assert not any(line.startswith("　地元専用") for line in without_kinds)
    assert not any(line.startswith("　全店共通") for line in without_kinds)
