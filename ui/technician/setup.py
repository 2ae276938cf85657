"""The window a terminal opens instead of the clerk's screens when it is not enrolled yet.

It contains only the technician's screens. The technician enters the technician PIN, chooses
the devices, enrols with the activation code and restarts the terminal.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMainWindow

from terminal.config import TerminalConfig
from ui.scanning import ScanFilter, detector_for
from ui.technician.context import TechnicianContext
from ui.technician.screen import TechnicianScreen
from ui.worker import TaskRunner

log = logging.getLogger(__name__)


class SetupWindow(QMainWindow):
    """The technician's screens in a window of their own. Leaving the menu closes it."""

    def __init__(
        self, app: QApplication, config: TerminalConfig, config_path: Path | None, lang: str
    ) -> None:
        super().__init__()
        self.setWindowTitle(self.tr("地域コイン 決済端末の設定"))
        self.enrolled = False
        self.runner = TaskRunner(self)
        self.scan_filter = ScanFilter(detector_for(config.scanner), self)
        self.scan_filter.install(app)
        context = TechnicianContext(config, config_path, terminal_id="")
        self.technician = TechnicianScreen(context, self.runner, self.scan_filter, None, lang)
        self.technician.enrol.enrolled.connect(self._on_enrolled)
        self.technician.closed.connect(self.close)
        self.setCentralWidget(self.technician)
        self.technician.start()

    def _on_enrolled(self, _info: object) -> None:
        self.enrolled = True


def run_setup(
    app: QApplication,
    config: TerminalConfig,
    config_path: Path | None,
    lang: str,
    *,
    fullscreen: bool = False,
) -> int:
    """Show the setup window until it is closed: 0 once the terminal enrolled, else 1.

    With ``fullscreen`` (the kiosk) the window fills the screen, else it is maximised.
    """
    log.info("terminal not enrolled; opening the technician's setup screens")
    window = SetupWindow(app, config, config_path, lang)
    if fullscreen:
        window.showFullScreen()
    else:
        window.showMaximized()
    app.exec()
    window.runner.wait()
    app.removeEventFilter(window.scan_filter)
    return 0 if window.enrolled else 1
