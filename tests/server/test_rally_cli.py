"""Operator commands of stamp rallies and the wallet's rally-code command."""

from __future__ import annotations

import functools
import json
import re
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from settle_helpers import Server, cli_db

from server import cli, rallies, wallet_cli
from server.db import init_db
from server.demo import DEMO_MERCHANT
from server.merchants import create_merchant, issue_activation
from server.models import Terminal
from server.wallet_cli import WalletClient
from terminal import rally_code
from terminal.protocol import ValueKind

NOW = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)


def _terminal(url: str) -> str:
    db = init_db(url)
    with db.write() as session:
        merchant = create_merchant(session, DEMO_MERCHANT, now=NOW)
        issue_activation(session, merchant.id, "BOOTH-1", now=NOW, ttl_s=3600)
        terminal_id = session.query(Terminal.id).filter_by(merchant_id=merchant.id).scalar()
    db.dispose()
    assert isinstance(terminal_id, str)
    return terminal_id


def _rally_create(url: str, *, name: str = "x", starts: str = "2099-04-01",
                  ends: str = "2099-04-30", reward_yen: str = "500",
                  reward_expires: str = "2099-06-30", extra: tuple[str, ...] = ()) -> int:
    """Run ``rally-create`` for a rally with a goal of 3 stamps; return the exit status."""
    return cli.main(["rally-create", "--db", url, "--name", name, "--starts", starts,
                     "--ends", ends, "--goal", "3", "--reward-yen", reward_yen,
                     "--reward-expires", reward_expires, *extra])


def _create(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    return _create_printing(url, capsys, *extra)[0]


def _create_printing(url: str, capsys: pytest.CaptureFixture[str], *extra: str
                     ) -> tuple[str, str]:
    status = _rally_create(url, name="春の商店街ラリー", extra=extra)
    out = capsys.readouterr().out
    assert status == 0, out
    found = re.search(r"rally (r_\S+) created", out)
    assert found is not None, out
    return found.group(1), out


def test_rally_create_and_booth_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_db(tmp_path)
    terminal_id = _terminal(url)
    rally_id = _create(url, capsys)

    added = cli.main(["rally-add-booth", "--db", url, "--rally", rally_id,
                      "--terminal", terminal_id, "--name", "観光案内所"])
    assert added == 0
    assert f"terminal {terminal_id} is booth 観光案内所 of rally {rally_id}" in (
        capsys.readouterr().out)
    assert cli.main(["rally-report", "--db", url, "--rally", rally_id]) == 0
    report = capsys.readouterr().out

    assert "goal 3 stamps" in report
    assert "stamps 0\tparticipants 0\tgoals reached 0\trewards 0 yen" in report
    assert cli.main(["rallies", "--db", url]) == 0
    assert f"{rally_id}\t春の商店街ラリー\t2099-04-01\t2099-04-30\t3\t500\tpremium_all" in (
        capsys.readouterr().out)


def test_rally_create_prints_reward_end_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = _create_printing(cli_db(tmp_path), capsys)

    assert "usable until 2099-06-30 24:00 JST, issued by" in out


def test_rally_create_bad_date_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_db(tmp_path)

    with pytest.raises(SystemExit):
        _rally_create(url, starts="2099/04/01")

    assert "'2099/04/01' is not a date; write it as YYYY-MM-DD" in capsys.readouterr().err


def test_rally_create_reward_expiring_early_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_db(tmp_path)

    status = _rally_create(url, reward_expires="2099-04-10")

    assert status == 1
    assert "expires on 2099-04-10, before the rally ends on 2099-04-30" in (
        capsys.readouterr().err)


def test_rally_create_oversized_reward_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_db(tmp_path)

    status = _rally_create(url, reward_yen="99999999999999999999")

    assert status == 1
    assert ("reward of 99999999999999999999 yen is more than the maximum of 4294967295 yen;"
            " give a smaller --reward-yen") in capsys.readouterr().err


def test_rally_that_already_ended_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_db(tmp_path)

    status = _rally_create(url, starts="2020-04-01", ends="2020-04-30",
                           reward_expires="2020-06-30")

    assert status == 1
    err = capsys.readouterr().err
    assert "the rally would end on 2020-04-30, which is before today (" in err
    assert "give an end date from today on" in err
    assert cli.main(["rallies", "--db", url]) == 0
    assert "2020-04-01" not in capsys.readouterr().out


def test_booth_of_overlapping_rally_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_db(tmp_path)
    terminal_id = _terminal(url)
    first, second = _create(url, capsys), _create(url, capsys)
    cli.main(["rally-add-booth", "--db", url, "--rally", first, "--terminal", terminal_id,
              "--name", "A"])
    capsys.readouterr()

    status = cli.main(["rally-add-booth", "--db", url, "--rally", second,
                       "--terminal", terminal_id, "--name", "B"])

    assert status == 1
    assert "a terminal serves one rally at a time" in capsys.readouterr().err


def test_report_counts_booth_days_and_goals(server: Server) -> None:
    new = rallies.NewRally(name="ラリー", starts_on=date(2026, 4, 1), ends_on=date(2026, 4, 30),
                           goal_stamps=1, reward_kind=ValueKind.PREMIUM_ALL, reward_yen=200,
                           reward_expires_on=date(2026, 6, 30))
    terminal = server.new_terminal()
    wallets = [server.new_wallet() for _ in range(3)]
    with server.state.db.write() as session:
        rally = rallies.create_rally(session, new, now=server.clock())
        rallies.add_booth(session, rally.id, terminal.terminal_id, "駅前", now=server.clock())
        row = session.get(Terminal, terminal.terminal_id)
        assert row is not None
        for wallet in wallets:
            code = rallies.participant_code(session, server.wallet_row(wallet.wallet_id),
                                            rally.id, server.clock()).code
            rallies.give_stamp(session, row, code, f"e-{uuid.uuid4().hex}", server.clock(),
                               now=server.clock())

    with server.state.db.read() as session:
        report = rallies.rally_report(session, rally.id)

    assert [(r.booth_name, r.day, r.stamps) for r in report.booth_days] == [
        ("駅前", date(2026, 4, 1), 3)]
    assert (report.participants, report.goals_reached, report.rewards_yen) == (3, 3, 600)


def test_wallet_rally_code_prints_code(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    new = rallies.NewRally(name="秋のラリー", starts_on=date(2026, 4, 1),
                           ends_on=date(2026, 4, 30), goal_stamps=5,
                           reward_kind=ValueKind.PREMIUM_ALL, reward_yen=500,
                           reward_expires_on=date(2026, 6, 30))
    with server.state.db.write() as session:
        rally_id = rallies.create_rally(session, new, now=server.clock()).id
    wallet = server.new_wallet()
    wallet_file = tmp_path / "wallet.json"
    wallet_file.write_text(json.dumps({"server_url": "http://testserver",
                                       "wallet_id": wallet.wallet_id, "token": wallet.token}))
    monkeypatch.setattr(wallet_cli, "WalletClient", functools.partial(
        WalletClient, transport=server.client._transport))

    status = wallet_cli.main(["--wallet-file", str(wallet_file), "rally-code",
                              "--qr-file", str(tmp_path / "code.png")])

    captured = capsys.readouterr()
    assert status == 0, captured.err
    code = captured.out.strip()
    assert re.fullmatch(r"CKR1[A-Z2-7]+", code)
    assert rally_code.read_participant_code(code)[0].rally_id == rally_id
    assert "秋のラリー: 0 of 5 stamps" in captured.err
    assert (tmp_path / "code.png").stat().st_size > 0


def test_add_booth_unknown_terminal_names_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_db(tmp_path)
    rally_id = _create(url, capsys)

    status = cli.main(["rally-add-booth", "--db", url, "--rally", rally_id,
                       "--terminal", "t_missing", "--name", "観光案内所"])

    assert status == 1
    assert ("terminal t_missing does not exist; print the terminal ids with chiiki-settle"
            " list-terminals [--merchant ID]") in capsys.readouterr().err


def test_list_terminals_per_merchant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_db(tmp_path)
    terminal_id = _terminal(url)
    db = init_db(url)
    with db.read() as session:
        terminal = session.get(Terminal, terminal_id)
        assert terminal is not None
        merchant_id = terminal.merchant_id
    db.dispose()

    listed_all = cli.main(["list-terminals", "--db", url])
    all_out = capsys.readouterr().out
    listed_one = cli.main(["list-terminals", "--db", url, "--merchant", merchant_id])
    one_out = capsys.readouterr().out
    unknown = cli.main(["list-terminals", "--db", url, "--merchant", "m_missing"])
    unknown_err = capsys.readouterr().err

    assert (listed_all, listed_one, unknown) == (0, 0, 1)
    expected = ("terminal_id\tmerchant_id\tlabel\tenrolled_at\n"
                f"{terminal_id}\t{merchant_id}\tBOOTH-1\tnot enrolled\n")
    assert all_out == expected
    assert one_out == expected
    assert "merchant m_missing does not exist" in unknown_err


def test_list_terminals_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list-terminals", "--db", cli_db(tmp_path)]) == 0

    assert capsys.readouterr().out == (
        "no terminals yet; create one with chiiki-settle issue-activation\n")


def test_list_merchants_ends_with_newline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = cli_db(tmp_path)
    _terminal(url)

    assert cli.main(["list-merchants", "--db", url]) == 0

    output = capsys.readouterr().out
    assert output.endswith("\n")
    assert len(output.splitlines()) == 2
