"""Translations of the clerk's screens.

Source strings in the code are Japanese, so the terminal shows Japanese with no translation
loaded. ``chiiki_pos_<lang>.ts`` beside this file contains each other shipped language. The
compiled ``.qm`` files are build output: ``python -m ui.i18n`` compiles them, and
``install_translator`` compiles a missing or stale one into the user cache at startup.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTranslator

log = logging.getLogger(__name__)

SOURCE_LANG = "ja"
TS_DIR = Path(__file__).resolve().parent
TS_PREFIX = "chiiki_pos_"


class TranslationError(RuntimeError):
    """A translation could not be compiled or loaded."""


def shipped_languages() -> list[str]:
    """List the languages the terminal can show: Japanese plus every shipped .ts file."""
    compiled = sorted(path.stem.removeprefix(TS_PREFIX) for path in TS_DIR.glob(f"{TS_PREFIX}*.ts"))
    return [SOURCE_LANG, *compiled]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chiiki-pos" / "i18n"


def find_lrelease() -> Path:
    """Locate pyside6-lrelease: next to this Python interpreter first, then on PATH."""
    beside = Path(sys.executable).with_name("pyside6-lrelease")
    if beside.exists():
        return beside
    found = shutil.which("pyside6-lrelease")
    if found:
        return Path(found)
    raise TranslationError(
        "pyside6-lrelease was not found next to the Python interpreter or on PATH; "
        "install PySide6 into this environment to compile the translations"
    )


def compile_ts(ts_path: Path, qm_path: Path) -> Path:
    """Compile one .ts file into ``qm_path`` with pyside6-lrelease."""
    qm_path.parent.mkdir(parents=True, exist_ok=True)
    command = [str(find_lrelease()), "-silent", str(ts_path), "-qm", str(qm_path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not qm_path.exists():
        raise TranslationError(
            f"pyside6-lrelease failed on {ts_path} (exit {result.returncode}): {result.stderr.strip()}"
        )
    log.info("compiled translation %s -> %s", ts_path.name, qm_path)
    return qm_path


def compile_all(out_dir: Path | None = None) -> list[Path]:
    """Compile every shipped .ts file; returns the .qm paths written."""
    target = out_dir or cache_dir()
    return [
        compile_ts(ts_path, target / ts_path.with_suffix(".qm").name)
        for ts_path in sorted(TS_DIR.glob(f"{TS_PREFIX}*.ts"))
    ]


def _is_fresh(qm_path: Path, ts_path: Path) -> bool:
    return qm_path.exists() and qm_path.stat().st_mtime >= ts_path.stat().st_mtime


def qm_for(lang: str) -> Path:
    """Return a current .qm file for ``lang``, compiling it into the cache when needed."""
    ts_path = TS_DIR / f"{TS_PREFIX}{lang}.ts"
    if not ts_path.exists():
        raise TranslationError(
            f"no translation for language {lang!r}; choose one of {', '.join(shipped_languages())}"
        )
    packaged = ts_path.with_suffix(".qm")
    if _is_fresh(packaged, ts_path):
        return packaged
    cached = cache_dir() / packaged.name
    if _is_fresh(cached, ts_path):
        return cached
    return compile_ts(ts_path, cached)


def install_translator(app: QCoreApplication, lang: str) -> QTranslator | None:
    """Install the translation for ``lang``; Japanese needs none because it is the source."""
    if lang == SOURCE_LANG:
        return None
    qm_path = qm_for(lang)
    translator = QTranslator(app)
    if not translator.load(str(qm_path)):
        raise TranslationError(f"Qt could not load the translation file {qm_path}")
    app.installTranslator(translator)
    return translator
