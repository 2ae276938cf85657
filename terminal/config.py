"""The terminal's TOML configuration file.

Every key has a default, and a missing file means all defaults. A bad value raises
``ConfigError`` naming the file, the key, the value and what is allowed. An example file::

    server_url = "https://coin.example.jp"
    data_dir = "/var/lib/chiiki-pos"
    language = "ja"                      # ja or en
    mode = "sale"                        # sale, or stamp: open the stamp rally booth screen
    manager_pin_hash = "pbkdf2_sha256$600000$<salt>$<hash>"   # set with hash_pin()
    technician_pin_hash = "pbkdf2_sha256$600000$<salt>$<hash>"  # hash-pin --technician

    [printer]
    url = "network://192.0.2.10:9100"    # also usb://VID:PID, serial:///dev/ttyUSB0, file:///PATH, cups://QUEUE
    paper_width_mm = 58                  # 58 or 80
    profile = "TM-T88V"                  # a python-escpos capability profile (native QR, cutter)
    kanji = true                         # the printer has a kanji font; false prints Japanese as images
    open_drawer = "never"                # never or on_sale: kick the cash drawer with each sale's receipt
    drawer_pin = 2                       # drawer kick connector pin, 2 or 5
    drawer_on_ms = 100                   # drawer pulse on time, even, 2 to 510 ms
    drawer_off_ms = 100                  # drawer pulse off time, even, 2 to 510 ms

    [scanner]
    kind = "wedge"                       # wedge, serial, evdev or camera
    prefix = ""
    suffix = "enter"                     # enter, tab, cr, lf or crlf
    max_interkey_ms = 30
    min_length = 6
    layout = "same"                      # same, us_on_jis or jis_on_us
    repeat_window_ms = 1500
    port = ""                            # serial scanners only, such as /dev/ttyACM0
    baudrate = 9600
    terminator = "any"                   # serial: any, cr, lf, crlf, tab, etx or none
    inter_byte_timeout_ms = 50           # serial with terminator "none": silence that ends a code
    camera_id = ""                       # camera scanners only: Qt camera id or name, "" = default
    decoder = "auto"                     # camera QR decoder: auto, zxing or zbar
    device = ""                          # evdev only: /dev/input/by-id/usb-…-event-kbd
    keymap = "us"                        # evdev: the layout the scanner is set to, us or jis

    [offline]                            # offline payments taken while the server is unreachable
    max_payment_yen = 5000               # largest single offline payment
    max_waiting_total_yen = 30000        # offline payments not yet sent, in yen
    max_waiting_count = 50               # offline payments not yet sent, in number
    max_age_hours = 24                   # oldest code, and oldest unsent payment, accepted

Integer keys take TOML integers only: ``58.0`` and ``true`` are rejected, not rounded or read as
1. ``printer.url`` is checked with ``drivers.printer.urls.parse_printer_url``. Its ``dummy://``
form is rejected here because python-escpos's Dummy printer keeps the bytes in memory and prints
nothing, so every receipt would be lost. Tests that need it build a ``PrinterConfig`` in code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
import tomllib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import httpx

from drivers.printer.errors import PrinterConfigError
from drivers.printer.profile import printer_profile
from drivers.printer.urls import DummyTarget, parse_printer_url

logger = logging.getLogger(__name__)

ConfigValue = TypeVar("ConfigValue")

CONFIG_ENV_VAR = "CHIIKI_POS_CONFIG"
SYSTEM_CONFIG_PATH = Path("/etc/chiiki/terminal.toml")

# OWASP's 2023 password storage guidance recommends 600,000 iterations for PBKDF2-HMAC-SHA256.
PIN_HASH_ITERATIONS = 600_000
# A stored hash with more iterations is rejected: ten times the default already makes one PIN
# check take ten times as long, and a mistyped huge count would freeze the refund screen.
PIN_HASH_MAX_ITERATIONS = 10 * PIN_HASH_ITERATIONS
PIN_HASH_SCHEME = "pbkdf2_sha256"
PIN_LENGTHS = range(4, 9)

PAPER_WIDTHS_MM = (58, 80)
LANGUAGES = ("ja", "en")
# "stamp" starts the terminal on the stamp rally booth screen for event staff.
MODES = ("sale", "stamp")
# The clerk chooser shows every name as a button on one screen, so the list stays short.
MAX_CLERKS = 12
# The terminal database keeps the clerk in a 40-character column.
MAX_CLERK_NAME_CHARS = 40
# Unicode bidirectional formatting characters (UAX #9): ALM, LRM, RLM, the embeddings and
# overrides U+202A-U+202E and the isolates U+2066-U+2069. A clerk name with one can reorder the
# text around it on the clerk chooser and the day close report.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
SCANNER_KINDS = ("wedge", "serial", "evdev", "camera")
SCANNER_KEYMAPS = ("us", "jis")
# "auto" is drivers.scanner.decoders.DEFAULT_DECODER, then the other when its library is missing.
SCANNER_DECODERS = ("auto", "zxing", "zbar")
SCANNER_SUFFIXES = ("enter", "tab", "cr", "lf", "crlf")
SCANNER_LAYOUTS = ("same", "us_on_jis", "jis_on_us")
SCANNER_TERMINATORS = ("any", "cr", "lf", "crlf", "tab", "etx", "none")


class ConfigError(ValueError):
    """A configuration file or value is invalid."""


def default_data_dir() -> Path:
    xdg_data_home = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg_data_home) if xdg_data_home else Path.home() / ".local" / "share"
    return base / "chiiki-pos"


def default_config_path() -> Path:
    """Return $CHIIKI_POS_CONFIG if set, else /etc/chiiki/terminal.toml."""
    from_env = os.environ.get(CONFIG_ENV_VAR)
    return Path(from_env) if from_env else SYSTEM_CONFIG_PATH


@dataclass(frozen=True)
class PrinterConfig:
    url: str = "network://127.0.0.1:9100"
    paper_width_mm: Literal[58, 80] = 58
    profile: str = "default"
    kanji: bool = True
    open_drawer: Literal["never", "on_sale"] = "never"
    drawer_pin: Literal[2, 5] = 2
    # ESC p sends each time in 2 ms units as one byte, so 2-510 ms. 100 ms suits common
    # solenoid drawers; python-escpos's own default is the same 50 units.
    drawer_on_ms: int = 100
    drawer_off_ms: int = 100


@dataclass(frozen=True)
class ScannerConfig:
    kind: Literal["wedge", "serial", "evdev", "camera"] = "wedge"
    prefix: str = ""
    suffix: Literal["enter", "tab", "cr", "lf", "crlf"] = "enter"
    # Keyboard-wedge scanners type one key every 1-10 ms, people at more than 80 ms per key, so
    # 30 ms separates them with a margin on both sides.
    max_interkey_ms: int = 30
    # Shorter bursts are taken as fast typing. Payment codes have 20 digits.
    min_length: int = 6
    layout: Literal["same", "us_on_jis", "jis_on_us"] = "same"
    # A second identical scan within this time is the same code read twice, not a new scan.
    repeat_window_ms: int = 1500
    port: str = ""
    baudrate: int = 9600
    # Serial scanners: what ends a code ("any" is the first of CR, LF, Tab or ETX), and for
    # "none" the silence that ends one. USB serial adapters pass bytes on every 16 ms (the FTDI
    # latency timer default), so 50 ms does not cut a code in two.
    terminator: Literal["any", "cr", "lf", "crlf", "tab", "etx", "none"] = "any"
    inter_byte_timeout_ms: int = 50
    # Camera scanners: the Qt camera id or description, "" for the system's default camera.
    camera_id: str = ""
    decoder: Literal["auto", "zxing", "zbar"] = "auto"
    # Evdev scanners: the input device, grabbed so its keys reach nothing else, and the
    # keyboard layout the scanner is set to, which turns its key codes into characters. Key
    # codes are read before the host's layout and input method, so ``layout`` does not apply.
    device: str = ""
    keymap: Literal["us", "jis"] = "us"


@dataclass(frozen=True)
class OfflineConfig:
    """Caps on offline payments, which the terminal approves alone and the server books later.

    The server settles an offline payment from the allowance it reserved for the wallet, and by
    default releases the unused reserve 24 hours after the certificate expires. So
    ``max_age_hours`` limits both the age of a scanned code and how long an unsent offline
    payment may wait before the terminal stops taking more. The yen caps bound the shop's loss if a
    forged or replayed code gets through.
    """

    max_payment_yen: int = 5_000
    max_waiting_total_yen: int = 30_000
    max_waiting_count: int = 50
    max_age_hours: int = 24


@dataclass(frozen=True)
class TerminalConfig:
    server_url: str = "http://127.0.0.1:8000"
    data_dir: Path = field(default_factory=default_data_dir)
    language: Literal["ja", "en"] = "ja"
    mode: Literal["sale", "stamp"] = "sale"
    manager_pin_hash: str = ""
    # Opens the technician's screens (devices, diagnostics, enrolment); empty locks them.
    technician_pin_hash: str = ""
    # Clerk names for the clerk chooser on the sale screen and the day close's per-clerk
    # lines; empty hides both.
    clerks: tuple[str, ...] = ()
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    scanner: ScannerConfig = field(default_factory=ScannerConfig)
    offline: OfflineConfig = field(default_factory=OfflineConfig)
    source: Path | None = None  # the file this was read from, None for defaults


# --- loading -----------------------------------------------------------------------------


def load_config(path: Path | None = None) -> TerminalConfig:
    """Read the configuration at ``path`` (default: ``default_config_path()``).

    A missing default file gives the defaults, but a missing file named by the caller is an
    error, because a mistyped ``--config`` must not start a terminal with the wrong settings.
    Raises ConfigError for anything invalid.
    """
    explicit = path is not None
    path = path if path is not None else default_config_path()
    try:
        with path.open("rb") as config_file:
            document = tomllib.load(config_file)
    except FileNotFoundError as exc:
        if explicit:
            raise ConfigError(f"configuration file {path} does not exist; check the path") from exc
        return TerminalConfig()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        # TOML files are UTF-8, but an editor on a Japanese Windows PC may save Shift_JIS instead.
        invalid_byte = exc.object[exc.start]
        raise ConfigError(
            f"configuration file {path} is not UTF-8 "
            f"(invalid byte 0x{invalid_byte:02X} at position {exc.start}); save it as UTF-8"
        ) from exc
    return parse_config(document, path)


def parse_config(document: Mapping[str, Any], path: Path) -> TerminalConfig:
    """Build a TerminalConfig from a parsed TOML document read from ``path``."""
    reader = _Reader(path)
    top_level_keys = [f.name for f in fields(TerminalConfig) if f.name != "source"]
    reader.reject_unknown(document, "", top_level_keys)

    defaults = TerminalConfig()
    data_dir = reader.get(document, "data_dir", str(defaults.data_dir), _check_path)
    return TerminalConfig(
        server_url=reader.get(document, "server_url", defaults.server_url, _check_server_url),
        data_dir=Path(data_dir).expanduser(),
        language=reader.choice(document, "language", defaults.language, LANGUAGES),
        mode=reader.choice(document, "mode", defaults.mode, MODES),
        manager_pin_hash=reader.get(document, "manager_pin_hash", "", _check_pin_hash),
        technician_pin_hash=reader.get(document, "technician_pin_hash", "", _check_pin_hash),
        clerks=tuple(reader.get(document, "clerks", [], _check_clerks)),
        printer=_parse_printer(reader, reader.table(document, "printer")),
        scanner=_parse_scanner(reader, reader.table(document, "scanner")),
        offline=_parse_offline(reader, reader.table(document, "offline")),
        source=path,
    )


def _parse_printer(reader: _Reader, table: Mapping[str, Any]) -> PrinterConfig:
    defaults = PrinterConfig()
    reader.reject_unknown(table, "printer.", [f.name for f in fields(PrinterConfig)])
    return PrinterConfig(
        url=reader.get(table, "printer.url", defaults.url, _check_printer_url),
        paper_width_mm=reader.choice(
            table, "printer.paper_width_mm", defaults.paper_width_mm, PAPER_WIDTHS_MM
        ),
        profile=reader.get(table, "printer.profile", defaults.profile, _check_printer_profile),
        kanji=reader.choice(table, "printer.kanji", defaults.kanji, (True, False)),
        open_drawer=reader.choice(
            table, "printer.open_drawer", defaults.open_drawer, ("never", "on_sale")
        ),
        drawer_pin=reader.choice(table, "printer.drawer_pin", defaults.drawer_pin, (2, 5)),
        drawer_on_ms=reader.get(
            table, "printer.drawer_on_ms", defaults.drawer_on_ms, _check_drawer_pulse_ms
        ),
        drawer_off_ms=reader.get(
            table, "printer.drawer_off_ms", defaults.drawer_off_ms, _check_drawer_pulse_ms
        ),
    )


def _parse_scanner(reader: _Reader, table: Mapping[str, Any]) -> ScannerConfig:
    defaults = ScannerConfig()
    reader.reject_unknown(table, "scanner.", [f.name for f in fields(ScannerConfig)])
    config = ScannerConfig(
        kind=reader.choice(table, "scanner.kind", defaults.kind, SCANNER_KINDS),
        prefix=reader.get(table, "scanner.prefix", defaults.prefix, _check_str),
        suffix=reader.choice(table, "scanner.suffix", defaults.suffix, SCANNER_SUFFIXES),
        max_interkey_ms=reader.get(
            table, "scanner.max_interkey_ms", defaults.max_interkey_ms, _int_between(1, 200)
        ),
        min_length=reader.get(
            table, "scanner.min_length", defaults.min_length, _int_between(1, 128)
        ),
        layout=reader.choice(table, "scanner.layout", defaults.layout, SCANNER_LAYOUTS),
        repeat_window_ms=reader.get(
            table, "scanner.repeat_window_ms", defaults.repeat_window_ms, _int_between(0, 10_000)
        ),
        port=reader.get(table, "scanner.port", defaults.port, _check_str),
        baudrate=reader.get(
            table, "scanner.baudrate", defaults.baudrate, _int_between(1200, 921_600)
        ),
        terminator=reader.choice(
            table, "scanner.terminator", defaults.terminator, SCANNER_TERMINATORS
        ),
        inter_byte_timeout_ms=reader.get(
            table,
            "scanner.inter_byte_timeout_ms",
            defaults.inter_byte_timeout_ms,
            _int_between(10, 2000),
        ),
        camera_id=reader.get(table, "scanner.camera_id", defaults.camera_id, _check_str),
        decoder=reader.choice(table, "scanner.decoder", defaults.decoder, SCANNER_DECODERS),
        device=reader.get(table, "scanner.device", defaults.device, _check_str),
        keymap=reader.choice(table, "scanner.keymap", defaults.keymap, SCANNER_KEYMAPS),
    )
    if config.kind == "evdev" and not config.device:
        raise reader.error(
            "scanner.device",
            config.device,
            'an evdev scanner needs its input device, such as '
            '"/dev/input/by-id/usb-…-event-kbd" (stays the same when replugged)',
        )
    if config.kind == "serial" and not config.port:
        raise reader.error(
            "scanner.port",
            config.port,
            'a serial scanner needs its port, such as "/dev/serial/by-id/usb-…-if00" '
            '(stays the same when replugged) or "/dev/ttyACM0"',
        )
    return config


def _parse_offline(reader: _Reader, table: Mapping[str, Any]) -> OfflineConfig:
    defaults = OfflineConfig()
    reader.reject_unknown(table, "offline.", [f.name for f in fields(OfflineConfig)])
    config = OfflineConfig(
        max_payment_yen=reader.get(
            table, "offline.max_payment_yen", defaults.max_payment_yen, _int_between(1, 1_000_000)
        ),
        max_waiting_total_yen=reader.get(
            table,
            "offline.max_waiting_total_yen",
            defaults.max_waiting_total_yen,
            _int_between(1, 10_000_000),
        ),
        max_waiting_count=reader.get(
            table, "offline.max_waiting_count", defaults.max_waiting_count, _int_between(1, 10_000)
        ),
        max_age_hours=reader.get(
            table, "offline.max_age_hours", defaults.max_age_hours, _int_between(1, 24 * 7)
        ),
    )
    if config.max_payment_yen > config.max_waiting_total_yen:
        raise reader.error(
            "offline.max_payment_yen",
            config.max_payment_yen,
            f"use at most offline.max_waiting_total_yen ({config.max_waiting_total_yen})",
        )
    return config


class _Reader:
    """Reads values out of one file's tables, raising ConfigError that names the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, dotted_key: str, value: object, allowed: str) -> ConfigError:
        return ConfigError(f"{dotted_key} = {_toml_repr(value)} in {self.path}: {allowed}")

    def reject_unknown(self, table: Mapping[str, Any], prefix: str, known: list[str]) -> None:
        for key in table:
            if key not in known:
                raise ConfigError(
                    f"{prefix}{key} in {self.path} is not a known setting; "
                    f"use one of {', '.join(prefix + name for name in known)}"
                )

    def table(self, document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
        table = document.get(name, {})
        if not isinstance(table, dict):
            raise self.error(name, table, f"use a [{name}] table")
        return table

    def get(
        self,
        table: Mapping[str, Any],
        dotted_key: str,
        default: ConfigValue,
        check: Callable[[object], str | None],
    ) -> ConfigValue:
        """Return the value at ``dotted_key``, or ``default``; ``check`` returns a complaint."""
        key = dotted_key.rsplit(".", 1)[-1]
        if key not in table:
            return default
        value = table[key]
        complaint = check(value)
        if complaint is not None:
            raise self.error(dotted_key, value, complaint)
        return cast(ConfigValue, value)

    def choice(
        self,
        table: Mapping[str, Any],
        dotted_key: str,
        default: ConfigValue,
        allowed: tuple[Any, ...],
    ) -> ConfigValue:
        def check(value: object) -> str | None:
            # The type must match too: `true` equals 1 and `58.0` equals 58 in Python.
            if not any(type(value) is type(option) and value == option for option in allowed):
                return "use " + " or ".join(_toml_repr(option) for option in allowed)
            return None

        return self.get(table, dotted_key, default, check)


def _toml_repr(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes, and they make a NUL or other
        # control character visible in the message. JSON leaves DEL, the C1 controls and the
        # bidi controls as they are, so those are escaped here, and none can garble the message.
        quoted = json.dumps(value, ensure_ascii=False)
        return "".join(f"\\u{ord(char):04x}" if _is_control(char) else char for char in quoted)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_repr(item) for item in value) + "]"
    return str(value)


def _is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc" or char in BIDI_CONTROLS


def _check_str(value: object) -> str | None:
    return None if isinstance(value, str) else "use a quoted string"


def _check_clerks(value: object) -> str | None:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        return 'use a list of quoted names, e.g. ["佐藤", "鈴木"]'
    if len(value) > MAX_CLERKS:
        return f"list at most {MAX_CLERKS} clerks"
    for name in value:
        if any(_is_control(char) for char in name):
            return (
                f"clerk {_toml_repr(name)} contains a control character; "
                "remove it and keep each name on one line"
            )
    if any(not name.strip() or len(name) > MAX_CLERK_NAME_CHARS for name in value):
        return f"give each clerk a name of 1 to {MAX_CLERK_NAME_CHARS} characters"
    if len(set(value)) != len(value):
        return "list each clerk once"
    return None


def _check_path(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return "use a quoted, non-empty directory path"
    if "\0" in value:
        return "remove the NUL character (\\u0000) from the directory path"
    path = Path(value).expanduser()
    # The directory is created at enrolment, so it may be missing, but whatever part of it
    # already exists has to be a directory.
    existing = next((part for part in (path, *path.parents) if part.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"{existing} is a file, not a directory; choose a directory path"
    return None


SERVER_URL_EXAMPLE = 'use an http:// or https:// URL such as "https://coin.example.jp"'


def _check_server_url(value: object) -> str | None:
    if not isinstance(value, str) or not value or any(char.isspace() for char in value):
        return SERVER_URL_EXAMPLE
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as exc:
        return f"the URL is invalid ({exc}); {SERVER_URL_EXAMPLE}"
    if url.scheme not in ("http", "https") or not url.host:
        return SERVER_URL_EXAMPLE
    if url.port is not None and not 1 <= url.port <= 65535:
        return f"port {url.port} is not from 1 to 65535; {SERVER_URL_EXAMPLE}"
    if url.query or url.fragment:
        return f"remove the query or fragment; {SERVER_URL_EXAMPLE}"
    return None


PRINTER_URL_EXAMPLES = (
    'use a printer URL such as "network://192.0.2.10:9100", "usb://04b8:0202", '
    '"serial:///dev/ttyUSB0?baudrate=19200", "file:///dev/usb/lp0" or "cups://QUEUE"'
)


def _check_printer_url(value: object) -> str | None:
    if not isinstance(value, str):
        return PRINTER_URL_EXAMPLES
    try:
        target = parse_printer_url(value)
    except PrinterConfigError as exc:
        return str(exc)
    if isinstance(target, DummyTarget):
        return f"dummy:// prints nothing and is for tests only; {PRINTER_URL_EXAMPLES}"
    return None


def _check_printer_profile(value: object) -> str | None:
    if not isinstance(value, str):
        return "use a quoted printer profile name such as \"TM-T88V\""
    try:
        printer_profile(value)
    except PrinterConfigError as exc:
        return str(exc)
    return None


def _check_drawer_pulse_ms(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 510 or value % 2:
        return "use an even whole number of milliseconds from 2 to 510"
    return None


def _check_pin_hash(value: object) -> str | None:
    if not isinstance(value, str):
        return "use a quoted string made by hash_pin()"
    if value and _parse_pin_hash(value) is None:
        return (
            f"use {PIN_HASH_SCHEME}$<iterations>$<salt>$<hash> as printed by "
            f"'chiiki-pos hash-pin' (iterations from 1 to {PIN_HASH_MAX_ITERATIONS}), or \"\""
        )
    return None


def _int_between(low: int, high: int) -> Callable[[object], str | None]:
    def check(value: object) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"use a whole number from {low} to {high}"
        return None

    return check


# --- writing -----------------------------------------------------------------------------

CONFIG_HEADER = (
    "# chiiki-pos terminal configuration, written by the technician's screens.\n"
    "# Every key is listed; see terminal/config.py for what each one means.\n"
)


def render_config(config: TerminalConfig) -> str:
    """Write ``config`` as TOML text: top-level keys first, then one table per section.

    The keys come from the dataclass fields, so a setting added to a section is written too.
    """
    top_lines: list[str] = []
    tables: list[str] = []
    for config_field in fields(config):
        if config_field.name == "source":
            continue
        value = getattr(config, config_field.name)
        if is_dataclass(value) and not isinstance(value, type):
            rows = [f"{f.name} = {_toml_value(getattr(value, f.name))}" for f in fields(value)]
            tables.append("\n".join([f"[{config_field.name}]", *rows]))
        else:
            top_lines.append(f"{config_field.name} = {_toml_value(value)}")
    return CONFIG_HEADER + "\n" + "\n\n".join(["\n".join(top_lines), *tables]) + "\n"


def write_config(config: TerminalConfig, path: Path) -> TerminalConfig:
    """Replace the file at ``path`` with ``config`` and return the configuration read back.

    The new text is parsed and checked with ``parse_config`` before anything is written, and
    the file is replaced atomically (write, fsync, rename), so a power cut leaves the old file
    or the new one. Comments in the old file are not kept. Raises ConfigError.
    """
    text = render_config(config)
    written = parse_config(tomllib.loads(text), path)
    partial = path.with_name(path.name + ".partial")
    try:
        file_mode = _writable_file_mode(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("w", encoding="utf-8") as partial_file:
            partial_file.write(text)
            partial_file.flush()
            if file_mode is not None:
                os.chmod(partial, file_mode)
            os.fsync(partial_file.fileno())
        os.replace(partial, path)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {exc.strerror}; check that this user may write to "
            f"{path.parent}"
        ) from exc
    logger.info("wrote the configuration to %s", path)
    return written


def _writable_file_mode(path: Path) -> int | None:
    """Return the permission bits of the file at ``path``, or None when there is no file yet.

    The rename in ``write_config`` needs write access to the folder only, so it would replace
    a file this user may not write. Raises ConfigError for such a file instead.
    """
    try:
        file_mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    if not os.access(path, os.W_OK):
        raise ConfigError(
            f"cannot write {path}: the file is read-only for this user; make it writable "
            f"(for example chmod u+w {path}) or change the setting in the file by hand"
        )
    return file_mode


def with_mode(config: TerminalConfig, mode: str) -> TerminalConfig:
    """Return a copy of ``config`` that opens the screen of ``mode``, "sale" or "stamp"."""
    if mode not in MODES:
        raise ConfigError(f"mode {mode!r} is not a terminal mode; use {' or '.join(MODES)}")
    return replace(config, mode=cast(Literal["sale", "stamp"], mode))


def _toml_value(value: object) -> str:
    if isinstance(value, Path):
        return _toml_repr(str(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, bool | int | str):
        return _toml_repr(value)
    if isinstance(value, float):
        return repr(value)
    raise ConfigError(f"cannot write {value!r} ({type(value).__name__}) to a TOML file")


# --- manager PIN -------------------------------------------------------------------------


def hash_pin(pin: str, iterations: int = PIN_HASH_ITERATIONS, salt: bytes | None = None) -> str:
    """Hash a PIN (4 to 8 digits) with PBKDF2-HMAC-SHA256 for ``manager_pin_hash`` or
    ``technician_pin_hash``."""
    if not (pin.isascii() and pin.isdigit() and len(pin) in PIN_LENGTHS):
        raise ConfigError(f"a PIN has {PIN_LENGTHS.start} to {PIN_LENGTHS.stop - 1} digits")
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode("ascii"), salt, iterations)
    return "$".join([PIN_HASH_SCHEME, str(iterations), _b64(salt), _b64(digest)])


def verify_pin(pin: str, pin_hash: str) -> bool:
    """Tell whether ``pin`` matches ``pin_hash``. An empty or malformed hash matches nothing.

    A malformed hash that did not come through the loader, for example one built in code, is
    logged and matches no PIN instead of raising.
    """
    parsed = _parse_pin_hash(pin_hash)
    if parsed is None:
        if pin_hash:
            logger.warning("the PIN hash is malformed, so no PIN matches it; run hash-pin again")
        return False
    iterations, salt, expected = parsed
    try:
        actual = hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8", "replace"), salt, iterations)
    except (ValueError, OverflowError) as exc:
        logger.warning("PIN check failed: %s", exc)
        return False
    return hmac.compare_digest(actual, expected)


def with_manager_pin(config: TerminalConfig, pin: str) -> TerminalConfig:
    """Return a copy of ``config`` whose manager PIN is ``pin``."""
    return replace(config, manager_pin_hash=hash_pin(pin))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _parse_pin_hash(pin_hash: str) -> tuple[int, bytes, bytes] | None:
    parts = pin_hash.split("$")
    # isdigit() also accepts superscripts such as "²", which int() rejects.
    if len(parts) != 4 or parts[0] != PIN_HASH_SCHEME:
        return None
    if not (parts[1].isascii() and parts[1].isdecimal()):
        return None
    iterations = int(parts[1])
    if not 1 <= iterations <= PIN_HASH_MAX_ITERATIONS:
        return None
    try:
        salt = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        digest = base64.urlsafe_b64decode(parts[3] + "=" * (-len(parts[3]) % 4))
    except ValueError:
        return None
    if not salt or len(digest) != hashlib.sha256().digest_size:
        return None
    return iterations, salt, digest
