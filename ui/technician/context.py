"""What the technician's screens need from the running terminal, gathered in one object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.devices import DEV_ROOT, SYSFS_ROOT
from terminal.config import TerminalConfig
from terminal.diagnostics import HealthApi
from terminal.enrolment import enrol
from terminal.protocol import TerminalInfo
from terminal.support_bundle import MEDIA_ROOTS

if TYPE_CHECKING:
    from ui.technician.mode import ModeSwitchHost


@dataclass
class TechnicianContext:
    """The configuration and the parts the technician's screens read or change.

    ``config_path`` is where saved settings go; None disables saving. ``health_api`` is the
    client the diagnostics use for GET /v1/health, None when the terminal has no server.
    ``modes`` switches the running window between sales and the stamp booth; None (the setup
    window) hides the switch.
    """

    config: TerminalConfig
    config_path: Path | None
    terminal_id: str
    health_api: HealthApi | None = None
    enrol: Callable[[TerminalConfig, str], TerminalInfo] = enrol
    sysfs_root: Path = SYSFS_ROOT
    dev_root: Path = DEV_ROOT
    media_roots: tuple[Path, ...] = field(default=MEDIA_ROOTS)
    modes: ModeSwitchHost | None = None
