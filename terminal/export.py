"""Sales and fee files for the shop's bookkeeping: one month as CSV on a USB stick or on disk.

An export of month YYYY-MM writes two files into the chosen folder:

- ``statement-YYYY-MM.csv``: the server's monthly statement (sales, refunds, cash-outs, fees,
  returned cash-outs, merchant transfers), row for row as the server sends it.
- ``register-YYYY-MM.csv``: what this terminal recorded itself in that Japan-time month (its
  payments and refunds, with the tax split and whether the server has confirmed each one), and
  a closing total row. It covers sales the server has not seen yet, such as offline sales.

Encoding: UTF-8 with a byte order mark, rows ending in CRLF. Excel on a Japanese Windows opens
a CSV without a BOM as Shift_JIS (CP932) and garbles UTF-8 Japanese text, but reads it as UTF-8
when the BOM is there. Python reads the files with ``encoding="utf-8-sig"``. Shift_JIS itself
is not used because it cannot encode every character a shop name or a transfer note may
contain.

Each file is written to ``NAME.partial`` and renamed once it is complete, so a cancelled or
failed export never leaves a half-written file under the final name.

Errors: ``ExportCancelled`` when the caller's cancel check returned True, ``ExportError`` when
the folder cannot be written or the statement is not CSV. ``terminal.api_client.ApiError``
from fetching the statement passes through unchanged.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from terminal.japan_time import to_japan_time
from terminal.store import Capture
from terminal.support_bundle import MEDIA_ROOTS, export_directories

logger = logging.getLogger(__name__)

ENCODING = "utf-8-sig"
PARTIAL_SUFFIX = ".partial"
# Progress is reported after this many rows, so a long month does not flood the screen with
# updates, and a cancel request is noticed within the same number of rows.
PROGRESS_EVERY_ROWS = 200
# The data folder's subfolder that takes exports when no USB stick is plugged in.
EXPORT_SUBDIR = "exports"

REGISTER_HEADER = [
    "captured_at", "kind", "kind_ja", "capture_id", "payment_id", "method",
    "amount_yen", "tax_10_yen", "tax_8_yen", "state", "state_ja",
]
_KIND_JAPANESE = {"online_payment": "売上", "offline_payment": "売上（オフライン）",
                  "refund": "返金"}
_STATE_JAPANESE = {"waiting": "送信待ち", "confirmed": "送信済み", "declined": "受付不可"}
TOTAL_LABEL = "合計 total"

Progress = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


class ExportError(Exception):
    """An export could not be written; the message names the file and the cause."""


class ExportCancelled(ExportError):
    """The export stopped because the caller asked it to; no final file was left behind."""


class StatementSource(Protocol):
    """The call of ``terminal.api_client.ApiClient`` that fetches a statement."""

    def statement_csv(self, month: str) -> str: ...


@dataclass(frozen=True)
class ExportResult:
    statement_path: Path
    register_path: Path
    statement_rows: int
    register_rows: int


def recent_months(today: date, count: int) -> list[str]:
    """Return ``count`` months as YYYY-MM, the month of ``today`` first, then earlier ones."""
    months: list[str] = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


def export_destinations(data_dir: Path, media_roots: Sequence[Path] = MEDIA_ROOTS) -> list[Path]:
    """List the folders an export can go to: mounted, writable USB sticks, then the data folder."""
    # export_directories ends with the support-bundle folder of the data directory; the
    # bookkeeping files get their own folder beside it.
    mounted = export_directories(data_dir, media_roots)[:-1]
    return [*mounted, data_dir / EXPORT_SUBDIR]


# --- rows ------------------------------------------------------------------------------------


def register_rows(captures: Iterable[Capture], month: str) -> list[list[str]]:
    """Turn the captures of ``month`` (Japan time) into CSV rows, with a total row at the end.

    Refunds count negative. The total adds every row except declined ones, since the server
    rejected those and they moved no money.
    """
    rows: list[list[str]] = []
    total_yen = 0
    for capture in captures:
        local = to_japan_time(capture.captured_at)
        if local.strftime("%Y-%m") != month:
            continue
        sign = -1 if capture.kind == "refund" else 1
        tax_yen = {10: 0, 8: 0}
        for line in capture.tax_lines:
            tax_yen[line.rate_percent] += line.amount_yen
        rows.append([
            local.isoformat(timespec="seconds"), capture.kind, _KIND_JAPANESE[capture.kind],
            capture.capture_id, capture.payment_id or "", capture.method,
            str(sign * capture.amount_yen), str(sign * tax_yen[10]), str(sign * tax_yen[8]),
            capture.state, _STATE_JAPANESE[capture.state],
        ])
        if capture.state != "declined":
            total_yen += sign * capture.amount_yen
    rows.append(["", "total", TOTAL_LABEL, "", "", "", str(total_yen), "", "", "", ""])
    return rows


def statement_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """Split the server's statement CSV into its header and its rows."""
    parsed = list(csv.reader(io.StringIO(text)))
    if not parsed:
        raise ExportError("the server's statement is empty, not CSV with a header row")
    return parsed[0], parsed[1:]


# --- files -----------------------------------------------------------------------------------


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    progress: Progress,
    cancelled: CancelCheck,
    *,
    rows_before: int = 0,
    rows_total: int | None = None,
) -> None:
    """Write ``header`` and ``rows`` to ``path`` through ``path.partial``, reporting progress.

    ``progress(done, total)`` counts rows, offset by ``rows_before`` when one export writes
    several files. A cancel request or a write error removes the partial file.
    """
    total = rows_before + len(rows) if rows_total is None else rows_total
    partial = path.with_name(path.name + PARTIAL_SUFFIX)
    try:
        with partial.open("w", encoding=ENCODING, newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for index, row in enumerate(rows, start=1):
                writer.writerow(row)
                if index % PROGRESS_EVERY_ROWS == 0:
                    if cancelled():
                        raise ExportCancelled(f"export of {path.name} was cancelled")
                    progress(rows_before + index, total)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    except ExportCancelled:
        partial.unlink(missing_ok=True)
        logger.info("export of %s cancelled; partial file removed", path)
        raise
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    progress(rows_before + len(rows), total)


def export_month(
    source: StatementSource,
    captures: Callable[[], list[Capture]],
    month: str,
    destination: Path,
    progress: Progress,
    cancelled: CancelCheck,
) -> ExportResult:
    """Fetch the statement of ``month``, then write it and the register file into ``destination``.

    Blocking: the statement comes over the network and the files may go to a slow USB stick.
    """
    try:
        destination.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create folder {destination}: {exc.strerror or exc}") from exc

    header, server_rows = statement_rows(source.statement_csv(month))
    local_rows = register_rows(captures(), month)
    total = len(server_rows) + len(local_rows)
    if cancelled():
        raise ExportCancelled(f"export of {month} was cancelled")

    statement_path = destination / f"statement-{month}.csv"
    register_path = destination / f"register-{month}.csv"
    write_csv(statement_path, header, server_rows, progress, cancelled, rows_total=total)
    try:
        write_csv(register_path, REGISTER_HEADER, local_rows, progress, cancelled,
                  rows_before=len(server_rows), rows_total=total)
    except ExportError:
        # One file without the other would look like a complete export.
        statement_path.unlink(missing_ok=True)
        raise
    logger.info("exported %s to %s: %d statement rows, %d register rows", month, destination,
                len(server_rows), len(local_rows))
    return ExportResult(statement_path, register_path, len(server_rows), len(local_rows))
