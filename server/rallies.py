"""Stamp rallies: booths give participants stamps, and the goal books a reward once.

A rally runs from ``starts_on`` to ``ends_on`` (Japan calendar days). Its booths are terminals
the operator assigned to it. A participant is a wallet, identified at the booth by a participant
code (``terminal.rally_code``) that the server's issuer key signed, so a booth can check it
offline and send the stamp later through the outbox.

Rules ``give_stamp`` keeps, online and on sync alike:

- A stamp is applied once per (terminal, entry id): the same entry again returns the first
  outcome and adds nothing.
- A participant gets at most one stamp per booth per Japan calendar day of the capture. A second
  one returns ``already_today`` (the unique key of ``rally_stamps`` backs this up).
- The stamp that brings the participant to ``goal_stamps`` issues the reward. A points reward
  (premium_all or benefit, with the rally's expiry) comes from the rally's issuing account as
  the ledger transfer ``rally:<rally id>:<wallet id>``. A coupon reward is a coupon of the
  rally's coupon campaign (``server.coupons.issue_coupon``). The participant row records the
  goal, so the reward is issued once however the stamps arrive.

Concurrency: the participant's row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
writers run one at a time) before the stamp is checked and inserted, so two booths stamping the
same participant at once count both stamps and book the reward once.

NOTE: a coupon reward is not issued when the coupon campaign's budget is used up. The goal is
still recorded, and the report counts such participants as goals without a reward.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server import coupons, issuer, ledger, tokens
from server.coupon_models import CouponCampaign
from server.errors import ServerError, invalid, not_found, shorten
from server.models import Account, Terminal, Wallet, table_of
from server.rally_models import Rally, RallyBooth, RallyParticipant, RallyStamp
from server.settings import iso_utc
from terminal import protocol, rally_code
from terminal.japan_time import JAPAN_TIME_ZONE, to_japan_time
from terminal.protocol import ErrorCode, ValueKind

logger = logging.getLogger(__name__)

POINT_KINDS: tuple[ValueKind, ...] = (ValueKind.PREMIUM_ALL, ValueKind.BENEFIT)
REWARD_COUPON = "coupon"
REWARD_KINDS: tuple[str, ...] = (*(kind.value for kind in POINT_KINDS), REWARD_COUPON)
MAX_NAME_CHARS = 100
MAX_BOOTH_NAME_CHARS = 40
# Largest reward per participant: far above any stamp-rally prize, and the same ceiling as the
# discount fields of a coupon (an unsigned 32-bit number), well inside the BigInteger column.
MAX_REWARD_YEN = 4_294_967_295
# A captured_at this far ahead of the server's clock is taken as the server's time instead,
# so a terminal with a wrong clock cannot stamp a day that has not begun.
MAX_FUTURE_SKEW = timedelta(minutes=5)

_PARTICIPANTS = table_of(RallyParticipant)
_STAMPS = table_of(RallyStamp)
_CLAIM_PARTICIPANT_SQLITE: Insert = sqlite.insert(_PARTICIPANTS).on_conflict_do_nothing()
_CLAIM_PARTICIPANT_POSTGRESQL: Insert = postgresql.insert(_PARTICIPANTS).on_conflict_do_nothing()


@dataclass(frozen=True)
class NewRally:
    """The operator's settings for a new rally."""

    name: str
    starts_on: date
    ends_on: date
    goal_stamps: int
    # premium_all, benefit or coupon (REWARD_KINDS).
    reward_kind: str
    # Points at the goal; 0 for a coupon reward.
    reward_yen: int
    # Japan calendar day whose end (24:00 Japan time) the reward points expire at; a coupon
    # reward takes its validity from its campaign.
    reward_expires_on: date
    issuing_account_id: str | None = None
    coupon_campaign_id: str | None = None


@dataclass(frozen=True)
class BoothDayCount:
    """Stamps one booth gave on one Japan day."""

    terminal_id: str
    booth_name: str
    day: date
    stamps: int


@dataclass(frozen=True)
class RallyReport:
    """Totals of one rally for the operator."""

    rally: Rally
    booth_days: list[BoothDayCount]
    participants: int
    goals_reached: int
    rewards_yen: int
    # Goals reached without a reward: a coupon campaign whose budget was used up.
    goals_without_reward: int = 0


# --- the operator's side ----------------------------------------------------------------------


def create_rally(session: Session, new: NewRally, *, now: datetime) -> Rally:
    """Create a rally, and its own issuing account unless ``issuing_account_id`` names one."""
    _check_new_rally(new)
    today = japan_day(now)
    if new.ends_on < today:
        raise invalid(f"the rally would end on {new.ends_on}, which is before today ({today}) in"
                      " Japan, so no booth could give a stamp; give an end date from today on")
    expires_at = end_of_japan_day(new.reward_expires_on)
    if new.coupon_campaign_id is not None:
        expires_at = _coupon_campaign(session, new.coupon_campaign_id).ends_at
    rally_id = tokens.new_id("r")
    account_id = new.issuing_account_id or f"rally-{rally_id}"
    if new.issuing_account_id is None:
        ledger.open_account(session, account_id, "rally", now=now, is_issuing=True)
    else:
        _check_issuing_account(session, account_id)

    rally = Rally(
        id=rally_id, name=new.name, starts_on=new.starts_on, ends_on=new.ends_on,
        goal_stamps=new.goal_stamps, reward_kind=new.reward_kind, reward_yen=new.reward_yen,
        reward_expires_at=expires_at, issuing_account_id=account_id,
        reward_coupon_campaign_id=new.coupon_campaign_id, created_at=now,
    )
    session.add(rally)
    session.flush()
    logger.info("rally %s created: %d stamps for %d yen %s %s, issued by %s", rally_id,
                new.goal_stamps, new.reward_yen, new.reward_kind,
                new.coupon_campaign_id or "", account_id)
    return rally


def add_booth(
    session: Session, rally_id: str, terminal_id: str, name: str, *, now: datetime
) -> RallyBooth:
    """Make a terminal a booth of a rally; a terminal serves one rally per day."""
    rally = get_rally(session, rally_id)
    if session.get(Terminal, terminal_id) is None:
        raise not_found(f"terminal {shorten(terminal_id)} does not exist; print the terminal"
                        " ids with chiiki-settle list-terminals [--merchant ID]")
    name = name.strip()
    if not 1 <= len(name) <= MAX_BOOTH_NAME_CHARS:
        raise invalid(f"booth name {name!r} must be 1 to {MAX_BOOTH_NAME_CHARS} characters")
    if session.get(RallyBooth, (rally_id, terminal_id)) is not None:
        raise invalid(f"terminal {terminal_id} is already a booth of rally {rally_id}")
    _check_no_overlap(session, rally, terminal_id)

    booth = RallyBooth(rally_id=rally_id, terminal_id=terminal_id, name=name, created_at=now)
    session.add(booth)
    session.flush()
    logger.info("terminal %s is now booth %r of rally %s", terminal_id, name, rally_id)
    return booth


def get_rally(session: Session, rally_id: str) -> Rally:
    rally = session.get(Rally, rally_id)
    if rally is None:
        raise not_found(f"rally {shorten(rally_id)} does not exist; list rallies with"
                        " chiiki-settle rallies")
    return rally


def list_rallies(session: Session) -> list[Rally]:
    return list(session.scalars(select(Rally).order_by(Rally.starts_on, Rally.id)))


def rally_report(session: Session, rally_id: str) -> RallyReport:
    """Count stamps per booth per day, participants and goals reached."""
    rally = get_rally(session, rally_id)
    rows = session.execute(
        select(RallyStamp.terminal_id, RallyBooth.name, RallyStamp.stamp_day, func.count())
        .join(RallyBooth, (RallyBooth.rally_id == RallyStamp.rally_id)
              & (RallyBooth.terminal_id == RallyStamp.terminal_id))
        .where(RallyStamp.rally_id == rally_id)
        .group_by(RallyStamp.terminal_id, RallyBooth.name, RallyStamp.stamp_day)
        .order_by(RallyStamp.stamp_day, RallyBooth.name)
    ).all()
    booth_days = [BoothDayCount(terminal_id, name, day, int(count))
                  for terminal_id, name, day, count in rows]

    participants = session.scalar(
        select(func.count()).select_from(RallyParticipant)
        .where(RallyParticipant.rally_id == rally_id)
    ) or 0
    goals = session.scalar(
        select(func.count()).select_from(RallyParticipant)
        .where(RallyParticipant.rally_id == rally_id,
               RallyParticipant.goal_reached_at.is_not(None))
    ) or 0
    unrewarded = session.scalar(
        select(func.count()).select_from(RallyParticipant)
        .where(RallyParticipant.rally_id == rally_id,
               RallyParticipant.goal_reached_at.is_not(None),
               RallyParticipant.reward_transfer_id.is_(None))
    ) or 0
    return RallyReport(rally, booth_days, int(participants), int(goals),
                       int(goals) * rally.reward_yen, int(unrewarded))


# --- the booth's side ----------------------------------------------------------------------


def booth_rally(session: Session, terminal_id: str, now: datetime) -> tuple[Rally, RallyBooth]:
    """Return the rally this terminal is a booth of today, else its next or latest one."""
    rows = session.execute(
        select(Rally, RallyBooth)
        .join(RallyBooth, RallyBooth.rally_id == Rally.id)
        .where(RallyBooth.terminal_id == terminal_id)
        .order_by(Rally.starts_on)
    ).all()
    if not rows:
        raise ServerError(ErrorCode.RALLY_NOT_OPEN,
                          f"terminal {terminal_id} is not a booth of any rally; the operator"
                          " adds it with chiiki-settle rally-add-booth")
    today = japan_day(now)
    current = [row for row in rows if row[0].starts_on <= today <= row[0].ends_on]
    upcoming = [row for row in rows if row[0].starts_on > today]
    rally, booth = (current or upcoming or rows[-1:])[0]
    return rally, booth


def rally_info(rally: Rally, booth: RallyBooth, now: datetime) -> protocol.RallyInfo:
    return protocol.RallyInfo(
        rally_id=rally.id, name=rally.name, booth_name=booth.name,
        starts_on=rally.starts_on.isoformat(), ends_on=rally.ends_on.isoformat(),
        goal_stamps=rally.goal_stamps, reward_kind=_reward_kind(rally),
        reward_yen=rally.reward_yen, reward_expires_at=iso_utc(rally.reward_expires_at),
        server_time=iso_utc(now),
    )


def booth_day(session: Session, terminal_id: str, now: datetime) -> protocol.BoothDay:
    """Count the stamps this booth gave today (Japan time) in its current rally."""
    rally, _ = booth_rally(session, terminal_id, now)
    today = japan_day(now)
    count = session.scalar(
        select(func.count()).select_from(RallyStamp).where(
            RallyStamp.rally_id == rally.id, RallyStamp.terminal_id == terminal_id,
            RallyStamp.stamp_day == today,
        )
    ) or 0
    return protocol.BoothDay(rally_id=rally.id, day=today.isoformat(), stamps=int(count))


def stamp_time(captured_at: datetime, now: datetime) -> datetime:
    """Return the time a stamp counts at: ``captured_at``, but never past ``now`` plus the skew.

    The stamp day, and the business day the sync response reports for a stamp, both come from
    this time, so a booth with a fast clock cannot give a stamp for a day that has not begun.
    """
    return min(captured_at, now + MAX_FUTURE_SKEW)


def give_stamp(
    session: Session,
    terminal: Terminal,
    participant_code: str,
    entry_id: str,
    captured_at: datetime,
    *,
    now: datetime,
) -> protocol.StampOutcome:
    """Give the code's participant a stamp at this booth, once per entry and per day."""
    captured_at = stamp_time(captured_at, now)
    code = _verify_code(session, participant_code)
    rally = _rally_of_booth(session, code.rally_id, terminal.id)
    stamp_day = japan_day(captured_at)
    if not rally.starts_on <= stamp_day <= rally.ends_on:
        raise ServerError(ErrorCode.RALLY_NOT_OPEN,
                          f"rally {rally.id} runs from {rally.starts_on} to {rally.ends_on},"
                          f" not on {stamp_day}; the stamp cannot be given")
    wallet = session.get(Wallet, code.wallet_id)
    if wallet is None:
        raise ServerError(ErrorCode.RALLY_CODE_INVALID,
                          f"participant code names wallet {code.wallet_id}, which does not exist")

    participant = _lock_participant(session, rally.id, wallet.id, now)
    earlier = session.scalars(select(RallyStamp).where(
        RallyStamp.terminal_id == terminal.id, RallyStamp.entry_id == entry_id,
    )).first()
    if earlier is not None:
        return _repeated_outcome(rally, earlier, entry_id)
    same_day = session.scalars(select(RallyStamp).where(
        RallyStamp.rally_id == rally.id, RallyStamp.wallet_id == wallet.id,
        RallyStamp.terminal_id == terminal.id, RallyStamp.stamp_day == stamp_day,
    )).first()
    if same_day is not None:
        return _outcome(rally, entry_id, "already_today", stamp_day, participant.stamp_count)

    return _add_stamp(session, rally, participant, wallet, terminal.id, entry_id, captured_at,
                      stamp_day, now)


def _add_stamp(
    session: Session, rally: Rally, participant: RallyParticipant, wallet: Wallet,
    terminal_id: str, entry_id: str, captured_at: datetime, stamp_day: date, now: datetime,
) -> protocol.StampOutcome:
    participant.stamp_count += 1
    session.add(RallyStamp(
        rally_id=rally.id, wallet_id=wallet.id, terminal_id=terminal_id, entry_id=entry_id,
        stamp_day=stamp_day, stamp_number=participant.stamp_count, captured_at=captured_at,
        created_at=now,
    ))
    reward: dict[str, object] = {}
    if participant.stamp_count >= rally.goal_stamps and participant.goal_reached_at is None:
        participant.goal_reached_at = now
        if rally.reward_kind == REWARD_COUPON:
            coupon_id, title = _issue_reward_coupon(session, rally, wallet, now)
            participant.reward_transfer_id = coupon_id
            reward = {"reward_coupon": title}
        else:
            participant.reward_transfer_id = _book_reward(session, rally, wallet, now)
            reward = {"reward_yen": rally.reward_yen}
    session.flush()
    logger.info("stamp %d of %d for wallet %s in rally %s at terminal %s (entry %s)",
                participant.stamp_count, rally.goal_stamps, wallet.id, rally.id, terminal_id,
                shorten(entry_id))
    outcome = _outcome(rally, entry_id, "given", stamp_day, participant.stamp_count)
    return outcome.model_copy(update=reward)


def _issue_reward_coupon(
    session: Session, rally: Rally, wallet: Wallet, now: datetime
) -> tuple[str | None, str | None]:
    """Issue the rally's coupon to the wallet; return (coupon id, title), or Nones if no budget."""
    assert rally.reward_coupon_campaign_id is not None
    campaign = session.scalars(
        select(CouponCampaign).where(CouponCampaign.id == rally.reward_coupon_campaign_id)
        .with_for_update()
    ).one()
    shops = coupons.campaign_shops(session, campaign.id)
    coupon = coupons.issue_coupon(session, campaign, wallet.id, shops, issued_for="rally",
                                  now=now)
    if coupon is None:
        logger.warning("rally %s goal reached by wallet %s, but coupon campaign %s has no"
                       " budget left; no coupon was issued", rally.id, wallet.id, campaign.id)
        return None, None
    logger.info("rally %s goal reached by wallet %s: coupon %s issued", rally.id, wallet.id,
                coupon.id)
    return coupon.id, campaign.title


def _book_reward(session: Session, rally: Rally, wallet: Wallet, now: datetime) -> str:
    transfer_id = reward_transfer_id(rally.id, wallet.id)
    ledger.issue(
        session, transfer_id=transfer_id, issuer_id=rally.issuing_account_id,
        destination_id=wallet.account_id, amount_yen=rally.reward_yen, now=now,
        kind=ValueKind(rally.reward_kind), expires_at=rally.reward_expires_at,
    )
    logger.info("rally %s goal reached by wallet %s: %d yen %s booked as %s", rally.id,
                wallet.id, rally.reward_yen, rally.reward_kind, transfer_id)
    return transfer_id


def reward_transfer_id(rally_id: str, wallet_id: str) -> str:
    return f"rally:{rally_id}:{wallet_id}"


# --- the wallet's side ---------------------------------------------------------------------


def participant_codes(session: Session, wallet: Wallet, now: datetime) -> list[protocol.ParticipantCode]:
    """Return the wallet's code and progress for every rally that has not ended."""
    today = japan_day(now)
    rallies = session.scalars(
        select(Rally).where(Rally.ends_on >= today).order_by(Rally.starts_on, Rally.id)
    ).all()
    if not rallies:
        return []
    key_id, private_key = issuer.signing_key(session, now)
    return [_participant_code(session, rally, wallet, key_id, private_key) for rally in rallies]


def participant_code(
    session: Session, wallet: Wallet, rally_id: str, now: datetime
) -> protocol.ParticipantCode:
    rally = get_rally(session, rally_id)
    key_id, private_key = issuer.signing_key(session, now)
    return _participant_code(session, rally, wallet, key_id, private_key)


def _participant_code(
    session: Session, rally: Rally, wallet: Wallet, key_id: str, private_key: Any
) -> protocol.ParticipantCode:
    participant = session.get(RallyParticipant, (rally.id, wallet.id))
    count = participant.stamp_count if participant is not None else 0
    return protocol.ParticipantCode(
        rally_id=rally.id, rally_name=rally.name,
        code=rally_code.make_participant_code(rally.id, wallet.id, key_id, private_key),
        starts_on=rally.starts_on.isoformat(), ends_on=rally.ends_on.isoformat(),
        stamp_count=count, goal_stamps=rally.goal_stamps,
        goal_reached=participant is not None and participant.goal_reached_at is not None,
    )


# --- days ----------------------------------------------------------------------------------


def japan_day(moment: datetime) -> date:
    """Return the Japan-time calendar day of ``moment``."""
    return to_japan_time(moment).date()


def end_of_japan_day(day: date) -> datetime:
    """Return 24:00 Japan time at the end of ``day``, as an aware datetime."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=JAPAN_TIME_ZONE)


# --- helpers -------------------------------------------------------------------------------


def _check_new_rally(new: NewRally) -> None:
    name = new.name.strip()
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise invalid(f"rally name {new.name!r} must be 1 to {MAX_NAME_CHARS} characters")
    if new.ends_on < new.starts_on:
        raise invalid(f"the rally ends on {new.ends_on}, before it starts on {new.starts_on};"
                      " give an end date on or after the start date")
    if not 1 <= new.goal_stamps <= 100:
        raise invalid(f"goal of {new.goal_stamps} stamps is outside 1 to 100")
    if new.reward_kind not in REWARD_KINDS:
        raise invalid(f"reward kind {new.reward_kind} is not one of {', '.join(REWARD_KINDS)}")
    if new.reward_kind == REWARD_COUPON:
        if new.coupon_campaign_id is None or new.reward_yen != 0:
            raise invalid("a coupon reward needs --coupon-campaign and no --reward-yen")
        return
    if new.coupon_campaign_id is not None:
        raise invalid(f"--coupon-campaign needs --reward-kind coupon, not {new.reward_kind}")
    if new.reward_yen < 1:
        raise invalid(f"reward of {new.reward_yen} yen must be at least 1 yen")
    if new.reward_yen > MAX_REWARD_YEN:
        raise invalid(f"reward of {new.reward_yen} yen is more than the maximum of"
                      f" {MAX_REWARD_YEN} yen; give a smaller --reward-yen")
    if new.reward_expires_on < new.ends_on:
        raise invalid(f"the reward expires on {new.reward_expires_on}, before the rally ends on"
                      f" {new.ends_on}; give a later expiry date")


def _coupon_campaign(session: Session, campaign_id: str) -> CouponCampaign:
    campaign = session.get(CouponCampaign, campaign_id)
    if campaign is None:
        raise not_found(f"coupon campaign {shorten(campaign_id)} does not exist; list campaigns"
                        " with chiiki-settle and use its id")
    return campaign


def _check_issuing_account(session: Session, account_id: str) -> None:
    account = session.get(Account, account_id)
    if account is None:
        raise not_found(f"account {shorten(account_id)} does not exist; leave out"
                        " --issuing-account to give the rally its own issuing account")
    if not account.is_issuing:
        raise invalid(f"account {account_id} is not an issuing account, so it cannot issue"
                      " rewards; name an issuing account or leave out --issuing-account")


def _check_no_overlap(session: Session, rally: Rally, terminal_id: str) -> None:
    others = session.scalars(
        select(Rally).join(RallyBooth, RallyBooth.rally_id == Rally.id)
        .where(RallyBooth.terminal_id == terminal_id, Rally.id != rally.id,
               Rally.starts_on <= rally.ends_on, Rally.ends_on >= rally.starts_on)
    ).all()
    if others:
        other = others[0]
        raise invalid(f"terminal {terminal_id} is a booth of rally {other.id} from"
                      f" {other.starts_on} to {other.ends_on}, which overlaps rally {rally.id};"
                      " a terminal serves one rally at a time")


def _verify_code(session: Session, text: str) -> rally_code.ParticipantCode:
    keys: dict[str, Ed25519PublicKey] = issuer.public_keys(session)
    try:
        return rally_code.verify_participant_code(text, keys)
    except rally_code.RallyCodeError as exc:
        raise ServerError(ErrorCode.RALLY_CODE_INVALID,
                          f"participant code {rally_code.mask_participant_code(text)} is"
                          f" invalid: {exc}") from None


def _rally_of_booth(session: Session, rally_id: str, terminal_id: str) -> Rally:
    booth = session.get(RallyBooth, (rally_id, terminal_id))
    if booth is None:
        raise ServerError(ErrorCode.RALLY_CODE_INVALID,
                          f"the participant code is for rally {shorten(rally_id)}, and terminal"
                          f" {terminal_id} is not a booth of that rally")
    return get_rally(session, rally_id)


def _lock_participant(
    session: Session, rally_id: str, wallet_id: str, now: datetime
) -> RallyParticipant:
    """Create the participant row if missing and lock it for the rest of the transaction."""
    session.flush()
    connection = session.connection()
    statement = (_CLAIM_PARTICIPANT_SQLITE if connection.dialect.name == "sqlite"
                 else _CLAIM_PARTICIPANT_POSTGRESQL)
    connection.execute(statement, {
        "rally_id": rally_id, "wallet_id": wallet_id, "stamp_count": 0, "first_stamp_at": now,
    })
    participant = session.scalars(
        select(RallyParticipant)
        .where(RallyParticipant.rally_id == rally_id, RallyParticipant.wallet_id == wallet_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return participant


def _repeated_outcome(rally: Rally, stamp: RallyStamp, entry_id: str) -> protocol.StampOutcome:
    outcome = _outcome(rally, entry_id, "given", stamp.stamp_day, stamp.stamp_number)
    if stamp.stamp_number != rally.goal_stamps or rally.reward_kind == REWARD_COUPON:
        return outcome
    return outcome.model_copy(update={"reward_yen": rally.reward_yen})


def _outcome(
    rally: Rally, entry_id: str, status: protocol.StampStatus, stamp_day: date, count: int
) -> protocol.StampOutcome:
    return protocol.StampOutcome(
        entry_id=entry_id, status=status, rally_id=rally.id, stamp_day=stamp_day.isoformat(),
        stamp_count=count, goal_stamps=rally.goal_stamps,
        goal_reached=count >= rally.goal_stamps,
    )


def _reward_kind(rally: Rally) -> protocol.RallyRewardKind:
    if rally.reward_kind == REWARD_COUPON:
        return "coupon"
    return "benefit" if rally.reward_kind == ValueKind.BENEFIT.value else "premium_all"
