"""The sale screen: amount display, keypad, department keys and the payment buttons.

The amount is a label driven by the keypad. The screen has no text field, so neither a clerk's
stray typing nor a scanner burst can put text into it.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from terminal.tax import REDUCED_RATE_PERCENT, STANDARD_RATE_PERCENT
from ui.coupon import CouponPanel, CouponStatus
from ui.sale import SaleLine, SalePresenter
from ui.status_banner import ConnectionBanner
from ui.widgets import Keypad, big_button, format_yen, styled_label


# Shares of the space for the amount column and the keypad. Side by side the amount column is
# wider. Stacked on a portrait screen, the keypad gets as much height as the column above it.
LANDSCAPE_STRETCH = (3, 2)
PORTRAIT_STRETCH = (1, 1)


# Rows of sale lines the display shows. With the coupon frame shown, the display keeps one
# row, so the sale screen stays within the 600-pixel height of a small counter tablet. Older
# lines are summed in the first cell of the rows.
MAX_ROWS = 2
MAX_ROWS_WITH_COUPON = 1
# Between two cells of a row; inside a cell a no-break space keeps rate and amount together.
CELL_GAP = "\u3000\u3000"
CELL_SPACE = "\u00a0"


class SaleLines(QLabel):
    """The department entries of the sale, newest last, reduced-rate lines marked ※.

    Entries are packed as cells into rows as wide as the display, at most ``row_limit`` rows.
    When more entries were typed, the first cell counts and sums the older ones, so the
    display never grows past the screen however long the sale gets.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sale_lines")
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.setProperty("role", "lines")
        # The text follows the width, so the width must not follow the text.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.legend = styled_label("", "caption")
        self._lines: list[SaleLine] = []
        self.row_limit = MAX_ROWS

    def show_lines(self, lines: list[SaleLine]) -> None:
        self._lines = list(lines)
        if any(line.rate_percent == REDUCED_RATE_PERCENT for line in lines):
            self.legend.setText(self.tr("※は軽減税率対象"))
        else:
            self.legend.setText("")
        # An empty legend would still take a line that the coupon panel needs.
        self.legend.setVisible(bool(self.legend.text()))
        self._render()

    def set_row_limit(self, rows: int) -> None:
        if rows != self.row_limit:
            self.row_limit = rows
            self._render()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._render()

    def _render(self) -> None:
        cells = [self._cell(line) for line in self._lines]
        per_row = self._cells_per_row(cells)
        capacity = per_row * self.row_limit
        if len(cells) > capacity:
            kept = capacity - 1
            older = self._lines[:len(self._lines) - kept]
            summary = self.tr("ほか{count}件").format(count=len(older))
            total = format_yen(sum(line.amount_yen for line in older))
            cells = [f"\u3000{summary}{CELL_SPACE}{total}".replace(" ", CELL_SPACE),
                     *cells[len(cells) - kept:]]
        rows = [CELL_GAP.join(cells[start:start + per_row])
                for start in range(0, len(cells), per_row)]
        self.setText("\n".join(rows))

    @staticmethod
    def _cell(line: SaleLine) -> str:
        mark = "※" if line.rate_percent == REDUCED_RATE_PERCENT else "\u3000"
        return f"{mark}{line.rate_percent}%{CELL_SPACE}{format_yen(line.amount_yen)}"

    def _cells_per_row(self, cells: list[str]) -> int:
        """Return how many cells fit side by side; one while the label has no width yet."""
        metrics = self.fontMetrics()
        widest_px = max((metrics.horizontalAdvance(cell) for cell in cells), default=0)
        if widest_px == 0 or self.width() <= 0:
            return 1
        gap_px = metrics.horizontalAdvance(CELL_GAP)
        return max(1, (self.width() - self.contentsMargins().left()
                       - self.contentsMargins().right() + gap_px) // (widest_px + gap_px))


class SaleScreen(QWidget):
    """Lets the clerk build the amount and choose how the customer pays."""

    qr_requested = Signal()
    code_requested = Signal()
    history_requested = Signal()
    clerk_requested = Signal()

    def __init__(self, presenter: SalePresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        self.banner = ConnectionBanner(presenter.lang, self)
        self.entry_caption = styled_label(self.tr("入力中の金額"), "caption")
        self.entry = styled_label("", "amount")
        self.entry.setObjectName("sale_entry")
        self.entry.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.lines = SaleLines(self)
        self.total = styled_label("", "title")
        self.total.setObjectName("sale_total")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.coupon_panel = CouponPanel(presenter.coupons, self)
        self.hint = styled_label("", "hint")
        self.hint.setObjectName("sale_hint")
        self.keypad = Keypad(self)
        self.keypad.key_pressed.connect(presenter.press)
        # The labels say that the key adds the typed amount as a line, not only the rate.
        self.standard_button = big_button(self.tr("10%で確定"), "dept")
        self.standard_button.setObjectName("dept_10")
        self.standard_button.clicked.connect(lambda: presenter.department(STANDARD_RATE_PERCENT))
        self.reduced_button = big_button(self.tr("8%（軽減）で確定"), "dept")
        self.reduced_button.setObjectName("dept_8")
        self.reduced_button.clicked.connect(lambda: presenter.department(REDUCED_RATE_PERCENT))
        self.qr_button = big_button(self.tr("QRを表示"), "primary")
        self.qr_button.setObjectName("pay_qr")
        self.qr_button.clicked.connect(self.qr_requested)
        self.code_button = big_button(self.tr("コードを読む"), "primary")
        self.code_button.setObjectName("pay_code")
        self.code_button.clicked.connect(self.code_requested)
        self.history_button = big_button(self.tr("履歴"))
        self.history_button.setObjectName("open_history")
        self.history_button.clicked.connect(self.history_requested)
        # Names the current clerk and opens the clerk chooser; hidden unless clerks are set up.
        self.clerk_button = big_button("")
        self.clerk_button.setObjectName("sale_clerk")
        self.clerk_button.clicked.connect(self.clerk_requested)
        self.clerk_button.hide()
        self._build_layout()

        presenter.changed.connect(self.refresh)
        presenter.notice.connect(self.show_hint)
        presenter.coupons.changed.connect(self._fit_lines_to_coupon)
        self.refresh()
        self._fit_lines_to_coupon()

    def _build_display(self) -> QFrame:
        """Frame the amount, the lines and the total like the display of a till."""
        display = QFrame(self)
        display.setObjectName("sale_display")
        column = QVBoxLayout(display)
        caption_row = QHBoxLayout()
        caption_row.addWidget(self.entry_caption, 1)
        caption_row.addWidget(self.clerk_button)
        column.addLayout(caption_row)
        column.addWidget(self.entry)
        column.addWidget(self.lines, 1)
        column.addWidget(self.lines.legend)
        column.addWidget(self.total)
        column.addWidget(self.coupon_panel)
        return display

    def _build_layout(self) -> None:
        left = QVBoxLayout()
        left.addWidget(self._build_display(), 1)
        left.addWidget(self.hint)
        departments = QHBoxLayout()
        departments.addWidget(self.standard_button)
        departments.addWidget(self.reduced_button)
        left.addLayout(departments)
        # One row for the payment buttons and history keeps the screen within the 600-pixel
        # height of a small counter tablet, with room for the notice banner below it.
        payments = QGridLayout()
        payments.addWidget(self.qr_button, 0, 0)
        payments.addWidget(self.code_button, 0, 1)
        payments.addWidget(self.history_button, 0, 2)
        payments.setColumnStretch(0, 2)
        payments.setColumnStretch(1, 2)
        payments.setColumnStretch(2, 1)
        left.addLayout(payments)
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.addLayout(left, LANDSCAPE_STRETCH[0])
        self.body.addWidget(self.keypad, LANDSCAPE_STRETCH[1])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.banner)
        layout.addLayout(self.body, 1)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_orientation(event.size())

    def _fit_orientation(self, size: QSize) -> None:
        """Put the keypad beside the amount on a landscape screen and below it on a portrait one.

        Side by side, a 720-pixel-wide portrait screen leaves the department and payment
        buttons narrower than their labels.
        """
        portrait = size.height() > size.width()
        direction = (
            QBoxLayout.Direction.TopToBottom if portrait else QBoxLayout.Direction.LeftToRight
        )
        if self.body.direction() == direction:
            return
        stretch = PORTRAIT_STRETCH if portrait else LANDSCAPE_STRETCH
        self.body.setDirection(direction)
        self.body.setStretch(0, stretch[0])
        self.body.setStretch(1, stretch[1])

    @property
    def portrait(self) -> bool:
        return self.body.direction() == QBoxLayout.Direction.TopToBottom

    def refresh(self) -> None:
        presenter = self.presenter
        self.entry.setText(format_yen(presenter.entry_yen))
        self.lines.show_lines(presenter.lines())
        self.total.setText(self.tr("合計 {total}").format(total=format_yen(presenter.total_yen)))
        self.hint.setText("")

    def _fit_lines_to_coupon(self) -> None:
        has_coupon = self.presenter.coupons.status is not CouponStatus.NONE
        self.lines.set_row_limit(MAX_ROWS_WITH_COUPON if has_coupon else MAX_ROWS)

    def show_hint(self, text: str) -> None:
        self.hint.setText(text)
