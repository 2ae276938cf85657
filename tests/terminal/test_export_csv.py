"""The bookkeeping export: CSV content, encoding, progress, cancellation and months."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from terminal import export
from terminal.export import (
    REGISTER_HEADER,
    ExportCancelled,
    ExportError,
    export_destinations,
    export_month,
    recent_months,
    register_rows,
)
from terminal.protocol import ErrorCode, TaxLine
from terminal.store import NewCapture, Store, open_store

STATEMENT_HEADER = "recorded_at,type,type_ja,reference,amount_yen,detail"


def statement_text(rows: int) -> str:
    lines = [STATEMENT_HEADER]
    lines += [f"2026-12-01T10:00:{n % 60:02d}+09:00,sale,売上,pay-{n},{100 + n},支払方法 method cpm"
              for n in range(rows)]
    return "\r\n".join(lines) + "\r\n"


class FakeStatements:
    def __init__(self, text: str) -> None:
        self.text = text
        self.months: list[str] = []

    def statement_csv(self, month: str) -> str:
        self.months.append(month)
        return self.text


def capture(capture_id: str, amount_yen: int, at: datetime, *, kind: str = "online_payment",
            tax_lines: tuple[TaxLine, ...] | None = None) -> NewCapture:
    method = "refund" if kind == "refund" else "cpm"
    lines = tax_lines or (TaxLine(rate_percent=10, amount_yen=amount_yen),)
    return NewCapture(capture_id=capture_id, kind=kind,  # type: ignore[arg-type]
                      amount_yen=amount_yen, method=method,  # type: ignore[arg-type]
                      captured_at=at, tax_lines=lines, payment_id=f"pay-{capture_id}")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = open_store(tmp_path / "data")
    # 2026-11-30 23:30 JST is still November; 2026-12-01 00:30 JST is December.
    store.record_capture(capture("cap-nov", 900, datetime(2026, 11, 30, 14, 30, tzinfo=UTC)))
    store.record_capture(capture(
        "cap-dec-1", 1500, datetime(2026, 11, 30, 15, 30, tzinfo=UTC),
        tax_lines=(TaxLine(rate_percent=10, amount_yen=1100),
                   TaxLine(rate_percent=8, amount_yen=400)),
    ))
    store.record_capture(capture("cap-dec-2", 300, datetime(2026, 12, 3, 2, 0, tzinfo=UTC),
                                 kind="refund"))
    store.record_capture(capture("cap-dec-3", 700, datetime(2026, 12, 4, 2, 0, tzinfo=UTC)))
    store.decline_locally("cap-dec-3", ErrorCode.CODE_USED, "code used")
    return store


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"))))


def test_register_rows_of_month_in_japan_time(store: Store) -> None:
    rows = register_rows(store.captures(), "2026-12")

    assert [row[3] for row in rows[:-1]] == ["cap-dec-1", "cap-dec-2", "cap-dec-3"]
    assert rows[0][0] == "2026-12-01T00:30:00+09:00"
    assert rows[0][6:9] == ["1500", "1100", "400"]
    assert rows[1][1:3] == ["refund", "返金"]
    assert rows[1][6:9] == ["-300", "-300", "0"]
    assert rows[2][9:] == ["declined", "受付不可"]


def test_register_total_skips_declined(store: Store) -> None:
    total = register_rows(store.captures(), "2026-12")[-1]

    assert total[1:3] == ["total", "合計 total"]
    assert total[6] == str(1500 - 300)


def test_export_writes_both_files_with_bom(store: Store, tmp_path: Path) -> None:
    source = FakeStatements(statement_text(3))
    destination = tmp_path / "usb"

    result = export_month(source, store.captures, "2026-12", destination,
                          lambda done, total: None, lambda: False)

    statement = read_csv(result.statement_path)
    register = read_csv(result.register_path)
    assert source.months == ["2026-12"]
    assert result.statement_path.name == "statement-2026-12.csv"
    assert statement[0] == STATEMENT_HEADER.split(",")
    assert statement[1] == ["2026-12-01T10:00:00+09:00", "sale", "売上", "pay-0", "100",
                            "支払方法 method cpm"]
    assert len(statement) == 4
    assert register[0] == REGISTER_HEADER
    assert register[-1][6] == "1200"
    assert result.statement_path.read_bytes().endswith(b"\r\n")
    assert sorted(path.name for path in destination.iterdir()) == [
        "register-2026-12.csv", "statement-2026-12.csv"]


def test_export_reports_progress_by_rows(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PROGRESS_EVERY_ROWS", 10)
    reports: list[tuple[int, int]] = []

    export_month(FakeStatements(statement_text(45)), store.captures, "2026-12", tmp_path,
                 lambda done, total: reports.append((done, total)), lambda: False)

    total = 45 + 4
    assert reports[0] == (10, total)
    assert reports[-1] == (total, total)
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    assert (45, total) in reports


def test_cancel_leaves_no_file(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PROGRESS_EVERY_ROWS", 10)
    reports: list[int] = []

    with pytest.raises(ExportCancelled):
        export_month(FakeStatements(statement_text(100)), store.captures, "2026-12", tmp_path,
                     lambda done, total: reports.append(done), lambda: len(reports) >= 2)

    assert reports == [10, 20]
    assert list(tmp_path.glob("*.csv")) == []
    assert list(tmp_path.glob("*.partial")) == []


def test_cancel_in_second_file_removes_first(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "PROGRESS_EVERY_ROWS", 2)
    reports: list[int] = []
    statement_rows = 4

    with pytest.raises(ExportCancelled):
        export_month(FakeStatements(statement_text(statement_rows)), store.captures, "2026-12",
                     tmp_path, lambda done, total: reports.append(done),
                     lambda: bool(reports) and reports[-1] > statement_rows)

    assert list(tmp_path.iterdir()) == [tmp_path / "data"]


def test_unwritable_destination_raises_export_error(store: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")

    with pytest.raises(ExportError, match="not-a-folder"):
        export_month(FakeStatements(statement_text(1)), store.captures, "2026-12", blocker,
                     lambda done, total: None, lambda: False)


def test_empty_statement_rejected(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="empty"):
        export_month(FakeStatements(""), store.captures, "2026-12", tmp_path,
                     lambda done, total: None, lambda: False)

    assert list(tmp_path.glob("*.csv")) == []


def test_recent_months_cross_new_year() -> None:
    assert recent_months(date(2026, 2, 15), 4) == ["2026-02", "2026-01", "2025-12", "2025-11"]


def test_destinations_end_with_data_folder(tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "user" / "STICK").mkdir(parents=True)

    found = export_destinations(tmp_path / "data", (media,))

    # A plain folder under /media is not a mounted drive, so only the data folder is offered.
    assert found == [tmp_path / "data" / "exports"]
