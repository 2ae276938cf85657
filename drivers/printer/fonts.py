"""Locate the Noto Sans CJK JP font used to draw Japanese text as an image.

Printers without a kanji font receive Japanese lines as raster images, and the emulator draws
every receipt it receives; both use this font. Debian and Raspberry Pi OS ship it in the package
``fonts-noto-cjk`` as ``/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc``, a collection
whose faces are selected by index.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from drivers.printer.errors import FontMissingError

logger = logging.getLogger(__name__)

# Monospaced first: its Latin letters are half as wide as kanji, as on the printer.
PREFERRED_FAMILIES = ("Noto Sans Mono CJK JP", "Noto Sans CJK JP")

KNOWN_FONT_PATHS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # Debian, Ubuntu
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),  # Arch, Fedora
    Path("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc"),
)

# The most faces searched in a .ttc collection; NotoSansCJK-Regular.ttc contains 10.
_MAX_COLLECTION_FACES = 32

FONT_PACKAGE = "fonts-noto-cjk"


@dataclass(frozen=True)
class FontFace:
    """One face of a font file: the path and the index inside a collection."""

    path: Path
    index: int


@lru_cache(maxsize=1)
def find_cjk_font() -> FontFace:
    """Return the Noto Sans CJK JP face, raising FontMissingError when none is installed."""
    for family in PREFERRED_FAMILIES:
        face = _find_with_fontconfig(family) or _find_in_known_paths(family)
        if face is not None:
            logger.debug("Using CJK font %s index %d", face.path, face.index)
            return face
    raise FontMissingError(
        "The Japanese font Noto Sans CJK JP was not found. "
        f"Install the Debian package {FONT_PACKAGE} (apt install {FONT_PACKAGE})."
    )


@lru_cache(maxsize=16)
def load_cjk_font(size_px: int) -> ImageFont.FreeTypeFont:
    """Load the Noto Sans CJK JP face at ``size_px`` pixels per em."""
    face = find_cjk_font()
    return ImageFont.truetype(str(face.path), size_px, index=face.index)


def _find_with_fontconfig(family: str) -> FontFace | None:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        result = subprocess.run(
            [fc_list, "--format", "%{file}|%{index}|%{style}\n", f"{family}:style=Regular"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.warning("fc-list failed while looking for %s: %s", family, exc)
        return None

    for line in result.stdout.splitlines():
        path, _, rest = line.partition("|")
        index, _, _style = rest.partition("|")
        if path and index.isdigit() and Path(path).is_file():
            return FontFace(Path(path), int(index))
    return None


def _find_in_known_paths(family: str) -> FontFace | None:
    for path in KNOWN_FONT_PATHS:
        if not path.is_file():
            continue
        index = _face_index(path, family)
        if index is not None:
            return FontFace(path, index)
    return None


def _face_index(path: Path, family: str) -> int | None:
    for index in range(_MAX_COLLECTION_FACES):
        try:
            font = ImageFont.truetype(str(path), 12, index=index)
        except OSError:
            return None
        if font.getname()[0] == family:
            return index
    return None
