"""chiiki-settle premium-* commands: create, list, show, commit, draw, publish, verify, report."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from settle_helpers import cli_db

from server import cli, ledger, lottery, premium, premium_cli, wallets
from server.db import init_db
from server.models import Wallet
from server.settings import utc_now

SALE_TOML = """
id = "2026-summer"
name = "若松プレミアム商品券"
apply_from = {apply_from}
apply_until = {apply_until}
purchase_from = {purchase_from}
purchase_until = {purchase_until}
usage_until = 2099-12-31T15:00:00Z
price_yen = 10000
local_yen = 6250
all_yen = 6250
total_sets = 2
per_person_max_sets = 2
household_max_people = 4
household_max_sets = 8
"""


def write_sale(tmp_path: Path, open_now: bool = True) -> Path:
    """Write a sale TOML whose application period is open now, or already closed."""
    now = utc_now()
    start = now - timedelta(days=1)
    end = now + timedelta(days=1) if open_now else now - timedelta(hours=1)
    text = SALE_TOML.format(
        apply_from=start.isoformat(), apply_until=end.isoformat(),
        purchase_from=(now + timedelta(days=2)).isoformat(),
        purchase_until=(now + timedelta(days=3)).isoformat())
    path = tmp_path / "sale.toml"
    path.write_text(text, encoding="utf-8")
    return path


def close_applications(db: str) -> None:
    """Move the sale's application period into the past, as if it had run its course."""
    database = init_db(db)
    with database.write() as session:
        premium.get_sale(session, "2026-summer").apply_until = utc_now() - timedelta(seconds=1)
    database.dispose()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_create_from_toml_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)

    status, out, _ = run(capsys, "premium-create", "--db", db, "--file", str(write_sale(tmp_path)))
    listed = run(capsys, "premium-sales", "--db", db)

    assert status == 0
    assert "premium sale 2026-summer created" in out
    lines = listed[1].splitlines()
    assert lines[0].startswith("sale_id\tphase")
    assert lines[1].startswith("2026-summer\tapplications\t2\t10000\t6250\t6250")


def test_options_override_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)

    status, _, err = run(capsys, "premium-create", "--db", db, "--file",
                         str(write_sale(tmp_path)), "--id", "autumn", "--total-sets", "50")

    assert status == 0, err
    database = init_db(db)
    with database.read() as session:
        sale = premium.get_sale(session, "autumn")
    database.dispose()
    assert sale.total_sets == 50


@pytest.mark.parametrize("change, message", [
    ({"total_sets": "many"}, 'total_sets = "many" is invalid; write a whole number'),
    ({"apply_from": "tomorrow"}, 'apply_from = "tomorrow" is invalid; write an ISO 8601'),
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"price_yen": 20000}, "local_yen + all_yen = 12500 yen is less than price_yen 20000"),
])
def test_bad_sale_file_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                change: dict[str, object], message: str) -> None:
    db = cli_db(tmp_path)
    path = write_sale(tmp_path)
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.split(" = ")[0] not in change]
    lines += [f"{key} = {json.dumps(value)}" for key, value in change.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    status, _, err = run(capsys, "premium-create", "--db", db, "--file", str(path))

    assert status == 1
    assert message in err


def test_missing_keys_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)

    status, _, err = run(capsys, "premium-create", "--db", db, "--id", "x", "--name", "x")

    assert status == 1
    assert "the sale is missing apply_from, apply_until" in err


def test_naive_time_is_japan_time() -> None:
    moment = premium_cli._time("apply_from", "2026-07-01T09:00:00")

    assert moment.utcoffset() == timedelta(hours=9)


def test_full_draw_cycle_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)
    run(capsys, "premium-create", "--db", db, "--file", str(write_sale(tmp_path)))
    seed_file = tmp_path / "seeds.json"
    status, out, _ = run(capsys, "premium-commit", "--db", db, "2026-summer", "--seed-file",
                         str(seed_file))
    assert status == 0
    commitments = [line.split()[-1] for line in out.splitlines() if line.startswith("round")]
    assert len(commitments) == 2
    database = init_db(db)
    with database.write() as session:
        for _ in range(3):
            created = wallets.create_wallet(session, now=utc_now())
            wallet = session.get(Wallet, created.wallet_id)
            assert wallet is not None
            wallet.is_resident = True
            premium.apply(session, wallet, "2026-summer", sets=1, for_wallet_id=None,
                          idempotency_key=uuid.uuid4().hex, now=utc_now())
    database.dispose()
    close_applications(db)

    drawn = run(capsys, "premium-draw", "--db", db, "2026-summer", "--seed-file",
                str(seed_file))
    record_path = tmp_path / "round1.json"
    published = run(capsys, "premium-publish", "--db", db, "2026-summer", "--out",
                    str(record_path))
    verified = run(capsys, "premium-verify", "--db", db, "2026-summer")
    from_file = run(capsys, "premium-verify", "--db", db, "--file", str(record_path))
    shown = run(capsys, "premium-show", "--db", db, "2026-summer", "--applications")
    report = run(capsys, "premium-report", "--db", db, "2026-summer")

    assert "3 applications, 2 sets, 2 winners with 2 sets" in drawn[1]
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert record["commitment"] == commitments[0]
    assert json.loads(published[1]) == record
    assert verified[0] == 0
    assert "verified: round 1 of sale 2026-summer" in verified[1]
    assert from_file[0] == 0
    assert shown[1].count("\twon\t") == 2
    assert shown[1].count("\tlost\t") == 1
    assert "\tround_won\tsets_won\tdraw_round\tdraw_position" in shown[1]
    lost = next(line for line in shown[1].splitlines() if "\tlost\t" in line)
    assert lost.split("\t")[-5:-1] == ["lost", "", "0", "1"]
    assert lost.split("\t")[-1] in ("1", "2", "3")
    assert "won, not bought: 2 applications, 2 sets" in report[1]
    assert "lost: 1 applications, 1 sets" in report[1]


def test_module_verifies_records_offline(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    seed = "ab" * 32
    ids = [f"pa_{n}" for n in range(5)]
    candidates = [{"id": application_id, "sets": 1} for application_id in ids]
    order = lottery.order(seed, ids)
    record = {"sale_id": "s", "round": 1, "commitment": lottery.commitment(seed),
              "seed": seed, "supply_sets": 2, "candidates": candidates, "order": order,
              "winners": {order[0]: 1, order[1]: 1}}
    good = tmp_path / "good.json"
    good.write_text(json.dumps(record), encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dict(record, supply_sets=3)), encoding="utf-8")

    assert premium_cli.main([str(good)]) == 0
    assert premium_cli.main([str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{good}: verified" in out
    assert f"{bad}: the winners differ" in out


def test_commit_after_applications_close(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)
    run(capsys, "premium-create", "--db", db, "--file", str(write_sale(tmp_path)))
    close_applications(db)

    status, _, err = run(capsys, "premium-commit", "--db", db, "2026-summer", "--seed-file",
                         str(tmp_path / "seeds.json"))

    assert status == 1
    assert "must be committed before its application period ends" in err
    assert not (tmp_path / "seeds.json").exists()


def test_unknown_sale_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)

    status, _, err = run(capsys, "premium-show", "--db", db, "nope")

    assert status == 1
    assert "premium sale nope does not exist" in err


def test_report_counts_money(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)
    run(capsys, "premium-create", "--db", db, "--file", str(write_sale(tmp_path)))

    status, out, _ = run(capsys, "premium-report", "--db", db, "2026-summer")

    assert status == 0
    assert "revenue account premium-revenue:2026-summer: 0 yen" in out
    database = init_db(db)
    with database.read() as session:
        assert ledger.audit_ledger(session).problems == []
    database.dispose()


def test_create_after_applications_closed_rejected(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)

    status, out, err = run(capsys, "premium-create", "--db", db, "--file",
                           str(write_sale(tmp_path, False)))
    listed = run(capsys, "premium-sales", "--db", db)

    assert status == 1
    assert out == ""
    assert "apply_until" in err
    assert "is not in the future" in err
    assert listed[1].startswith("no premium sales")


@pytest.mark.parametrize("line, message", [
    ("apply_from = 2027-07-01",
     "apply_from = 2027-07-01 is invalid; write a date and time such as"),
    ("price_yen = true", "price_yen = true is invalid; write a whole number without quotes"),
    ('price_yen = "10000"', 'price_yen = "10000" is invalid; write a whole number'),
    ("price_yen = -5", "price_yen -5 is out of range; use 1 to 1000000 yen"),
    ('residents_only = "no"', 'residents_only = "no" is invalid; write true or false'),
])
def test_sale_values_shown_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      line: str, message: str) -> None:
    db = cli_db(tmp_path)
    path = write_sale(tmp_path)
    key = line.split(" = ")[0]
    kept = [text for text in path.read_text(encoding="utf-8").splitlines()
            if text.split(" = ")[0] != key]
    path.write_text("\n".join([*kept, line]) + "\n", encoding="utf-8")

    status, _, err = run(capsys, "premium-create", "--db", db, "--file", str(path))

    assert status == 1
    assert message in err
    assert "datetime.date" not in err
    assert "True" not in err
    assert "must be at least" not in err


def test_verify_before_draw_explained(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)
    run(capsys, "premium-create", "--db", db, "--file", str(write_sale(tmp_path)))
    run(capsys, "premium-commit", "--db", db, "2026-summer", "--seed-file",
        str(tmp_path / "seeds.json"))

    status, _, err = run(capsys, "premium-verify", "--db", db, "2026-summer")

    assert status == 1
    assert "round 1 of sale 2026-summer has not been drawn yet" in err
    assert "TypeError" not in err
