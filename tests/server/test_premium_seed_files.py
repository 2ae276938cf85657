"""Premium lottery seeds kept in the operator's seed file: never in the database before a draw."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from settle_helpers import FakeClock
from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.exc import OperationalError
from test_premium_cli import close_applications, run, write_sale
from test_premium_draws import SALE, applications, new_resident, sale_config

from server import lottery, premium, seed_files, wallets
from server.db import Database, alembic_config, init_db
from server.errors import ServerError
from server.models import Wallet
from server.premium import RoundSeed
from server.settings import utc_now

CLI_SALE = "2026-summer"
DAY_S = 24 * 3600


def commit_and_apply(database: Database, clock: FakeClock, count: int) -> list[RoundSeed]:
    """Create and commit a sale of 10 sets, and apply for 3 sets with ``count`` residents."""
    now = clock()
    with database.write() as session:
        premium.create_sale(session, sale_config(now), now=now)
        seeds = premium.commit_seeds(session, SALE, now=now)
        for _ in range(count):
            wallet = new_resident(session, now)
            premium.apply(session, wallet, SALE, sets=3, for_wallet_id=None,
                          idempotency_key=uuid.uuid4().hex, now=now)
    return seeds


def stored_seeds(database: Database) -> dict[int, str | None]:
    """Read the seed column as anyone with database access would, bypassing the models."""
    with database.read() as session:
        rows = session.execute(text("SELECT round, seed FROM premium_draws"
                                    " ORDER BY round")).all()
    return {int(number): seed for number, seed in rows}


# --- the database before and after a draw --------------------------------------------------


def test_commit_stores_no_seed(database: Database, clock: FakeClock) -> None:
    seeds = commit_and_apply(database, clock, 1)

    assert stored_seeds(database) == {1: None, 2: None}
    with database.read() as session:
        draws = premium.draws_of(session, SALE)
    assert [draws[item.round].commitment for item in seeds] == [
        lottery.commitment(item.seed) for item in seeds]
    assert seeds[0].seed != seeds[1].seed


def test_draw_with_seed_gives_lottery_order(database: Database, clock: FakeClock) -> None:
    seeds = commit_and_apply(database, clock, 6)
    clock.advance(10 * DAY_S)
    candidate_ids = sorted(row.id for row in applications(database))

    with database.write() as session:
        premium.draw(session, SALE, 1, seed=seeds[0].seed, now=clock())
        record = premium.publish(session, SALE, 1, now=clock())

    assert record["order"] == lottery.order(seeds[0].seed, candidate_ids)
    assert record["seed"] == seeds[0].seed
    assert premium.verify_record(record) == []
    assert stored_seeds(database) == {1: seeds[0].seed, 2: None}


@pytest.mark.parametrize("case, message", [
    ("other", "does not match its commitment"),
    ("round 2", "does not match its commitment"),
    ("malformed", "is not 64 hexadecimal characters"),
    (None, "needs its seed; give the seed file that premium-commit wrote"),
])
def test_wrong_seed_leaves_round_undrawn(database: Database, clock: FakeClock,
                                         case: str | None, message: str) -> None:
    seeds = commit_and_apply(database, clock, 6)
    clock.advance(10 * DAY_S)
    seed = {"other": lottery.generate_seed(), "round 2": seeds[1].seed,
            "malformed": "zz" + seeds[0].seed[2:], None: None}[case]

    with pytest.raises(ServerError, match=message) as raised, database.write() as session:
        premium.draw(session, SALE, 1, seed=seed, now=clock())

    assert seeds[0].seed[2:] not in raised.value.message
    assert {row.status for row in applications(database)} == {"applied"}
    with database.read() as session:
        assert premium.draws_of(session, SALE)[1].drawn_at is None
    assert stored_seeds(database) == {1: None, 2: None}


# --- sales committed before seed files -----------------------------------------------------


def migrate_to(database: Database, revision: str, *, upgrade: bool) -> None:
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        if upgrade:
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)


def seed_column_nullable(database: Database) -> bool:
    with database.engine.connect() as connection:
        columns = inspect(connection).get_columns("premium_draws")
    return bool(next(column for column in columns if column["name"] == "seed")["nullable"])


def test_upgrade_keeps_seed_and_draws_without_file(database: Database, clock: FakeClock,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    seeds = commit_and_apply(database, clock, 6)
    with database.write() as session:
        for item in seeds:
            session.execute(text("UPDATE premium_draws SET seed = :seed WHERE round = :round"),
                            {"seed": item.seed, "round": item.round})
    migrate_to(database, "0012", upgrade=False)
    assert not seed_column_nullable(database)

    migrate_to(database, "head", upgrade=True)
    clock.advance(10 * DAY_S)
    with caplog.at_level(logging.WARNING, logger="server.premium"), \
            database.write() as session:
        premium.draw(session, SALE, 1, seed=None, now=clock())
        record = premium.publish(session, SALE, 1, now=clock())

    assert seed_column_nullable(database)
    assert stored_seeds(database) == {1: seeds[0].seed, 2: seeds[1].seed}
    assert record["seed"] == seeds[0].seed
    assert premium.verify_record(record) == []
    warnings = [entry.getMessage() for entry in caplog.records
                if entry.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"premium sale {SALE} round 1 is drawn with the seed stored" in warnings[0]
    assert "committed before seed files" in warnings[0]


def test_downgrade_refused_while_seed_secret(database: Database, clock: FakeClock) -> None:
    commit_and_apply(database, clock, 1)

    with pytest.raises(RuntimeError, match="draw those rounds before downgrading"):
        migrate_to(database, "0012", upgrade=False)

    assert seed_column_nullable(database)
    assert stored_seeds(database) == {1: None, 2: None}


# --- chiiki-settle premium-commit and premium-draw -----------------------------------------


@pytest.fixture
def opened_db(migrated_db_url: str) -> Iterator[Database]:
    """The CLI's database opened by the test too, to look at what the commands stored."""
    database = init_db(migrated_db_url)
    yield database
    database.dispose()


def create_sale(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                *options: str) -> None:
    status, _, err = run(capsys, "premium-create", "--db", db, "--file",
                         str(write_sale(tmp_path)), *options)
    assert status == 0, err


def apply_residents(database: Database, count: int) -> None:
    with database.write() as session:
        for _ in range(count):
            created = wallets.create_wallet(session, now=utc_now())
            wallet = session.get(Wallet, created.wallet_id)
            assert wallet is not None
            wallet.is_resident = True
            premium.apply(session, wallet, CLI_SALE, sets=1, for_wallet_id=None,
                          idempotency_key=uuid.uuid4().hex, now=utc_now())


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_cli_commit_writes_private_seed_file(migrated_db_url: str, opened_db: Database,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    create_sale(migrated_db_url, tmp_path, capsys)
    seed_file = tmp_path / "seeds.json"

    status, out, err = run(capsys, "premium-commit", "--db", migrated_db_url, CLI_SALE,
                           "--seed-file", str(seed_file))

    assert status == 0, err
    assert stat.S_IMODE(seed_file.stat().st_mode) == 0o600
    content = read_json(seed_file)
    assert content["format"] == "chiiki-premium-seeds-1"
    assert content["sale_id"] == CLI_SALE
    assert [entry["round"] for entry in content["rounds"]] == [1, 2]
    printed = [line.split()[-1] for line in out.splitlines() if line.startswith("round")]
    assert [entry["commitment"] for entry in content["rounds"]] == printed
    for entry in content["rounds"]:
        assert lottery.commitment(entry["seed"]) == entry["commitment"]
        assert entry["seed"] not in out
    assert str(seed_file) in out
    assert stored_seeds(opened_db) == {1: None, 2: None}


def test_cli_commit_never_overwrites_file(migrated_db_url: str, opened_db: Database,
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    create_sale(migrated_db_url, tmp_path, capsys)
    seed_file = tmp_path / "seeds.json"
    seed_file.write_text("seeds of another sale\n", encoding="utf-8")

    status, _, err = run(capsys, "premium-commit", "--db", migrated_db_url, CLI_SALE,
                         "--seed-file", str(seed_file))

    assert status == 1
    assert f"seed file {seed_file} already exists" in err
    assert "premium-commit never overwrites a file because it may hold the seeds of another" \
           " sale; choose a new path for --seed-file. No seeds were committed" in err
    assert seed_file.read_text(encoding="utf-8") == "seeds of another sale\n"
    with opened_db.read() as session:
        assert premium.draws_of(session, CLI_SALE) == {}
    retried = run(capsys, "premium-commit", "--db", migrated_db_url, CLI_SALE, "--seed-file",
                  str(tmp_path / "seeds-2.json"))
    assert retried[0] == 0, retried[2]


def test_cli_commit_failure_keeps_written_file(migrated_db_url: str, opened_db: Database,
                                               tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    create_sale(migrated_db_url, tmp_path, capsys)
    seed_file = tmp_path / "seeds.json"

    def fail_commit(connection: Any) -> None:
        if seed_file.exists():
            raise OperationalError("COMMIT", None, ConnectionError("connection lost"))

    event.listen(Engine, "commit", fail_commit)
    try:
        status, _, err = run(capsys, "premium-commit", "--db", migrated_db_url, CLI_SALE,
                             "--seed-file", str(seed_file))
    finally:
        event.remove(Engine, "commit", fail_commit)

    assert status == 1
    assert f"seed file {seed_file} was written, but storing the commitments failed" in err
    assert f"run chiiki-settle premium-show {CLI_SALE}" in err
    assert [entry["round"] for entry in read_json(seed_file)["rounds"]] == [1, 2]


@pytest.mark.parametrize("case, message", [
    ("other sale", "seed file {file} is for sale 2026-autumn, not 2026-summer; give the seed"
                   " file that premium-commit wrote for sale 2026-summer"),
    ("changed seed", "seed file {file}: the seed of round 1 does not match the commitment"
                     " written beside it, so the file was changed or damaged"),
    ("other commit", "the seed given for round 1 of sale 2026-summer does not match its"
                     " commitment {commitment}"),
    ("missing round", "seed file {file} has no seed for round 1 of sale 2026-summer"),
    ("no seed", "round 1 of sale 2026-summer needs its seed; give the seed file"),
])
def test_cli_draw_rejects_wrong_seed_file(migrated_db_url: str, opened_db: Database,
                                          tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          case: str, message: str) -> None:
    db = migrated_db_url
    create_sale(db, tmp_path, capsys)
    seed_file = tmp_path / "seeds.json"
    run(capsys, "premium-commit", "--db", db, CLI_SALE, "--seed-file", str(seed_file))
    apply_residents(opened_db, 3)
    seed_path = tmp_path / f"{case.replace(' ', '-')}.json"
    content = read_json(seed_file)
    if case == "other sale":
        create_sale(db, tmp_path, capsys, "--id", "2026-autumn")
        run(capsys, "premium-commit", "--db", db, "2026-autumn", "--seed-file", str(seed_path))
    elif case == "changed seed":
        content["rounds"][0]["seed"] = lottery.generate_seed()
        seed_path.write_text(json.dumps(content), encoding="utf-8")
    elif case == "other commit":
        other_db = f"sqlite:///{tmp_path / 'other.db'}"
        init_db(other_db).dispose()
        create_sale(other_db, tmp_path, capsys)
        run(capsys, "premium-commit", "--db", other_db, CLI_SALE, "--seed-file", str(seed_path))
    elif case == "missing round":
        content["rounds"] = content["rounds"][1:]
        seed_path.write_text(json.dumps(content), encoding="utf-8")
    close_applications(db)
    seed_option = [] if case == "no seed" else ["--seed-file", str(seed_path)]

    status, _, err = run(capsys, "premium-draw", "--db", db, CLI_SALE, *seed_option)

    assert status == 1
    commitment = read_json(seed_file)["rounds"][0]["commitment"]
    assert message.format(file=seed_path, commitment=commitment) in " ".join(err.split())
    with opened_db.read() as session:
        assert premium.draws_of(session, CLI_SALE)[1].drawn_at is None
    assert stored_seeds(opened_db)[1] is None
    drawn = run(capsys, "premium-draw", "--db", db, CLI_SALE, "--seed-file", str(seed_file))
    assert drawn[0] == 0, drawn[2]
    assert "3 applications, 2 sets, 2 winners with 2 sets" in drawn[1]


def test_cli_draw_publish_verify_with_file(migrated_db_url: str, opened_db: Database,
                                           tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = migrated_db_url
    create_sale(db, tmp_path, capsys)
    seed_file = tmp_path / "seeds.json"
    run(capsys, "premium-commit", "--db", db, CLI_SALE, "--seed-file", str(seed_file))
    apply_residents(opened_db, 3)
    close_applications(db)
    seed = read_json(seed_file)["rounds"][0]["seed"]

    drawn = run(capsys, "premium-draw", "--db", db, CLI_SALE, "--seed-file", str(seed_file))
    again = run(capsys, "premium-draw", "--db", db, CLI_SALE, "--seed", seed)
    published = run(capsys, "premium-publish", "--db", db, CLI_SALE)
    verified = run(capsys, "premium-verify", "--db", db, CLI_SALE)

    assert drawn[0] == 0, drawn[2]
    assert again[0] == 1
    assert "a round is drawn once" in again[2]
    record = json.loads(published[1])
    with opened_db.read() as session:
        candidate_ids = sorted(row.id for row in premium.applications_of(session, CLI_SALE))
    assert record["seed"] == seed
    assert record["order"] == lottery.order(seed, candidate_ids)
    assert verified[0] == 0, verified[2]
    assert f"verified: round 1 of sale {CLI_SALE}" in verified[1]


@pytest.mark.parametrize("case, message", [
    ("folder", "seed file {file} is a folder; give --seed-file the path of a new file."
               " No seeds were committed"),
    ("missing target", "seed file {file} is a symbolic link to {target}, which does not exist,"
                       " and premium-commit never writes through a symbolic link; choose a new"
                       " path for --seed-file. No seeds were committed"),
])
def test_cli_commit_names_what_is_at_path(migrated_db_url: str, opened_db: Database,
                                          tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          case: str, message: str) -> None:
    create_sale(migrated_db_url, tmp_path, capsys)
    seed_file = tmp_path / "seeds.json"
    target = tmp_path / "elsewhere.json"
    if case == "folder":
        seed_file.mkdir()
    else:
        seed_file.symlink_to(target)

    status, _, err = run(capsys, "premium-commit", "--db", migrated_db_url, CLI_SALE,
                         "--seed-file", str(seed_file))

    assert status == 1
    assert message.format(file=seed_file, target=target) in err
    assert "already exists" not in err
    assert not target.exists()
    with opened_db.read() as session:
        assert premium.draws_of(session, CLI_SALE) == {}


# --- the files premium-draw reads and premium-publish writes -------------------------------


def drawn_sale(db: str, opened_db: Database, tmp_path: Path,
               capsys: pytest.CaptureFixture[str]) -> Path:
    """Create, commit and draw round 1 of the sale; return its seed file."""
    create_sale(db, tmp_path, capsys)
    seed_file = tmp_path / "seeds.json"
    assert run(capsys, "premium-commit", "--db", db, CLI_SALE, "--seed-file",
               str(seed_file))[0] == 0
    apply_residents(opened_db, 3)
    close_applications(db)
    drawn = run(capsys, "premium-draw", "--db", db, CLI_SALE, "--seed-file", str(seed_file))
    assert drawn[0] == 0, drawn[2]
    return seed_file


def published_at(database: Database) -> datetime | None:
    with database.read() as session:
        return premium.draws_of(session, CLI_SALE)[1].published_at


@pytest.mark.parametrize("case", ["seed file", "link to seed file", "link to missing file"])
def test_cli_publish_never_overwrites_out(migrated_db_url: str, opened_db: Database,
                                          tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          case: str) -> None:
    db = migrated_db_url
    drawn_sale(db, opened_db, tmp_path, capsys)
    create_sale(db, tmp_path, capsys, "--id", "2026-autumn")
    other_seeds = tmp_path / "autumn-seeds.json"
    assert run(capsys, "premium-commit", "--db", db, "2026-autumn", "--seed-file",
               str(other_seeds))[0] == 0
    seeds_before = other_seeds.read_bytes()
    out = {"seed file": other_seeds, "link to seed file": tmp_path / "link.json",
           "link to missing file": tmp_path / "dangling.json"}[case]
    missing = tmp_path / "missing.json"
    if case == "link to seed file":
        out.symlink_to(other_seeds)
    elif case == "link to missing file":
        out.symlink_to(missing)

    status, printed, err = run(capsys, "premium-publish", "--db", db, CLI_SALE, "--out",
                               str(out))

    assert status == 1
    assert printed == ""
    error_text = " ".join(err.split())
    assert f"record file {out} " in error_text
    assert "choose a new path for --out. Nothing was changed" in error_text
    assert other_seeds.read_bytes() == seeds_before
    assert not missing.exists()
    assert published_at(opened_db) is None
    record_file = tmp_path / "round1.json"
    published = run(capsys, "premium-publish", "--db", db, CLI_SALE, "--out", str(record_file))
    assert published[0] == 0, published[2]
    assert read_json(record_file) == json.loads(published[1])
    assert published_at(opened_db) is not None


def test_cli_publish_names_taken_out(migrated_db_url: str, opened_db: Database,
                                     tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    db = migrated_db_url
    seed_file = drawn_sale(db, opened_db, tmp_path, capsys)
    link = tmp_path / "link.json"
    link.symlink_to(seed_file)

    over_file = run(capsys, "premium-publish", "--db", db, CLI_SALE, "--out", str(seed_file))
    over_link = run(capsys, "premium-publish", "--db", db, CLI_SALE, "--out", str(link))

    assert over_file[0] == 1
    assert (f"record file {seed_file} already exists, and premium-publish never overwrites a"
            " file because it may be a seed file or another round's record; choose a new path"
            " for --out. Nothing was changed") in " ".join(over_file[2].split())
    assert over_link[0] == 1
    assert (f"record file {link} is a symbolic link to {seed_file}, and premium-publish never"
            " writes through a symbolic link") in " ".join(over_link[2].split())
    assert [entry["round"] for entry in read_json(seed_file)["rounds"]] == [1, 2]


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def feed_fifo(path: Path) -> threading.Thread:
    """Make ``path`` a named pipe with a writer that waits for a reader and sends one line."""
    os.mkfifo(path)

    def write_line() -> None:
        try:
            with open(path, "w", encoding="utf-8") as pipe:  # blocks until a reader opens
                pipe.write("{}\n")
        except BrokenPipeError:
            pass  # the reader closed first

    writer = threading.Thread(target=write_line, daemon=True)
    writer.start()
    return writer


@pytest.mark.parametrize("case, problem", [
    ("fifo", "is not a seed file: it is a named pipe (FIFO), not a regular file"),
    ("device", "is not a seed file: it is a device, not a regular file"),
    ("folder", "is not a seed file: it is a folder, not a regular file"),
    ("too large", "is not a seed file: it is larger than 65536 bytes, while a seed file is"
                  " under 1 KiB"),
    ("nested", "is not a seed file: its JSON is nested too deeply"),
])
def test_cli_draw_rejects_non_seed_files(migrated_db_url: str, opened_db: Database,
                                         tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         case: str, problem: str) -> None:
    db = migrated_db_url
    create_sale(db, tmp_path, capsys)
    seed_file = tmp_path / "seeds.json"
    run(capsys, "premium-commit", "--db", db, CLI_SALE, "--seed-file", str(seed_file))
    apply_residents(opened_db, 3)
    close_applications(db)
    writer = None
    if case == "fifo":
        path = tmp_path / "pipe.json"
        writer = feed_fifo(path)
    elif case == "device":
        path = Path(os.devnull)
    elif case == "folder":
        path = tmp_path
    elif case == "too large":
        # A valid seed file, padded with spaces to one byte over the cap.
        text = seed_file.read_text(encoding="utf-8")
        padding = seed_files.MAX_SEED_FILE_BYTES + 1 - len(text.encode())
        path = write_bytes(tmp_path / "large.json", (text + " " * padding).encode())
    else:
        depth = 20_000  # within the size cap
        path = write_bytes(tmp_path / "nested.json", b"[" * depth + b"]" * depth)

    status, _, err = run(capsys, "premium-draw", "--db", db, CLI_SALE, "--seed-file", str(path))

    if writer is not None:
        # Open the pipe once more, so a writer still waiting for a reader can finish.
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        writer.join()
    assert status == 1
    error_text = " ".join(err.split())
    assert f"{path} {problem}; give the seed file that premium-commit wrote" in error_text
    assert "Traceback" not in err
    assert stored_seeds(opened_db)[1] is None


def test_cli_draw_accepts_byte_order_mark(migrated_db_url: str, opened_db: Database,
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    db = migrated_db_url
    create_sale(db, tmp_path, capsys)
    seed_file = tmp_path / "seeds.json"
    run(capsys, "premium-commit", "--db", db, CLI_SALE, "--seed-file", str(seed_file))
    apply_residents(opened_db, 3)
    close_applications(db)
    saved_by_notepad = write_bytes(tmp_path / "notepad.json",
                                   b"\xef\xbb\xbf" + seed_file.read_bytes())

    status, out, err = run(capsys, "premium-draw", "--db", db, CLI_SALE, "--seed-file",
                           str(saved_by_notepad))

    assert status == 0, err
    assert "3 applications, 2 sets, 2 winners with 2 sets" in out
    assert stored_seeds(opened_db)[1] == read_json(seed_file)["rounds"][0]["seed"]


@pytest.mark.parametrize("command, options, advice", [
    ("premium-draw", ["SEED", "--seed-file", "seeds.json"],
     "the sale id given looks like a seed (64 hexadecimal characters), so it is not repeated"
     " here; give the sale id, and pass a seed with --seed or the seed file's path with"
     " --seed-file"),
    ("premium-draw", [CLI_SALE, "--seed-file", "SEED"],
     "the value of --seed-file looks like a seed (64 hexadecimal characters), so it is not"
     " repeated here; pass a seed with --seed, or give --seed-file the path of the seed file"),
    ("premium-commit", [CLI_SALE, "--seed-file", "SEED"],
     "the value of --seed-file looks like a seed (64 hexadecimal characters), so it is not"
     " repeated here; give --seed-file the path of a new seed file"),
    ("premium-publish", [CLI_SALE, "--out", "SEED"],
     "the value of --out looks like a seed (64 hexadecimal characters), so it is not repeated"
     " here; give --out the path of a new record file"),
    ("premium-publish", ["SEED"],
     "the sale id given looks like a seed (64 hexadecimal characters), so it is not repeated"
     " here; give the sale id"),
])
def test_cli_rejects_seed_as_argument(
        migrated_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, command: str, options: list[str],
        advice: str) -> None:
    monkeypatch.chdir(tmp_path)
    create_sale(migrated_db_url, tmp_path, capsys)
    seed = lottery.generate_seed().upper()

    status, out, err = run(capsys, command, "--db", migrated_db_url,
                           *(seed if option == "SEED" else option for option in options))

    assert status == 1
    assert advice in " ".join(err.split())
    for text in (out, err):
        assert seed[:16] not in text.upper()
        assert seed[-16:] not in text.upper()
    assert not (tmp_path / seed).exists()
