"""Coupon prize draw seeds kept in the operator's seed file, out of the database until the draw."""

from __future__ import annotations

import json
import logging
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from settle_helpers import FakeClock, Server
from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError
from test_coupon_flows import issue, make_campaign, pay_cpm, usable_code
from test_premium_cli import run
from test_premium_seed_files import migrate_to

from server import coupon_cli, coupons, lottery, seed_files
from server.coupon_cli import PrizeSeed
from server.coupon_models import CouponPrizeDraw
from server.db import Database
from server.errors import ServerError
from server.premium import RoundSeed

CAMPAIGN = "aki"
PLACES = 2


def campaign_with_entries(server: Server, wallet_count: int) -> dict[str, int]:
    """Create campaign ``aki`` with one shop, let each wallet use its coupon once there."""
    shop = server.new_terminal()
    wallets = [server.new_wallet(2_000) for _ in range(wallet_count)]
    make_campaign(server, [shop.merchant_id])
    issue(server)
    for wallet in wallets:
        paid = pay_cpm(shop, wallet, usable_code(wallet), 500, 100)
        assert paid.status_code == 200, paid.text
    with server.state.db.read() as session:
        entries = coupons.prize_entries(session, CAMPAIGN)
    assert len(entries) == wallet_count
    return entries


def commit(server: Server, campaign_id: str = CAMPAIGN) -> PrizeSeed:
    with server.state.db.write() as session:
        return coupon_cli.commit_prize_draw(session, campaign_id, PLACES, server.clock())


def close(server: Server) -> None:
    with server.state.db.write() as session:
        coupon_cli.close_campaign(session, CAMPAIGN, server.settings)


def stored_row(database: Database) -> dict[str, Any] | None:
    """Read the draw's row as anyone with database access would, bypassing the models."""
    with database.read() as session:
        row = session.execute(text(
            "SELECT seed, commitment, winners, drawn_at FROM coupon_prize_draws"
            " WHERE campaign_id = :campaign"), {"campaign": CAMPAIGN}).mappings().one_or_none()
    return dict(row) if row is not None else None


def assert_undrawn(database: Database) -> None:
    row = stored_row(database)
    assert row is not None
    assert row["seed"] is None
    assert row["winners"] is None
    assert row["drawn_at"] is None


# --- the database before and after the draw ------------------------------------------------


def test_commit_stores_no_seed(server: Server) -> None:
    campaign_with_entries(server, 1)

    prize = commit(server)

    row = stored_row(server.state.db)
    assert row is not None
    assert row["seed"] is None
    assert row["commitment"] == lottery.commitment(prize.seed)
    assert prize.commitment == row["commitment"]
    assert (prize.campaign_id, prize.places) == (CAMPAIGN, PLACES)


def test_draw_with_seed_gives_lottery_winners(server: Server) -> None:
    entries = campaign_with_entries(server, 5)
    prize = commit(server)
    close(server)

    with server.state.db.write() as session:
        winners = coupon_cli.run_prize_draw(session, CAMPAIGN, server.clock(), seed=prize.seed)
        record = coupon_cli.publish_prize_draw(session, CAMPAIGN, server.clock())

    assert winners == lottery.draw(prize.seed, entries, PLACES)
    assert len(winners) == PLACES
    assert record["seed"] == prize.seed
    assert record["candidates"] == entries
    check = lottery.verify(record["seed"], record["commitment"], record["candidates"],
                           record["winners"])
    assert check.ok, check.problem
    row = stored_row(server.state.db)
    assert row is not None
    assert row["seed"] == prize.seed


@pytest.mark.parametrize("case, message", [
    ("other", "does not match its commitment"),
    ("malformed", "is not 64 hexadecimal characters"),
    (None, "needs its seed; give the seed file that coupon-prize-commit wrote"),
])
def test_wrong_seed_leaves_draw_undrawn(server: Server, case: str | None,
                                        message: str) -> None:
    campaign_with_entries(server, 3)
    prize = commit(server)
    close(server)
    seed = {"other": lottery.generate_seed(), "malformed": "zz" + prize.seed[2:],
            None: None}[case]

    with pytest.raises(ServerError, match=message) as raised, \
            server.state.db.write() as session:
        coupon_cli.run_prize_draw(session, CAMPAIGN, server.clock(), seed=seed)

    assert prize.seed[2:] not in raised.value.message
    assert_undrawn(server.state.db)


def test_database_rejects_drawn_row_without_seed(server: Server) -> None:
    campaign_with_entries(server, 1)
    commit(server)

    with pytest.raises(IntegrityError, match="drawn_with_seed"), \
            server.state.db.write() as session:
        session.execute(text("UPDATE coupon_prize_draws SET drawn_at = committed_at,"
                             " winners = '[]' WHERE campaign_id = :campaign"),
                        {"campaign": CAMPAIGN})

    assert_undrawn(server.state.db)


# --- draws committed before seed files -----------------------------------------------------


def seed_column_nullable(database: Database) -> bool:
    with database.engine.connect() as connection:
        columns = inspect(connection).get_columns("coupon_prize_draws")
    return bool(next(column for column in columns if column["name"] == "seed")["nullable"])


def test_upgrade_keeps_seed_and_draws_without_file(server: Server,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    entries = campaign_with_entries(server, 5)
    prize = commit(server)
    database = server.state.db
    with database.write() as session:
        session.execute(text("UPDATE coupon_prize_draws SET seed = :seed"), {"seed": prize.seed})
    migrate_to(database, "0013", upgrade=False)
    assert not seed_column_nullable(database)

    migrate_to(database, "head", upgrade=True)
    close(server)
    with caplog.at_level(logging.WARNING, logger="server.coupon_cli"), \
            database.write() as session:
        winners = coupon_cli.run_prize_draw(session, CAMPAIGN, server.clock(), seed=None)
        record = coupon_cli.publish_prize_draw(session, CAMPAIGN, server.clock())

    assert seed_column_nullable(database)
    assert winners == lottery.draw(prize.seed, entries, PLACES)
    assert record["seed"] == prize.seed
    check = lottery.verify(record["seed"], record["commitment"], record["candidates"], winners)
    assert check.ok, check.problem
    warnings = [entry.getMessage() for entry in caplog.records
                if entry.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert f"prize draw of coupon campaign {CAMPAIGN} is drawn with the seed stored" \
           in warnings[0]
    assert "committed before seed files" in warnings[0]
    assert prize.seed not in warnings[0]


def test_downgrade_refused_while_seed_secret(server: Server) -> None:
    campaign_with_entries(server, 1)
    commit(server)

    with pytest.raises(RuntimeError, match="draw them before downgrading"):
        migrate_to(server.state.db, "0013", upgrade=False)

    assert seed_column_nullable(server.state.db)
    assert_undrawn(server.state.db)


# --- chiiki-settle coupon-prize-commit and coupon-prize-draw -------------------------------


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def cli_commit(capsys: pytest.CaptureFixture[str], db: str, seed_file: Path,
               campaign_id: str = CAMPAIGN) -> tuple[int, str, str]:
    return run(capsys, "coupon-prize-commit", "--db", db, "--campaign", campaign_id,
               "--places", str(PLACES), "--seed-file", str(seed_file))


def test_cli_commit_writes_private_seed_file(server: Server, migrated_db_url: str,
                                             tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    campaign_with_entries(server, 1)
    seed_file = tmp_path / "prize-seed.json"

    status, out, err = cli_commit(capsys, migrated_db_url, seed_file)

    assert status == 0, err
    assert stat.S_IMODE(seed_file.stat().st_mode) == 0o600
    content = read_json(seed_file)
    assert content["format"] == "chiiki-coupon-prize-seed-1"
    assert content["campaign_id"] == CAMPAIGN
    assert content["places"] == PLACES
    assert lottery.commitment(content["seed"]) == content["commitment"]
    assert f"commitment {content['commitment']};" in out
    assert content["seed"] not in out
    assert str(seed_file) in out
    row = stored_row(server.state.db)
    assert row is not None
    assert row["seed"] is None
    assert row["commitment"] == content["commitment"]


def test_cli_commit_never_overwrites_file(server: Server, migrated_db_url: str,
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    campaign_with_entries(server, 1)
    seed_file = tmp_path / "prize-seed.json"
    seed_file.write_text("seeds of another campaign\n", encoding="utf-8")

    status, _, err = cli_commit(capsys, migrated_db_url, seed_file)

    assert status == 1
    assert f"seed file {seed_file} already exists" in err
    assert "coupon-prize-commit never overwrites a file because it may hold the seeds of" \
           " another campaign; choose a new path for --seed-file. No seeds were committed" \
           in " ".join(err.split())
    assert seed_file.read_text(encoding="utf-8") == "seeds of another campaign\n"
    assert stored_row(server.state.db) is None
    retried = cli_commit(capsys, migrated_db_url, tmp_path / "prize-seed-2.json")
    assert retried[0] == 0, retried[2]


def test_cli_commit_failure_keeps_written_file(server: Server, migrated_db_url: str,
                                               tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    campaign_with_entries(server, 1)
    seed_file = tmp_path / "prize-seed.json"

    def fail_commit(connection: Any) -> None:
        if seed_file.exists():
            raise OperationalError("COMMIT", None, ConnectionError("connection lost"))

    event.listen(Engine, "commit", fail_commit)
    try:
        status, _, err = cli_commit(capsys, migrated_db_url, seed_file)
    finally:
        event.remove(Engine, "commit", fail_commit)

    assert status == 1
    error_text = " ".join(err.split())
    assert f"seed file {seed_file} was written, but storing the commitments failed" in error_text
    assert f"run chiiki-settle coupon-prize-commit --campaign {CAMPAIGN} again with a new" \
           " --seed-file" in error_text
    assert lottery.commitment(read_json(seed_file)["seed"]) == read_json(seed_file)["commitment"]
    assert stored_row(server.state.db) is None
    retried = cli_commit(capsys, migrated_db_url, tmp_path / "prize-seed-2.json")
    assert retried[0] == 0, retried[2]


def write_wrong_file(case: str, path: Path, server: Server, content: dict[str, Any],
                     capsys: pytest.CaptureFixture[str], db: str) -> None:
    """Write a seed file that must not draw campaign ``aki``'s prizes."""
    committed_at = server.clock()
    if case == "other campaign":
        make_campaign(server, [server.new_terminal().merchant_id], id="haru")
        assert cli_commit(capsys, db, path, "haru")[0] == 0
    elif case == "premium file":
        seed = lottery.generate_seed()
        seed_files.write_premium_seeds(path, CAMPAIGN, [RoundSeed(1, seed,
                                                                  lottery.commitment(seed))],
                                       committed_at=committed_at)
    elif case == "changed seed":
        path.write_text(json.dumps({**content, "seed": lottery.generate_seed()}),
                        encoding="utf-8")
    elif case == "changed places":
        path.write_text(json.dumps({**content, "places": PLACES + 1}), encoding="utf-8")
    elif case == "no places":
        path.write_text(json.dumps({**content, "places": "2"}), encoding="utf-8")
    elif case == "other commit":
        seed = lottery.generate_seed()
        seed_files.write_prize_seed(path, CAMPAIGN, places=PLACES, seed=seed,
                                    commitment=lottery.commitment(seed),
                                    committed_at=committed_at)


@pytest.mark.parametrize("case, options, message", [
    ("other campaign", ["--seed-file", "{file}"],
     "seed file {file} is for campaign haru, not aki; give the seed file that"
     " coupon-prize-commit wrote for campaign aki"),
    ("premium file", ["--seed-file", "{file}"],
     "seed file {file} is the seed file of a premium sale, not of a coupon prize draw; give"
     " the seed file that coupon-prize-commit wrote"),
    ("changed seed", ["--seed-file", "{file}"],
     "seed file {file}: the seed of the prize draw does not match the commitment written"
     " beside it, so the file was changed or damaged"),
    ("other commit", ["--seed-file", "{file}"],
     "the seed given for the prize draw of campaign aki does not match its commitment"
     " {commitment}"),
    ("changed places", ["--seed-file", "{file}"],
     "the seed file gives 3 places, but the prize draw of campaign aki was committed with 2,"
     " so the file was changed; use an unchanged copy of the file that coupon-prize-commit"
     " wrote. Nothing was drawn"),
    ("no places", ["--seed-file", "{file}"],
     "seed file {file}: places is missing or not a whole number of at least 1, so the file"
     " was changed or damaged"),
    ("missing file", ["--seed-file", "{file}"],
     "seed file {file} cannot be read: No such file or directory"),
    ("other seed", ["--seed", "{other_seed}"],
     "the seed given for the prize draw of campaign aki does not match its commitment"
     " {commitment}"),
    ("no seed", [],
     "the prize draw of campaign aki needs its seed; give the seed file that"
     " coupon-prize-commit wrote for this campaign (coupon-prize-draw --campaign aki"
     " --seed-file FILE)"),
])
def test_cli_draw_rejects_wrong_seed_file(server: Server, migrated_db_url: str,
                                          tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          case: str, options: list[str],
                                          message: str) -> None:
    db = migrated_db_url
    entries = campaign_with_entries(server, 5)
    seed_file = tmp_path / "prize-seed.json"
    assert cli_commit(capsys, db, seed_file)[0] == 0
    content = read_json(seed_file)
    wrong_file = tmp_path / f"{case.replace(' ', '-')}.json"
    write_wrong_file(case, wrong_file, server, content, capsys, db)
    close(server)
    values = {"file": wrong_file, "commitment": content["commitment"],
              "other_seed": lottery.generate_seed()}

    status, _, err = run(capsys, "coupon-prize-draw", "--db", db, "--campaign", CAMPAIGN,
                         *(option.format(**values) for option in options))

    assert status == 1
    error_text = " ".join(err.split())
    assert message.format(**values) in error_text
    assert content["seed"] not in err
    assert_undrawn(server.state.db)
    drawn = run(capsys, "coupon-prize-draw", "--db", db, "--campaign", CAMPAIGN,
                "--seed-file", str(seed_file))
    assert drawn[0] == 0, drawn[2]
    assert drawn[1].splitlines()[1:] == [
        f"{place}\t{wallet_id}"
        for place, wallet_id in enumerate(lottery.draw(content["seed"], entries, PLACES), 1)]


def test_cli_draw_publish_verify_with_file(server: Server, migrated_db_url: str,
                                           tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = migrated_db_url
    entries = campaign_with_entries(server, 5)
    seed_file = tmp_path / "prize-seed.json"
    assert cli_commit(capsys, db, seed_file)[0] == 0
    close(server)
    content = read_json(seed_file)
    out_file = tmp_path / "draw.json"

    drawn = run(capsys, "coupon-prize-draw", "--db", db, "--campaign", CAMPAIGN,
                "--seed-file", str(seed_file))
    again = run(capsys, "coupon-prize-draw", "--db", db, "--campaign", CAMPAIGN,
                "--seed", content["seed"])
    published = run(capsys, "coupon-prize-publish", "--db", db, "--campaign", CAMPAIGN,
                    "--out", str(out_file))

    assert drawn[0] == 0, drawn[2]
    assert drawn[1].startswith(f"{PLACES} winners of campaign {CAMPAIGN}:")
    assert again[0] == 1
    assert f"the prize draw of campaign {CAMPAIGN} was drawn at" in again[2]
    assert published[0] == 0, published[2]
    record = read_json(out_file)
    assert record["seed"] == content["seed"]
    assert record["commitment"] == content["commitment"]
    assert record["candidates"] == entries
    assert record["winners"] == lottery.draw(content["seed"], entries, PLACES)
    check = lottery.verify(record["seed"], record["commitment"], record["candidates"],
                           record["winners"])
    assert check.ok, check.problem
    with server.state.db.read() as session:
        row = session.get(CouponPrizeDraw, CAMPAIGN)
        assert row is not None
        assert row.seed == content["seed"]


def drawn_prize(server: Server, db: str, tmp_path: Path,
                capsys: pytest.CaptureFixture[str]) -> Path:
    """Commit, close and draw campaign ``aki``'s prize draw; return its seed file."""
    campaign_with_entries(server, 3)
    seed_file = tmp_path / "prize-seed.json"
    assert cli_commit(capsys, db, seed_file)[0] == 0
    close(server)
    drawn = run(capsys, "coupon-prize-draw", "--db", db, "--campaign", CAMPAIGN,
                "--seed-file", str(seed_file))
    assert drawn[0] == 0, drawn[2]
    return seed_file


def published_at(database: Database) -> datetime | None:
    with database.read() as session:
        row = session.get(CouponPrizeDraw, CAMPAIGN)
        assert row is not None
        return row.published_at


@pytest.mark.parametrize("case, message", [
    ("seed file", "record file {out} already exists, and coupon-prize-publish never overwrites"
                  " a file because it may be a seed file or another draw's record; choose a"
                  " new path for --out. Nothing was changed"),
    ("link to seed file", "record file {out} is a symbolic link to {seed_file}, and"
                          " coupon-prize-publish never writes through a symbolic link; choose"
                          " a new path for --out. Nothing was changed"),
    ("link to missing file", "record file {out} is a symbolic link to {missing}, which does"
                             " not exist, and coupon-prize-publish never writes through a"
                             " symbolic link"),
])
def test_cli_publish_never_overwrites_out(server: Server, migrated_db_url: str,
                                          tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          case: str, message: str) -> None:
    db = migrated_db_url
    seed_file = drawn_prize(server, db, tmp_path, capsys)
    seed_before = seed_file.read_bytes()
    out = {"seed file": seed_file, "link to seed file": tmp_path / "link.json",
           "link to missing file": tmp_path / "dangling.json"}[case]
    missing = tmp_path / "missing.json"
    if case == "link to seed file":
        out.symlink_to(seed_file)
    elif case == "link to missing file":
        out.symlink_to(missing)

    status, _, err = run(capsys, "coupon-prize-publish", "--db", db, "--campaign", CAMPAIGN,
                         "--out", str(out))

    assert status == 1
    assert message.format(out=out, seed_file=seed_file, missing=missing) \
        in " ".join(err.split())
    assert seed_file.read_bytes() == seed_before
    assert not missing.exists()
    assert published_at(server.state.db) is None
    record_file = tmp_path / "draw.json"
    published = run(capsys, "coupon-prize-publish", "--db", db, "--campaign", CAMPAIGN,
                    "--out", str(record_file))
    assert published[0] == 0, published[2]
    assert read_json(record_file)["seed"] == read_json(seed_file)["seed"]
    assert published_at(server.state.db) is not None


def test_cli_publish_before_draw_names_seed_file(server: Server, migrated_db_url: str,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    campaign_with_entries(server, 1)
    assert cli_commit(capsys, migrated_db_url, tmp_path / "prize-seed.json")[0] == 0
    out = tmp_path / "draw.json"

    status, _, err = run(capsys, "coupon-prize-publish", "--db", migrated_db_url,
                         "--campaign", CAMPAIGN, "--out", str(out))

    assert status == 1
    assert (f"run chiiki-settle coupon-prize-draw --campaign {CAMPAIGN} --seed-file FILE first,"
            " with the seed file that coupon-prize-commit wrote") in " ".join(err.split())
    assert not out.exists()


@pytest.mark.parametrize("command, options, advice", [
    ("coupon-prize-draw", ["--campaign", "SEED", "--seed-file", "prize-seed.json"],
     "the value of --campaign looks like a seed (64 hexadecimal characters), so it is not"
     " repeated here; give --campaign the campaign id, and pass a seed with --seed or the"
     " seed file's path with --seed-file"),
    ("coupon-prize-draw", ["--campaign", CAMPAIGN, "--seed-file", "SEED"],
     "the value of --seed-file looks like a seed (64 hexadecimal characters), so it is not"
     " repeated here; pass a seed with --seed, or give --seed-file the path of the seed file"),
    ("coupon-prize-commit", ["--campaign", CAMPAIGN, "--places", "2", "--seed-file", "SEED"],
     "the value of --seed-file looks like a seed (64 hexadecimal characters), so it is not"
     " repeated here; give --seed-file the path of a new seed file"),
    ("coupon-prize-publish", ["--campaign", "SEED", "--out", "draw.json"],
     "the value of --campaign looks like a seed (64 hexadecimal characters), so it is not"
     " repeated here; give --campaign the campaign id"),
    ("coupon-prize-publish", ["--campaign", CAMPAIGN, "--out", "SEED"],
     "the value of --out looks like a seed (64 hexadecimal characters), so it is not repeated"
     " here; give --out the path of a new record file"),
])
def test_cli_rejects_seed_as_argument(
        server: Server, migrated_db_url: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str,
        options: list[str], advice: str) -> None:
    monkeypatch.chdir(tmp_path)
    campaign_with_entries(server, 1)
    seed = lottery.generate_seed()

    status, out, err = run(capsys, command, "--db", migrated_db_url,
                           *(seed if option == "SEED" else option for option in options))

    assert status == 1
    assert advice in " ".join(err.split())
    for text in (out, err):
        assert seed[:16] not in text
        assert seed[-16:] not in text
    assert not (tmp_path / seed).exists()
    assert stored_row(server.state.db) is None


# --- one seed file module for both kinds ---------------------------------------------------


def test_premium_seed_file_layout_still_reads(tmp_path: Path) -> None:
    seeds = [lottery.generate_seed() for _ in range(2)]
    path = tmp_path / "2026-summer-seeds.json"
    path.write_text(json.dumps({
        "format": "chiiki-premium-seeds-1",
        "sale_id": "2026-summer",
        "committed_at": "2026-06-20T01:00:00+00:00",
        "rounds": [{"round": number, "seed": seed, "commitment": lottery.commitment(seed)}
                   for number, seed in enumerate(seeds, 1)],
    }, indent=2), encoding="utf-8")

    assert seed_files.read_premium_seed(path, "2026-summer", 1) == seeds[0]
    assert seed_files.read_premium_seed(path, "2026-summer", 2) == seeds[1]


def test_prize_seed_file_rejected_by_premium_draw(tmp_path: Path) -> None:
    seed = lottery.generate_seed()
    path = tmp_path / "aki-prize-seed.json"
    seed_files.write_prize_seed(path, "aki", places=PLACES, seed=seed,
                                commitment=lottery.commitment(seed),
                                committed_at=FakeClock()())

    with pytest.raises(ServerError) as raised:
        seed_files.read_premium_seed(path, "aki", 1)

    assert raised.value.message == (
        f"seed file {path} is the seed file of a coupon prize draw, not of a premium sale;"
        " give the seed file that premium-commit wrote")
