"""X and Z reports: which captures a day holds, totals, Z numbers, the clerk column, printing."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drivers.printer.document import Columns, Text
from drivers.printer.received import ReceivedJob
from drivers.printer.render import render
from drivers.printer.stream import StreamParser
from drivers.printer.width import display_width
from terminal import day_close, protocol
from terminal.day_close_print import CHART_BLOCK, CHART_MAX_BLOCKS, report_document
from terminal.protocol import CountTotal, DayTotals, SyncResult, TaxLine, ValueKind
from terminal.store import DayAlreadyClosed, NewCapture, Store, open_store

DAY = "2024-05-01"
# 10:15 and 14:40 in Japan (UTC+9) on DAY.
MORNING = datetime(2024, 5, 1, 1, 15, tzinfo=UTC)
AFTERNOON = datetime(2024, 5, 1, 5, 40, tzinfo=UTC)
NOW = datetime(2024, 5, 1, 11, 0, tzinfo=UTC)

MERCHANT = protocol.MerchantInfo(
    merchant_id="m-1", name="さくら商店", name_ascii="SAKURA SHOTEN", city_ascii="KAMAKURA",
    address="神奈川県鎌倉市小町1-2-3", invoice_registration_number="T7000012050002",
)
TERMINAL = protocol.TerminalInfo(
    terminal_id="term-0001", label="レジ1", merchant=MERCHANT, max_amount_yen=100_000
)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "data")


def capture(
    store: Store,
    capture_id: str,
    amount_yen: int,
    method: str = "cpm",
    *,
    at: datetime = MORNING,
    clerk: str | None = None,
) -> None:
    kind = {"refund": "refund", "offline": "offline_payment"}.get(method, "online_payment")
    store.record_capture(NewCapture(
        capture_id=capture_id, kind=kind, amount_yen=amount_yen,  # type: ignore[arg-type]
        method=method, captured_at=at,  # type: ignore[arg-type]
        tax_lines=(TaxLine(rate_percent=10, amount_yen=amount_yen),),
        payment_id=f"pay-{capture_id}", clerk=clerk,
    ))


def confirm(store: Store, capture_id: str, business_day: str = DAY) -> None:
    store.apply_results([SyncResult(entry_id=capture_id, status="applied",
                                    business_day=business_day)])


def decline(store: Store, capture_id: str) -> None:
    store.apply_results([SyncResult(
        entry_id=capture_id, status="declined", reason=protocol.ErrorCode.AMOUNT_MISMATCH,
        message="amounts differ", business_day=DAY,
    )])


def shop_day(store: Store) -> None:
    """Two confirmed sales, one waiting offline sale, one refund, one declined sale."""
    capture(store, "cap-mpm-0001", 1_000, "mpm", clerk="佐藤")
    capture(store, "cap-cpm-0002", 2_500, "cpm", at=AFTERNOON, clerk="鈴木")
    capture(store, "cap-off-0003", 700, "offline", at=AFTERNOON, clerk="佐藤")
    capture(store, "cap-ref-0004", 300, "refund", at=AFTERNOON, clerk="鈴木")
    capture(store, "cap-bad-0005", 900, "cpm", clerk="佐藤")
    for capture_id in ("cap-mpm-0001", "cap-cpm-0002", "cap-ref-0004"):
        confirm(store, capture_id)
    decline(store, "cap-bad-0005")


def test_report_totals_by_method_and_net(store: Store) -> None:
    shop_day(store)

    report = day_close.x_report(store, DAY, NOW)

    assert report.payments_by_method["mpm"] == CountTotal(count=1, amount_yen=1_000)
    assert report.payments_by_method["cpm"] == CountTotal(count=1, amount_yen=2_500)
    assert report.payments_by_method["offline"] == CountTotal(count=1, amount_yen=700)
    assert report.payments == CountTotal(count=3, amount_yen=4_200)
    assert report.refunds == CountTotal(count=1, amount_yen=300)
    assert report.net_yen == 3_900


def test_report_splits_confirmed_and_waiting(store: Store) -> None:
    shop_day(store)

    report = day_close.x_report(store, DAY, NOW)

    assert report.confirmed.payments == CountTotal(count=2, amount_yen=3_500)
    assert report.confirmed.refunds == CountTotal(count=1, amount_yen=300)
    assert report.confirmed.net_yen == 3_200
    assert report.waiting.payments == CountTotal(count=1, amount_yen=700)
    assert report.waiting.net_yen == 700


def test_report_lists_declined_apart(store: Store) -> None:
    shop_day(store)

    report = day_close.x_report(store, DAY, NOW)

    assert [entry.capture_id for entry in report.declined] == ["cap-bad-0005"]
    assert report.declined[0].amount_yen == 900
    assert report.declined[0].reason == "amount_mismatch"
    assert report.declined[0].captured_at == MORNING.isoformat()


def test_report_per_clerk_lines(store: Store) -> None:
    shop_day(store)
    capture(store, "cap-none-0006", 100, "cpm")

    report = day_close.x_report(store, DAY, NOW, per_clerk=True)

    lines = {line.clerk: line for line in report.clerks}
    assert list(lines) == ["佐藤", "鈴木", None]
    assert lines["佐藤"].payments == CountTotal(count=2, amount_yen=1_700)
    assert lines["鈴木"].payments == CountTotal(count=1, amount_yen=2_500)
    assert lines["鈴木"].refunds == CountTotal(count=1, amount_yen=300)
    assert lines["鈴木"].net_yen == 2_200
    assert lines[None].payments == CountTotal(count=1, amount_yen=100)


def test_report_without_clerks_has_no_lines(store: Store) -> None:
    shop_day(store)

    assert day_close.x_report(store, DAY, NOW).clerks == []


def test_hourly_sales_in_japan_hours(store: Store) -> None:
    shop_day(store)

    hourly = day_close.x_report(store, DAY, NOW).hourly_sales_yen

    assert len(hourly) == 24
    assert hourly[10] == 1_000
    assert hourly[14] == 2_500 + 700
    assert sum(hourly) == 4_200


def test_confirmed_other_day_left_out_but_waiting_kept(store: Store) -> None:
    capture(store, "cap-old-0001", 5_000)
    confirm(store, "cap-old-0001", "2024-04-30")
    capture(store, "cap-wait-0002", 800, at=datetime(2024, 4, 30, 3, 0, tzinfo=UTC))

    report = day_close.x_report(store, DAY, NOW)

    assert report.payments == CountTotal(count=1, amount_yen=800)
    assert report.waiting.payments.count == 1


def test_x_report_stores_nothing(store: Store) -> None:
    shop_day(store)

    day_close.x_report(store, DAY, NOW)

    assert store.day_closes() == []


def test_z_numbers_increase_and_day_closes_once(store: Store) -> None:
    shop_day(store)

    first = day_close.close_day(store, "2024-04-30", NOW, max_waiting=1)
    second = day_close.close_day(store, DAY, NOW, max_waiting=1)
    with pytest.raises(DayAlreadyClosed) as raised:
        day_close.close_day(store, DAY, NOW, max_waiting=1)

    assert (first.z_number, second.z_number) == (1, 2)
    assert raised.value.z_number == 2
    assert "2024-05-01" in str(raised.value)
    assert [record.z_number for record in store.day_closes()] == [2, 1]


def test_z_report_stored_totals_read_back(store: Store) -> None:
    shop_day(store)

    closed = day_close.close_day(store, DAY, NOW, per_clerk=True, max_waiting=1)
    record = store.day_close(DAY)

    assert record is not None
    assert day_close.stored_report(record) == closed
    assert closed.kind == "Z"


def test_concurrent_closes_store_one_report(tmp_path: Path) -> None:
    path = tmp_path / "data"
    setup = open_store(path)
    shop_day(setup)
    stores = [open_store(path) for _ in range(4)]
    outcomes: list[object] = []
    barrier = threading.Barrier(len(stores))

    def close(store: Store) -> None:
        barrier.wait()
        try:
            outcomes.append(day_close.close_day(store, DAY, NOW, max_waiting=1).z_number)
        except DayAlreadyClosed as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=close, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count(1) == 1
    assert sum(isinstance(outcome, DayAlreadyClosed) for outcome in outcomes) == 3
    assert len(setup.day_closes()) == 1


def test_close_refused_with_unconfirmed_waiting(store: Store) -> None:
    shop_day(store)

    with pytest.raises(day_close.WaitingNotConfirmed) as raised:
        day_close.close_day(store, DAY, NOW)

    assert (raised.value.waiting_count, raised.value.waiting_yen) == (1, 700)
    assert store.day_closes() == []


def test_clerk_stored_on_capture(store: Store) -> None:
    capture(store, "cap-0001", 500, clerk="鈴木")

    stored = store.capture("cap-0001")

    assert stored is not None
    assert stored.clerk == "鈴木"


def test_old_database_gets_clerk_column(tmp_path: Path) -> None:
    path = tmp_path / "terminal.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE captures (capture_id VARCHAR(64) PRIMARY KEY, seq INTEGER NOT NULL"
            " UNIQUE, kind VARCHAR(20) NOT NULL, amount_yen INTEGER NOT NULL, tax_lines TEXT"
            " NOT NULL, method VARCHAR(10) NOT NULL, state VARCHAR(10) NOT NULL, payment_id"
            " VARCHAR(64), refund_id VARCHAR(64), offline_code TEXT, captured_at VARCHAR(40)"
            " NOT NULL, business_day VARCHAR(10), declined_reason VARCHAR(40),"
            " declined_message TEXT)"
        )
        connection.execute(
            "INSERT INTO captures VALUES ('cap-old-0001', 1, 'online_payment', 400, '[]',"
            " 'cpm', 'confirmed', 'pay-1', NULL, NULL, '2024-05-01T01:00:00+00:00',"
            " '2024-05-01', NULL, NULL)"
        )

    store = Store(path)
    capture(store, "cap-new-0002", 600, clerk="佐藤")

    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(captures)")]
    old, new = store.capture("cap-old-0001"), store.capture("cap-new-0002")
    assert "clerk" in columns
    assert old is not None and old.clerk is None
    assert new is not None and new.clerk == "佐藤"


def server_report(payments_yen: int, refunds_yen: int, ledger_yen: int) -> protocol.ServerDayReport:
    totals = DayTotals(
        payments_by_method={"mpm": CountTotal(count=1, amount_yen=1_000),
                            "cpm": CountTotal(count=1, amount_yen=payments_yen - 1_000),
                            "offline": CountTotal()},
        payments=CountTotal(count=2, amount_yen=payments_yen),
        refunds=CountTotal(count=1, amount_yen=refunds_yen),
        net_yen=payments_yen - refunds_yen,
        ledger_net_yen=ledger_yen,
        ledger_kinds={ValueKind.COIN: ledger_yen},
    )
    return protocol.ServerDayReport(business_day=DAY, merchant_id="m-1", terminal_id="term-0001",
                                    terminal=totals, merchant=totals, server_time=NOW.isoformat())


def test_reconcile_matches_server(store: Store) -> None:
    shop_day(store)

    report = day_close.x_report(store, DAY, NOW, server=server_report(3_500, 300, 3_200))
    check = day_close.reconcile(report)

    assert check is not None
    assert check.matches
    assert check.difference_yen == 0


def test_reconcile_reports_difference(store: Store) -> None:
    shop_day(store)

    report = day_close.x_report(store, DAY, NOW, server=server_report(3_000, 300, 2_700))
    check = day_close.reconcile(report)

    assert check is not None
    assert not check.matches
    assert check.difference_yen == 500


def test_reconcile_unknown_without_server(store: Store) -> None:
    shop_day(store)

    assert day_close.reconcile(day_close.x_report(store, DAY, NOW)) is None


def printed_lines(report: day_close.DayReport, paper_width_mm: int) -> list[str]:
    jobs: list[ReceivedJob] = []
    parser = StreamParser(10_000, jobs.append)
    parser.feed(render(report_document(report, TERMINAL), paper_width_mm=paper_width_mm))
    parser.close()
    return [line.rstrip() for line in jobs[0].lines]


@pytest.mark.parametrize("paper_width_mm, columns", [(58, 32), (80, 48)])
def test_printed_report_fits_paper(store: Store, paper_width_mm: int, columns: int) -> None:
    shop_day(store)
    report = day_close.close_day(store, DAY, NOW, per_clerk=True, max_waiting=1,
                                 server=server_report(3_500, 300, 3_200))

    lines = printed_lines(report, paper_width_mm)

    assert all(display_width(line) <= columns for line in lines)
    assert any("Z0001" in line for line in lines)
    assert any(line.startswith("純売上") and line.endswith("￥3,900") for line in lines)
    assert any("一致" in line for line in lines)


def test_printed_report_chart_and_declined(store: Store) -> None:
    shop_day(store)
    report = day_close.x_report(store, DAY, NOW, per_clerk=True)

    blocks = report_document(report, TERMINAL).blocks
    texts = [b.text for b in blocks if isinstance(b, Text)]
    columns = {b.left: b.right for b in blocks if isinstance(b, Columns)}

    assert columns[f"14時 {CHART_BLOCK * CHART_MAX_BLOCKS}"] == "￥3,200"
    assert columns[f"10時 {CHART_BLOCK * 2}"] == "￥1,000"
    assert columns["11時 "] == "￥0"
    assert "受け付けられなかった取引 1件" in texts
    assert "　理由: amount_mismatch" in texts
    assert columns["佐藤"] == "2件 ￥1,700"
    assert "サーバー照合: 未確認(接続できません)" in texts


def test_forgotten_day_closed_first(store: Store) -> None:
    next_morning = datetime(2024, 5, 2, 1, 0, tzinfo=UTC)
    capture(store, "cap-old-0001", 1_200)
    confirm(store, "cap-old-0001", DAY)
    capture(store, "cap-new-0002", 800, "offline", at=next_morning)

    assert day_close.day_to_close(store, "2024-05-02") == DAY
    report = day_close.close_day(store, DAY, next_morning, max_waiting=0)

    assert report.business_day == DAY
    assert report.net_yen == 1_200
    assert day_close.waiting_count(report) == 0
    assert day_close.day_to_close(store, "2024-05-02") == "2024-05-02"
