"""Premium point sales: applications, the lottery, purchases and the second round.

A sale runs in phases set by its times (all stored in UTC):

1. The operator creates the sale and commits the lottery seeds of both rounds
   (``commit_seeds``) before ``apply_until``, publishing their SHA-256 commitments. The
   database stores only the commitments. The seeds go to a seed file that the operator keeps
   offline (``server.seed_files``), so nobody who can read the database can predict a draw.
2. From ``apply_from`` until ``apply_until`` wallets apply for sets, for themselves or, as a
   proxy, for a member of their household. Eligibility (``residents_only``) and the
   per-person and household limits are checked on every application. An application may be
   cancelled until ``apply_until``, so the candidate list is final when the period closes.
3. After ``apply_until`` the operator draws round 1 (``draw``) with the round's seed from the
   seed file, which must match the stored commitment. The draw stores the seed with its
   result. When the live applications ask for no more sets than the sale has, every
   application wins in full. Otherwise ``server.lottery`` orders them by the committed seed,
   with one ticket per application so that each person has the same chance whatever the sets
   requested. The sets are allocated along that order, and the last winner may receive fewer
   sets than requested.
4. Winners buy from ``purchase_from`` until ``purchase_until`` (``purchase``): the paying wallet
   pays ``price_yen`` per set in coin to the sale's revenue account, and the beneficiary
   receives ``local_yen`` premium_local and ``all_yen`` premium_all points per set, issued from
   the sale's issuing account (their funding account) and expiring at ``usage_until``.
5. Sets not bought by ``purchase_until`` go to round 2: the operator sets a second purchase
   period (``set_second_round``) and draws among round 1's losers with the round 2 seed,
   committed in step 1 before anyone knew who would lose. Applications that won in round 1
   but did not buy take no part in round 2.
6. After each draw the operator publishes the seed (``publish``), and anyone can re-run the
   draw from the published record (``verify_record``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import ledger, lottery, seed_files, tokens
from server.errors import IdempotencyConflict, InsufficientFunds, ServerError, invalid, shorten
from server.models import Wallet
from server.premium_models import (
    APPLIED,
    CANCELLED,
    LOST,
    PURCHASED,
    WON,
    PremiumApplication,
    PremiumDraw,
    PremiumSale,
)
from server.settings import iso_utc
from terminal.protocol import ErrorCode, ValueKind

logger = logging.getLogger(__name__)

SALE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,23}$")
ISSUING_PREFIX = "premium-sale:"
REVENUE_PREFIX = "premium-revenue:"
ROUNDS = (1, 2)
# Upper bound on any sale's sets and limits; a city-wide sale has tens of thousands of sets.
MAX_SETS = 10_000_000
MAX_FACE_YEN = 1_000_000


@dataclass(frozen=True)
class SaleConfig:
    """Settings of a new sale, from a TOML file or options."""

    sale_id: str
    name: str
    apply_from: datetime
    apply_until: datetime
    purchase_from: datetime
    purchase_until: datetime
    usage_until: datetime
    price_yen: int
    local_yen: int
    all_yen: int
    total_sets: int
    per_person_max_sets: int
    household_max_people: int
    household_max_sets: int
    residents_only: bool = True


@dataclass(frozen=True)
class RoundSeed:
    """The secret seed of one round and the commitment stored for it."""

    round: int
    seed: str
    commitment: str


@dataclass(frozen=True)
class Purchase:
    """A completed purchase; ``created`` is False when an earlier identical one was found."""

    application: PremiumApplication
    paid_yen: int
    local_yen: int
    all_yen: int
    created: bool


# --- sales ---------------------------------------------------------------------------------


def config_problems(config: SaleConfig) -> list[str]:
    """Return every reason the sale cannot be created, in words an operator can act on."""
    problems: list[str] = []
    if not SALE_ID_PATTERN.match(config.sale_id):
        problems.append(f"id {shorten(config.sale_id)!r} is invalid; use 1 to 24 lower-case"
                        " letters, digits and hyphens, starting with a letter or digit")
    if not config.name.strip() or len(config.name) > 100:
        problems.append("name must be 1 to 100 characters")
    problems += _period_problems(config)
    problems += _money_problems(config)
    problems += _limit_problems(config)
    return problems


def _period_problems(config: SaleConfig) -> list[str]:
    times = [("apply_from", config.apply_from), ("apply_until", config.apply_until),
             ("purchase_from", config.purchase_from), ("purchase_until", config.purchase_until),
             ("usage_until", config.usage_until)]
    problems = [f"{name} has no time zone; write it with an offset, e.g."
                " 2026-07-01T09:00:00+09:00" for name, moment in times if moment.tzinfo is None]
    if problems:
        return problems
    checks = [("apply_from", "apply_until", False), ("apply_until", "purchase_from", True),
              ("purchase_from", "purchase_until", False),
              ("purchase_until", "usage_until", False)]
    values = dict(times)
    for earlier, later, may_equal in checks:
        if values[earlier] > values[later] or (values[earlier] == values[later] and not may_equal):
            relation = "at or before" if may_equal else "before"
            problems.append(f"{earlier} {iso_utc(values[earlier])} must be {relation} {later}"
                            f" {iso_utc(values[later])}")
    return problems


def _money_problems(config: SaleConfig) -> list[str]:
    problems = []
    for name, value in (("price_yen", config.price_yen), ("local_yen", config.local_yen),
                        ("all_yen", config.all_yen)):
        lowest = 1 if name == "price_yen" else 0
        if not lowest <= value <= MAX_FACE_YEN:
            problems.append(f"{name} {value} is out of range; use {lowest} to {MAX_FACE_YEN}"
                            " yen")
    face_yen = config.local_yen + config.all_yen
    if face_yen < config.price_yen:
        problems.append(f"local_yen + all_yen = {face_yen} yen is less than price_yen"
                        f" {config.price_yen}; a set must be worth at least its price")
    return problems


def _limit_problems(config: SaleConfig) -> list[str]:
    problems = []
    for name, value in (("total_sets", config.total_sets),
                        ("per_person_max_sets", config.per_person_max_sets),
                        ("household_max_people", config.household_max_people),
                        ("household_max_sets", config.household_max_sets)):
        if not 1 <= value <= MAX_SETS:
            problems.append(f"{name} {value} is out of range; use 1 to {MAX_SETS}")
    return problems


def create_sale(session: Session, config: SaleConfig, *, now: datetime) -> PremiumSale:
    """Store a new sale and open its issuing and revenue accounts."""
    problems = config_problems(config)
    if config.apply_until.tzinfo is not None and config.apply_until <= now:
        problems.append(f"apply_until {iso_utc(config.apply_until)} is not in the future, so"
                        " nobody could apply; set the periods to future dates")
    if problems:
        raise invalid(f"sale {shorten(config.sale_id)} was not created: " + "; ".join(problems))
    if session.scalar(select(PremiumSale.id).where(PremiumSale.id == config.sale_id)):
        raise invalid(f"sale {config.sale_id} already exists; choose another id")

    issuing_id = ISSUING_PREFIX + config.sale_id
    revenue_id = REVENUE_PREFIX + config.sale_id
    ledger.open_account(session, issuing_id, "premium", now=now, is_issuing=True)
    ledger.open_account(session, revenue_id, "premium", now=now)
    sale = PremiumSale(
        id=config.sale_id, name=config.name.strip(), apply_from=config.apply_from,
        apply_until=config.apply_until, purchase_from=config.purchase_from,
        purchase_until=config.purchase_until, usage_until=config.usage_until,
        price_yen=config.price_yen, local_yen=config.local_yen, all_yen=config.all_yen,
        total_sets=config.total_sets, per_person_max_sets=config.per_person_max_sets,
        household_max_people=config.household_max_people,
        household_max_sets=config.household_max_sets, residents_only=config.residents_only,
        issuing_account_id=issuing_id, revenue_account_id=revenue_id, created_at=now,
    )
    session.add(sale)
    session.flush()
    logger.info("premium sale %s created: %d sets at %d yen", sale.id, sale.total_sets,
                sale.price_yen)
    return sale


def get_sale(session: Session, sale_id: str) -> PremiumSale:
    sale = session.scalar(select(PremiumSale).where(PremiumSale.id == sale_id))
    if sale is None:
        raise ServerError(ErrorCode.NOT_FOUND, f"premium sale {shorten(sale_id)} does not exist;"
                          " list the sales to see their ids")
    return sale


def list_sales(session: Session) -> list[PremiumSale]:
    return list(session.scalars(select(PremiumSale).order_by(PremiumSale.seq)))


def draws_of(session: Session, sale_id: str) -> dict[int, PremiumDraw]:
    rows = session.scalars(select(PremiumDraw).where(PremiumDraw.sale_id == sale_id))
    return {row.round: row for row in rows}


def sale_phase(sale: PremiumSale, draws: dict[int, PremiumDraw], now: datetime) -> str:
    """Name the phase the sale is in at ``now`` (see the module docstring)."""
    if now < sale.apply_from:
        return "upcoming"
    if now < sale.apply_until:
        return "applications"
    if not _drawn(draws, 1):
        return "awaiting_draw"
    if now < sale.purchase_until:
        return "results" if now < sale.purchase_from else "purchase"
    second_from, second_until = sale.second_purchase_from, sale.second_purchase_until
    if second_from is not None and second_until is not None and now < second_until:
        if not _drawn(draws, 2):
            return "awaiting_second_draw"
        return "second_results" if now < second_from else "second_purchase"
    return "usage" if now < sale.usage_until else "ended"


def _drawn(draws: dict[int, PremiumDraw], round_number: int) -> bool:
    draw = draws.get(round_number)
    return draw is not None and draw.drawn_at is not None


def is_eligible(sale: PremiumSale, wallet: Wallet) -> bool:
    return wallet.is_resident or not sale.residents_only


# --- applications --------------------------------------------------------------------------


def apply(session: Session, applicant: Wallet, sale_id: str, *, sets: int,
          for_wallet_id: str | None, idempotency_key: str, now: datetime) -> PremiumApplication:
    """Apply for ``sets`` sets for the applicant, or for a household member as a proxy.

    The same ``idempotency_key`` with the same request returns the first application.
    """
    earlier = session.scalar(select(PremiumApplication).where(
        PremiumApplication.applicant_wallet_id == applicant.id,
        PremiumApplication.idempotency_key == idempotency_key))
    beneficiary_id = for_wallet_id or applicant.id
    if earlier is not None:
        return _repeated_application(earlier, sale_id, beneficiary_id, sets, idempotency_key)

    sale = get_sale(session, sale_id)
    _require_application_period(sale, now)
    beneficiary = _beneficiary(session, applicant, beneficiary_id)
    _require_eligible(sale, applicant, beneficiary)
    _require_person_limit(sale, sets)
    _lock_household(session, beneficiary)
    _require_no_live_application(session, sale, beneficiary)
    _require_household_limits(session, sale, beneficiary, sets)

    application = PremiumApplication(
        id=tokens.new_id("pa"), sale_id=sale.id, wallet_id=beneficiary.id,
        applicant_wallet_id=applicant.id, household_id=beneficiary.household_id,
        idempotency_key=idempotency_key, sets_requested=sets, status=APPLIED, sets_won=0,
        created_at=now,
    )
    session.add(application)
    session.flush()
    logger.info("premium application %s: sale %s, wallet %s, %d sets, sent by wallet %s",
                application.id, sale.id, beneficiary.id, sets, applicant.id)
    return application


def _repeated_application(earlier: PremiumApplication, sale_id: str, beneficiary_id: str,
                          sets: int, idempotency_key: str) -> PremiumApplication:
    if (earlier.sale_id, earlier.wallet_id, earlier.sets_requested) != (
            sale_id, beneficiary_id, sets):
        raise IdempotencyConflict(
            f"idempotency_key {idempotency_key} was already used for application {earlier.id}"
            f" (sale {earlier.sale_id}, wallet {earlier.wallet_id}, {earlier.sets_requested}"
            " sets); repeat that request unchanged, or use a new key for a new application")
    return earlier


def _require_application_period(sale: PremiumSale, now: datetime) -> None:
    if sale.apply_from <= now < sale.apply_until:
        return
    raise ServerError(ErrorCode.FORBIDDEN, f"sale {sale.id} takes applications from"
                      f" {iso_utc(sale.apply_from)} until {iso_utc(sale.apply_until)}; it is"
                      f" {iso_utc(now)} now")


def _beneficiary(session: Session, applicant: Wallet, beneficiary_id: str) -> Wallet:
    if beneficiary_id == applicant.id:
        return applicant
    beneficiary = session.get(Wallet, beneficiary_id)
    # A stranger's wallet and a missing wallet get the same error, so ids cannot be probed.
    if (beneficiary is None or applicant.household_id is None
            or beneficiary.household_id != applicant.household_id):
        raise ServerError(ErrorCode.FORBIDDEN, f"wallet {shorten(beneficiary_id)} is not in"
                          " your household, so you cannot apply for it; its holder can apply"
                          " with their own wallet")
    return beneficiary


def _require_eligible(sale: PremiumSale, applicant: Wallet, beneficiary: Wallet) -> None:
    for wallet in (applicant, beneficiary):
        if not is_eligible(sale, wallet):
            raise ServerError(ErrorCode.FORBIDDEN, f"sale {sale.id} is for residents only and"
                              f" wallet {wallet.id} is not registered as a resident; ask the"
                              " city office to register residency")


def _require_person_limit(sale: PremiumSale, sets: int) -> None:
    limit = min(sale.per_person_max_sets, sale.household_max_sets)
    if not 1 <= sets <= limit:
        raise invalid(f"sets = {sets} is invalid: sale {sale.id} allows 1 to {limit} sets per"
                      " person")


def _lock_household(session: Session, beneficiary: Wallet) -> None:
    """Lock the household's wallet rows, so members applying at once see each other's sets."""
    key = beneficiary.household_id
    query = select(Wallet.id).order_by(Wallet.id).with_for_update()
    if key is None:
        query = query.where(Wallet.id == beneficiary.id)
    else:
        query = query.where(Wallet.household_id == key)
    session.execute(query).all()


def _live_applications(session: Session, sale_id: str) -> Any:
    return select(PremiumApplication).where(PremiumApplication.sale_id == sale_id,
                                            PremiumApplication.status != CANCELLED)


def _require_no_live_application(session: Session, sale: PremiumSale, wallet: Wallet) -> None:
    existing = session.scalar(_live_applications(session, sale.id).where(
        PremiumApplication.wallet_id == wallet.id))
    if existing is not None:
        raise invalid(f"wallet {wallet.id} already applied to sale {sale.id} (application"
                      f" {existing.id}, {existing.sets_requested} sets); cancel it first to"
                      " apply for a different number of sets")


def _require_household_limits(session: Session, sale: PremiumSale, beneficiary: Wallet,
                              sets: int) -> None:
    if beneficiary.household_id is None:
        return
    rows = list(session.scalars(_live_applications(session, sale.id).where(
        PremiumApplication.household_id == beneficiary.household_id)))
    people = len(rows) + 1
    household_sets = sum(row.sets_requested for row in rows) + sets
    if people > sale.household_max_people:
        raise invalid(f"household {beneficiary.household_id} already has {len(rows)}"
                      f" applications to sale {sale.id}, the most one household may have is"
                      f" {sale.household_max_people}")
    if household_sets > sale.household_max_sets:
        left = sale.household_max_sets - (household_sets - sets)
        raise invalid(f"sets = {sets} is too many: household {beneficiary.household_id} may"
                      f" apply for {sale.household_max_sets} sets in sale {sale.id} and has"
                      f" {left} left")


def cancel(session: Session, wallet: Wallet, application_id: str, *,
           now: datetime) -> PremiumApplication:
    """Cancel a live application before the application period ends (idempotent)."""
    application = application_for(session, wallet, application_id, lock=True)
    if application.status == CANCELLED:
        return application
    sale = get_sale(session, application.sale_id)
    if application.status != APPLIED or now >= sale.apply_until:
        raise ServerError(ErrorCode.FORBIDDEN, f"application {application.id} can no longer be"
                          f" cancelled: applications to sale {sale.id} closed at"
                          f" {iso_utc(sale.apply_until)}")
    application.status = CANCELLED
    application.cancelled_at = now
    session.flush()
    logger.info("premium application %s cancelled by wallet %s", application.id, wallet.id)
    return application


def application_for(session: Session, wallet: Wallet, application_id: str, *,
                    lock: bool = False) -> PremiumApplication:
    """Return an application the wallet sent or receives the sets of."""
    query = select(PremiumApplication).where(PremiumApplication.id == application_id)
    if lock:
        query = query.with_for_update()
    application = session.scalar(query)
    if application is None or wallet.id not in (application.wallet_id,
                                                application.applicant_wallet_id):
        raise ServerError(ErrorCode.NOT_FOUND, f"application {shorten(application_id)} does not"
                          " exist for this wallet; list your applications to see their ids")
    return application


def wallet_applications(session: Session, wallet: Wallet,
                        sale_id: str | None = None) -> list[PremiumApplication]:
    """Return the applications the wallet sent or receives sets from, oldest first."""
    query = select(PremiumApplication).where(
        (PremiumApplication.wallet_id == wallet.id)
        | (PremiumApplication.applicant_wallet_id == wallet.id))
    if sale_id is not None:
        query = query.where(PremiumApplication.sale_id == sale_id)
    return list(session.scalars(query.order_by(PremiumApplication.seq)))


def purchase_window(sale: PremiumSale,
                    application: PremiumApplication) -> tuple[datetime, datetime] | None:
    """Return the purchase period of a winning application, or None if it did not win."""
    if application.round_won == 1:
        return sale.purchase_from, sale.purchase_until
    if application.round_won == 2 and sale.second_purchase_from and sale.second_purchase_until:
        return sale.second_purchase_from, sale.second_purchase_until
    return None


# --- purchases -----------------------------------------------------------------------------


def purchase(session: Session, wallet: Wallet, application_id: str, *,
             now: datetime) -> Purchase:
    """Buy the sets an application won, paying from ``wallet`` (the beneficiary or the proxy).

    The coin payment and both issues use ids derived from the application, so a repeated
    purchase returns the first one and moves nothing.
    """
    application = application_for(session, wallet, application_id, lock=True)
    sale = get_sale(session, application.sale_id)
    if application.status == PURCHASED:
        return _purchase_result(sale, application, created=False)
    _require_purchasable(sale, application, now)

    sets = application.sets_won
    price_yen = sale.price_yen * sets
    transfer_id = f"premium-buy:{application.id}"
    _pay_coin(session, transfer_id=transfer_id, source_id=wallet.account_id,
              destination_id=sale.revenue_account_id, amount_yen=price_yen, now=now)
    beneficiary = session.get(Wallet, application.wallet_id)
    assert beneficiary is not None  # foreign key
    for kind, per_set_yen in ((ValueKind.PREMIUM_LOCAL, sale.local_yen),
                              (ValueKind.PREMIUM_ALL, sale.all_yen)):
        if per_set_yen > 0:
            ledger.issue(session, transfer_id=f"premium-{kind.value}:{application.id}",
                         issuer_id=sale.issuing_account_id,
                         destination_id=beneficiary.account_id, amount_yen=per_set_yen * sets,
                         now=now, kind=kind, expires_at=sale.usage_until,
                         funding_account_id=sale.issuing_account_id)

    application.status = PURCHASED
    application.purchase_transfer_id = transfer_id
    application.paid_by_wallet_id = wallet.id
    application.purchased_at = now
    session.flush()
    logger.info("premium application %s bought: %d sets, %d yen paid by wallet %s",
                application.id, sets, price_yen, wallet.id)
    return _purchase_result(sale, application, created=True)


def _require_purchasable(sale: PremiumSale, application: PremiumApplication,
                         now: datetime) -> None:
    window = purchase_window(sale, application)
    if application.status != WON or window is None:
        raise ServerError(ErrorCode.FORBIDDEN, f"application {application.id} has no sets to"
                          f" buy (it is {application.status})")
    start, end = window
    if not start <= now < end:
        raise ServerError(ErrorCode.FORBIDDEN, f"the sets of application {application.id} can"
                          f" be bought from {iso_utc(start)} until {iso_utc(end)}; it is"
                          f" {iso_utc(now)} now")


def _pay_coin(session: Session, *, transfer_id: str, source_id: str, destination_id: str,
              amount_yen: int, now: datetime) -> ledger.TransferResult:
    """Pay from the wallet's coin only, never from premium points or benefits.

    Premium points bought with premium points would let a buyer compound the premium, and
    public benefits must not buy them either.
    """
    try:
        return ledger.pay(session, transfer_id=transfer_id, source_id=source_id,
                          destination_id=destination_id, amount_yen=amount_yen, now=now,
                          acceptance=ledger.COIN_ONLY)
    except InsufficientFunds as exc:
        raise InsufficientFunds(f"{exc.message}; premium sets are paid in coin only, so top up"
                                " the wallet and buy again") from None


def _purchase_result(sale: PremiumSale, application: PremiumApplication, *,
                     created: bool) -> Purchase:
    sets = application.sets_won
    return Purchase(application, sale.price_yen * sets, sale.local_yen * sets,
                    sale.all_yen * sets, created)


# --- counting ------------------------------------------------------------------------------


def sets_purchased(session: Session, sale_id: str) -> int:
    total = session.scalar(select(func.coalesce(func.sum(PremiumApplication.sets_won), 0)).where(
        PremiumApplication.sale_id == sale_id, PremiumApplication.status == PURCHASED))
    return int(total or 0)


def applications_of(session: Session, sale_id: str) -> list[PremiumApplication]:
    return list(session.scalars(select(PremiumApplication).where(
        PremiumApplication.sale_id == sale_id).order_by(PremiumApplication.seq)))



# --- draws ---------------------------------------------------------------------------------


def commit_seeds(session: Session, sale_id: str, *, now: datetime) -> list[RoundSeed]:
    """Generate the secret seeds of both rounds, store only their commitments, return the seeds.

    The caller must hand the seeds to the operator (``seed_files.write_premium_seeds``) before
    the transaction commits, because the database does not hold them until each round is
    drawn. Both seeds are committed before the application period ends, so the round 2 seed is
    fixed before the losers of round 1 and the unclaimed sets are known.
    """
    sale = get_sale(session, sale_id)
    existing = draws_of(session, sale.id)
    if existing:
        raise invalid(f"sale {sale.id} already has committed seeds (round 1 commitment"
                      f" {existing[1].commitment}); a seed cannot be replaced")
    if now >= sale.apply_until:
        raise invalid(f"the seeds of sale {sale.id} must be committed before its application"
                      f" period ends at {iso_utc(sale.apply_until)}; it has ended")

    seeds = []
    for round_number in ROUNDS:
        seed = lottery.generate_seed()
        seeds.append(RoundSeed(round_number, seed, lottery.commitment(seed)))
        session.add(PremiumDraw(sale_id=sale.id, round=round_number, seed=None,
                                commitment=seeds[-1].commitment, committed_at=now))
    session.flush()
    logger.info("premium sale %s seeds committed: %s, %s", sale.id, seeds[0].commitment,
                seeds[1].commitment)
    return seeds


def set_second_round(session: Session, sale_id: str, *, purchase_from: datetime,
                     purchase_until: datetime) -> PremiumSale:
    """Set the purchase period of round 2; allowed until round 2 is drawn."""
    sale = get_sale(session, sale_id)
    if _drawn(draws_of(session, sale.id), 2):
        raise invalid(f"round 2 of sale {sale.id} is already drawn; its period cannot change")
    problems = []
    if purchase_from < sale.purchase_until:
        problems.append(f"the second purchase period must start at or after the first one ends"
                        f" ({iso_utc(sale.purchase_until)})")
    if purchase_from >= purchase_until:
        problems.append("the second purchase period must end after it starts")
    if purchase_until > sale.usage_until:
        problems.append(f"the second purchase period must end by the end of the usage period"
                        f" ({iso_utc(sale.usage_until)})")
    if problems:
        raise invalid(f"second round of sale {sale.id} not set: " + "; ".join(problems))
    sale.second_purchase_from = purchase_from
    sale.second_purchase_until = purchase_until
    session.flush()
    return sale


def draw(session: Session, sale_id: str, round_number: int, *, seed: str | None,
         now: datetime) -> PremiumDraw:
    """Draw a round: round 1 among live applications, round 2 among round 1's losers.

    ``seed`` is the round's seed from the operator's seed file. It must match the stored
    commitment, and it is stored with the result, so ``publish`` can reveal it. It may be None
    only for a round committed before seed files existed, whose seed the database holds.
    """
    sale = get_sale(session, sale_id)
    draws = draws_of(session, sale.id)
    committed = draws.get(round_number)
    if committed is None:
        raise invalid(f"sale {sale.id} has no committed seed for round {round_number}; run"
                      " premium-commit before the application period ends")
    if committed.drawn_at is not None:
        raise invalid(f"round {round_number} of sale {sale.id} was drawn at"
                      f" {iso_utc(committed.drawn_at)}; a round is drawn once")
    seed = _round_seed(sale, committed, seed)
    if round_number == 1:
        candidates, supply = _round_one_inputs(session, sale, now)
    else:
        candidates, supply = _round_two_inputs(session, sale, draws, now)

    by_id = {row.id: row for row in candidates}
    requests = {row.id: row.sets_requested for row in candidates}
    order = lottery.order(seed, sorted(requests))
    winners = lottery.allocate(order, requests, supply)
    for position, application_id in enumerate(order, start=1):
        row = by_id[application_id]
        row.draw_position = position
        won = winners.get(application_id, 0)
        row.status = WON if won else LOST
        row.sets_won = won
        row.round_won = round_number if won else None

    committed.seed = seed
    committed.supply_sets = supply
    committed.candidates = [{"id": key, "sets": requests[key]} for key in sorted(requests)]
    committed.draw_order = order
    committed.winners = winners
    committed.drawn_at = now
    session.flush()
    logger.info("premium sale %s round %d drawn: %d candidates, %d sets, %d winners", sale.id,
                round_number, len(candidates), supply, len(winners))
    return committed


def _round_seed(sale: PremiumSale, committed: PremiumDraw, seed: str | None) -> str:
    """Return the seed to draw with, after checking it against the stored commitment."""
    if seed is None:
        if committed.seed is None:
            raise invalid(f"round {committed.round} of sale {sale.id} needs its seed; give the"
                          " seed file that premium-commit wrote for this sale"
                          " (premium-draw --seed-file FILE)")
        logger.warning("premium sale %s round %d is drawn with the seed stored in the database:"
                       " it was committed before seed files, so anyone who could read the"
                       " database before this draw could have predicted it", sale.id,
                       committed.round)
        return committed.seed

    return seed_files.checked_seed(
        seed, committed.commitment, draw_name=f"round {committed.round} of sale {sale.id}",
        advice="give the seed file that premium-commit wrote for this sale, unchanged")


def _round_one_inputs(session: Session, sale: PremiumSale,
                      now: datetime) -> tuple[list[PremiumApplication], int]:
    if now < sale.apply_until:
        raise invalid(f"round 1 of sale {sale.id} can be drawn once applications close at"
                      f" {iso_utc(sale.apply_until)}")
    candidates = list(session.scalars(select(PremiumApplication).where(
        PremiumApplication.sale_id == sale.id, PremiumApplication.status == APPLIED)
        .with_for_update()))
    return candidates, sale.total_sets


def _round_two_inputs(session: Session, sale: PremiumSale, draws: dict[int, PremiumDraw],
                      now: datetime) -> tuple[list[PremiumApplication], int]:
    if not _drawn(draws, 1):
        raise invalid(f"round 1 of sale {sale.id} must be drawn before round 2")
    if now < sale.purchase_until:
        raise invalid(f"round 2 of sale {sale.id} can be drawn once the first purchase period"
                      f" ends at {iso_utc(sale.purchase_until)}, when the unclaimed sets are"
                      " known")
    if sale.second_purchase_until is None or now >= sale.second_purchase_until:
        raise invalid(f"sale {sale.id} has no second purchase period ahead; set one with"
                      " premium-second-round first")
    candidates = list(session.scalars(select(PremiumApplication).where(
        PremiumApplication.sale_id == sale.id, PremiumApplication.status == LOST)
        .with_for_update()))
    return candidates, sale.total_sets - sets_purchased(session, sale.id)


def publish(session: Session, sale_id: str, round_number: int, *,
            now: datetime) -> dict[str, Any]:
    """Reveal a drawn round's seed and return its public record (see ``draw_record``)."""
    sale = get_sale(session, sale_id)
    committed = draws_of(session, sale.id).get(round_number)
    if committed is None or committed.drawn_at is None:
        raise invalid(f"round {round_number} of sale {sale.id} has not been drawn; its seed"
                      " stays secret until the draw")
    if committed.published_at is None:
        committed.published_at = now
        session.flush()
        logger.info("premium sale %s round %d seed published", sale.id, round_number)
    return draw_record(sale, committed)


def draw_record(sale: PremiumSale, committed: PremiumDraw) -> dict[str, Any]:
    """Return the public record of a round: enough for anyone to re-run it.

    The seed is included only once the round has been published.
    """
    return {
        "sale_id": sale.id,
        "round": committed.round,
        "algorithm": "chiiki-lottery-hmac-sha256-v1",
        "commitment": committed.commitment,
        "seed": committed.seed if committed.published_at is not None else None,
        "supply_sets": committed.supply_sets,
        "candidates": committed.candidates or [],
        "order": committed.draw_order or [],
        "winners": committed.winners or {},
        "drawn_at": iso_utc(committed.drawn_at) if committed.drawn_at else None,
    }


def verify_record(record: dict[str, Any]) -> list[str]:
    """Re-run a published draw record and return every difference found (empty: it holds)."""
    try:
        seed = str(record["seed"])
        commitment = str(record["commitment"])
        supply = int(record["supply_sets"])
        requests = {str(item["id"]): int(item["sets"]) for item in record["candidates"]}
        order = [str(item) for item in record["order"]]
        winners = {str(key): int(value) for key, value in record["winners"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return [f"the record is incomplete or malformed ({exc!r}); it needs seed, commitment,"
                " supply_sets, candidates, order and winners"]
    if record["seed"] is None:
        return ["the record has no seed; the round has not been published yet"]

    # One ticket per application: the sets requested do not weight the draw.
    check = lottery.verify(seed, commitment, sorted(requests), order)
    problems = [] if check.ok else [str(check.problem)]
    if check.ok and len(order) != len(requests):
        problems.append(f"the order lists {len(order)} of {len(requests)} candidates")
    if check.ok:
        expected = lottery.allocate(check.order, requests, supply)
        if expected != winners:
            problems.append(f"the winners differ from what the seed gives: expected {expected}")
    return problems
