"""The terminal's TOML configuration file.

Every key has a default, and a missing file means all defaults. A bad value raises
``ConfigError`` naming the file, the key, the value and what is allowed. An example file::

    server_url = "https://coin.example.jp"
    data_dir = "/var/lib/chiiki-pos"
    language = "ja"                      # ja or en
    manager_pin_hash = "pbkdf2_sha256$600000$<salt>$<hash>"   # set with hash_pin()

    [printer]
    url = "network://192.0.2.10:9100"    # also usb://, serial://, file://, cups://
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
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

ConfigValue = TypeVar("ConfigValue")

CONFIG_ENV_VAR = "CHIIKI_POS_CONFIG"
SYSTEM_CONFIG_PATH = Path("/etc/chiiki/terminal.toml")

# OWASP's 2023 password storage guidance recommends 600,000 iterations for PBKDF2-HMAC-SHA256.
PIN_HASH_ITERATIONS = 600_000
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
class TerminalConfig:
    server_url: str = "http://127.0.0.1:8000"
    data_dir: Path = field(default_factory=default_data_dir)
    language: Literal["ja", "en"] = "ja"
    manager_pin_hash: str = ""
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    scanner: ScannerConfig = field(default_factory=ScannerConfig)
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
            # bool is an int in Python, so `true` would otherwise pass as 1.
            if isinstance(value, bool) or value not in allowed:
                return "use " + " or ".join(_toml_repr(option) for option in allowed)
            return None

        return self.get(table, dotted_key, default, check)


def _toml_repr(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _check_str(value: object) -> str | None:
    return None if isinstance(value, str) else "use a quoted string"


def _check_path(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return "use a quoted, non-empty directory path"
    return None


def _check_server_url(value: object) -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        return 'use an http:// or https:// URL such as "https://coin.example.jp"'
    return None


def _check_printer_url(value: object) -> str | None:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z][a-z0-9+.-]*://\S*", value):
        return (
            'use a printer URL such as "network://192.0.2.10:9100", "usb://04b8:0202", '
            '"serial:///dev/ttyUSB0?baudrate=19200" or "file:///dev/usb/lp0"'
        )
    return None


def _check_pin_hash(value: object) -> str | None:
    if not isinstance(value, str):
        return "use a quoted string made by hash_pin()"
    if value and _parse_pin_hash(value) is None:
        return f"use {PIN_HASH_SCHEME}$<iterations>$<salt>$<hash> as made by hash_pin(), or \"\""
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
    """Tell whether ``pin`` matches ``pin_hash``. An empty or malformed hash matches nothing."""
    parsed = _parse_pin_hash(pin_hash)
    if parsed is None:
        return False
    iterations, salt, expected = parsed
    actual = hashlib.pbkdf2_hmac("sha256", pin.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(actual, expected)


def with_manager_pin(config: TerminalConfig, pin: str) -> TerminalConfig:
    """Return a copy of ``config`` whose manager PIN is ``pin``."""
    return replace(config, manager_pin_hash=hash_pin(pin))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _parse_pin_hash(pin_hash: str) -> tuple[int, bytes, bytes] | None:
    parts = pin_hash.split("$")
    if len(parts) != 4 or parts[0] != PIN_HASH_SCHEME or not parts[1].isdigit():
        return None
    try:
        salt = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        digest = base64.urlsafe_b64decode(parts[3] + "=" * (-len(parts[3]) % 4))
    except ValueError:
        return None
    if not salt or len(digest) != hashlib.sha256().digest_size:
        return None
    return int(parts[1]), salt, digest
