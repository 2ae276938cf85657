"""Stamp rallies on the server: stamps online and by sync, one per booth per day, reward once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from offline_helpers import iso, send_batch
from settle_helpers import Server, TerminalClient, WalletClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import coupon_cli, ledger, rallies
from server.coupon_models import Coupon
from server.models import Lot, Transfer
from server.rally_models import RallyParticipant, RallyStamp
from terminal import rally_code
from terminal.protocol import ValueKind

# FakeClock starts at 2026-04-01 01:00 UTC, 10:00 in Japan.
RALLY_START = date(2026, 4, 1)
RALLY_END = date(2026, 4, 30)


def _new_rally(server: Server, goal: int = 3, reward_yen: int = 500,
               kind: ValueKind = ValueKind.PREMIUM_ALL, name: str = "春の商店街ラリー") -> str:
    new = rallies.NewRally(name=name, starts_on=RALLY_START, ends_on=RALLY_END, goal_stamps=goal,
                           reward_kind=kind, reward_yen=reward_yen,
                           reward_expires_on=date(2026, 6, 30))
    with server.state.db.write() as session:
        return rallies.create_rally(session, new, now=server.clock()).id


def _booth(server: Server, rally_id: str, name: str = "観光案内所") -> TerminalClient:
    terminal = server.new_terminal()
    with server.state.db.write() as session:
        rallies.add_booth(session, rally_id, terminal.terminal_id, name, now=server.clock())
    return terminal


def _code(wallet: WalletClient, rally_id: str) -> str:
    response = wallet.get(f"/v1/wallet/rallies/{rally_id}")
    assert response.status_code == 200, response.text
    code: str = response.json()["code"]
    return code


def _stamp(terminal: TerminalClient, code: str, entry_id: str | None = None,
           captured_at: datetime | None = None) -> Any:
    return terminal.post("/v1/rally/stamps", {
        "entry_id": entry_id or f"s-{uuid.uuid4().hex}", "participant_code": code,
        "captured_at": iso(captured_at or terminal.clock()),
    })


def _stamp_entry(code: str, captured_at: datetime, seq: int = 1,
                 entry_id: str | None = None) -> dict[str, Any]:
    return {"entry_id": entry_id or f"s-{uuid.uuid4().hex}", "seq": seq, "kind": "stamp",
            "captured_at": iso(captured_at), "amount_yen": 0, "participant_code": code}


def _count(server: Server, query: Any) -> int:
    with server.state.db.read() as session:
        return int(session.scalar(query) or 0)


def _reward_transfers(server: Server, rally_id: str, wallet_id: str) -> int:
    transfer_id = rallies.reward_transfer_id(rally_id, wallet_id)
    return _count(server, select(func.count()).select_from(Transfer)
                  .where(Transfer.id == transfer_id))


# --- online stamps -------------------------------------------------------------------------


def test_booth_reads_its_rally(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id, "駅前ブース")

    response = booth.get("/v1/rally/booth")
    assert response.status_code == 200, response.text
    info = response.json()

    assert info["rally_id"] == rally_id
    assert info["name"] == "春の商店街ラリー"
    assert info["booth_name"] == "駅前ブース"
    assert (info["starts_on"], info["ends_on"]) == ("2026-04-01", "2026-04-30")
    assert info["goal_stamps"] == 3
    assert info["reward_expires_at"] == "2026-06-30T15:00:00+00:00"


def test_stamp_counts_and_booth_today(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    wallet = server.new_wallet()

    outcome = _stamp(booth, _code(wallet, rally_id)).json()

    assert outcome["status"] == "given"
    assert outcome["stamp_count"] == 1
    assert outcome["goal_stamps"] == 3
    assert outcome["stamp_day"] == "2026-04-01"
    assert booth.get("/v1/rally/booth/today").json()["stamps"] == 1
    assert wallet.get("/v1/wallet/rallies").json()["rallies"][0]["stamp_count"] == 1


def test_second_stamp_same_day_refused(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    code = _code(server.new_wallet(), rally_id)
    _stamp(booth, code)

    server.clock.advance(3 * 3600)
    outcome = _stamp(booth, code).json()

    assert outcome["status"] == "already_today"
    assert outcome["stamp_count"] == 1
    assert _count(server, select(func.count()).select_from(RallyStamp)) == 1


def test_repeated_entry_returns_first_outcome(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    code = _code(server.new_wallet(), rally_id)

    first = _stamp(booth, code, entry_id="stamp-entry-1").json()
    again = _stamp(booth, code, entry_id="stamp-entry-1").json()

    assert first == again
    assert again["status"] == "given"
    assert _count(server, select(func.count()).select_from(RallyStamp)) == 1


def test_day_boundary_is_japan_midnight(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    code = _code(server.new_wallet(), rally_id)
    # 2026-04-01 14:59:59 UTC is 23:59:59 in Japan; one second later it is 2 April there.
    server.clock.now = datetime(2026, 4, 1, 14, 59, 59, tzinfo=UTC)
    before = _stamp(booth, code).json()
    server.clock.advance(1)

    after = _stamp(booth, code).json()

    assert (before["status"], before["stamp_day"]) == ("given", "2026-04-01")
    assert (after["status"], after["stamp_day"]) == ("given", "2026-04-02")
    assert after["stamp_count"] == 2


def test_same_utc_day_two_japan_days(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    code = _code(server.new_wallet(), rally_id)
    # 00:30 UTC and 15:30 UTC on the same UTC day fall on 1 and 2 April in Japan.
    server.clock.now = datetime(2026, 4, 1, 0, 30, tzinfo=UTC)
    _stamp(booth, code)
    server.clock.now = datetime(2026, 4, 1, 15, 30, tzinfo=UTC)

    assert _stamp(booth, code).json()["status"] == "given"


def test_goal_books_reward_once(server: Server) -> None:
    rally_id = _new_rally(server, goal=3, reward_yen=500)
    booths = [_booth(server, rally_id, f"ブース{index}") for index in range(4)]
    wallet = server.new_wallet()
    code = _code(wallet, rally_id)

    outcomes = [_stamp(booth, code).json() for booth in booths]

    assert [outcome["stamp_count"] for outcome in outcomes] == [1, 2, 3, 4]
    assert [outcome["reward_yen"] for outcome in outcomes] == [0, 0, 500, 0]
    assert [outcome["goal_reached"] for outcome in outcomes] == [False, False, True, True]
    assert _reward_transfers(server, rally_id, wallet.wallet_id) == 1
    with server.state.db.read() as session:
        kinds = ledger.balance(session, wallet.wallet_id, now=server.clock())
        lots = session.scalars(select(Lot).where(Lot.account_id == wallet.wallet_id)).all()
    assert kinds == {ValueKind.PREMIUM_ALL: 500}
    assert [lot.expires_at for lot in lots] == [datetime(2026, 6, 30, 15, 0, tzinfo=UTC)]
    server.assert_conserved()


def test_benefit_reward_from_named_account(server: Server) -> None:
    with server.state.db.write() as session:
        ledger.open_account(session, "city-events", "operator", now=server.clock(),
                            is_issuing=True)
        new = rallies.NewRally(name="秋まつり", starts_on=RALLY_START, ends_on=RALLY_END,
                               goal_stamps=1, reward_kind=ValueKind.BENEFIT, reward_yen=300,
                               reward_expires_on=date(2026, 5, 31),
                               issuing_account_id="city-events")
        rally_id = rallies.create_rally(session, new, now=server.clock()).id
    booth = _booth(server, rally_id)
    wallet = server.new_wallet()

    _stamp(booth, _code(wallet, rally_id))

    with server.state.db.read() as session:
        assert ledger.balance(session, wallet.wallet_id, now=server.clock()) == {
            ValueKind.BENEFIT: 300}
        assert ledger.balance(session, "city-events", now=server.clock()) == {
            ValueKind.BENEFIT: -300}
    server.assert_conserved()


def test_code_of_other_rally_rejected(server: Server) -> None:
    rally_id = _new_rally(server)
    other_id = _new_rally(server, name="別のラリー")
    booth = _booth(server, rally_id)

    response = _stamp(booth, _code(server.new_wallet(), other_id))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "rally_code_invalid"
    assert other_id in response.json()["error"]["message"]


def test_short_code_shown_whole_in_message(server: Server) -> None:
    booth = _booth(server, _new_rally(server))

    response = _stamp(booth, "garbage")

    assert response.status_code == 422
    assert "participant code 'garbage' (7 chars) is invalid" in \
        response.json()["error"]["message"]


def test_forged_and_garbled_codes_rejected(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    wallet = server.new_wallet()
    genuine = _code(wallet, rally_id)
    key_id = rally_code.read_participant_code(genuine)[0].issuer_key_id
    forged = rally_code.make_participant_code(rally_id, wallet.wallet_id, key_id,
                                              Ed25519PrivateKey.generate())
    garbled = genuine[:40] + ("A" if genuine[40] != "A" else "B") + genuine[41:]

    for code in (forged, garbled, "CKR1", "hello"):
        response = _stamp(booth, code)
        assert response.status_code == 422, code
        assert response.json()["error"]["code"] == "rally_code_invalid"
    assert _count(server, select(func.count()).select_from(RallyParticipant)) == 0


def test_stamp_outside_period_rejected(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    code = _code(server.new_wallet(), rally_id)
    server.clock.now = datetime(2026, 4, 30, 15, 0, tzinfo=UTC)  # 1 May, 00:00 in Japan

    response = _stamp(booth, code)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "rally_not_open"


def test_terminal_without_rally_gets_clear_error(server: Server) -> None:
    terminal = server.new_terminal()

    response = terminal.get("/v1/rally/booth")

    assert response.status_code == 409
    assert "rally-add-booth" in response.json()["error"]["message"]


def test_concurrent_booths_reward_once(server: Server) -> None:
    rally_id = _new_rally(server, goal=4, reward_yen=700)
    booths = [_booth(server, rally_id, f"ブース{index}") for index in range(6)]
    wallet = server.new_wallet()
    code = _code(wallet, rally_id)
    terminals = [server.terminal_row(booth.terminal_id) for booth in booths]

    def stamp(session: Session, index: int) -> object:
        return rallies.give_stamp(session, terminals[index], code, f"c-{index}",
                                  server.clock(), now=server.clock())

    outcomes = server.write_concurrently(len(booths), stamp)

    assert outcomes == ["ok"] * len(booths)
    with server.state.db.read() as session:
        participant = session.get(RallyParticipant, (rally_id, wallet.wallet_id))
        numbers = sorted(session.scalars(select(RallyStamp.stamp_number)).all())
    assert participant is not None and participant.stamp_count == 6
    assert numbers == [1, 2, 3, 4, 5, 6]
    assert _reward_transfers(server, rally_id, wallet.wallet_id) == 1
    assert wallet.balance_yen() == 700
    server.assert_conserved()


# --- stamps by sync ------------------------------------------------------------------------


def test_two_offline_booths_reward_once_on_sync(server: Server) -> None:
    rally_id = _new_rally(server, goal=2, reward_yen=400)
    east, west = _booth(server, rally_id, "東口"), _booth(server, rally_id, "西口")
    wallet = server.new_wallet()
    code = _code(wallet, rally_id)
    east_entry = _stamp_entry(code, server.clock())
    west_entry = _stamp_entry(code, server.clock() + timedelta(minutes=5))

    first = send_batch(east, [east_entry])
    second = send_batch(west, [west_entry])
    repeated = send_batch(west, [west_entry]) + send_batch(east, [east_entry])

    assert [r["status"] for r in first + second] == ["applied", "applied"]
    assert [r["status"] for r in repeated] == ["duplicate", "duplicate"]
    assert _reward_transfers(server, rally_id, wallet.wallet_id) == 1
    assert wallet.balance_yen() == 400
    server.assert_conserved()


def test_sync_declines_second_stamp_same_booth_day(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    code = _code(server.new_wallet(), rally_id)
    entries = [_stamp_entry(code, server.clock(), seq=1),
               _stamp_entry(code, server.clock() + timedelta(hours=2), seq=2)]

    results = send_batch(booth, entries)

    assert [r["status"] for r in results] == ["applied", "declined"]
    assert results[1]["reason"] == "stamp_already_given"
    assert _count(server, select(func.count()).select_from(RallyStamp)) == 1


def test_online_stamp_then_same_entry_synced(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    code = _code(server.new_wallet(), rally_id)
    _stamp(booth, code, entry_id="stamp-online-1")

    results = send_batch(booth, [_stamp_entry(code, server.clock(), entry_id="stamp-online-1")])

    assert results[0]["status"] == "applied"
    assert _count(server, select(func.count()).select_from(RallyStamp)) == 1


def test_sync_uses_device_clock_offset_for_day(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    code = _code(server.new_wallet(), rally_id)
    # The terminal's clock runs 2 hours behind: it says 22:30 on 1 April in Japan when it is
    # already 00:30 on 2 April there.
    server.clock.now = datetime(2026, 4, 1, 15, 30, tzinfo=UTC)
    device_now = server.clock() - timedelta(hours=2)

    results = send_batch(booth, [_stamp_entry(code, device_now)], device_time=device_now)

    assert results[0]["status"] == "applied"
    assert results[0]["business_day"] == "2026-04-02"
    with server.state.db.read() as session:
        assert session.scalars(select(RallyStamp.stamp_day)).one() == date(2026, 4, 2)


def test_sync_future_stamp_day_matches_stored(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    code = _code(server.new_wallet(), rally_id)

    results = send_batch(booth, [_stamp_entry(code, server.clock() + timedelta(days=2))])

    assert results[0]["status"] == "applied"
    assert results[0]["business_day"] == "2026-04-01"
    with server.state.db.read() as session:
        assert session.scalars(select(RallyStamp.stamp_day)).one() == date(2026, 4, 1)


def test_stamp_entry_with_amount_rejected(server: Server) -> None:
    rally_id = _new_rally(server)
    booth = _booth(server, rally_id)
    entry = _stamp_entry(_code(server.new_wallet(), rally_id), server.clock())
    entry["amount_yen"] = 100

    response = booth.post("/v1/sync", {"entries": [entry], "device_time": iso(server.clock())})

    assert response.status_code == 422
    assert "amount_yen 0" in response.text


# --- coupon rewards ------------------------------------------------------------------------


def _coupon_rally(server: Server, budget_yen: int) -> str:
    shop = server.new_merchant()
    spec = coupon_cli.parse_spec({
        "id": "rally-prize", "title": "ゴール記念", "issuer_name": "会津市",
        "discount_yen": 300, "starts": "2026-04-01T00:00:00+09:00",
        "ends": "2026-06-30T00:00:00+09:00", "budget_yen": budget_yen, "shops": [shop],
    }, "test")
    with server.state.db.write() as session:
        coupon_cli.create_campaign(session, spec, now=server.clock())
        new = rallies.NewRally(name="クーポンラリー", starts_on=RALLY_START, ends_on=RALLY_END,
                               goal_stamps=1, reward_kind="coupon", reward_yen=0,
                               reward_expires_on=RALLY_END, coupon_campaign_id="rally-prize")
        return rallies.create_rally(session, new, now=server.clock()).id


def test_goal_issues_coupon_once(server: Server) -> None:
    rally_id = _coupon_rally(server, budget_yen=3_000)
    first, second = _booth(server, rally_id), _booth(server, rally_id, "二番")
    wallet = server.new_wallet()
    code = _code(wallet, rally_id)

    goal = _stamp(first, code).json()
    later = _stamp(second, code).json()

    assert (goal["goal_reached"], goal["reward_coupon"], goal["reward_yen"]) == (
        True, "ゴール記念", 0)
    assert later["reward_coupon"] is None
    with server.state.db.read() as session:
        issued = session.scalars(select(Coupon).where(Coupon.wallet_id == wallet.wallet_id)).all()
        participant = session.get(RallyParticipant, (rally_id, wallet.wallet_id))
    assert [coupon.issued_for for coupon in issued] == ["rally"]
    assert participant is not None and participant.reward_transfer_id == issued[0].id
    server.assert_conserved()


def test_coupon_budget_used_up_reported(server: Server) -> None:
    rally_id = _coupon_rally(server, budget_yen=300)
    booth = _booth(server, rally_id)
    outcomes = [_stamp(booth, _code(server.new_wallet(), rally_id)).json() for _ in range(2)]

    with server.state.db.read() as session:
        report = rallies.rally_report(session, rally_id)

    assert [outcome["reward_coupon"] for outcome in outcomes] == ["ゴール記念", None]
    assert (report.goals_reached, report.goals_without_reward) == (2, 1)
