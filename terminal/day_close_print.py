"""X and Z reports laid out as printer documents for the receipt printer.

The report is printed in Japanese, like the receipts. The hourly sales chart is drawn with
full-width blocks (■, in Shift_JIS), at most ``CHART_MAX_BLOCKS`` of them, so that the hour, the
bar and the amount fit one line of 58 mm paper (32 columns); 80 mm paper has room to spare.
"""

from __future__ import annotations

from drivers.printer.document import Align, Columns, Cut, Document, Feed, Rule, Text
from terminal.day_close import DayReport, reconcile
from terminal.japan_time import format_japan_time
from terminal.protocol import CountTotal, TerminalInfo, ValueKind
from terminal.receipt import format_yen

# "09時 " (5 columns) + 7 blocks (14) + a space + "￥1,234,567" (11) = 31 of 32 columns.
CHART_MAX_BLOCKS = 7
CHART_BLOCK = "■"

TITLES = {"X": "点検レポート（X）", "Z": "精算レポート（Z）"}
METHOD_NAMES = {
    "mpm": "QR(スマホで読取)",
    "cpm": "コード(オンライン)",
    "offline": "コード(オフライン)",
}
KIND_NAMES = {
    ValueKind.COIN: "地域コイン",
    ValueKind.PREMIUM_LOCAL: "プレミアム(地元店)",
    ValueKind.PREMIUM_ALL: "プレミアム(全店)",
    ValueKind.BENEFIT: "給付",
}
NO_CLERK = "(担当者なし)"


def report_document(report: DayReport, terminal: TerminalInfo) -> Document:
    """Lay out an X or Z report: header, totals, clerks, declined entries, hourly chart."""
    document = Document()
    _header(document, report, terminal)
    _totals(document, report)
    _sync_split(document, report)
    _clerks(document, report)
    _declined(document, report)
    _chart(document, report.hourly_sales_yen)
    document.add(Feed(1)).add(Cut())
    return document


def count_and_yen(total: CountTotal) -> str:
    return f"{total.count}件 {format_yen(total.amount_yen)}"


def chart_bar(amount_yen: int, max_yen: int) -> str:
    """Return the bar for ``amount_yen``, scaled so ``max_yen`` gets CHART_MAX_BLOCKS blocks."""
    if amount_yen <= 0 or max_yen <= 0:
        return ""
    blocks = max(1, round(CHART_MAX_BLOCKS * amount_yen / max_yen))
    return CHART_BLOCK * blocks


def chart_hours(hourly_yen: list[int]) -> range:
    """Return the hours from the first to the last with sales, or an empty range."""
    active = [hour for hour, amount in enumerate(hourly_yen) if amount > 0]
    return range(active[0], active[-1] + 1) if active else range(0)


def _header(document: Document, report: DayReport, terminal: TerminalInfo) -> None:
    document.add(Text(TITLES[report.kind], Align.CENTER, double_height=True, bold=True))
    document.add(Text(terminal.merchant.name, Align.CENTER))
    document.add(Columns("端末", terminal.label))
    document.add(Columns("営業日", report.business_day))
    if report.z_number is not None:
        document.add(Columns("精算番号", f"Z{report.z_number:04d}"))
    document.add(Columns("作成", format_japan_time(report.created_at)))
    document.add(Rule())


def _totals(document: Document, report: DayReport) -> None:
    document.add(Text("お支払い方法別", bold=True))
    for method, total in report.payments_by_method.items():
        document.add(Columns(METHOD_NAMES.get(method, method), count_and_yen(total)))
    document.add(Columns("売上 計", count_and_yen(report.payments), bold=True))
    document.add(Columns("返金", count_and_yen(report.refunds)))
    document.add(Columns("純売上", format_yen(report.net_yen), double_height=True, bold=True))
    if report.coupons.count:
        # The issuers pay the discounts to the shop besides the customers' payments above.
        document.add(Columns("クーポン割引", count_and_yen(report.coupons)))
    if report.coupons_missing.count:
        document.add(Columns("クーポン割引 未入金", count_and_yen(report.coupons_missing), bold=True))
    if report.server is not None and report.server.terminal.ledger_kinds:
        document.add(Text("価値の種類別(サーバー集計)", bold=True))
        for kind, amount_yen in sorted(report.server.terminal.ledger_kinds.items()):
            document.add(Columns(KIND_NAMES.get(kind, str(kind)), format_yen(amount_yen)))
    document.add(Rule())


def _sync_split(document: Document, report: DayReport) -> None:
    document.add(Columns("確定済み 純額", format_yen(report.confirmed.net_yen)))
    waiting = report.waiting
    waiting_count = waiting.payments.count + waiting.refunds.count
    document.add(Columns(f"送信待ち {waiting_count}件", format_yen(waiting.net_yen)))
    check = reconcile(report)
    if check is None:
        document.add(Text("サーバー照合: 未確認(接続できません)"))
    elif check.matches:
        document.add(Columns("サーバー照合", "一致"))
    else:
        document.add(Columns("サーバー照合", "不一致", bold=True))
        document.add(Columns("　差額(端末-サーバー)", format_yen(check.difference_yen)))
    document.add(Rule())


def _clerks(document: Document, report: DayReport) -> None:
    if not report.clerks:
        return
    document.add(Text("担当者別", bold=True))
    for line in report.clerks:
        document.add(Columns(line.clerk or NO_CLERK, count_and_yen(line.payments)))
        if line.refunds.count:
            document.add(Columns("　返金", count_and_yen(line.refunds)))
    document.add(Rule())


def _declined(document: Document, report: DayReport) -> None:
    if not report.declined:
        return
    document.add(Text(f"受け付けられなかった取引 {len(report.declined)}件", bold=True))
    for entry in report.declined:
        shown_at = format_japan_time(entry.captured_at, "%m/%d %H:%M")
        document.add(Columns(shown_at, format_yen(entry.amount_yen)))
        document.add(Text(f"　理由: {entry.reason}"))
        if entry.coupon_discount_yen:
            document.add(Columns("　クーポン割引(未入金)", format_yen(entry.coupon_discount_yen)))
    document.add(Rule())


def _chart(document: Document, hourly_yen: list[int]) -> None:
    document.add(Text("時間帯別売上", bold=True))
    hours = chart_hours(hourly_yen)
    if not hours:
        document.add(Text("売上はありません"))
        return
    max_yen = max(hourly_yen)
    for hour in hours:
        bar = chart_bar(hourly_yen[hour], max_yen)
        document.add(Columns(f"{hour:02d}時 {bar}", format_yen(hourly_yen[hour])))
