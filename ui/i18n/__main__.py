"""Compile the shipped translations: ``python -m ui.i18n [OUT_DIR]``."""

from __future__ import annotations

import sys
from pathlib import Path

from ui.i18n import TranslationError, cache_dir, compile_all


def main(argv: list[str]) -> int:
    out_dir = Path(argv[0]) if argv else cache_dir()
    try:
        written = compile_all(out_dir)
    except TranslationError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    for path in written:
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
