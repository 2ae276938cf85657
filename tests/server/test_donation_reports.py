"""Donation totals for the operator (chiiki-settle) and for a cause (its read-token API)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from money_helpers import sell
from settle_helpers import Server, TerminalClient
from sqlalchemy import select

from server import cli, donation_cli, donations, ledger
from server.donation_models import DonationCampaign
from server.models import FEE_ACCOUNT_ID, ISSUANCE_ACCOUNT_ID

CAUSE_NAME = "会津こども食堂"


def make_cause(server: Server, name: str = CAUSE_NAME) -> str:
    with server.state.db.write() as session:
        return donations.create_cause(session, name, now=server.clock()).id


def make_campaign(server: Server, cause_id: str, name: str, share_bp: int,
                  funder: str = "merchant") -> str:
    now = server.clock()
    new = donations.NewCampaign(cause_id=cause_id, name=name, starts_at=now - timedelta(days=1),
                                ends_at=now + timedelta(days=60), funder=funder,
                                share_bp=share_bp)
    with server.state.db.write() as session:
        return donations.create_campaign(session, new, now=now).id


def pay(server: Server, terminal: TerminalClient, amount_yen: int) -> str:
    return sell(server, terminal, amount_yen)


def refund(terminal: TerminalClient, payment_id: str, amount_yen: int) -> None:
    response = terminal.post(f"/v1/payments/{payment_id}/refunds", {
        "amount_yen": amount_yen, "idempotency_key": f"refund-{uuid.uuid4().hex}",
    })
    assert response.status_code == 200, response.text


def run_cli(db_url: str, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    command, *rest = args
    assert cli.main([command, "--db", db_url, *rest]) == 0, capsys.readouterr().err
    return capsys.readouterr().out.splitlines()


def read_totals(server: Server, cause_id: str, token: str, query: str = "") -> httpx.Response:
    response: httpx.Response = server.client.get(
        f"/v1/donation-causes/{cause_id}/totals{query}",
        headers={"Authorization": f"Bearer {token}"})
    return response


def two_days_of_sales(server: Server) -> tuple[str, str, str]:
    """Sell on 2026-04-01 and 2026-04-02 (Japan time) under two campaigns of one cause.

    Returns the cause id and the two campaign ids.
    """
    cause_id = make_cause(server)
    spring = make_campaign(server, cause_id, "春の寄付", 100)
    festival = make_campaign(server, cause_id, "祭りの寄付", 200)
    terminal = server.new_terminal()
    first = pay(server, terminal, 1_000)  # 10 + 20 yen on 2026-04-01 10:00 JST
    # 2026-04-01T15:30Z is 00:30 on 2026-04-02 in Japan.
    server.clock.now = datetime(2026, 4, 1, 15, 30, tzinfo=UTC)
    pay(server, terminal, 3_000)  # 30 + 60 yen
    refund(terminal, first, 500)  # returns 5 + 10 yen on 2026-04-02
    return cause_id, spring, festival


# --- operator ------------------------------------------------------------------------------


def test_totals_per_day_and_campaign(server: Server, db_url: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    cause_id, spring, festival = two_days_of_sales(server)

    by_day = run_cli(db_url, capsys, "donation-totals", "--by", "day")
    by_campaign = run_cli(db_url, capsys, "donation-totals", "--by", "campaign")
    by_cause = run_cli(db_url, capsys, "donation-totals", "--by", "cause")

    assert by_day == [
        "day\tname\tpayments\tdonated_yen\treturned_yen\tnet_yen",
        "2026-04-01\t2026-04-01\t2\t30\t0\t30",
        "2026-04-02\t2026-04-02\t2\t90\t15\t75",
        "total\t\t4\t120\t15\t105",
    ]
    assert sorted(by_campaign[1:3]) == sorted([f"{spring}\t春の寄付\t2\t40\t5\t35",
                                               f"{festival}\t祭りの寄付\t2\t80\t10\t70"])
    assert by_cause[1] == f"{cause_id}\t{CAUSE_NAME}\t4\t120\t15\t105"
    with server.state.db.read() as session:
        assert sum(ledger.held_balance(session, cause_id).values()) == 105
        ledger.verify_ledger(session)


def test_totals_per_month_in_japan_time(server: Server, db_url: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    cause_id = make_cause(server)
    make_campaign(server, cause_id, "春の寄付", 100)
    terminal = server.new_terminal()
    # 14:59:59Z on 30 April is still April in Japan; 15:00Z is 1 May 00:00 JST.
    for moment in (datetime(2026, 4, 30, 14, 59, 59, tzinfo=UTC),
                   datetime(2026, 4, 30, 15, 0, tzinfo=UTC)):
        server.clock.now = moment
        pay(server, terminal, 2_000)

    lines = run_cli(db_url, capsys, "donation-totals", "--by", "month", "--cause", cause_id)
    since_may = run_cli(db_url, capsys, "donation-totals", "--by", "month",
                        "--since", "2026-05-01")

    assert lines[1:3] == ["2026-04\t2026-04\t1\t20\t0\t20", "2026-05\t2026-05\t1\t20\t0\t20"]
    assert since_may[1:] == ["2026-05\t2026-05\t1\t20\t0\t20", "total\t\t1\t20\t0\t20"]


def test_cli_creates_campaign_and_settles(server: Server, db_url: str,
                                          capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # The commands read the same fake clock as the server, so the spring campaign is current.
    monkeypatch.setattr(donation_cli, "utc_now", server.clock)
    terminal = server.new_terminal()
    cause_id = run_cli(db_url, capsys, "donation-cause-create", "--name", CAUSE_NAME)[0]
    campaign_id = run_cli(
        db_url, capsys, "donation-campaign-create", "--cause", cause_id, "--name", "冬の寄付",
        "--starts", "2026-03-01", "--ends", "2026-06-01", "--share-bp", "150",
        "--funder", "operator", "--merchant", terminal.merchant_id,
    )[0]
    pay(server, terminal, 2_000)  # 30 yen owed: the fee account is empty
    with server.state.db.write() as session:
        ledger.issue(session, transfer_id="test-fees:1", issuer_id=ISSUANCE_ACCOUNT_ID,
                     destination_id=FEE_ACCOUNT_ID, amount_yen=100, now=server.clock())

    listing = run_cli(db_url, capsys, "donation-campaigns")
    causes_before = run_cli(db_url, capsys, "donation-causes")
    settled = run_cli(db_url, capsys, "donation-settle")
    causes_after = run_cli(db_url, capsys, "donation-causes")

    assert listing[1] == (f"{campaign_id}\t{cause_id}\t冬の寄付\t150 bp\toperator"
                          f"\t2026-03-01 00:00\t2026-06-01 00:00\t{terminal.merchant_id}")
    assert causes_before[1] == f"{cause_id}\t{CAUSE_NAME}\t0\t30\tnone\t0\t0\t0"
    assert settled == ["settled 1 donations, 30 yen; still owed 0 donations, 0 yen"]
    assert causes_after[1] == f"{cause_id}\t{CAUSE_NAME}\t30\t0\tnone\t0\t0\t0"
    with server.state.db.read() as session:
        campaign = session.scalars(select(DonationCampaign)).one()
        assert campaign.starts_at == datetime(2026, 2, 28, 15, 0, tzinfo=UTC)
        ledger.verify_ledger(session)


def test_cli_rejects_bad_campaign_input(server: Server, db_url: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    cause_id = make_cause(server)
    base = ["donation-campaign-create", "--db", db_url, "--cause", cause_id, "--name", "x",
            "--funder", "merchant"]
    cases = [
        (["--starts", "2026-04-01", "--ends", "2026-04-31", "--share-bp", "100"],
         "--ends '2026-04-31' is not a date or time"),
        (["--starts", "2026-04-01T10:00", "--ends", "2026-05-01", "--share-bp", "100"],
         "--starts '2026-04-01T10:00' has no offset"),
        (["--starts", "2026-04-01", "--ends", "2026-05-01", "--share-bp", "20000"],
         "share 20000 bp is out of range; allowed: 1 to 10000"),
        (["--starts", "2026-04-01", "--ends", "2026-05-01", "--fixed-yen", "0"],
         "fixed amount 0 yen is out of range; allowed: 1 to 4294967295 yen"),
        (["--starts", "2026-04-01", "--ends", "2026-05-01", "--fixed-yen",
          "99999999999999999999"],
         "fixed amount 99999999999999999999 yen is out of range; allowed: 1 to 4294967295 yen"),
    ]
    for extra, expected in cases:
        assert cli.main([*base, *extra]) == 1
        assert expected in capsys.readouterr().err

    assert cli.main(["donation-cause-token", "--db", db_url, "--cause", "cause_nope"]) == 1
    assert "donation cause cause_nope does not exist" in capsys.readouterr().err


def test_campaign_end_stops_donations(server: Server, db_url: str,
                                      capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(donation_cli, "utc_now", server.clock)
    cause_id = make_cause(server)
    campaign_id = make_campaign(server, cause_id, "春の寄付", 100)
    terminal = server.new_terminal()
    pay(server, terminal, 1_000)

    end_at = (server.clock() + timedelta(minutes=1)).isoformat()
    ended = run_cli(db_url, capsys, "donation-campaign-end", "--campaign", campaign_id,
                    "--at", end_at)
    server.clock.advance(120)
    pay(server, terminal, 1_000)

    assert ended == [f"campaign {campaign_id} ends at 2026-04-01 10:01 JST"
                     " (2026-04-01T01:01:00+00:00)"]
    with server.state.db.read() as session:
        assert sum(ledger.held_balance(session, cause_id).values()) == 10


def test_cli_rejects_campaign_ending_in_past(server: Server, db_url: str,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(donation_cli, "utc_now", server.clock)  # 2026-04-01 10:00 JST
    cause_id = make_cause(server)

    status = cli.main(["donation-campaign-create", "--db", db_url, "--cause", cause_id,
                       "--name", "x", "--funder", "operator", "--share-bp", "100",
                       "--starts", "2026-03-01", "--ends", "2026-04-01"])

    assert status == 1
    assert ("campaign end 2026-04-01 00:00 JST is not in the future (now 2026-04-01 10:00 JST);"
            " give an end after now, e.g. --ends 2026-05-01") in capsys.readouterr().err
    with server.state.db.read() as session:
        assert session.scalars(select(DonationCampaign)).all() == []


def test_campaign_end_message_in_japan_time(server: Server, db_url: str,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(donation_cli, "utc_now", server.clock)
    campaign_id = make_campaign(server, make_cause(server), "春の寄付", 100)

    status = cli.main(["donation-campaign-end", "--db", db_url, "--campaign", campaign_id,
                       "--at", "2026-03-31"])

    assert status == 1
    assert ("end 2026-03-31 00:00 JST is not after the campaign's start 2026-03-31 10:00 JST;"
            " give a later --at") in capsys.readouterr().err


def test_campaign_end_in_the_past_rejected(server: Server, db_url: str,
                                           capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(donation_cli, "utc_now", server.clock)  # 2026-04-01 10:00 JST
    campaign_id = make_campaign(server, make_cause(server), "春の寄付", 100)

    status = cli.main(["donation-campaign-end", "--db", db_url, "--campaign", campaign_id,
                       "--at", "2026-04-01T00:30:00+00:00"])

    assert status == 1
    assert ("end 2026-04-01 09:30 JST is in the past (now 2026-04-01 10:00 JST), and the"
            " payments since then have already given their share; leave --at out to end the"
            " campaign now, or give a later --at") in capsys.readouterr().err
    with server.state.db.read() as session:
        ends_at = donations.get_campaign(session, campaign_id).ends_at
    assert ends_at == server.clock() + timedelta(days=60)


def test_totals_rejects_reversed_range(server: Server, db_url: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    two_days_of_sales(server)

    status = cli.main(["donation-totals", "--db", db_url, "--since", "2026-12-10",
                       "--until", "2026-12-01"])

    assert status == 1
    captured = capsys.readouterr()
    assert "--until 2026-12-01 is not after --since 2026-12-10" in captured.err
    assert captured.out == ""


def test_campaigns_table_ends_with_newline(server: Server, db_url: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    make_campaign(server, make_cause(server), "春の寄付", 100)

    assert cli.main(["donation-campaigns", "--db", db_url]) == 0

    output = capsys.readouterr().out
    assert output.endswith("\n")
    assert len(output.splitlines()) == 2


# --- cause API -----------------------------------------------------------------------------


def test_cause_reads_own_totals(server: Server) -> None:
    cause_id, spring, _ = two_days_of_sales(server)
    with server.state.db.write() as session:
        token = donations.issue_read_token(session, cause_id)

    by_month = read_totals(server, cause_id, token)
    by_day = read_totals(server, cause_id, token, "?group=day&since=2026-04-02")
    by_campaign = read_totals(server, cause_id, token, "?group=campaign")

    assert by_month.status_code == 200, by_month.text
    body: dict[str, Any] = by_month.json()
    assert (body["donated_yen"], body["returned_yen"], body["net_yen"]) == (120, 15, 105)
    assert (body["held_yen"], body["owed_yen"], body["cause_name"]) == (105, 0, CAUSE_NAME)
    assert body["lines"] == [{"key": "2026-04", "label": "2026-04", "donated_yen": 120,
                              "returned_yen": 15, "net_yen": 105, "payment_count": 4}]
    assert [line["key"] for line in by_day.json()["lines"]] == ["2026-04-02"]
    assert {line["key"]: line["net_yen"] for line in by_campaign.json()["lines"]}[spring] == 35
    text = by_month.text
    assert "wallet" not in text
    assert "p_" not in text


def test_cause_token_reads_only_its_cause(server: Server) -> None:
    cause_id, _, _ = two_days_of_sales(server)
    other_id = make_cause(server, "喜多方の桜を守る会")
    with server.state.db.write() as session:
        token = donations.issue_read_token(session, cause_id)
        replaced = donations.issue_read_token(session, other_id)
        other_token = donations.issue_read_token(session, other_id)

    cases = [
        (other_id, token),
        (cause_id, other_token),
        (other_id, replaced),
        (cause_id, "not-a-token"),
    ]
    for path_cause, bearer in cases:
        response = read_totals(server, path_cause, bearer)
        assert response.status_code == 401, (path_cause, response.text)
        assert response.json()["error"]["code"] == "unauthenticated"
    missing = server.client.get(f"/v1/donation-causes/{cause_id}/totals")
    assert "missing Authorization header" in missing.json()["error"]["message"]
    bad_date = read_totals(server, cause_id, token, "?since=2026-13-01")
    assert bad_date.status_code == 422
    assert "since '2026-13-01' is not a date" in bad_date.json()["error"]["message"]
    reversed_range = read_totals(server, cause_id, token, "?since=2026-12-10&until=2026-12-01")
    assert reversed_range.status_code == 422
    assert "until 2026-12-01 is not after since 2026-12-10" in (
        reversed_range.json()["error"]["message"])
