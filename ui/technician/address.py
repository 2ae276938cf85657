"""A LAN printer's IPv4 address, typed on an on-screen keypad and probed on port 9100."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from drivers.devices import AddressError, check_ipv4, network_printer_url, probe_network_printer
from drivers.printer.status import PrinterState, PrinterStatus
from drivers.printer.urls import DEFAULT_NETWORK_PORT
from ui.technician.common import Page, printer_status_text
from ui.widgets import big_button, styled_label
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

KEY_DOT = "."
KEY_BACK = "back"
KEY_CLEAR = "clear"
# "255.255.255.255" is the longest IPv4 address in dotted form.
MAX_ADDRESS_CHARS = 15


def type_address_key(address: str, key: str) -> str:
    """Apply one keypad key to the address typed so far."""
    if key == KEY_CLEAR:
        return ""
    if key == KEY_BACK:
        return address[:-1]
    if len(address) >= MAX_ADDRESS_CHARS:
        return address
    if key == KEY_DOT:
        # A dot needs digits before it, and an address has three.
        if not address or address.endswith(KEY_DOT) or address.count(KEY_DOT) >= 3:
            return address
        return address + key
    if key.isdigit():
        group = address.rsplit(KEY_DOT, 1)[-1]
        return address + key if len(group) < 3 else address
    return address


class AddressPage(Page):
    """Types an address, probes the printer there and offers it as the printer."""

    chosen = Signal(str)  # the printer URL, such as network://192.168.1.50

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("LANプリンターのアドレス"), parent)
        self._runner = runner
        self.address = ""
        self.port = DEFAULT_NETWORK_PORT  # raw printing port; tests point it at an emulator
        self.display = styled_label("", "amount")
        self.display.setObjectName("address_display")
        self.display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = styled_label("", "lines")
        self.status.setObjectName("address_status")
        self.keys: dict[str, QPushButton] = {}
        side = QVBoxLayout()
        side.addWidget(self.display)
        side.addWidget(self.status, 1)
        row = QHBoxLayout()
        row.addLayout(side, 1)
        row.addLayout(self._keypad(), 1)
        self.body.addLayout(row)
        self.probe_button = self.add_button(self.tr("接続を確認"))
        self.probe_button.setObjectName("address_probe")
        self.probe_button.clicked.connect(self.probe)
        self.use_button = self.add_button(self.tr("このプリンターを使う"), "primary")
        self.use_button.setObjectName("address_use")
        self.use_button.clicked.connect(self._use)
        self.prepare()

    def _keypad(self) -> QGridLayout:
        # Four rows, with the editing keys in a fourth column, keep the page within the
        # 600-pixel height of a small counter tablet.
        grid = QGridLayout()
        layout = (("7", "8", "9", KEY_BACK), ("4", "5", "6", KEY_CLEAR), ("1", "2", "3", KEY_DOT))
        texts = {KEY_BACK: "←", KEY_CLEAR: "C"}
        for row, keys in enumerate(layout):
            for column, key in enumerate(keys):
                self._add_key(grid, key, texts.get(key, key), row, column)
        self._add_key(grid, "0", "0", len(layout), 0, span=4)
        return grid

    def _add_key(
        self, grid: QGridLayout, key: str, text: str, row: int, column: int, span: int = 1
    ) -> None:
        button = big_button(text, "danger" if key == KEY_CLEAR else "", self)
        button.setObjectName(f"address_key_{key}")
        button.clicked.connect(lambda _checked=False, k=key: self.press(k))
        grid.addWidget(button, row, column, 1, span)
        self.keys[key] = button

    def prepare(self, address: str = "") -> None:
        self.address = address
        self.status.setText("")
        self.show_message(self.tr("プリンターのIPアドレスを入力してください（例 192.168.1.50）"))
        self._refresh()

    def press(self, key: str) -> None:
        self.address = type_address_key(self.address, key)
        self.status.setText("")
        self._refresh()

    def _refresh(self) -> None:
        self.display.setText(self.address or "—")
        self.use_button.setEnabled(self._valid_address() is not None)
        self.probe_button.setEnabled(self._valid_address() is not None)

    def _valid_address(self) -> str | None:
        try:
            return check_ipv4(self.address)
        except AddressError:
            return None

    def probe(self) -> None:
        address = self._valid_address()
        if address is None:
            return
        self.status.setText(self.tr("{address} に接続しています…").format(address=address))
        self.probe_button.setEnabled(False)
        port = self.port
        self._runner.run(
            lambda: probe_network_printer(address, port), self._on_probed, self._on_failed
        )

    def _on_probed(self, status: object) -> None:
        assert isinstance(status, PrinterStatus)
        self.probe_button.setEnabled(True)
        if status.state is PrinterState.UNKNOWN:
            self.status.setText(
                self.tr("プリンターから応答がありません。電源、LANケーブル、アドレスを確認してください\n{detail}").format(
                    detail=status.detail
                )
            )
            return
        self.status.setText(self.tr("応答あり: {status}").format(status=printer_status_text(status)))

    def _on_failed(self, exc: BaseException) -> None:
        self.probe_button.setEnabled(True)
        log.error("network printer probe failed", exc_info=exc)
        self.status.setText(str(exc))

    def _use(self) -> None:
        if self._valid_address() is not None:
            self.chosen.emit(network_printer_url(self.address, self.port))
