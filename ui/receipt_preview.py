"""A window that shows each receipt the printer emulator received, newest on top."""

from __future__ import annotations

from PIL.ImageQt import ImageQt
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from drivers.printer.received import ReceivedJob
from ui.widgets import big_button, styled_label

# Receipt pictures are drawn at printer resolution, about 8 dots per mm. At half size an
# 80 mm receipt stays readable in a window beside the terminal.
PREVIEW_SCALE = 0.5


class JobBridge(QObject):
    """Carries jobs from the emulator's connection thread to the GUI thread."""

    received = Signal(object)

    def deliver(self, job: ReceivedJob) -> None:
        """Called on the emulator's thread; the signal is queued to the GUI thread."""
        self.received.emit(job)


def job_pixmap(job: ReceivedJob) -> QPixmap | None:
    if job.image is None:
        return None
    image = QImage(ImageQt(job.image.convert("RGB")))
    width = max(1, int(image.width() * PREVIEW_SCALE))
    return QPixmap.fromImage(
        image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
    )


class ReceiptPreview(QWidget):
    """Lists received receipts as pictures, with the text underneath when there is no picture.

    In the demo it also contains the network switch, which cuts the terminal off the server.
    """

    network_changed = Signal(bool)  # True when the terminal is connected again

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("レシート（プリンターエミュレーター）"))
        self.jobs: list[ReceivedJob] = []
        self.title = styled_label(self.tr("印刷されたレシート"), "title")
        self.empty = styled_label(self.tr("まだ印刷されていません"), "hint")
        self.demo_note = styled_label("", "caption")
        self.demo_note.setObjectName("demo_note")
        self.demo_note.setWordWrap(True)
        self.demo_note.hide()
        self.network_online = True
        self.network_button = big_button(self.tr("オフラインにする"), "", self)
        self.network_button.setObjectName("demo_network")
        self.network_button.clicked.connect(self.toggle_network)
        self.network_button.hide()
        self.network_note = styled_label("", "caption")
        self.network_note.setObjectName("demo_network_note")
        self.network_note.hide()
        self._column = QVBoxLayout()
        self._column.addWidget(self.empty)
        self._column.addStretch(1)
        content = QWidget()
        content.setLayout(self._column)
        content.setStyleSheet("background: #d9d9d9;")
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.demo_note)
        layout.addWidget(self.network_button)
        layout.addWidget(self.network_note)
        layout.addWidget(scroll, 1)
        self.bridge = JobBridge(self)
        self.bridge.received.connect(self.add_job)

    def show_demo_pin(self, pin: str) -> None:
        """Show the demo's manager PIN, which the clerk needs to try a refund."""
        self.demo_note.setText(
            self.tr("デモ情報: 返金に使う責任者暗証番号は {pin} です").format(pin=pin)
        )
        self.demo_note.show()

    def show_network_toggle(self) -> None:
        """Show the switch that takes the demo terminal off the network and back."""
        self.network_button.show()

    def toggle_network(self) -> None:
        self.set_network_online(not self.network_online)

    def set_network_online(self, online: bool) -> None:
        self.network_online = online
        if online:
            self.network_button.setText(self.tr("オフラインにする"))
            self.network_note.hide()
        else:
            self.network_button.setText(self.tr("オンラインに戻す"))
            self.network_note.setText(
                self.tr("デモ: 端末はサーバーから切り離されています（スマートフォンはつながっています）")
            )
            self.network_note.show()
        self.network_changed.emit(online)

    def add_job(self, job: ReceivedJob) -> None:
        self.jobs.insert(0, job)
        self.empty.hide()
        label = QLabel()
        label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        pixmap = job_pixmap(job)
        if pixmap is not None:
            label.setPixmap(pixmap)
        else:
            label.setText(job.to_text())
            label.setStyleSheet("background: white; font-family: monospace; padding: 8px;")
        self._column.insertWidget(0, label)
