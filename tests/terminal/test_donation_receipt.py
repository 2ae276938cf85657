"""The donation line of a payment receipt, in the document and in the printed bytes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import pytest

from drivers.printer.document import Columns
from drivers.printer.profile import paper_for_printer, printer_profile
from drivers.printer.receipt_image import draw_job
from drivers.printer.received import ReceivedJob
from drivers.printer.render import render
from drivers.printer.stream import StreamParser
from drivers.printer.width import display_width
from terminal import protocol
from terminal.donations import receipt_columns
from terminal.receipt import payment_receipt

MERCHANT = protocol.MerchantInfo(
    merchant_id="m-1", name="さくら商店", name_ascii="SAKURA SHOTEN", city_ascii="AIZU",
    address="福島県会津若松市中央1-2-3", invoice_registration_number="T7000012050002",
)
TERMINAL = protocol.TerminalInfo(
    terminal_id="term-0001", label="レジ1", merchant=MERCHANT, max_amount_yen=100_000
)
LONG_CAUSE = "会津若松市こども食堂ネットワーク運営協議会"


def make_payment(method: Literal["mpm", "cpm", "offline"] = "cpm", donations: tuple[tuple[str, int], ...] = (
        ("会津こども食堂", 12),)) -> protocol.Payment:
    return protocol.Payment(
        payment_id="pay-42", merchant_id="m-1", terminal_id="term-0001", amount_yen=1_299,
        refunded_yen=0, method=method, created_at="2026-04-01T01:00:00+00:00",
        donations=[protocol.DonationLine(cause=cause, amount_yen=amount_yen)
                   for cause, amount_yen in donations],
    )


def printed_lines(payment: protocol.Payment, paper_width_mm: int, profile: str = "TM-T20II"
                  ) -> list[str]:
    """Render the receipt, decode the ESC/POS bytes and return the printed lines."""
    data = render(payment_receipt(payment, TERMINAL), paper_width_mm=paper_width_mm,
                  profile=printer_profile(profile))
    jobs: list[ReceivedJob] = []
    parser = StreamParser(10_000, jobs.append)
    parser.feed(data)
    parser.close()
    return list(jobs[0].lines)


def test_receipt_document_has_donation_line() -> None:
    blocks = payment_receipt(make_payment(), TERMINAL).blocks

    assert Columns("寄付 会津こども食堂", "￥12") in blocks


def test_one_line_per_cause() -> None:
    payment = make_payment(donations=(("会津こども食堂", 12), ("喜多方の桜を守る会", 1_000)))

    assert receipt_columns(payment) == [Columns("寄付 会津こども食堂", "￥12"),
                                        Columns("寄付 喜多方の桜を守る会", "￥1,000")]


@pytest.mark.parametrize(("paper_width_mm", "profile", "columns"),
                         [(58, "TM-T20II", 32), (80, "TM-T20II", 48), (80, "TM-T88V", 42)])
def test_donation_line_printed_within_width(paper_width_mm: int, profile: str,
                                            columns: int) -> None:
    lines = printed_lines(make_payment(donations=(("会津こども食堂", 12), (LONG_CAUSE, 1_234))),
                          paper_width_mm, profile)

    short = [line for line in lines if line.startswith("寄付 会津こども食堂")]
    long = [line for line in lines if line.startswith("寄付 会津若松市")]
    assert len(short) == 1
    assert short[0].endswith("￥12")
    assert display_width(short[0]) == columns
    assert len(long) == 1
    assert long[0].endswith("￥1,234")
    assert display_width(long[0]) <= columns


def test_donation_bytes_in_shift_jis() -> None:
    data = render(payment_receipt(make_payment(), TERMINAL), paper_width_mm=58,
                  profile=printer_profile("TM-T20II"))

    # Kanji mode (FS &, FS .) surrounds each run of full-width text, so look for the runs.
    label = data.index("寄付".encode("shift_jis"))
    cause = data.index("会津こども食堂".encode("shift_jis"), label)
    amount = data.index("12".encode("ascii"), cause)
    assert label < cause < amount


def test_offline_receipt_has_no_donation_line() -> None:
    lines = printed_lines(make_payment(method="offline"), 58)

    assert not any("寄付" in line for line in lines)


def test_no_donations_no_line() -> None:
    lines = printed_lines(make_payment(donations=()), 80)

    assert not any("寄付" in line for line in lines)


def test_receipt_picture_shows_donation(tmp_path: Path) -> None:
    """Draw the 58 mm receipt as the emulator does; CHIIKI_SCREENSHOT_DIR keeps the PNG."""
    profile = printer_profile("TM-T20II")
    paper = paper_for_printer(58, profile)
    data = render(payment_receipt(make_payment(), TERMINAL), paper_width_mm=58, profile=profile)
    jobs: list[ReceivedJob] = []
    parser = StreamParser(paper.columns, jobs.append)
    parser.feed(data)
    parser.close()

    image = draw_job(jobs[0], paper.printable_dots)

    out_dir = Path(os.environ.get("CHIIKI_SCREENSHOT_DIR") or tmp_path)
    image.save(out_dir / "donation-receipt-ja.png")
    assert any(line.startswith("寄付 会津こども食堂") for line in jobs[0].lines)
    assert image.height > 0
