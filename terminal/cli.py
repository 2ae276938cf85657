"""chiiki-pos: the counter terminal's command line.

``chiiki-pos`` opens the terminal window, ``chiiki-pos demo`` runs the self-contained demo and
``chiiki-pos print-test`` prints a technician's test page. The Qt modules are imported only by
the commands that open windows, so the printer test works on a machine without a display.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

USAGE = """usage: chiiki-pos [run] [--config FILE] [--lang ja|en]
       chiiki-pos demo [--lang ja|en] [--data-dir DIR] [--offscreen] [--screenshot DIR]
       chiiki-pos print-test --printer URL [--paper-width 58|80]

  run         open the terminal (the default)
  demo        start a demo server, printer emulator and customer phone on this machine
  print-test  print a test page: network://HOST:PORT, usb://VID:PID,
              serial:///dev/ttyUSB0?baudrate=19200, file:///dev/usb/lp0
"""


def _configure_logging() -> None:
    level = os.environ.get("CHIIKI_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args.pop(0) if args and not args[0].startswith("-") else "run"
    if command in ("-h", "--help", "help"):
        print(USAGE)
        return 0

    _configure_logging()
    if command == "print-test":
        from drivers.printer.testpage import print_test_main

        return int(print_test_main(args))
    if command == "demo":
        from ui.demo import main as demo_main

        return int(demo_main(args))
    if command == "run":
        from ui.app import main as app_main

        return int(app_main(args))
    print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
