"""The support bundle: a zip of the terminal's configuration, logs and diagnostics.

A technician exports it to a USB stick (or the data directory) and sends it to support. Every
text file is passed through ``redact`` first, which removes:

- PEM private keys, PIN hashes (``pbkdf2_sha256$...``) and bearer tokens;
- the values of keys whose names mark a secret (``*_pin_hash``, ``api_key``, ``token``,
  ``secret``, ``password``, ``private_key``, ``signature``, ``authorization``,
  ``activation_code``), in ``key = value``, ``key: value`` and ``"key": "value"`` form;
- activation codes (``K7QM-2XRA-P9DW``);
- wallet codes, masked to their last four characters as ``terminal.paycode`` masks them in
  logs: 20-digit payment codes, ``CKO1`` offline codes and EMV QR payloads (``000201...``).

The terminal's private key file is never read. ``manifest.txt`` in the zip lists each file
and how many values of each kind were removed from it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from terminal.config import TerminalConfig, render_config
from terminal.paycode import mask_payment_code

logger = logging.getLogger(__name__)

BUNDLE_PREFIX = "chiiki-pos-support"
LOG_DIR_NAME = "logs"
LOG_PATTERNS = ("*.log", "*.log.[0-9]*")
# Log files larger than this keep only their last part; a week of INFO lines is far smaller.
MAX_LOG_BYTES = 5 * 1024 * 1024
# NOTE: the unit name is the one the kiosk packaging is expected to install; a terminal
# started another way has no journal entries under it, and the bundle says so.
JOURNAL_UNIT = "chiiki-pos.service"
JOURNAL_COMMAND = ("journalctl", "--no-pager", "-o", "short-iso", "-n", "20000", "-u", JOURNAL_UNIT)
JOURNAL_TIMEOUT_S = 20.0
MEDIA_ROOTS = (Path("/media"), Path("/run/media"))

REDACTED = "[redacted]"

_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S
)
_PIN_HASH = re.compile(r"pbkdf2_sha256\$[^\s\"',}]*")
_BEARER = re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=-]+")
_SECRET_NAME = (
    r"[A-Za-z0-9_.-]*(?:pin_hash|api[_-]?key|token|secret|passw(?:or)?d|private[_-]?key"
    r"|signature|authorization|activation[_-]?code)[A-Za-z0-9_.-]*"
)
_SECRET_VALUE = re.compile(
    rf"(?i)(?P<key>[\"']?\b{_SECRET_NAME}[\"']?\s*[:=]\s*)"
    r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s,;}\]]+)"
)
# Activation codes use A-Z and 2-9 without I, L, O and U, in three groups of four.
_ACTIVATION_GROUP = "[A-HJKMNP-TV-Z2-9]{4}"
_ACTIVATION_CODE = re.compile(rf"\b{_ACTIVATION_GROUP}-{_ACTIVATION_GROUP}-{_ACTIVATION_GROUP}\b")
_PAYMENT_CODE = re.compile(r"(?<!\d)\d{20}(?!\d)")
_OFFLINE_CODE = re.compile(r"(?i)\bCKO1[A-Z2-7]{8,}")
_EMV_START = re.compile(r"000201")


class SupportBundleError(Exception):
    """The bundle could not be written; the message names the directory and what to do."""


@dataclass
class Redaction:
    """Text with secrets and wallet codes removed, and how many of each kind were removed."""

    text: str
    counts: Counter[str] = field(default_factory=Counter)


def redact(text: str) -> Redaction:
    """Remove secrets and mask wallet codes in ``text``; see the module docstring."""
    counts: Counter[str] = Counter()

    def sub(
        kind: str, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str], src: str
    ) -> str:
        def counted(match: re.Match[str]) -> str:
            replacement = replace(match)
            if replacement != match[0]:
                counts[kind] += 1
            return replacement

        return pattern.sub(counted, src)

    text = sub("private key", _PEM_PRIVATE_KEY, lambda _m: "[redacted private key]", text)
    text = sub("PIN hash", _PIN_HASH, lambda _m: REDACTED, text)
    text = sub("bearer token", _BEARER, lambda _m: f"Bearer {REDACTED}", text)
    text = sub("secret setting", _SECRET_VALUE, _redact_value, text)
    text = sub("activation code", _ACTIVATION_CODE, lambda _m: REDACTED, text)
    text, emv_count = _mask_emv_payloads(text)
    counts["EMV payload"] += emv_count
    text = sub("offline code", _OFFLINE_CODE, lambda m: "CKO1" + mask_payment_code(m[0][4:]), text)
    text = sub("payment code", _PAYMENT_CODE, lambda m: mask_payment_code(m[0]), text)
    return Redaction(text, +counts)


def _redact_value(match: re.Match[str]) -> str:
    value = match["value"]
    # An empty value has nothing to hide, and an earlier rule may have redacted this one.
    if value.strip("\"'") in ("", REDACTED):
        return match[0]
    quote = value[0] if value[0] in "\"'" else ""
    return f"{match['key']}{quote}{REDACTED}{quote}"


def _mask_emv_payloads(text: str) -> tuple[str, int]:
    """Mask each EMV QR payload: tag-length-value records from ``000201`` to the CRC tag 63."""
    pieces: list[str] = []
    position = count = 0
    for match in _EMV_START.finditer(text):
        if match.start() < position:
            continue
        end = _emv_end(text, match.start())
        if end is None:
            continue
        pieces.append(text[position : match.start()])
        last_four = mask_payment_code(text[match.start() : end]).lstrip("*")
        pieces.append(f"[EMV payload {last_four}]")
        position = end
        count += 1
    pieces.append(text[position:])
    return "".join(pieces), count


def _emv_end(text: str, start: int) -> int | None:
    """Return the end of a well-formed payload starting at ``start``, or None."""
    index = start
    while index + 4 <= len(text):
        tag, length_text = text[index : index + 2], text[index + 2 : index + 4]
        if not (tag.isdigit() and length_text.isdigit()):
            return None
        end = index + 4 + int(length_text)
        if end > len(text):
            return None
        if tag == "63":
            return end if int(length_text) == 4 else None
        index = end
    return None


# --- collecting and writing ----------------------------------------------------------------


def log_files(config: TerminalConfig) -> list[Path]:
    """List the log files in the data directory and its ``logs`` folder, oldest name first."""
    found: list[Path] = []
    for directory in (config.data_dir / LOG_DIR_NAME, config.data_dir):
        for pattern in LOG_PATTERNS:
            found.extend(path for path in directory.glob(pattern) if path.is_file())
    return sorted(set(found))


def read_journal() -> str | None:
    """Return the terminal service's journal, or None when journalctl is missing or fails."""
    if shutil.which(JOURNAL_COMMAND[0]) is None:
        return None
    try:
        result = subprocess.run(
            JOURNAL_COMMAND, capture_output=True, text=True, timeout=JOURNAL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.warning("reading the journal failed: %s", exc)
        return None
    if result.returncode != 0:
        logger.info("journalctl exited with %d: %s", result.returncode, result.stderr.strip())
        return None
    return result.stdout


def bundle_name(terminal_id: str, now: datetime) -> str:
    safe_id = re.sub(r"[^A-Za-z0-9_-]", "_", terminal_id) or "unenrolled"
    return f"{BUNDLE_PREFIX}-{safe_id}-{now.strftime('%Y%m%d-%H%M%S')}.zip"


def write_bundle(
    destination: Path,
    config: TerminalConfig,
    terminal_id: str,
    now: datetime,
    *,
    diagnostics: Mapping[str, Any] | None = None,
    logs: Sequence[Path] | None = None,
    journal: Callable[[], str | None] = read_journal,
) -> Path:
    """Write the bundle into the directory ``destination`` and return the zip's path.

    ``logs`` defaults to ``log_files(config)``. The zip is written under a temporary name and
    renamed when complete, so a stick pulled out early never holds a bundle that looks whole.
    Raises SupportBundleError.
    """
    entries = dict(_bundle_texts(config, diagnostics, logs, journal))
    manifest = _manifest(terminal_id, now, entries)
    path = destination / bundle_name(terminal_id, now)
    partial = destination / (path.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("manifest.txt", manifest)
            for name, redaction in entries.items():
                bundle.writestr(name, redaction.text)
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SupportBundleError(
            f"cannot write the support bundle to {destination}: {exc.strerror or exc}; "
            "check that the USB stick is inserted and not write-protected, or choose another "
            "folder"
        ) from exc
    logger.info("wrote support bundle %s with %d files", path, len(entries) + 1)
    return path


def _bundle_texts(
    config: TerminalConfig,
    diagnostics: Mapping[str, Any] | None,
    logs: Sequence[Path] | None,
    journal: Callable[[], str | None],
) -> Iterable[tuple[str, Redaction]]:
    yield "config/terminal.toml", redact(_config_text(config))
    if diagnostics is not None:
        yield "diagnostics.json", redact(json.dumps(diagnostics, ensure_ascii=False, indent=2))
    for log_path in logs if logs is not None else log_files(config):
        text = _read_tail(log_path)
        if text is not None:
            yield f"logs/{log_path.name}", redact(text)
    journal_text = journal()
    if journal_text:
        yield "logs/journal.txt", redact(journal_text)


def _config_text(config: TerminalConfig) -> str:
    """Return the configuration file as it is on disk, or as loaded when it cannot be read."""
    if config.source is not None:
        try:
            return config.source.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            logger.info("cannot read %s for the bundle: %s", config.source, exc)
    return render_config(config)


def _read_tail(path: Path) -> str | None:
    try:
        with path.open("rb") as log_file:
            log_file.seek(0, os.SEEK_END)
            size = log_file.tell()
            log_file.seek(max(0, size - MAX_LOG_BYTES))
            data = log_file.read()
    except OSError as exc:
        logger.info("cannot read log %s for the bundle: %s", path, exc)
        return None
    return data.decode("utf-8", errors="replace")


def _manifest(terminal_id: str, now: datetime, entries: Mapping[str, Redaction]) -> str:
    lines = [
        "chiiki-pos support bundle",
        f"terminal: {terminal_id or '(not enrolled)'}",
        f"written: {now.isoformat()}",
        "",
        "file: values removed",
    ]
    for name, redaction in entries.items():
        removed = ", ".join(f"{kind} {count}" for kind, count in sorted(redaction.counts.items()))
        lines.append(f"{name}: {removed or 'none'}")
    if "logs/journal.txt" not in entries:
        lines.append(f"(no journal entries for {JOURNAL_UNIT} could be read)")
    return "\n".join(lines) + "\n"


# --- where to write ------------------------------------------------------------------------


def export_directories(data_dir: Path, media_roots: Sequence[Path] = MEDIA_ROOTS) -> list[Path]:
    """List the folders a bundle can go to: mounted removable media, then the data directory.

    Desktop automounters mount sticks at /media/USER/LABEL or /run/media/USER/LABEL, and
    usbmount at /media/usbN, so both one and two levels below each root are listed.
    """
    found: list[Path] = []
    for root in media_roots:
        for candidate in sorted([*root.glob("*"), *root.glob("*/*")]):
            if candidate.is_dir() and os.path.ismount(candidate) and os.access(candidate, os.W_OK):
                found.append(candidate)
    found.append(data_dir / "support")
    return found
