"""chiiki-settle rejects bad files, numbers and database URLs with one line, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from money_helpers import PLAN_TOML

from server import cli


def _ready_db(tmp_path: Path) -> str:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli.main(["init-db", "--db", db]) == 0
    return db


def _not_utf8_file(tmp_path: Path) -> Path:
    path = tmp_path / "utf16.toml"
    path.write_bytes(b"\xff\xfe[\x00p\x00")
    return path


def test_fee_plan_file_not_utf8_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _ready_db(tmp_path)
    capsys.readouterr()
    path = _not_utf8_file(tmp_path)

    status = cli.main(["fee-plan-load", "--db", db, str(path)])

    assert status == 1
    assert capsys.readouterr().err == (
        f"chiiki-settle: file {path} is not UTF-8 (invalid byte 0xff at position 0);"
        " save it as UTF-8\n")


def test_senders_file_not_utf8_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _ready_db(tmp_path)
    capsys.readouterr()
    path = _not_utf8_file(tmp_path)

    status = cli.main(["payout-batch", "--db", db, "--date", "2026-04-01",
                       "--out", str(tmp_path / "out.txt"), "--senders", str(path)])

    assert status == 1
    assert capsys.readouterr().err == (
        f"chiiki-settle: file {path} is not UTF-8 (invalid byte 0xff at position 0);"
        " save it as UTF-8\n")
    assert not (tmp_path / "out.txt").exists()


def test_fee_plan_file_utf8_after_ascii_position_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _ready_db(tmp_path)
    capsys.readouterr()
    path = tmp_path / "sjis.toml"
    path.write_bytes(PLAN_TOML.encode("utf-8") + "# 手数料\n".encode("shift_jis"))

    status = cli.main(["fee-plan-load", "--db", db, str(path)])

    offset = len(PLAN_TOML.encode("utf-8")) + 2
    assert status == 1
    assert capsys.readouterr().err == (
        f"chiiki-settle: file {path} is not UTF-8 (invalid byte 0x8e at position {offset});"
        " save it as UTF-8\n")


def test_fee_plan_huge_yen_one_line_nothing_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _ready_db(tmp_path)
    path = tmp_path / "plans.toml"
    path.write_text("[plans.default]\nfixed_monthly_yen = 99999999999999999999\n"
                    "tiers = [{ from_yen = 0, rate_bp = 300 }]\n", encoding="utf-8")
    capsys.readouterr()

    status = cli.main(["fee-plan-load", "--db", db, str(path)])
    error = capsys.readouterr().err
    listed = cli.main(["fee-plans", "--db", db])

    assert status == 1
    assert error == (
        f"chiiki-settle: {path}: plans.default.fixed_monthly_yen = 99999999999999999999 is out"
        " of range; allowed: 0 to 100000000 yen\n")
    assert listed == 0
    assert capsys.readouterr().out.startswith("no fee plans")


def test_payout_batch_mistyped_db_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "typo.db"

    status = cli.main(["payout-batch", "--db", f"sqlite:///{typo}", "--date", "2026-04-01",
                       "--out", str(tmp_path / "out.txt"), "--senders", "senders.toml"])

    assert status == 1
    assert capsys.readouterr().err == (
        f"chiiki-settle: database sqlite:///{typo} does not exist; check --db, or create it"
        " with chiiki-settle init-db --db URL\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_cash_outs_default_db_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    status = cli.main(["cash-outs"])

    assert status == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "does not exist; check --db, or create it with chiiki-settle init-db" in error
    assert list(tmp_path.iterdir()) == []


def test_command_on_database_without_schema_refused(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """On SQLite the file is missing; on PostgreSQL the schema exists but has no tables."""
    status = cli.main(["list-merchants", "--db", db_url])
    error = capsys.readouterr().err
    init_status = cli.main(["init-db", "--db", db_url])
    capsys.readouterr()
    after_status = cli.main(["list-merchants", "--db", db_url])

    assert status == 1
    assert error.count("\n") == 1
    assert ("does not exist; check --db" in error) or ("has no schema; check --db" in error)
    assert (init_status, after_status) == (0, 0)
    assert capsys.readouterr().out.startswith("no merchants yet")


def test_in_memory_database_refused(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["list-merchants", "--db", "sqlite://"])

    assert status == 1
    assert capsys.readouterr().err == (
        "chiiki-settle: database sqlite:// is an in-memory database, which starts empty;"
        " check --db, or create it with chiiki-settle init-db --db URL\n")


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536"])
def test_serve_port_out_of_range_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], port: str
) -> None:
    db = _ready_db(tmp_path)
    capsys.readouterr()

    status = cli.main(["serve", "--db", db, "--port", port])

    assert status == 1
    assert capsys.readouterr().err == (
        f"chiiki-settle: --port {port} is out of range; allowed: 1 to 65535\n")
