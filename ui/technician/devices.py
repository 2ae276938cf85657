"""Choose the printer and scanner from the devices found, and save them to the config file."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Literal, cast

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from drivers.devices import DetectedDevice, DetectedDevices, ScannerChoice, detect_devices
from terminal.config import ConfigError, TerminalConfig, write_config
from ui.technician.common import Page
from ui.technician.context import TechnicianContext
from ui.widgets import styled_label
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

ScannerKind = Literal["wedge", "serial", "evdev", "camera"]


def device_text(device: DetectedDevice, setting: str) -> str:
    vendor = f"［{device.vendor}］" if device.vendor and device.vendor not in device.name else ""
    return f"{vendor}{device.name}\n  {setting}"


def _list_widget(parent: QWidget, name: str) -> QListWidget:
    widget = QListWidget(parent)
    widget.setObjectName(name)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    widget.setWordWrap(True)
    return widget


class DevicesPage(Page):
    """Lists detected printers and scanners; the chosen pair is written by ``save``."""

    network_requested = Signal()
    saved = Signal(object)  # the TerminalConfig read back from the written file

    def __init__(
        self, context: TechnicianContext, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(self.tr("スキャナーとプリンターの選択"), parent)
        self._context = context
        self._runner = runner
        self._printer_url = context.config.printer.url
        self._paper_width_mm: Literal[58, 80] = context.config.printer.paper_width_mm
        scanner = context.config.scanner
        self._scanner = ScannerChoice(
            scanner.kind, scanner.port, scanner.device, scanner.camera_id
        )
        self.current = styled_label("", "caption")
        self.current.setObjectName("devices_current")
        self.printers = _list_widget(self, "devices_printers")
        self.scanners = _list_widget(self, "devices_scanners")
        self.printers.itemClicked.connect(self._on_printer_clicked)
        self.scanners.itemClicked.connect(self._on_scanner_clicked)
        lists = QGridLayout()
        lists.addWidget(styled_label(self.tr("プリンター"), "caption"), 0, 0)
        lists.addWidget(styled_label(self.tr("スキャナー"), "caption"), 0, 1)
        lists.addWidget(self.printers, 1, 0)
        lists.addWidget(self.scanners, 1, 1)
        column = QVBoxLayout()
        column.addWidget(self.current)
        column.addLayout(lists, 1)
        self.body.addLayout(column)

        self.rescan_button = self.add_button(self.tr("再検出"))
        self.rescan_button.clicked.connect(self.detect)
        self.network_button = self.add_button(self.tr("LANプリンター"))
        self.network_button.setObjectName("devices_network")
        self.network_button.clicked.connect(self.network_requested)
        self.paper_button = self.add_button("")
        self.paper_button.setObjectName("devices_paper")
        self.paper_button.clicked.connect(self._toggle_paper)
        self.save_button = self.add_button(self.tr("保存"), "primary")
        self.save_button.setObjectName("devices_save")
        self.save_button.clicked.connect(self.save)
        self._refresh_current()

    # --- detection -------------------------------------------------------------------------

    def detect(self) -> None:
        self.show_message(self.tr("機器を探しています…"))
        sysfs_root, dev_root = self._context.sysfs_root, self._context.dev_root
        self._runner.run(
            lambda: detect_devices(sysfs_root, dev_root), self.show_devices, self._on_error
        )

    def show_devices(self, found: object) -> None:
        assert isinstance(found, DetectedDevices)
        self.printers.clear()
        self.scanners.clear()
        for device in found.printers:
            text = device_text(device, device.printer_url or "")
            self._add_item(self.printers, text, device.printer_url)
        for device in found.scanners:
            assert device.scanner is not None
            text = device_text(device, self._scanner_text(device.scanner))
            self._add_item(self.scanners, text, device.scanner)
        if not found.printers and not found.scanners:
            self.show_message(self.tr("機器が見つかりません。ケーブルと電源を確認して「再検出」を押してください"))
        else:
            self.show_message(self.tr("使う機器を選んで「保存」を押してください"))

    def _add_item(self, widget: QListWidget, text: str, data: object) -> None:
        item = QListWidgetItem(text, widget)
        item.setData(Qt.ItemDataRole.UserRole, data)

    def _scanner_text(self, choice: ScannerChoice) -> str:
        if choice.kind == "serial":
            return self.tr("シリアル {port}").format(port=choice.port)
        if choice.kind == "evdev":
            return self.tr("直接読み取り（evdev）")
        if choice.kind == "camera":
            if not choice.camera_id:
                return self.tr("カメラ（標準のカメラ）")
            return self.tr("カメラ {camera}").format(camera=choice.camera_id)
        return self.tr("キーボード入力（ウェッジ）")

    # --- choosing --------------------------------------------------------------------------

    def _on_printer_clicked(self, item: QListWidgetItem) -> None:
        self.use_printer(str(item.data(Qt.ItemDataRole.UserRole)))

    def _on_scanner_clicked(self, item: QListWidgetItem) -> None:
        choice = item.data(Qt.ItemDataRole.UserRole)
        assert isinstance(choice, ScannerChoice)
        self._scanner = choice
        self._refresh_current()

    def use_printer(self, url: str) -> None:
        self._printer_url = url
        self._refresh_current()

    def _toggle_paper(self) -> None:
        self._paper_width_mm = 80 if self._paper_width_mm == 58 else 58
        self._refresh_current()

    def _refresh_current(self) -> None:
        self.paper_button.setText(self.tr("用紙 {width} mm").format(width=self._paper_width_mm))
        self.current.setText(
            self.tr("選択中　プリンター: {printer}　スキャナー: {scanner}").format(
                printer=self._printer_url, scanner=self._scanner_text(self._scanner)
            )
        )

    def chosen_config(self) -> TerminalConfig:
        config = self._context.config
        printer = replace(
            config.printer, url=self._printer_url, paper_width_mm=self._paper_width_mm
        )
        kind = cast(ScannerKind, self._scanner.kind)
        scanner = replace(
            config.scanner,
            kind=kind,
            port=self._scanner.port,
            device=self._scanner.device,
            camera_id=self._scanner.camera_id,
        )
        return replace(config, printer=printer, scanner=scanner)

    # --- saving ----------------------------------------------------------------------------

    def save(self) -> None:
        path = self._context.config_path
        if path is None:
            self.show_message(self.tr("設定ファイルの場所が決まっていないため保存できません"))
            return
        config = self.chosen_config()
        self.save_button.setEnabled(False)
        self._runner.run(lambda: write_config(config, path), self._on_saved, self._on_error)

    def _on_saved(self, written: object) -> None:
        assert isinstance(written, TerminalConfig)
        self.save_button.setEnabled(True)
        self._context.config = written
        path = written.source or Path()
        log.info(
            "saved printer %s and scanner %s to %s", written.printer.url, written.scanner.kind, path
        )
        self.show_message(
            self.tr("{path} に保存しました。端末を再起動すると新しい設定で動きます").format(path=path)
        )
        self.saved.emit(written)

    def _on_error(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ConfigError | OSError):
            self.show_message(self.tr("保存できませんでした: {error}").format(error=exc))
            return
        log.error("device page job failed", exc_info=exc)
        self.show_message(self.tr("処理に失敗しました: {error}").format(error=exc))
