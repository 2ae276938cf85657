"""A bar chart of sales by Japan-time hour, drawn with QPainter for the X and Z report screens."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.theme import BLUE, GREY
from ui.widgets import format_yen

HOURS_PER_DAY = 24
# Hours labelled under the bars; every third keeps the labels apart on a 400-pixel chart.
LABEL_EVERY_HOURS = 3
LABEL_HEIGHT_PX = 26
TOP_LABEL_HEIGHT_PX = 26
BAR_GAP_PX = 3


class HourlyChart(QWidget):
    """Draws one bar per hour, 0 to 23, scaled to the busiest hour, whose amount is on top."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("day_close_chart")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.hourly_yen: list[int] = [0] * HOURS_PER_DAY
        self.empty_text = self.tr("売上はありません")

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(420, 260)

    def set_hours(self, hourly_yen: list[int]) -> None:
        if len(hourly_yen) != HOURS_PER_DAY:
            raise ValueError(f"expected {HOURS_PER_DAY} hourly amounts, got {len(hourly_yen)}")
        self.hourly_yen = list(hourly_yen)
        self.update()

    def bar_rect(self, hour: int) -> QRectF:
        """Return the rectangle of one hour's bar in widget coordinates (empty for no sales)."""
        slot_px = self.width() / HOURS_PER_DAY
        plot_height = self.height() - LABEL_HEIGHT_PX - TOP_LABEL_HEIGHT_PX
        max_yen = max(self.hourly_yen)
        share = self.hourly_yen[hour] / max_yen if max_yen > 0 else 0.0
        bar_height = plot_height * share
        top = TOP_LABEL_HEIGHT_PX + plot_height - bar_height
        return QRectF(hour * slot_px + BAR_GAP_PX / 2, top, slot_px - BAR_GAP_PX, bar_height)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        if max(self.hourly_yen) <= 0:
            painter.setPen(QColor(GREY))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            painter.end()
            return
        self._draw_bars(painter)
        self._draw_labels(painter)
        painter.end()

    def _draw_bars(self, painter: QPainter) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(BLUE))
        for hour in range(HOURS_PER_DAY):
            if self.hourly_yen[hour] > 0:
                painter.drawRect(self.bar_rect(hour))

    def _draw_labels(self, painter: QPainter) -> None:
        painter.setPen(QColor(GREY))
        font = painter.font()
        font.setPointSize(11)
        painter.setFont(font)
        slot_px = self.width() / HOURS_PER_DAY
        baseline_top = self.height() - LABEL_HEIGHT_PX
        painter.drawLine(0, baseline_top, self.width(), baseline_top)
        for hour in range(0, HOURS_PER_DAY, LABEL_EVERY_HOURS):
            # Centred under the bar, but the first label starts at the left edge to stay whole.
            left = max(0.0, hour * slot_px - slot_px)
            label_rect = QRectF(left, baseline_top, slot_px * 3, LABEL_HEIGHT_PX)
            label = self.tr("{hour}時").format(hour=hour)
            painter.drawText(label_rect, Qt.AlignmentFlag.AlignCenter, label)

        busiest = max(range(HOURS_PER_DAY), key=lambda hour: self.hourly_yen[hour])
        top_rect = QRectF(0, 0, self.width(), TOP_LABEL_HEIGHT_PX)
        painter.drawText(
            top_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.tr("最多 {hour}時台 {amount}").format(
                hour=busiest, amount=format_yen(self.hourly_yen[busiest])),
        )
