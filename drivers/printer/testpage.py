"""The technician's printer test page and the ``chiiki-pos print-test`` command.

The page shows every text size, each kind of character (ASCII, half-width and full-width kana,
kanji, both yen signs), a price line, a QR code and a cut, so one printout shows whether the
printer is set up for Japanese receipts.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import datetime

from drivers.printer.connection import read_status, send
from drivers.printer.document import Align, Columns, Cut, Document, QrCode, Rule, Text
from drivers.printer.errors import PrinterError
from drivers.printer.profile import DEFAULT_PROFILE, PrinterProfile, paper_for_width, printer_profile
from drivers.printer.render import render
from drivers.printer.status import StatusCause

logger = logging.getLogger(__name__)

TEST_QR_PREFIX = "CHIIKI-POS PRINT TEST "

# Japanese then English, for the one line print-test writes when the printer reports a fault.
CAUSE_MESSAGES = {
    StatusCause.COVER_OPEN: "プリンターのカバーが開いています / The printer cover is open",
    StatusCause.PAPER_END: "プリンターの用紙がありません / The printer is out of paper",
    StatusCause.OFFLINE: "プリンターがオフラインです / The printer is offline",
    StatusCause.PAPER_NEAR_END: "用紙が残りわずかです / The paper roll is nearly empty",
}


def build_test_page(*, paper_width_mm: int = 80, now: datetime | None = None) -> Document:
    """Build the test page for ``paper_width_mm`` paper, dated ``now`` (default: the local time)."""
    printed_at = (now or datetime.now()).strftime("%Y-%m-%d %H:%M:%S")
    paper = paper_for_width(paper_width_mm)
    document = Document()

    document.add(Text("印字テスト", align=Align.CENTER, double_width=True, double_height=True, bold=True))
    document.add(Text("PRINT TEST", align=Align.CENTER))
    document.add(Text(f"日時 Date: {printed_at}"))
    document.add(Text(f"用紙幅 Paper: {paper.width_mm} mm / {paper.columns}桁"))
    document.add(Rule("="))

    document.add(Text("標準 会津コイン"))
    document.add(Text("倍幅 会津コイン", double_width=True))
    document.add(Text("倍高 会津コイン", double_height=True))
    document.add(Text("4倍 会津コイン", double_width=True, double_height=True))
    document.add(Text("強調 会津コイン", bold=True))
    document.add(Rule())

    document.add(Text("ASCII: ABCxyz 0123456789 !#$%&()*+-./:;<=>?@[]^_{|}~"))
    document.add(Text("半角ｶﾅ: ｱｲｳｴｵ ｶﾌｪﾗﾃ ｶﾞｷﾞｸﾞ ｰ｡｢｣"))
    document.add(Text("全角カナ: アイウエオ カフェラテ ガギグ"))
    document.add(Text("漢字: 豚肉・木耳と玉子炒め弁当 ①②③"))
    # The two yen signs are encoded differently (0x5C in the ANK table, 0x818F in Shift_JIS),
    # so each gets a labelled line of its own. Receipts use the full-width one.
    document.add(Text("円記号 半角: ¥1,990"))
    document.add(Text("円記号 全角: ￥1,990"))
    document.add(Rule())

    document.add(Columns("豚肉・木耳と玉子炒め弁当", "￥1,990"))
    document.add(Columns("カフェラテ ※", "￥480"))
    document.add(Columns("合計", "￥2,470", double_height=True, bold=True))
    document.add(Rule())

    document.add(QrCode(f"{TEST_QR_PREFIX}{printed_at}"))
    document.add(Text("このQRコードが読めれば正常です", align=Align.CENTER))
    document.add(Cut())
    return document


def print_test_page(url: str, paper_width_mm: int = 80, *, profile: PrinterProfile = DEFAULT_PROFILE) -> None:
    """Render the test page and send it to the printer at ``url``, raising PrinterError on failure."""
    job = render(build_test_page(paper_width_mm=paper_width_mm), paper_width_mm=paper_width_mm, profile=profile)
    send(url, job)


def print_test_main(argv: Sequence[str] | None = None) -> int:
    """Run ``chiiki-pos print-test``: 0 when the page was sent, 1 when printing failed."""
    args = _parse_args(argv)
    try:
        profile = printer_profile(args.profile, kanji=not args.ank_only)
        problem = _status_problem(args.printer)
        if problem is not None:
            print(f"テストページを印刷できません: {problem}", file=sys.stderr)
            return 1
        print_test_page(args.printer, args.paper_width, profile=profile)
    except PrinterError as exc:
        # The user line below is the report; the log line only adds the chained cause.
        logger.debug("Test page failed: %s", exc, exc_info=True)
        message = " ".join(str(exc).split())
        print(f"テストページを印刷できませんでした / Could not print the test page: {message}", file=sys.stderr)
        return 1
    print(f"テストページを送信しました / Sent the test page to {args.printer}")
    return 0


def _status_problem(url: str) -> str | None:
    """Return the message for a fault that stops printing, or None (also when status is unknown)."""
    status = read_status(url)
    cause = status.primary_cause
    if status.can_print or cause is None:
        return None
    return CAUSE_MESSAGES[cause]


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="chiiki-pos print-test",
        description="Print the printer test page (Japanese text in every size, a price line, a QR code).",
    )
    parser.add_argument(
        "--printer",
        required=True,
        metavar="URL",
        help="printer URL: network://HOST[:PORT], usb://VID:PID (hexadecimal), "
        "serial:///dev/ttyUSB0?baudrate=19200 or file:///PATH",
    )
    parser.add_argument("--paper-width", type=int, choices=(58, 80), default=80, help="paper width in mm (default: 80)")
    parser.add_argument("--profile", default="default", help="python-escpos printer profile, such as TM-T88V")
    parser.add_argument("--ank-only", action="store_true", help="the printer has no kanji font: print Japanese as images")
    return parser.parse_args(argv)
