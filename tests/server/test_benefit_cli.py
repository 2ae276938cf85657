"""chiiki-settle benefit commands: create, import with report and dry run, list, payouts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from server import cli, ledger, wallets
from server.benefit_cli import Progress
from server.benefits import LineOutcome
from server.db import open_existing_db
from server.settings import utc_now
from terminal.protocol import ValueKind


@pytest.fixture
def db(db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["init-db", "--db", db_url]) == 0
    capsys.readouterr()
    return db_url


def _wallets(db_url: str, count: int) -> list[str]:
    database = open_existing_db(db_url)
    try:
        with database.write() as session:
            return [wallets.create_wallet(session, now=utc_now()).wallet_id
                    for _ in range(count)]
    finally:
        database.dispose()


def _benefit_balance(db_url: str, wallet_id: str) -> int:
    database = open_existing_db(db_url)
    try:
        with database.read() as session:
            return ledger.balance(session, wallet_id, now=utc_now()).get(ValueKind.BENEFIT, 0)
    finally:
        database.dispose()


def _assert_conserved(db_url: str) -> None:
    database = open_existing_db(db_url)
    try:
        with database.read() as session:
            audit = ledger.verify_ledger(session)
        assert audit.totals_by_kind == {kind: 0 for kind in ValueKind}
    finally:
        database.dispose()


def _create(db: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    status = cli.main(["benefit-create", "--db", db, "--name", "出産応援給付",
                       "--budget-yen", "1000000", "--max-per-recipient-yen", "50000", *extra])
    out = capsys.readouterr().out
    assert status == 0
    return out.strip()


def _write(tmp_path: Path, text: str, name: str = "recipients.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_pays_and_writes_report(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys, "--categories", "5411,5912", "--valid-days", "180")
    first, second = _wallets(db, 2)
    path = _write(tmp_path, f"wallet_id,amount_yen,reference\n{first},50000,第1子\n"
                            f"{second},30000,\n")
    report = tmp_path / "report.csv"

    status = cli.main(["benefit-import", "--db", db, programme_id, str(path),
                       "--report", str(report)])

    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert captured.out.splitlines() == [
        "paid: 2 lines, 80000 yen",
        "already paid before: 0 lines, 0 yen",
        "total: 2 lines, 80000 yen",
        f"report written to {report}",
    ]
    assert captured.err.splitlines() == ["paid 1 of 2 lines", "paid 2 of 2 lines"]
    rows = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert [(row["line"], row["wallet_id"], row["amount_yen"], row["reference"], row["status"])
            for row in rows] == [("2", first, "50000", "第1子", "paid"),
                                 ("3", second, "30000", "", "paid")]
    assert rows[0]["transfer_id"] == f"benefit:{programme_id}:1:{first}"
    assert rows[0]["expires_at"].endswith("T15:00:00+00:00")
    assert _benefit_balance(db, first) == 50_000
    _assert_conserved(db)


def test_import_twice_reports_already_paid(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys)
    (wallet,) = _wallets(db, 1)
    path = _write(tmp_path, f"wallet_id,amount_yen\n{wallet},20000\n")
    assert cli.main(["benefit-import", "--db", db, programme_id, str(path)]) == 0
    capsys.readouterr()

    status = cli.main(["benefit-import", "--db", db, programme_id, str(path)])

    assert status == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        "paid: 0 lines, 0 yen",
        "already paid before: 1 lines, 20000 yen",
        "total: 1 lines, 20000 yen",
    ]
    assert _benefit_balance(db, wallet) == 20_000
    _assert_conserved(db)


def test_bad_file_lists_lines_exits_nonzero(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys)
    (wallet,) = _wallets(db, 1)
    path = _write(tmp_path, f"wallet_id,amount_yen\n{wallet},20000\nw_nobody,100\n"
                            f"{wallet},abc\n")

    status = cli.main(["benefit-import", "--db", db, programme_id, str(path)])

    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "line 3: wallet w_nobody does not exist; check the wallet id with the recipient",
        "line 4: amount_yen 'abc' is not a whole number of yen; write digits only, e.g. 30000",
        f"chiiki-settle: {path}: 2 problems found, so nothing was paid; correct the file and"
        " run the import again",
    ]
    assert _benefit_balance(db, wallet) == 0
    _assert_conserved(db)


def test_shift_jis_file_one_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys)
    path = tmp_path / "sjis.csv"
    path.write_bytes("wallet_id,amount_yen,note\nw_x,1000,給付\n".encode("shift_jis"))

    status = cli.main(["benefit-import", "--db", db, programme_id, str(path)])

    assert status == 1
    assert capsys.readouterr().err == (
        f"chiiki-settle: {path} is encoded in Shift_JIS, not UTF-8; save it as UTF-8"
        " (in Excel: 名前を付けて保存 > CSV UTF-8) and import it again\n")


def test_dry_run_validates_only(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys)
    (wallet,) = _wallets(db, 1)
    path = _write(tmp_path, f"wallet_id,amount_yen\n{wallet},20000\n")

    status = cli.main(["benefit-import", "--db", db, programme_id, str(path), "--dry-run"])

    captured = capsys.readouterr()
    assert status == 0
    assert captured.out.splitlines() == [
        "to pay: 1 lines, 20000 yen",
        "already paid before: 0 lines, 0 yen",
        "total: 1 lines, 20000 yen",
        "dry run: the file is valid and nothing was paid",
    ]
    assert captured.err == ""
    assert _benefit_balance(db, wallet) == 0


def test_programmes_and_payouts_listed(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys, "--expires-on", "2099-03-31")
    first, second = _wallets(db, 2)
    path = _write(tmp_path, f"wallet_id,amount_yen,note\n{first},10000,A\n{second},20000,B\n")
    assert cli.main(["benefit-import", "--db", db, programme_id, str(path),
                     "--round", "2026-04"]) == 0
    capsys.readouterr()

    assert cli.main(["benefit-programmes", "--db", db]) == 0
    programmes = capsys.readouterr().out.splitlines()
    assert cli.main(["benefit-payouts", "--db", db, programme_id]) == 0
    payouts = capsys.readouterr().out.splitlines()

    assert programmes[0].split("\t")[:7] == [
        "programme_id", "name", "budget_yen", "paid_yen", "left_yen", "payouts", "wallets"]
    assert programmes[1].split("\t") == [
        programme_id, "出産応援給付", "1000000", "30000", "970000", "2", "2", "50000", "any",
        "until 2099-03-31", f"benefit-{programme_id}"]
    assert payouts[0] == f"{programme_id}\t出産応援給付\t2 payouts\t30000 of 1000000 yen paid"
    fields = [line.split("\t") for line in payouts[2:]]
    assert [(f[1], f[2], f[3], f[4], f[5], f[6]) for f in fields] == [
        ("2026-04", first, "10000", "2099-03-31T15:00:00+00:00", "2", "A"),
        ("2026-04", second, "20000", "2099-03-31T15:00:00+00:00", "3", "B"),
    ]


def test_unknown_programme_hint(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "wallet_id,amount_yen\nw_x,1\n")

    status = cli.main(["benefit-import", "--db", db, "bp_nope", str(path)])

    assert status == 1
    assert capsys.readouterr().err == (
        "chiiki-settle: benefit programme bp_nope does not exist; run chiiki-settle"
        " benefit-programmes to see the programme ids\n")


def test_create_rejects_oversized_yen(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = "99999999999999999999"
    cases = [
        (["--budget-yen", huge, "--max-per-recipient-yen", "10"],
         f"budget {huge} yen is invalid; give a whole number of yen from 1 to the maximum of"
         " 1000000000000"),
        (["--budget-yen", "100", "--max-per-recipient-yen", huge],
         f"maximum per recipient {huge} yen is invalid; allowed: 1 to the budget, 100 yen"),
    ]
    for options, message in cases:
        status = cli.main(["benefit-create", "--db", db, "--name", "給付", *options])

        assert status == 1
        assert capsys.readouterr().err == f"chiiki-settle: {message}\n"
    _assert_conserved(db)


def test_import_rejects_oversized_amount(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys)
    (wallet,) = _wallets(db, 1)
    path = _write(tmp_path, f"wallet_id,amount_yen\n{wallet},99999999999999999999\n")

    status = cli.main(["benefit-import", "--db", db, programme_id, str(path)])

    assert status == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "line 2: amount_yen '99999999999999999999' is more than the maximum of 1000000000000"
        " yen; check the amount")
    assert _benefit_balance(db, wallet) == 0
    _assert_conserved(db)


def test_programmes_table_ends_with_newline(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _create(db, capsys)

    assert cli.main(["benefit-programmes", "--db", db]) == 0

    output = capsys.readouterr().out
    assert output.endswith("\n")
    assert len(output.splitlines()) == 2


def test_create_rejects_bad_category(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["benefit-create", "--db", db, "--name", "給付", "--budget-yen", "100",
                       "--max-per-recipient-yen", "10", "--categories", "54111"])

    assert status == 1
    assert capsys.readouterr().err == (
        "chiiki-settle: merchant category code '54111' is invalid; each code is 4 digits,"
        " e.g. 5411 (grocery stores)\n")


def test_missing_file_one_line(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys)
    path = tmp_path / "missing.csv"

    status = cli.main(["benefit-import", "--db", db, programme_id, str(path)])

    assert status == 1
    assert capsys.readouterr().err == (
        f"chiiki-settle: payout file {path} cannot be read: No such file or directory\n")


def test_zero_batch_size_rejected(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys)
    (wallet,) = _wallets(db, 1)
    path = _write(tmp_path, f"wallet_id,amount_yen\n{wallet},1000\n")

    status = cli.main(["benefit-import", "--db", db, programme_id, str(path),
                       "--batch-size", "0"])

    assert status == 1
    assert capsys.readouterr().err == (
        "chiiki-settle: batch size 0 is invalid; give at least 1 line per transaction\n")
    assert _benefit_balance(db, wallet) == 0


class _FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _outcome(number: int) -> LineOutcome:
    return LineOutcome(number, f"w_{number}", 1, "", "paid", f"benefit:bp:1:w_{number}")


def test_progress_bar_on_terminal() -> None:
    stream = _FakeTerminal()
    progress = Progress(stream)
    progress.start(4)

    for number in range(4):
        progress.line_paid(_outcome(number))
    progress.finish()

    frames = stream.getvalue().split("\r")[1:]
    assert frames[0] == "paying [#######-----------------------] 1/4 lines"
    assert frames[-1] == "paying [##############################] 4/4 lines\n"


def test_progress_plain_lines_when_piped() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    progress.start(25)

    for number in range(25):
        progress.line_paid(_outcome(number))
    progress.finish()

    assert stream.getvalue().splitlines() == [
        f"paid {done} of 25 lines" for done in (2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 25)]


def test_unwritable_report_pays_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys)
    (wallet,) = _wallets(db, 1)
    path = _write(tmp_path, f"wallet_id,amount_yen\n{wallet},1000\n")
    report = tmp_path / "missing-folder" / "report.csv"

    status = cli.main(["benefit-import", "--db", db, programme_id, str(path),
                       "--report", str(report)])

    assert status == 1
    assert capsys.readouterr().err == (
        f"chiiki-settle: report file {report} cannot be created: No such file or directory;"
        " give --report a path in an existing folder you can write to. Nothing was paid\n")
    assert _benefit_balance(db, wallet) == 0


def test_report_path_taken_pays_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys)
    (wallet,) = _wallets(db, 1)
    path = _write(tmp_path, f"wallet_id,amount_yen\n{wallet},1000\n")
    seed_file = _write(tmp_path, '{"format": "chiiki-premium-seeds-1"}\n', "seeds.json")
    link = tmp_path / "paid.csv"
    link.symlink_to(seed_file)

    statuses = [cli.main(["benefit-import", "--db", db, programme_id, str(path),
                          "--report", str(report)]) for report in (seed_file, link)]

    assert statuses == [1, 1]
    assert capsys.readouterr().err.splitlines() == [
        f"chiiki-settle: report file {seed_file} already exists, and benefit-import never"
        " overwrites a file because it may be a seed file or the report of an earlier import;"
        " choose a new path for --report. Nothing was paid",
        f"chiiki-settle: report file {link} is a symbolic link to {seed_file}, and"
        " benefit-import never writes through a symbolic link; choose a new path for --report."
        " Nothing was paid",
    ]
    assert seed_file.read_text(encoding="utf-8") == '{"format": "chiiki-premium-seeds-1"}\n'
    assert _benefit_balance(db, wallet) == 0


def test_rejected_import_removes_report(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programme_id = _create(db, capsys)
    (wallet,) = _wallets(db, 1)
    report = tmp_path / "paid.csv"
    bad = _write(tmp_path, f"wallet_id,amount_yen\n{wallet},abc\n", "bad.csv")
    good = _write(tmp_path, f"wallet_id,amount_yen\n{wallet},1000\n", "good.csv")

    rejected = cli.main(["benefit-import", "--db", db, programme_id, str(bad),
                         "--report", str(report)])
    report_after_rejection = report.exists()
    paid = cli.main(["benefit-import", "--db", db, programme_id, str(good),
                     "--report", str(report)])

    assert rejected == 1
    assert not report_after_rejection
    assert paid == 0, capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(report.read_text(encoding="utf-8-sig"))))
    assert [(row["wallet_id"], row["status"]) for row in rows] == [(wallet, "paid")]
    assert _benefit_balance(db, wallet) == 1000
