"""Operator import of residency, households and free attributes from a CSV file."""

from __future__ import annotations

from pathlib import Path

import pytest
from settle_helpers import FakeClock, cli_db

from server import cli, wallet_attributes, wallets
from server.db import Database, init_db
from server.errors import ServerError
from server.models import Wallet


def new_wallets(database: Database, clock: FakeClock, count: int) -> list[str]:
    with database.write() as session:
        return [wallets.create_wallet(session, now=clock()).wallet_id for _ in range(count)]


def import_text(database: Database, clock: FakeClock, text: str) -> wallet_attributes.ImportSummary:
    with database.write() as session:
        return wallet_attributes.import_attributes(session, text.encode(), source="city.csv",
                                                   now=clock())


def wallet_row(database: Database, wallet_id: str) -> Wallet:
    with database.read() as session:
        row = session.get(Wallet, wallet_id)
    assert row is not None
    return row


def test_import_sets_residency_household_attributes(database: Database,
                                                    clock: FakeClock) -> None:
    first, second = new_wallets(database, clock, 2)
    text = ("\ufeffwallet_id,resident,household_id,area,age_band\r\n"
            f"{first},1,H-0001,wakamatsu,60s\r\n"
            f"{second},no,,tobata,\r\n")

    summary = import_text(database, clock, text)

    assert summary == wallet_attributes.ImportSummary(wallets=2, residents=1, households=1)
    row = wallet_row(database, first)
    assert row.is_resident is True
    assert row.household_id == "H-0001"
    assert row.attributes == {"area": "wakamatsu", "age_band": "60s"}
    other = wallet_row(database, second)
    assert other.is_resident is False
    assert other.household_id is None
    assert other.attributes == {"area": "tobata"}


def test_import_replaces_earlier_values(database: Database, clock: FakeClock) -> None:
    (wallet_id,) = new_wallets(database, clock, 1)
    import_text(database, clock, f"wallet_id,resident,household_id,area\n{wallet_id},1,H-1,a\n")

    import_text(database, clock, f"wallet_id,resident,household_id\n{wallet_id},0,\n")

    row = wallet_row(database, wallet_id)
    assert row.is_resident is False
    assert row.household_id is None
    assert row.attributes == {}


def test_bad_file_changes_nothing_and_names_lines(database: Database,
                                                   clock: FakeClock) -> None:
    good, duplicate = new_wallets(database, clock, 2)
    text = ("wallet_id,resident,household_id,area\n"
            f"{good},1,H-1,north\n"
            f"{duplicate},maybe,H-1,north\n"
            f"{duplicate},1,H 1,north\n"
            "w_unknown,1,,south\n"
            f"{good},1,H-1\n"
            f"{good},1,H-1,again\n")

    with pytest.raises(ServerError) as raised:
        import_text(database, clock, text)

    message = raised.value.message
    assert "nothing was changed" in message
    assert "line 3: resident 'maybe' is invalid" in message
    assert "line 4: household_id 'H 1' is invalid" in message
    assert "line 5: wallet w_unknown does not exist" in message
    assert "line 6: 3 columns, the header has 4" in message
    assert "line 7: wallet " in message and "already on line 2" in message
    assert wallet_row(database, good).is_resident is False


@pytest.mark.parametrize("header, message", [
    ("wallet,resident,household_id", "must start with wallet_id,resident,household_id"),
    ("wallet_id,resident,household_id,Age Band", "attribute column 'age band' is invalid"),
    ("wallet_id,resident,household_id,area,area", "columns 'area' and 'area' name the same"),
    ("wallet_id,resident,household_id,Area,area", "columns 'Area' and 'area' name the same"),
])
def test_bad_header_rejected(database: Database, clock: FakeClock, header: str,
                             message: str) -> None:
    with pytest.raises(ServerError, match=message):
        import_text(database, clock, header + "\n")


def test_empty_and_header_only_files_rejected(database: Database, clock: FakeClock) -> None:
    with pytest.raises(ServerError, match="found 'nothing'"):
        import_text(database, clock, "")
    with pytest.raises(ServerError, match="no wallet lines"):
        import_text(database, clock, "wallet_id,resident,household_id\n")


def test_shift_jis_file_rejected(database: Database, clock: FakeClock) -> None:
    data = "wallet_id,resident,household_id,area\nw_1,1,,若松\n".encode("cp932")

    with pytest.raises(ServerError, match="is not UTF-8"), database.write() as session:
        wallet_attributes.import_attributes(session, data, source="city.csv", now=clock())


def test_cli_import(tmp_path: Path, clock: FakeClock,
                    capsys: pytest.CaptureFixture[str]) -> None:
    url = cli_db(tmp_path)
    database = init_db(url)
    (wallet_id,) = new_wallets(database, clock, 1)
    path = tmp_path / "city.csv"
    path.write_text(f"wallet_id,resident,household_id\n{wallet_id},1,H-9\n", encoding="utf-8")

    status = cli.main(["wallet-attributes-import", "--db", url, str(path)])

    assert status == 0
    assert capsys.readouterr().out.strip() == "imported 1 wallets: 1 residents, 1 households"
    assert wallet_row(database, wallet_id).household_id == "H-9"
    database.dispose()


def test_cli_import_reports_problems(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    url = cli_db(tmp_path)
    path = tmp_path / "city.csv"
    path.write_text("wallet_id,resident,household_id\nw_x,2,\n", encoding="utf-8")

    status = cli.main(["wallet-attributes-import", "--db", url, str(path)])

    assert status == 1
    error = capsys.readouterr().err
    assert "line 2: resident '2' is invalid" in error
    assert "line 2: wallet w_x does not exist" in error


def test_duplicate_reported_after_bad_first_line(database: Database, clock: FakeClock) -> None:
    (wallet_id,) = new_wallets(database, clock, 1)
    text = ("wallet_id,resident,household_id\n"
            f"{wallet_id},maybe,H-1\n"
            f"{wallet_id},1,H-1\n")

    with pytest.raises(ServerError) as raised:
        import_text(database, clock, text)

    message = raised.value.message
    assert "line 2: resident 'maybe' is invalid" in message
    assert "already on line 2" in message
    assert message.splitlines()[-1].startswith("line 3: wallet ")


def test_line_break_in_quoted_value_rejected(database: Database, clock: FakeClock) -> None:
    first, second = new_wallets(database, clock, 2)
    text = ("wallet_id,resident,household_id,area\n"
            f'{first},1,H-1,"north\nside"\n'
            f"{second},maybe,H-2,south\n")

    with pytest.raises(ServerError) as raised:
        import_text(database, clock, text)

    problems = raised.value.message.splitlines()[1:]
    assert problems == [
        "line 2: a quoted value runs on to line 3; a value cannot contain a line break, so"
        " write each wallet on one line",
        "line 4: resident 'maybe' is invalid; write 1 for a resident or 0 for a non-resident"]


def test_unclosed_quote_reported(database: Database, clock: FakeClock) -> None:
    (wallet_id,) = new_wallets(database, clock, 1)
    text = f'wallet_id,resident,household_id,area\n{wallet_id},1,H-1,"north\n'

    with pytest.raises(ServerError, match="line 2: a quote is not closed before the end"):
        import_text(database, clock, text)
