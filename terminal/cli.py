"""chiiki-pos: the counter terminal's command line.

``chiiki-pos`` opens the terminal window, ``chiiki-pos demo`` runs the self-contained demo and
``chiiki-pos print-test`` prints a technician's test page. The Qt modules are imported only by
the commands that open windows, so the printer test works on a machine without a display.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

USAGE = """usage: chiiki-pos [run] [--config FILE] [--lang ja|en] [--fullscreen]
       chiiki-pos demo [--lang ja|en] [--data-dir DIR] [--offscreen] [--screenshot DIR [--tour]]
       chiiki-pos print-test --printer URL [--paper-width 58|80]
       chiiki-pos enrol --activation-code CODE [--config FILE]
       chiiki-pos hash-pin [--technician]

  run         open the terminal (the default)
  demo        start a demo server, printer emulator and customer phone on this machine
  print-test  print a test page: network://HOST:PORT, usb://VID:PID,
              serial:///dev/ttyUSB0?baudrate=19200, file:///dev/usb/lp0
  enrol       register this terminal with the server, once, using the operator's code
  hash-pin    read a manager PIN (4-8 digits) and print the manager_pin_hash config line;
              with --technician, the technician_pin_hash line for the maintenance screens
"""


def _configure_logging() -> None:
    level = os.environ.get("CHIIKI_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["-h"], ["--help"]):
        print(USAGE)
        return 0
    command = args.pop(0) if args and not args[0].startswith("-") else "run"
    if command in ("-h", "--help", "help"):
        print(USAGE)
        return 0

    _configure_logging()
    if command == "print-test":
        from drivers.printer.testpage import print_test_main

        return int(print_test_main(args))
    if command == "enrol":
        return enrol_main(args)
    if command == "hash-pin":
        return hash_pin_main(args)
    if command == "demo":
        from ui.demo import main as demo_main

        return int(demo_main(args))
    if command == "run":
        from ui.app import main as app_main

        return int(app_main(args))
    print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


def enrol_main(argv: Sequence[str]) -> int:
    """Enrol the terminal named by the configuration; print its id and shop."""
    from terminal.config import ConfigError, load_config
    from terminal.enrolment import EnrolmentError, enrol

    parser = argparse.ArgumentParser(prog="chiiki-pos enrol")
    parser.add_argument("--activation-code", required=True, help="code from the operator")
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    args = parser.parse_args(list(argv))
    try:
        info = enrol(load_config(args.config), args.activation_code)
    except (ConfigError, EnrolmentError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"enrolled terminal {info.terminal_id} ({info.label}) for {info.merchant.name}")
    return 0


def hash_pin_main(argv: Sequence[str]) -> int:
    """Read a PIN twice without echo and print the configuration line that stores its hash."""
    from terminal.config import ConfigError, hash_pin

    role = "technician" if list(argv) == ["--technician"] else "manager"
    if argv and role == "manager":
        print("hash-pin takes only --technician; it asks for the PIN", file=sys.stderr)
        return 2
    try:
        pin = _read_pin(f"{role} PIN (4-8 digits): ")
        repeated = _read_pin("the same PIN again: ")
    except EOFError:
        print("error: no PIN entered; nothing was written", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ncancelled; nothing was written", file=sys.stderr)
        return 130
    if repeated != pin:
        print("error: the two PINs differ; run hash-pin again", file=sys.stderr)
        return 1
    try:
        print(f'{role}_pin_hash = "{hash_pin(pin)}"')
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _read_pin(prompt: str) -> str:
    """Read one line, without echo on a terminal; raise EOFError at end of input.

    Piped input is read from stdin without a prompt, because getpass would write its prompt and
    an echo warning to stderr around the one line the command prints.
    """
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise EOFError("end of input")
        return line.rstrip("\r\n")
    return getpass.getpass(prompt)


if __name__ == "__main__":
    sys.exit(main())
