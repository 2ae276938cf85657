"""The day close screens: the menu, a report with its hourly chart, the warning about waiting
payments, and the list of past Z reports. They show what ``DayClosePresenter`` delivers and
emit what the manager tapped; ``ui.day_close_flow`` moves between them."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from PySide6.QtCore import QCoreApplication, Qt, Signal, SignalInstance
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from terminal import messages
from terminal.day_close import DayReport, reconcile, waiting_count
from terminal.japan_time import format_japan_time
from terminal.protocol import CountTotal, ErrorCode, ValueKind
from ui.day_close_chart import HourlyChart
from ui.errors import clerk_message
from ui.theme import GREEN, RED
from ui.widgets import big_button, format_yen, styled_label


Translate = Callable[[str], str]


def _report_tr(text: str) -> str:
    return QCoreApplication.translate("DayReportScreen", text)


class DayCloseMenu(QWidget):
    """The three day close actions: X report, Z report, past Z reports."""

    x_requested = Signal()
    z_requested = Signal()
    history_requested = Signal()
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = styled_label(self.tr("締め処理"), "title")
        self.message = styled_label(
            self.tr("点検（X）は何度でも見られます。精算（Z）はその日を締めます。"), "hint"
        )
        self.message.setObjectName("day_close_message")
        self.x_button = big_button(self.tr("点検（X）"), "primary")
        self.x_button.setObjectName("day_close_x")
        self.x_button.clicked.connect(self.x_requested)
        self.z_button = big_button(self.tr("精算（Z）"), "danger")
        self.z_button.setObjectName("day_close_z")
        self.z_button.clicked.connect(self.z_requested)
        self.history_button = big_button(self.tr("過去の精算"))
        self.history_button.setObjectName("day_close_history")
        self.history_button.clicked.connect(self.history_requested)
        self.back_button = big_button(self.tr("戻る"))
        self.back_button.clicked.connect(self.back_requested)

        grid = QGridLayout()
        grid.addWidget(self.x_button, 0, 0)
        grid.addWidget(self.z_button, 0, 1)
        grid.addWidget(self.history_button, 1, 0)
        grid.addWidget(self.back_button, 1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message)
        layout.addLayout(grid, 1)

    def show_message(self, text: str) -> None:
        self.message.setText(text)


class DayReportScreen(QWidget):
    """One X or Z report: totals on the left, the hourly chart on the right."""

    back_requested = Signal()
    print_requested = Signal()
    close_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: DayReport | None = None
        self.title = styled_label("", "title")
        self.title.setObjectName("day_report_title")
        self.lines = QLabel(self)
        self.lines.setObjectName("day_report_lines")
        self.lines.setTextFormat(Qt.TextFormat.RichText)
        self.lines.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # Wrapping makes the label take the scroll area's width, so the amounts stay in view.
        self.lines.setWordWrap(True)
        self.lines.setStyleSheet("font-size: 15pt;")
        scroll = QScrollArea(self)
        scroll.setWidget(self.lines)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reconcile_line = styled_label("", "")
        self.reconcile_line.setObjectName("day_report_reconcile")
        self.chart = HourlyChart(self)
        self.status = styled_label("", "hint")
        self.status.setObjectName("day_report_status")

        self.back_button = big_button(self.tr("戻る"))
        self.back_button.clicked.connect(self.back_requested)
        self.print_button = big_button(self.tr("印刷"))
        self.print_button.setObjectName("day_report_print")
        self.print_button.clicked.connect(self.print_requested)
        self.close_button = big_button(self.tr("この内容で精算する"), "danger")
        self.close_button.setObjectName("day_report_close")
        self.close_button.clicked.connect(self.close_requested)

        right = QVBoxLayout()
        right.addWidget(styled_label(self.tr("時間帯別売上"), "caption"))
        right.addWidget(self.chart, 1)
        right.addWidget(self.reconcile_line)
        body = QHBoxLayout()
        body.addWidget(scroll, 5)
        body.addLayout(right, 4)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button, 1)
        buttons.addWidget(self.print_button, 1)
        buttons.addWidget(self.close_button, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    def show_report(self, report: DayReport, *, lang: str = "ja") -> None:
        """Show ``report``; a Z report without a number is a draft and offers to close."""
        self.report = report
        self.title.setText(self._title(report))
        self.lines.setText(report_html(report, _report_tr, lang))
        self.chart.set_hours(report.hourly_sales_yen)
        self._show_reconcile(report)
        draft = report.kind == "Z" and report.z_number is None
        self.close_button.setVisible(draft)
        self.print_button.setVisible(not draft)
        self.status.setText("")

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def _title(self, report: DayReport) -> str:
        if report.kind == "X":
            return self.tr("点検（X）　営業日 {day}").format(day=report.business_day)
        if report.z_number is None:
            return self.tr("精算（Z）の確認　営業日 {day}").format(day=report.business_day)
        return self.tr("精算（Z）Z{number}　営業日 {day}").format(
            number=f"{report.z_number:04d}", day=report.business_day)

    def _show_reconcile(self, report: DayReport) -> None:
        check = reconcile(report)
        if check is None:
            text, color = self.tr("サーバー照合：未確認（サーバーに接続できません）"), "#5f6368"
        elif check.matches:
            text, color = self.tr("サーバー照合：一致"), GREEN
        else:
            text = self.tr("サーバー照合：不一致　差額 {difference}").format(
                difference=format_yen(check.difference_yen))
            color = RED
        self.reconcile_line.setText(text)
        self.reconcile_line.setStyleSheet(f"font-size: 16pt; font-weight: bold; color: {color};")


def report_html(report: DayReport, tr: Translate, lang: str) -> str:
    """Lay the report's totals out as a two-column HTML table for the screen."""
    rows: list[tuple[str, str]] = []
    methods = {"mpm": tr("QR（スマホで読取）"), "cpm": tr("コード（オンライン）"),
               "offline": tr("コード（オフライン）")}
    for method, total in report.payments_by_method.items():
        rows.append((methods.get(method, method), _count_yen(total, tr)))
    rows.append((f"<b>{escape(tr('売上 計'))}</b>", f"<b>{_count_yen(report.payments, tr)}</b>"))
    rows.append((escape(tr("返金")), _count_yen(report.refunds, tr)))
    rows.append((f"<b>{escape(tr('純売上'))}</b>", f"<b>{format_yen(report.net_yen)}</b>"))
    if report.coupons.count:
        rows.append((escape(tr("クーポン割引（発行元から入金）")), _count_yen(report.coupons, tr)))
    if report.coupons_missing.count:
        rows.append((escape(tr("クーポン割引（未入金）")), _count_yen(report.coupons_missing, tr)))
    rows += _kind_rows(report, tr)
    rows.append((escape(tr("確定済み（純額）")), format_yen(report.confirmed.net_yen)))
    rows.append((escape(tr("送信待ち")), tr("{count}件 {amount}").format(
        count=waiting_count(report), amount=format_yen(report.waiting.net_yen))))
    for line in report.clerks:
        name = line.clerk if line.clerk is not None else tr("（担当者なし）")
        rows.append((escape(tr("担当 {name}").format(name=name)), _count_yen(line.payments, tr)))
    html = "<table width='100%' cellspacing='2'>"
    html += "".join(f"<tr><td>{left}</td><td align='right'>{right}</td></tr>" for left, right in rows)
    html += "</table>"
    return html + _declined_html(report, tr, lang)


def _kind_rows(report: DayReport, tr: Translate) -> list[tuple[str, str]]:
    if report.server is None:
        return []
    names = {ValueKind.COIN: tr("地域コイン"), ValueKind.PREMIUM_LOCAL: tr("プレミアム（地元店）"),
             ValueKind.PREMIUM_ALL: tr("プレミアム（全店）"), ValueKind.BENEFIT: tr("給付")}
    kinds = sorted(report.server.terminal.ledger_kinds.items())
    return [(escape(tr("　うち {kind}").format(kind=names.get(kind, str(kind)))), format_yen(amount))
            for kind, amount in kinds]


def _declined_html(report: DayReport, tr: Translate, lang: str) -> str:
    if not report.declined:
        return ""
    title = tr("受け付けられなかった取引 {count}件（合計に含みません）").format(count=len(report.declined))
    items = []
    for entry in report.declined:
        shown_at = format_japan_time(entry.captured_at, "%m/%d %H:%M")
        reason = _reason_text(entry.reason, entry.kind, lang)
        if entry.coupon_discount_yen:
            reason += tr("（クーポン割引 {discount} も未入金）").format(
                discount=format_yen(entry.coupon_discount_yen))
        items.append(f"<li>{shown_at}　{format_yen(entry.amount_yen)}　{escape(reason)}</li>")
    return f"<p style='color: {RED};'><b>{escape(title)}</b></p><ul>{''.join(items)}</ul>"


def _reason_text(reason: str, kind: str, lang: str) -> str:
    if reason not in ErrorCode.__members__.values():
        return reason
    if kind == "refund":
        return str(clerk_message(messages.refund_message_key(reason), lang))
    return str(clerk_message(reason, lang))


def _count_yen(total: CountTotal, tr: Translate) -> str:
    return tr("{count}件 {amount}").format(count=total.count, amount=format_yen(total.amount_yen))


class WaitingWarning(QWidget):
    """Warns that payments are still waiting to be sent before the day is closed."""

    confirmed = Signal()
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("day_close_warning")
        self.title = styled_label(self.tr("送信待ちの取引があります"), "title")
        self.title.setStyleSheet(f"color: {RED};")
        self.message = styled_label("", "hint")
        self.message.setObjectName("day_close_warning_message")
        self.message.setStyleSheet("font-size: 20pt; color: black;")
        self.cancel_button = big_button(self.tr("戻る（送信を待つ）"))
        self.cancel_button.clicked.connect(self.cancelled)
        self.confirm_button = big_button(self.tr("送信待ちのまま精算する"), "danger")
        self.confirm_button.setObjectName("day_close_warning_confirm")
        self.confirm_button.clicked.connect(self.confirmed)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message, 1)
        layout.addLayout(buttons)

    def prepare(self, count: int, amount_yen: int) -> None:
        self.message.setText(self.tr(
            "サーバーにまだ送信していない取引が {count}件（{amount}）あります。"
            "このまま精算すると、この取引は確定前のまま精算レポートに入り、"
            "後でサーバーに受け付けられないことがあります。"
            "通信が戻るまで待てる場合は「戻る」を押してください。"
        ).format(count=count, amount=format_yen(amount_yen)))


class DayCloseHistory(QWidget):
    """The stored Z reports, newest first, to view or print again."""

    back_requested = Signal()
    view_requested = Signal(object)  # DayReport
    print_requested = Signal(object)  # DayReport

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reports: list[DayReport] = []
        self.title = styled_label(self.tr("過去の精算"), "title")
        self.status = styled_label("", "hint")
        self.status.setObjectName("day_close_history_status")
        self.list = QListWidget(self)
        self.list.setObjectName("day_close_history_list")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setStyleSheet("font-size: 18pt;")
        self.list.currentRowChanged.connect(self._update_buttons)
        self.back_button = big_button(self.tr("戻る"))
        self.back_button.clicked.connect(self.back_requested)
        self.view_button = big_button(self.tr("表示"))
        self.view_button.setObjectName("day_close_history_view")
        self.view_button.clicked.connect(lambda: self._emit_selected(self.view_requested))
        self.print_button = big_button(self.tr("印刷"))
        self.print_button.setObjectName("day_close_history_print")
        self.print_button.clicked.connect(lambda: self._emit_selected(self.print_requested))
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.view_button)
        buttons.addWidget(self.print_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def show_reports(self, reports: list[DayReport]) -> None:
        self.reports = list(reports)
        self.list.clear()
        for report in self.reports:
            QListWidgetItem(self.tr("Z{number}　営業日 {day}　純売上 {net}").format(
                number=f"{report.z_number or 0:04d}", day=report.business_day,
                net=format_yen(report.net_yen)), self.list)
        self.status.setText("" if reports else self.tr("まだ精算していません"))
        self._update_buttons()

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def _emit_selected(self, signal: SignalInstance) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.reports):
            signal.emit(self.reports[row])

    def _update_buttons(self) -> None:
        selected = 0 <= self.list.currentRow() < len(self.reports)
        self.view_button.setEnabled(selected)
        self.print_button.setEnabled(selected)
