"""The terminal's TOML configuration file.

Every key has a default, and a missing file means all defaults. A bad value raises
``ConfigError`` naming the file, the key, the value and what is allowed. An example file::

    server_url = "https://coin.example.jp"
    data_dir = "/var/lib/chiiki-pos"
    language = "ja"                      # ja or en
    manager_pin_hash = "pbkdf2_sha256$600000$<salt>$<hash>"   # set with hash_pin()

    [printer]
    url = "network://192.0.2.10:9100"    # also usb://VID:PID, serial:///dev/ttyUSB0, file:///PATH
    paper_width_mm = 58                  # 58 or 80

    [scanner]
    kind = "wedge"                       # wedge or serial
    prefix = ""
    suffix = "enter"                     # enter, tab, cr, lf or crlf
    max_interkey_ms = 30
    min_length = 6
    layout = "same"                      # same, us_on_jis or jis_on_us
    repeat_window_ms = 1500
    port = ""                            # serial scanners only, such as /dev/ttyACM0
    baudrate = 9600

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
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import httpx

from drivers.printer.errors import PrinterConfigError
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
SCANNER_KINDS = ("wedge", "serial")
SCANNER_SUFFIXES = ("enter", "tab", "cr", "lf", "crlf")
SCANNER_LAYOUTS = ("same", "us_on_jis", "jis_on_us")


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


@dataclass(frozen=True)
class ScannerConfig:
    kind: Literal["wedge", "serial"] = "wedge"
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
    manager_pin_hash: str = ""
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
        manager_pin_hash=reader.get(document, "manager_pin_hash", "", _check_pin_hash),
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
    )


def _parse_scanner(reader: _Reader, table: Mapping[str, Any]) -> ScannerConfig:
    defaults = ScannerConfig()
    reader.reject_unknown(table, "scanner.", [f.name for f in fields(ScannerConfig)])
    return ScannerConfig(
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
    )


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
        # control character visible in the message.
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _check_str(value: object) -> str | None:
    return None if isinstance(value, str) else "use a quoted string"


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
    '"serial:///dev/ttyUSB0?baudrate=19200" or "file:///dev/usb/lp0"'
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


# --- manager PIN -------------------------------------------------------------------------


def hash_pin(pin: str, iterations: int = PIN_HASH_ITERATIONS, salt: bytes | None = None) -> str:
    """Hash a manager PIN (4 to 8 digits) with PBKDF2-HMAC-SHA256 for ``manager_pin_hash``."""
    if not (pin.isascii() and pin.isdigit() and len(pin) in PIN_LENGTHS):
        raise ConfigError(f"a manager PIN has {PIN_LENGTHS.start} to {PIN_LENGTHS.stop - 1} digits")
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
            logger.warning("manager_pin_hash is malformed; no manager PIN is accepted")
        return False
    iterations, salt, expected = parsed
    try:
        actual = hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8", "replace"), salt, iterations)
    except (ValueError, OverflowError) as exc:
        logger.warning("manager PIN check failed: %s", exc)
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
