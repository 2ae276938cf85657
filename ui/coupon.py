"""The coupon on the sale screen: scanning it, its discount, and taking it off again.

The clerk scans the customer's coupon on the sale screen, before or after typing the amount,
or the wallet shows it paired with its payment code (``ui.paired_scan``).
``CouponPresenter`` checks it on a worker (``terminal.coupons.CouponChecker``: the server's
quote when it is reachable, else the terminal's own check) and applies it to the sale, so the
discount shows before the payment starts. A coupon scanned before any amount waits for the
total; a changed total is checked again. ``CouponPanel`` shows the outcome with one large
button to remove the coupon.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import cast

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from terminal import coupon_code
from terminal.coupons import (
    AppliedCoupon,
    CouponChecker,
    CouponRejected,
    CouponVerifier,
    QuoteApi,
    coupon_message,
)
from terminal.messages import CHECK_FAILED
from terminal.sale import Sale, SaleState
from ui.services import TerminalServices
from ui.widgets import big_button, format_yen, styled_label

log = logging.getLogger(__name__)

# Sale states in which the coupon may change: before a payment starts, or after one failed.
EDITABLE_STATES = frozenset({
    SaleState.IDLE, SaleState.AMOUNT_ENTRY, SaleState.DECLINED, SaleState.EXPIRED,
    SaleState.CANCELLED,
})


# The size of a rejection reason: three lines of it beside the button fit the sale screen of
# a 1024 x 600 display while a notice of two lines shows below the frame.
# The sale lines above the frame then take one row (sale_screen.MAX_ROWS_WITH_COUPON).
REASON_FONT_PT = 13

# The translation context of the coupon line on the payment screens.
NOTE_CONTEXT = "CouponNote"


class CouponStatus(Enum):
    NONE = "none"
    WAITING_FOR_TOTAL = "waiting_for_total"
    CHECKING = "checking"
    APPLIED = "applied"
    REJECTED = "rejected"


class CouponPresenter(QObject):
    """Keeps the scanned coupon of the current sale and checks it against the sale's total."""

    changed = Signal()
    notice = Signal(str)

    def __init__(
        self, services: TerminalServices, sale: Sale, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._services = services
        self._sale = sale
        self._checker = CouponChecker(
            cast(QuoteApi, services.api), _verifier(services), lambda: services.is_offline()
        )
        self._code: str | None = None
        self._checking = False
        self._checked_total_yen = 0
        self._rejection: CouponRejected | None = None
        # Increased whenever the coupon or the sale changes, so a late result is dropped.
        self._generation = 0

    # --- reading ---------------------------------------------------------------------------

    @property
    def status(self) -> CouponStatus:
        if self._code is None:
            return CouponStatus.NONE
        if self._checking:
            return CouponStatus.CHECKING
        if self.rejection is not None:
            return CouponStatus.REJECTED
        if self._sale.coupon is not None:
            return CouponStatus.APPLIED
        return CouponStatus.WAITING_FOR_TOTAL

    @property
    def checking(self) -> bool:
        """True while a check runs or a coupon waits for the total: a payment must wait."""
        return self.status in (CouponStatus.CHECKING, CouponStatus.WAITING_FOR_TOTAL)

    @property
    def code(self) -> str | None:
        """The scanned coupon code of the current sale, whatever its status."""
        return self._code

    @property
    def applied(self) -> AppliedCoupon | None:
        return self._sale.coupon

    @property
    def rejection(self) -> CouponRejected | None:
        """Why the coupon cannot be used: from its check, or from the server at payment."""
        return self._rejection or self._sale.coupon_rejection

    def rejection_text(self) -> str:
        rejection = self.rejection
        if rejection is None:
            return ""
        return coupon_message(
            rejection.reason, self._services.lang, minimum_spend_yen=rejection.minimum_spend_yen
        )

    # --- actions ---------------------------------------------------------------------------

    def scan(self, code: str) -> None:
        """Take a scanned coupon code for the current sale, replacing any earlier coupon."""
        if self._sale.state not in EDITABLE_STATES:
            log.info("a coupon was scanned during a payment and not used")
            return
        self._reset_coupon()
        self._code = code
        log.info("coupon scanned: %s", coupon_code.mask_coupon_code(code))
        self._check_total()

    def remove(self) -> None:
        """Take the coupon off the sale; the clerk pays the whole total without it."""
        if self._code is None or self._sale.state not in EDITABLE_STATES:
            return
        self._reset_coupon()
        self.changed.emit()

    def clear(self) -> None:
        """Forget the coupon because a new sale starts."""
        self._reset_coupon()
        self.changed.emit()

    def on_sale_changed(self) -> None:
        """Check the coupon again when the sale's total changed since the last check.

        Otherwise the panel is refreshed, because a payment may have ended with the server
        rejecting the coupon.
        """
        if self._code is None:
            return
        editable = self._sale.state in EDITABLE_STATES
        if editable and self._sale.total_yen != self._checked_total_yen and not self._checking:
            self._check_total()
            return
        self.changed.emit()

    # --- checking --------------------------------------------------------------------------

    def _reset_coupon(self) -> None:
        self._generation += 1
        self._code = None
        self._checking = False
        self._checked_total_yen = 0
        self._rejection = None
        if self._sale.state in EDITABLE_STATES:
            self._sale.remove_coupon()

    def _check_total(self) -> None:
        code = self._code
        if code is None:
            return
        total_yen = self._sale.total_yen
        self._generation += 1
        self._rejection = None
        self._sale.remove_coupon()
        self._checked_total_yen = total_yen
        if total_yen == 0:
            self._checking = False
            self.changed.emit()
            return
        self._checking = True
        self.changed.emit()
        generation = self._generation
        checker = self._checker
        self._services.runner.run(
            lambda: checker.check(code, total_yen),
            lambda result: self._on_checked(generation, result),
            lambda exc: self._on_failed(generation, exc),
        )

    def _on_checked(self, generation: int, result: object) -> None:
        if generation != self._generation:
            return
        self._checking = False
        applied = cast(AppliedCoupon, result)
        if self._sale.state not in EDITABLE_STATES:
            # A payment cannot start while a check runs, so this is a sale already ended.
            self.changed.emit()
            return
        if self._sale.total_yen != applied.total_yen:
            # The total changed while the check ran; check the new total.
            self._check_total()
            return
        self._sale.set_coupon(applied)
        log.info("coupon %s applied: %d yen off %d yen", applied.coupon_id,
                 applied.discount_yen, applied.total_yen)
        self.changed.emit()

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._checking = False
        if isinstance(exc, CouponRejected):
            self._rejection = exc
        else:
            log.error("checking a coupon failed", exc_info=exc)
            self._rejection = CouponRejected(CHECK_FAILED, str(exc))
        # The panel shows the reason, so it is not repeated as a notice.
        self.changed.emit()


def _verifier(services: TerminalServices) -> CouponVerifier | None:
    parts = services.offline
    if parts is None:
        return None
    return CouponVerifier(parts.store, parts.acceptor.merchant_id, parts.clock.now)


class CouponPanel(QFrame):
    """The coupon line of the sale screen; hidden while the sale has no coupon."""

    def __init__(self, presenter: CouponPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        self.setObjectName("coupon_panel")
        # One row: the coupon and the amount to pay on the left, the button on the right, so
        # the sale screen still fits a 600-pixel-high display.
        self.headline = styled_label("", "lines")
        self.headline.setObjectName("coupon_headline")
        self.headline.setWordWrap(True)
        self.detail = styled_label("", "hint")
        self.detail.setObjectName("coupon_detail")
        self.remove_button = big_button(self.tr("クーポンを外す"), "danger")
        self.remove_button.setObjectName("coupon_remove")
        self.remove_button.clicked.connect(presenter.remove)

        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.headline)
        text.addWidget(self.detail)
        row = QHBoxLayout(self)
        # The vertical margins keep the reason off the 2-pixel border of the frame.
        row.setContentsMargins(6, 4, 6, 4)
        self._row = row
        row.addLayout(text, 1)
        row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignVCenter)
        # The sale lines above give up height first, so the reason is never cut off.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

        presenter.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        presenter = self.presenter
        status = presenter.status
        self.setVisible(status is not CouponStatus.NONE)
        self._set_rejected_style(status is CouponStatus.REJECTED)
        if status is CouponStatus.WAITING_FOR_TOTAL:
            self._show(self.tr("クーポンを読み取りました"),
                       self.tr("金額の入力後に割引を表示"))
        elif status is CouponStatus.CHECKING:
            self._show(self.tr("クーポンを確認しています…"), "")
        elif status is CouponStatus.REJECTED:
            self._show_rejected()
        elif status is CouponStatus.APPLIED:
            self._show_applied()

    def _show_applied(self) -> None:
        applied = self.presenter.applied
        if applied is None:
            return
        self._show(
            self.tr("クーポン {title} −{discount}").format(
                title=applied.title, discount=format_yen(applied.discount_yen)),
            self.tr("お支払い {due}").format(due=format_yen(applied.due_yen)),
        )
        # The amount the customer pays is what the clerk reads out, so it is in bold.
        self.detail.setProperty("role", "lines")
        self.detail.setStyleSheet("font-weight: bold;")
        self._repolish()

    def _show_rejected(self) -> None:
        # The red frame and text mark the coupon as rejected. The reason gives the cause and
        # the next step in up to three lines.
        self._show(self.presenter.rejection_text(), "", headline_role="hint")
        self.detail.hide()

    def _show(self, headline: str, detail: str, headline_role: str = "lines") -> None:
        self.headline.setText(headline)
        self.headline.setProperty("role", headline_role)
        self.detail.setVisible(bool(detail))
        self.detail.setText(detail)
        self.detail.setProperty("role", "hint")
        self.detail.setStyleSheet("")
        self._repolish()
        self._fit_headline()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_headline()

    def _fit_headline(self) -> None:
        # A layout does not ask a word-wrapped label for its height at the panel's width, so
        # a reason of several lines would be cut off without these minimums. The frame's own
        # minimum also keeps the sale screen's layout from squeezing it below the reason.
        self.headline.setMinimumHeight(0)
        self.setMinimumHeight(0)
        if self.presenter.status is not CouponStatus.REJECTED or not self.isVisible():
            return
        margins = self._row.contentsMargins()
        frame_px = 2 * self.frameWidth() + margins.left() + margins.right()
        spacing_px = max(self._row.spacing(), 0)
        width = max(self.width() - frame_px - self.remove_button.width() - spacing_px, 200)
        needed_px = self.headline.heightForWidth(width)
        self.headline.setMinimumHeight(needed_px)
        self.setMinimumHeight(needed_px + 2 * self.frameWidth() + margins.top() + margins.bottom())

    def _set_rejected_style(self, rejected: bool) -> None:
        color = "#d93025" if rejected else "#1a73e8"
        # A reason takes up to three lines, so it is set smaller than the coupon's own line.
        reason_style = f"color: {color}; font-size: {REASON_FONT_PT}pt;"
        text_style = reason_style if rejected else "color: black;"
        self.setStyleSheet(
            f"QFrame#coupon_panel {{ border: 2px solid {color}; border-radius: 8px; }}"
            f" QLabel#coupon_headline {{ {text_style} }}"
        )

    def _repolish(self) -> None:
        for label in (self.headline, self.detail):
            label.style().unpolish(label)
            label.style().polish(label)


def coupon_note_label(parent: QWidget) -> QLabel:
    """Build the line under a payment screen's amount that names the coupon applied."""
    label: QLabel = styled_label("", "hint", parent)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    return label


def show_coupon_note(label: QLabel, coupon: AppliedCoupon | None) -> None:
    if coupon is None:
        label.setText("")
        label.hide()
        return
    label.setText(
        QCoreApplication.translate(NOTE_CONTEXT, "クーポン {title} −{discount}（合計 {total}）").format(
            title=coupon.title, discount=format_yen(coupon.discount_yen),
            total=format_yen(coupon.total_yen))
    )
    label.show()
