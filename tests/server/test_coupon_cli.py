"""chiiki-settle coupon commands: campaigns from TOML or options, issuing, closing, prizes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from settle_helpers import cli_db
from sqlalchemy import select

from server import cli, coupon_cli, ledger, lottery
from server.coupon_models import CouponCampaign
from server.db import init_db
from server.errors import ServerError
from server.models import Transfer
from server.wallets import create_wallet
from server.settings import utc_now

_MERCHANT_ARGS = ["--name-ascii", "KITAKATA RAMEN", "--city-ascii", "KITAKATA", "--address",
                  "福島県喜多方市1-1", "--invoice-number", "T7000012050002"]


def _merchant(db: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["create-merchant", "--db", db, "--name", "喜多方ラーメン",
                     *_MERCHANT_ARGS]) == 0
    return capsys.readouterr().out.strip()


def _wallets(db: str, count: int) -> None:
    database = init_db(db)
    with database.write() as session:
        for _ in range(count):
            create_wallet(session, now=utc_now())
    database.dispose()


def _toml(path: Path, shop: str, **extra: str) -> Path:
    lines = [
        'id = "kitakata"', 'title = "ラーメン100円引き"', 'issuer_name = "喜多方市商工会"',
        "discount_yen = 100", "minimum_spend_yen = 800", 'starts = "2026-01-01"',
        'ends = "2099-01-01"', "budget_yen = 250", f'shops = ["{shop}"]',
        *(f"{key} = {value}" for key, value in extra.items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_campaign_from_toml_issues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = cli_db(tmp_path)
    shop = _merchant(db, capsys)
    _wallets(db, 3)
    spec = _toml(tmp_path / "campaign.toml", shop)

    created = cli.main(["coupon-campaign-create", "--db", db, "--file", str(spec)])
    created_out = capsys.readouterr().out
    issued = cli.main(["coupon-issue", "--db", db, "--campaign", "kitakata"])
    issued_out = capsys.readouterr().out
    listed = cli.main(["coupon-campaigns", "--db", db])
    listed_out = capsys.readouterr().out

    assert (created, issued, listed) == (0, 0, 0)
    assert "coupon campaign kitakata created: 1 shops, budget 250 yen" in created_out
    assert "2 coupons issued, 0 wallets already hold one, 0 wallets outside the audience," \
           " 1 left out for lack of budget" in issued_out
    assert "kitakata\t喜多方市商工会\t100yen\t250\t200\t2\t0\topen" in listed_out


def test_cli_campaign_from_options_with_audience(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = cli_db(tmp_path)
    shop = _merchant(db, capsys)

    status = cli.main([
        "coupon-campaign-create", "--db", db, "--id", "aki", "--title", "秋の10%引き",
        "--issuer-name", "運営", "--discount-percent", "10", "--max-discount-yen", "500",
        "--starts", "2026-01-01", "--ends", "2099-01-01T00:00+09:00", "--budget-yen", "5000",
        "--shop", shop, "--resident", "yes", "--attribute", "area=wakamatsu,tobata",
    ])

    assert status == 0
    database = init_db(db)
    with database.read() as session:
        row = session.get(CouponCampaign, "aki")
        assert row is not None
        assert row.audience_resident is True
        assert row.audience_attributes == {"area": ["tobata", "wakamatsu"]}
        assert row.max_discount_yen == 500
    database.dispose()


@pytest.mark.parametrize(("change", "message"), [
    ({"id": "Aki 2026"}, "id 'Aki 2026' must be 1 to 24 of a-z"),
    ({"discount_percent": 10}, "give exactly one of discount_yen and discount_percent"),
    ({"title": "あ" * 11}, "at most 30 bytes of UTF-8"),
    ({"budget_yen": 50}, "budget_yen 50 is less than one coupon's largest discount"),
    ({"ends": "2025-01-01"}, "must be after starts"),
    ({"starts": "April"}, "is not a date (2026-10-01)"),
    ({"shops": []}, "shops must list at least one merchant id"),
    ({"colour": "red"}, "unknown key 'colour'"),
])
def test_cli_spec_rejects_bad_values(change: dict[str, object], message: str) -> None:
    values: dict[str, object] = {
        "id": "aki", "title": "秋", "issuer_name": "運営", "discount_yen": 100,
        "starts": "2026-01-01", "ends": "2027-01-01", "budget_yen": 1000, "shops": ["m_x"],
    }
    values.update(change)

    with pytest.raises(ServerError) as caught:
        coupon_cli.parse_spec(values, "campaign.toml")

    assert message in caught.value.message
    assert caught.value.message.startswith("campaign.toml: ")


def test_cli_percent_needs_cap() -> None:
    values = {"id": "aki", "title": "秋", "issuer_name": "運営", "discount_percent": 10,
              "starts": "2026-01-01", "ends": "2027-01-01", "budget_yen": 1000,
              "shops": ["m_x"]}

    with pytest.raises(ServerError, match="needs max_discount_yen"):
        coupon_cli.parse_spec(values, "options")


def test_cli_unknown_shop_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)
    spec = _toml(tmp_path / "campaign.toml", "m_missing")

    status = cli.main(["coupon-campaign-create", "--db", db, "--file", str(spec)])

    assert status == 1
    assert "shop m_missing is not a merchant; check the shops list" in capsys.readouterr().err


def test_cli_rejects_campaign_already_ended(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = cli_db(tmp_path)
    shop = _merchant(db, capsys)
    spec = _toml(tmp_path / "campaign.toml", shop)
    spec.write_text(spec.read_text(encoding="utf-8").replace("2099-01-01", "2001-01-01"),
                    encoding="utf-8")
    spec.write_text(spec.read_text(encoding="utf-8").replace("2026-01-01", "2000-01-01"),
                    encoding="utf-8")

    status = cli.main(["coupon-campaign-create", "--db", db, "--file", str(spec)])

    assert status == 1
    error = capsys.readouterr().err
    assert "coupon campaign kitakata ends at 2001-01-01 00:00 JST, which is not in the" \
           " future" in error
    assert "give ends a later date" in error
    database = init_db(db)
    with database.read() as session:
        assert session.scalars(select(CouponCampaign)).all() == []
        assert session.scalars(select(Transfer)).all() == []
        ledger.verify_ledger(session)
    database.dispose()


def test_cli_prize_draw_publishes_verifiable_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = cli_db(tmp_path)
    shop = _merchant(db, capsys)
    cli.main(["coupon-campaign-create", "--db", db, "--file",
              str(_toml(tmp_path / "c.toml", shop))])
    out_file = tmp_path / "draw.json"
    seed_file = tmp_path / "seed.json"

    steps = [
        ["coupon-prize-commit", "--db", db, "--campaign", "kitakata", "--places", "1",
         "--seed-file", str(seed_file)],
        ["coupon-campaign-close", "--db", db, "--campaign", "kitakata"],
        ["coupon-prize-draw", "--db", db, "--campaign", "kitakata", "--seed-file",
         str(seed_file)],
        ["coupon-prize-publish", "--db", db, "--campaign", "kitakata", "--out", str(out_file)],
    ]
    statuses = [cli.main(step) for step in steps]

    assert statuses == [0, 0, 0, 0]
    record = json.loads(out_file.read_text(encoding="utf-8"))
    assert record["seed"] == json.loads(seed_file.read_text(encoding="utf-8"))["seed"]
    assert lottery.check_commitment(record["seed"], record["commitment"])
    assert record["candidates"] == {}
    assert record["winners"] == []
    assert "250 yen of its budget returned" in capsys.readouterr().out
