"""Fonts, sizes and colours shared by every screen.

Clerks read the screen from arm's length on a 7 to 10 inch touch panel, so text is large and
every touch target is at least ``MIN_TOUCH_PX`` high.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)

# Counter panels are touched in a hurry, often with a finger that holds change, so every
# button is at least this high and wide.
MIN_TOUCH_PX = 64

BASE_FONT_PT = 16
FAMILY = "Noto Sans CJK JP"

# The Debian package fonts-noto-cjk installs these files. Fontconfig usually finds them anyway.
# They are also loaded by path for minimal images where fontconfig has no cache yet.
FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
)

GREEN = "#1b7f3b"
RED = "#b3261e"
BLUE = "#1f5fbf"
GREY = "#5f6368"
AMBER = "#e37400"
# A disabled button of any role is grey with a dashed border, so a red refund button or a blue
# payment button never looks pressable while it is off. The rule comes after the role rules,
# because Qt applies the later of two equally specific rules.
DISABLED_TEXT = "#80868b"
DISABLED_BACKGROUND = "#e8eaed"
DISABLED_BORDER = "#9aa0a6"

STYLESHEET = f"""
QWidget {{ font-size: {BASE_FONT_PT}pt; }}
QPushButton {{
    min-height: {MIN_TOUCH_PX}px; min-width: {MIN_TOUCH_PX}px;
    font-size: 20pt; border-radius: 8px; border: 1px solid #9aa0a6;
    background: #f1f3f4; padding: 4px 12px;
}}
QPushButton:pressed {{ background: #d2e3fc; }}
QPushButton[role="primary"] {{ background: {BLUE}; color: white; border: none; font-weight: bold; }}
QPushButton[role="danger"] {{ background: {RED}; color: white; border: none; }}
QPushButton[role="dept"] {{ background: #fef7e0; font-weight: bold; }}
QPushButton:disabled, QPushButton[role="primary"]:disabled, QPushButton[role="danger"]:disabled,
QPushButton[role="dept"]:disabled {{
    color: {DISABLED_TEXT}; background: {DISABLED_BACKGROUND};
    border: 2px dashed {DISABLED_BORDER}; font-weight: normal;
}}
QLabel[role="amount"] {{ font-size: 44pt; font-weight: bold; }}
QLabel[role="caption"] {{ font-size: 14pt; color: {GREY}; }}
QLabel[role="lines"] {{ font-size: 20pt; }}
QLabel#sale_hint {{ font-size: 16pt; color: {RED}; }}
QFrame#sale_display {{ background: white; border: 2px solid #9aa0a6; border-radius: 8px; }}
QFrame#sale_display QLabel {{ border: none; }}
QLabel[role="title"] {{ font-size: 24pt; font-weight: bold; }}
QLabel[role="hint"] {{ font-size: 18pt; color: {GREY}; }}
QLabel[role="approved"] {{ font-size: 48pt; font-weight: bold; color: {GREEN}; }}
QLabel[role="declined"] {{ font-size: 40pt; font-weight: bold; color: {RED}; }}
QLabel[role="banner"] {{ font-size: 16pt; color: white; background: {RED}; padding: 6px; }}
QFrame#connection_state {{ border-radius: 6px; background: #f1f3f4; }}
QFrame#connection_state[online="yes"] {{ background: #e6f4ea; }}
QFrame#connection_state[online="yes"] QLabel {{ color: {GREEN}; font-weight: bold; }}
QFrame#connection_state[online="no"] {{ background: #fce8b2; border: 3px solid {AMBER}; }}
QFrame#connection_state[online="no"] QLabel {{ font-size: 18pt; font-weight: bold; color: #3c2a00; }}
QPushButton#declined_open {{ font-size: 16pt; font-weight: bold; }}
QFrame#clock_warning {{ border-radius: 6px; background: #fef7e0; border: 2px solid {AMBER}; }}
QFrame#checking_payment {{ border-radius: 6px; background: #fef7e0; border: 2px solid {AMBER}; }}
QFrame#checking_payment QLabel {{ font-size: 16pt; font-weight: bold; color: #3c2a00; }}
QFrame#recovered_payment {{ border-radius: 6px; background: #e6f4ea; border: 3px solid {GREEN}; }}
QFrame#recovered_payment QLabel {{ font-size: 16pt; font-weight: bold; color: #0d3d1c; }}
QProgressBar#sync_progress {{ min-height: 36px; font-size: 16pt; font-weight: bold; }}
QListWidget {{ font-size: 18pt; }}
QListWidget::item {{ min-height: {MIN_TOUCH_PX}px; }}
"""


def load_fonts() -> str | None:
    """Register Noto Sans CJK JP when it is installed and return the family, else None."""
    for path in FONT_FILES:
        if path.exists():
            QFontDatabase.addApplicationFont(str(path))
    if FAMILY in QFontDatabase.families():
        return FAMILY
    log.warning("font %s not found; Japanese text may render with a fallback font", FAMILY)
    return None


def apply_theme(app: QApplication) -> None:
    """Set the application font and the shared stylesheet; a second call changes nothing.

    Setting them again would re-polish every widget the application still holds, including
    windows of an earlier terminal that Qt has not deleted yet.
    """
    if app.styleSheet() == STYLESHEET:
        return
    family = load_fonts()
    font = QFont(family) if family else QFont()
    font.setPointSize(BASE_FONT_PT)
    app.setFont(font)
    app.setStyleSheet(STYLESHEET)
