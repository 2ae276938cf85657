"""Benefit payout files: whole-file validation, paying each wallet once, resuming, rounds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server import benefits, ledger, wallets
from server.benefit_models import BenefitPayout, BenefitProgramme
from server.benefits import ImportRejected, LineOutcome, ProgrammeTerms
from server.db import Database
from server.errors import ServerError
from server.models import Lot, Transfer, Wallet
from terminal.protocol import ValueKind

NOW = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)  # 10:00 in Japan
HEADER = "wallet_id,amount_yen,reference\n"


def _clock() -> datetime:
    return NOW


def _programme(db: Database, *, budget_yen: int = 1_000_000, max_yen: int = 50_000,
               categories: frozenset[str] | None = None, valid_days: int | None = None,
               expires_on: date | None = None) -> str:
    terms = ProgrammeTerms(name="出産応援給付", budget_yen=budget_yen,
                           max_per_recipient_yen=max_yen, categories=categories,
                           valid_days=valid_days, expires_on=expires_on)
    with db.write() as session:
        return benefits.create_programme(session, terms, now=NOW).id


def _wallets(db: Database, count: int) -> list[str]:
    with db.write() as session:
        return [wallets.create_wallet(session, now=NOW).wallet_id for _ in range(count)]


def _csv(rows: list[tuple[str, int | str, str]]) -> bytes:
    return (HEADER + "".join(f"{w},{a},{r}\n" for w, a, r in rows)).encode()


def _import(db: Database, programme_id: str, data: bytes, **options: object
            ) -> benefits.ImportResult:
    return benefits.import_file(db, programme_id, data, source="recipients.csv", clock=_clock,
                                **options)  # type: ignore[arg-type]


def _balance(db: Database, wallet_id: str) -> dict[ValueKind, int]:
    with db.read() as session:
        return ledger.balance(session, wallet_id, now=NOW)


def _benefit_transfer_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Transfer)
                                  .where(Transfer.id.like("benefit:%"))) or 0)


def _programme_row(db: Database, programme_id: str) -> BenefitProgramme:
    with db.read() as session:
        return benefits.get_programme(session, programme_id)


def _assert_conserved(db: Database) -> None:
    with db.read() as session:
        audit = ledger.verify_ledger(session)
    assert audit.totals_by_kind == {kind: 0 for kind in ValueKind}


@pytest.fixture(autouse=True)
def _conserved_after_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Check conservation after every test that used a database, whatever it booked."""
    # Requested before the test, so the database is torn down after this check.
    database = request.getfixturevalue("database") if "database" in request.fixturenames else None
    yield
    if database is not None:
        _assert_conserved(database)


def _problems(excinfo: pytest.ExceptionInfo[ImportRejected]) -> list[str]:
    return [str(problem) for problem in excinfo.value.problems]


# --- validation ----------------------------------------------------------------------------


def test_bad_lines_rejected_whole(database: Database) -> None:
    programme_id = _programme(database, max_yen=50_000)
    good, blocked, other = _wallets(database, 3)
    with database.write() as session:
        row = session.get(Wallet, blocked)
        assert row is not None
        row.blocked_at = NOW
        row.blocked_reason = "offline code counter used twice"
    data = (
        HEADER
        + f"{good},30000,第1子\n"                 # line 2: fine
        + "w_doesnotexist,10000,\n"              # line 3: unknown wallet
        + f"{blocked},10000,\n"                  # line 4: blocked wallet
        + f"{good},20000,\n"                     # line 5: duplicate of line 2
        + f"{other},1.5,\n"                      # line 6: not whole yen
        + f"{other},0,\n"                        # line 7: zero
        + f"{other},-500,\n"                     # line 8: negative
        + f"{other},60000,\n"                    # line 9: above the maximum
        + f"{other},30000\n"                     # line 10: wrong column count
        + f'{other},"30000,\n'                   # line 11: malformed quoting
        + f"{other},３００００,\n"                # line 12: full-width digits
    ).encode()

    with pytest.raises(ImportRejected) as excinfo:
        _import(database, programme_id, data)

    problems = _problems(excinfo)
    assert [problem.split(":")[0] for problem in problems] == [
        f"line {number}" for number in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12)]
    assert "wallet w_doesnotexist does not exist" in problems[0]
    assert f"wallet {blocked} is blocked (offline code counter used twice)" in problems[1]
    assert f"wallet {good} is already on line 2" in problems[2]
    assert "amount_yen '1.5' is not a whole number of yen" in problems[3]
    assert "amount_yen is 0" in problems[4]
    assert "amount_yen '-500' is not a whole number of yen" in problems[5]
    assert "above the programme's maximum of 50000 yen per recipient" in problems[6]
    assert "has 2 columns, expected 3" in problems[7]
    assert "malformed CSV" in problems[8]
    assert "amount_yen '３００００' is not a whole number of yen" in problems[9]
    assert str(excinfo.value.message).startswith("recipients.csv: 10 problems found")
    assert _benefit_transfer_count(database) == 0
    assert _balance(database, good) == {}
    assert _programme_row(database, programme_id).paid_yen == 0
    _assert_conserved(database)


def test_over_budget_names_line(database: Database) -> None:
    programme_id = _programme(database, budget_yen=50_000, max_yen=30_000)
    first, second, third = _wallets(database, 3)
    data = _csv([(first, 20_000, ""), (second, 20_000, ""), (third, 20_000, "")])

    with pytest.raises(ImportRejected) as excinfo:
        _import(database, programme_id, data)

    assert _problems(excinfo) == [
        f"the lines to pay add up to 60000 yen, but programme {programme_id} has 50000 yen of"
        " its 50000 yen budget left; the total passes the budget at line 4, so remove lines"
        " from there on"]
    assert _benefit_transfer_count(database) == 0


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "recipients.csv is empty"),
    (b"\xef\xbb\xbf\r\n  \n", "recipients.csv is empty"),
    (b"wallet_id,amount_yen\n", "recipients.csv has a header row but no recipient lines"),
    (b"w_abc,1000\n", "line 1: the header row must be wallet_id,amount_yen or"
                      " wallet_id,amount_yen,reference, found 'w_abc,1000'"),
])
def test_empty_or_headerless_file_rejected(database: Database, data: bytes, expected: str
                                           ) -> None:
    programme_id = _programme(database)

    with pytest.raises(ImportRejected) as excinfo:
        _import(database, programme_id, data)

    assert _problems(excinfo)[0].startswith(expected)


def test_shift_jis_file_rejected(database: Database) -> None:
    programme_id = _programme(database)
    (wallet,) = _wallets(database, 1)
    data = f"wallet_id,amount_yen,note\n{wallet},10000,第一子\n".encode("shift_jis")

    with pytest.raises(ServerError) as excinfo:
        _import(database, programme_id, data)

    assert excinfo.value.message == (
        "recipients.csv is encoded in Shift_JIS, not UTF-8; save it as UTF-8"
        " (in Excel: 名前を付けて保存 > CSV UTF-8) and import it again")
    assert _benefit_transfer_count(database) == 0


def test_bom_crlf_two_columns_accepted(database: Database) -> None:
    programme_id = _programme(database)
    first, second = _wallets(database, 2)
    data = f"\ufeffWallet_ID,Amount_Yen\r\n{first},10000\r\n\r\n{second} , 5000 \r\n".encode()

    result = _import(database, programme_id, data)

    assert [(o.line_number, o.wallet_id, o.status) for o in result.outcomes] == [
        (2, first, "paid"), (4, second, "paid")]
    assert _balance(database, first) == {ValueKind.BENEFIT: 10_000}
    assert _balance(database, second) == {ValueKind.BENEFIT: 5_000}
    _assert_conserved(database)


def test_dry_run_pays_nothing(database: Database) -> None:
    programme_id = _programme(database)
    first, second = _wallets(database, 2)

    result = _import(database, programme_id, _csv([(first, 10_000, ""), (second, 20_000, "")]),
                     dry_run=True)

    assert result.dry_run
    assert result.count("to_pay") == 2
    assert result.total_yen("to_pay") == 30_000
    assert _benefit_transfer_count(database) == 0
    assert _balance(database, first) == {}


# --- paying exactly once -------------------------------------------------------------------


def test_same_file_twice_pays_once(database: Database) -> None:
    programme_id = _programme(database)
    recipients = _wallets(database, 4)
    data = _csv([(wallet, 10_000 + index, f"ref-{index}")
                 for index, wallet in enumerate(recipients)])

    first = _import(database, programme_id, data)
    second = _import(database, programme_id, data)

    assert first.count("paid") == 4
    assert first.total_yen("paid") == 40_006
    assert second.count("paid") == 0
    assert second.count("already_paid") == 4
    assert second.total_yen("already_paid") == 40_006
    for index, wallet in enumerate(recipients):
        assert _balance(database, wallet) == {ValueKind.BENEFIT: 10_000 + index}
    assert _benefit_transfer_count(database) == 4
    programme = _programme_row(database, programme_id)
    assert programme.paid_yen == 40_006
    assert programme.payout_count == 4
    _assert_conserved(database)


def test_transfer_ids_name_round_and_wallet(database: Database) -> None:
    programme_id = _programme(database)
    (wallet,) = _wallets(database, 1)

    result = _import(database, programme_id, _csv([(wallet, 1_000, "")]), payout_round="2026-04")

    assert result.outcomes[0].transfer_id == f"benefit:{programme_id}:2026-04:{wallet}"
    with database.read() as session:
        payout = session.scalars(select(BenefitPayout)).one()
    assert payout.transfer_id == f"benefit:{programme_id}:2026-04:{wallet}"
    assert payout.line_key == f"2026-04:{wallet}"


@pytest.mark.parametrize("batch_size", [1, 3])
def test_interrupted_import_resumes(database: Database, batch_size: int) -> None:
    programme_id = _programme(database)
    recipients = _wallets(database, 10)
    data = _csv([(wallet, 1_000 * (index + 1), "") for index, wallet in enumerate(recipients)])
    booked: list[LineOutcome] = []

    def crash_after_five(outcome: LineOutcome) -> None:
        booked.append(outcome)
        if len(booked) == 5:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError):
        _import(database, programme_id, data, batch_size=batch_size, on_line=crash_after_five)
    # The batch of the fifth line is rolled back; the batches before it stay committed.
    committed = {1: 4, 3: 3}[batch_size]
    assert _benefit_transfer_count(database) == committed
    _assert_conserved(database)

    resumed = _import(database, programme_id, data, batch_size=batch_size)

    assert resumed.count("already_paid") == committed
    assert resumed.count("paid") == 10 - committed
    for index, wallet in enumerate(recipients):
        assert _balance(database, wallet) == {ValueKind.BENEFIT: 1_000 * (index + 1)}
    assert _benefit_transfer_count(database) == 10
    assert _programme_row(database, programme_id).paid_yen == 55_000
    _assert_conserved(database)


def test_corrected_file_pays_only_fixed_line(database: Database) -> None:
    programme_id = _programme(database)
    first, second, third = _wallets(database, 3)
    _import(database, programme_id, _csv([(first, 10_000, "A"), (third, 10_000, "C")]))

    # The corrected file adds the missing wallet, reorders lines and edits a reference.
    corrected = _csv([(third, 10_000, "C (edited)"), (second, 10_000, "B"),
                      (first, 10_000, "A")])
    result = _import(database, programme_id, corrected)

    assert [(o.wallet_id, o.status) for o in result.outcomes] == [
        (third, "already_paid"), (second, "paid"), (first, "already_paid")]
    for wallet in (first, second, third):
        assert _balance(database, wallet) == {ValueKind.BENEFIT: 10_000}
    _assert_conserved(database)


def test_changed_amount_of_paid_wallet_rejected(database: Database) -> None:
    programme_id = _programme(database)
    first, second = _wallets(database, 2)
    _import(database, programme_id, _csv([(first, 10_000, "")]))

    with pytest.raises(ImportRejected) as excinfo:
        _import(database, programme_id, _csv([(first, 15_000, ""), (second, 10_000, "")]))

    assert _problems(excinfo) == [
        f"line 2: wallet {first} was already paid 10000 yen in round 1 on 2026-04-01, and a"
        " payout cannot be changed; put back 10000 yen, or pay a difference in a new round"]
    assert _balance(database, first) == {ValueKind.BENEFIT: 10_000}
    assert _balance(database, second) == {}


def test_second_round_within_recipient_maximum(database: Database) -> None:
    programme_id = _programme(database, max_yen=25_000)
    first, second = _wallets(database, 2)
    _import(database, programme_id, _csv([(first, 10_000, ""), (second, 20_000, "")]))

    with pytest.raises(ImportRejected) as excinfo:
        _import(database, programme_id, _csv([(first, 10_000, ""), (second, 10_000, "")]),
                payout_round="2")
    assert _problems(excinfo) == [
        f"line 3: wallet {second} already received 20000 yen from this programme, so 10000"
        " yen more would exceed the maximum of 25000 yen per recipient; pay at most 5000 yen"]

    result = _import(database, programme_id, _csv([(first, 10_000, ""), (second, 5_000, "")]),
                     payout_round="2")
    assert result.count("paid") == 2
    assert _balance(database, first) == {ValueKind.BENEFIT: 20_000}
    assert _balance(database, second) == {ValueKind.BENEFIT: 25_000}
    _assert_conserved(database)


def test_budget_counts_earlier_payouts(database: Database) -> None:
    programme_id = _programme(database, budget_yen=30_000, max_yen=20_000)
    first, second = _wallets(database, 2)
    _import(database, programme_id, _csv([(first, 20_000, "")]))

    with pytest.raises(ImportRejected) as excinfo:
        _import(database, programme_id, _csv([(first, 20_000, ""), (second, 15_000, "")]))

    assert "has 10000 yen of its 30000 yen budget left" in _problems(excinfo)[0]
    assert "passes the budget at line 3" in _problems(excinfo)[0]


def test_invalid_round_rejected(database: Database) -> None:
    programme_id = _programme(database)
    (wallet,) = _wallets(database, 1)

    with pytest.raises(ServerError) as excinfo:
        _import(database, programme_id, _csv([(wallet, 1_000, "")]), payout_round="第2回")

    assert excinfo.value.message.startswith("round '第2回' is invalid")


# --- programmes ----------------------------------------------------------------------------


def test_value_carries_categories_and_expiry(database: Database) -> None:
    programme_id = _programme(database, categories=frozenset({"5912", "5411"}), valid_days=30)
    (wallet,) = _wallets(database, 1)

    result = _import(database, programme_id, _csv([(wallet, 8_000, "")]))

    # Paid on 2026-04-01 in Japan: spendable through 2026-05-01, expiring at its end.
    expected_expiry = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)
    assert result.outcomes[0].expires_at == expected_expiry
    with database.read() as session:
        lot = session.execute(
            select(Lot.value_kind, Lot.restriction, Lot.expires_at,
                   Lot.funding_account_id).where(Lot.account_id == wallet)
        ).one()
    assert lot.value_kind == "benefit"
    assert lot.restriction == "5411,5912"
    assert lot.expires_at == expected_expiry
    assert lot.funding_account_id == f"benefit-{programme_id}"


def test_expiry_date_is_end_of_day_in_japan(database: Database) -> None:
    programme = BenefitProgramme(expires_on=date(2026, 9, 30), valid_days=None)

    assert benefits.expiry_for(programme, NOW) == datetime(2026, 9, 30, 15, 0, tzinfo=UTC)


def test_expired_programme_pays_nothing(database: Database) -> None:
    programme_id = _programme(database, expires_on=date(2026, 4, 1))
    (wallet,) = _wallets(database, 1)
    later = NOW + timedelta(days=1)

    with pytest.raises(ImportRejected) as excinfo:
        benefits.import_file(database, programme_id, _csv([(wallet, 1_000, "")]),
                             source="recipients.csv", clock=lambda: later)

    assert _problems(excinfo) == [
        f"programme {programme_id} pays value that expired on 2026-04-01 (today is 2026-04-02"
        " in Japan time); create a new programme to pay more"]


@pytest.mark.parametrize(("terms", "message"), [
    (ProgrammeTerms("給付", budget_yen=0, max_per_recipient_yen=1), "budget 0 yen is invalid"),
    (ProgrammeTerms("給付", budget_yen=100, max_per_recipient_yen=101),
     "maximum per recipient 101 yen is invalid; allowed: 1 to the budget, 100 yen"),
    (ProgrammeTerms(" ", budget_yen=100, max_per_recipient_yen=10),
     "programme name ' ' must be 1 to 100 characters"),
    (ProgrammeTerms("給付", budget_yen=100, max_per_recipient_yen=10, valid_days=0),
     "valid days 0 is invalid"),
    (ProgrammeTerms("給付", budget_yen=100, max_per_recipient_yen=10,
                    expires_on=date(2026, 3, 31)), "expiry date 2026-03-31 has passed"),
    (ProgrammeTerms("給付", budget_yen=100, max_per_recipient_yen=10,
                    funding_account_id="fees"), "account fees is not an issuing account"),
    (ProgrammeTerms("給付", budget_yen=100, max_per_recipient_yen=10,
                    funding_account_id="city-nope"), "funding account city-nope does not exist"),
])
def test_bad_programme_terms_rejected(database: Database, terms: ProgrammeTerms,
                                      message: str) -> None:
    with pytest.raises(ServerError) as excinfo, database.write() as session:
        benefits.create_programme(session, terms, now=NOW)

    assert excinfo.value.message.startswith(message)


def test_programmes_share_funding_account(database: Database) -> None:
    with database.write() as session:
        ledger.open_account(session, "city-budget", "city", now=NOW, is_issuing=True)
        terms = ProgrammeTerms("環境価値還元", budget_yen=100_000, max_per_recipient_yen=5_000,
                               funding_account_id="city-budget")
        first = benefits.create_programme(session, terms, now=NOW).id
        second = benefits.create_programme(session, terms, now=NOW).id
    (wallet,) = _wallets(database, 1)

    _import(database, first, _csv([(wallet, 3_000, "")]))
    _import(database, second, _csv([(wallet, 2_000, "")]))

    with database.read() as session:
        assert ledger.balance(session, "city-budget", now=NOW) == {ValueKind.BENEFIT: -5_000}
        assert benefits.paid_totals(session) == {first: (1, 3_000), second: (1, 2_000)}
    _assert_conserved(database)


def test_parse_categories_rejects_bad_code() -> None:
    with pytest.raises(ServerError) as excinfo:
        benefits.parse_categories("5411, 58a2")

    assert excinfo.value.message == (
        "merchant category code '58a2' is invalid; each code is 4 digits, e.g. 5411"
        " (grocery stores)")
    assert benefits.parse_categories(" 5411,5912 ,") == frozenset({"5411", "5912"})


def test_concurrent_imports_pay_once(database: Database) -> None:
    programme_id = _programme(database)
    recipients = _wallets(database, 6)
    data = _csv([(wallet, 5_000, "") for wallet in recipients])
    results: list[benefits.ImportResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(_import(database, programme_id, data, batch_size=2))
        except BaseException as exc:  # noqa: BLE001  (reported by the asserts below)
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sum(result.count("paid") for result in results) == 6
    for wallet in recipients:
        assert _balance(database, wallet) == {ValueKind.BENEFIT: 5_000}
    assert _programme_row(database, programme_id).paid_yen == 30_000
    _assert_conserved(database)
