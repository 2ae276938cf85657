"""Donation shares of payments: causes, campaigns, booking, refunds, settlement and totals.

Amount rule: a campaign gives either ``share_bp`` basis points of the payment's amount (what
the wallet paid, after any coupon discount), rounded down to whole yen, or ``fixed_yen`` per
payment. A donation never exceeds the payment, and the merchant-funded donations of one
payment together never exceed it either (campaigns apply oldest first). A donation that rounds
to 0 yen is not recorded. A campaign applies to a payment booked at a moment in
``[starts_at, ends_at)``. Offline payments count at the moment the server books them on sync.

Funding: a merchant-funded donation is paid out of the value that payment delivered to the
shop, so the shop's account always covers it. An operator-funded donation is paid from the
fee account (``models.FEE_ACCOUNT_ID``) when that account has enough at that moment.
Otherwise the donation is recorded as owed, no balance goes below zero, and ``settle_owed``
(``chiiki-settle donation-settle``) books owed donations oldest first once fees cover them.
Both ways the transfer id is ``donation:<payment id>:<campaign id>``.

Refunds: after refunds totalling R yen of a payment of A yen, a donation of D yen has
returned ``D * R // A`` yen in total (rounded down), so partial refunds never return more than
was donated and a full refund returns all of it. Each refund moves the difference from the
cause back to the funder in the transfer ``donation-refund:<refund id>:<campaign id>``; an
owed donation is reduced without a transfer.

Refunds after a payout: a cause may have paid its value out in yen (``server.donation_payouts``)
and hold less than the share a refund returns. The refund still goes ahead. The cause returns
what it holds, up to the share, and the rest is recorded on the donation row as
``clawback_owed_yen``, owed back by the cause to the funder (the merchant, or the fee account
for operator-funded donations), with a ``clawback_owed`` event. For a merchant-funded donation
the shop's own balance pays the customer the part the cause could not return. If the shop's
balance cannot cover the refund either, the refund is rejected as before and nothing is
recorded. The cause repays what it owes back, oldest donation first, before its next payout.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from server import ledger, tokens
from server.donation_models import (
    EVENT_CLAWBACK_OWED,
    EVENT_DONATED,
    EVENT_RETURNED,
    EVENT_SETTLED,
    FUNDER_MERCHANT,
    FUNDER_OPERATOR,
    STATUS_BOOKED,
    STATUS_CANCELLED,
    STATUS_OWED,
    DonationCampaign,
    DonationCause,
    DonationEvent,
    DonationRow,
)
from server.errors import invalid, not_found, shorten
from server.models import FEE_ACCOUNT_ID, Account, Merchant, Payment, Refund
from terminal import protocol
from terminal.japan_time import format_japan_time

logger = logging.getLogger(__name__)

BASIS_POINTS = 10_000
# Largest fixed donation per payment: far above any payment the terminals accept, and well
# inside the BigInteger column, so an oversized option is rejected with a message.
MAX_FIXED_YEN = 4_294_967_295
FUNDERS = (FUNDER_MERCHANT, FUNDER_OPERATOR)
# Japan has kept UTC+9 all year since 1951, so days and months of the totals shift UTC by it.
JAPAN_OFFSET_HOURS = 9

TotalsGroup = Literal["campaign", "cause", "day", "month"]
TOTALS_GROUPS: tuple[TotalsGroup, ...] = ("campaign", "cause", "day", "month")


@dataclass(frozen=True)
class NewCampaign:
    """The terms an operator sets when creating a campaign; see ``DonationCampaign``."""

    cause_id: str
    name: str
    starts_at: datetime
    ends_at: datetime
    funder: str
    share_bp: int | None = None
    fixed_yen: int | None = None
    merchant_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SettleSummary:
    """Owed donations booked by one ``settle_owed`` run and what is still owed."""

    settled_count: int
    settled_yen: int
    still_owed_count: int
    still_owed_yen: int


@dataclass(frozen=True)
class TotalLine:
    """Donation totals of one campaign, cause, day or month (Japan time)."""

    key: str
    label: str
    donated_yen: int
    returned_yen: int
    payment_count: int

    @property
    def net_yen(self) -> int:
        return self.donated_yen - self.returned_yen


# --- causes and campaigns ------------------------------------------------------------------


def create_cause(session: Session, name: str, *, now: datetime) -> DonationCause:
    """Create a cause with its own ledger account."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise invalid(f"cause name {shorten(name)!r} must be 1 to 100 characters")
    cause_id = tokens.new_id("cause")
    ledger.open_account(session, cause_id, "cause", now=now)
    cause = DonationCause(id=cause_id, name=name, account_id=cause_id, created_at=now)
    session.add(cause)
    session.flush()
    logger.info("donation cause %s created", cause_id)
    return cause


def issue_read_token(session: Session, cause_id: str) -> str:
    """Create a new bearer token for reading the cause's totals; the old one stops working."""
    cause = get_cause(session, cause_id)
    token = tokens.new_secret_token()
    cause.read_token_hash = tokens.sha256_hex(token)
    session.flush()
    logger.info("read token issued for donation cause %s", cause_id)
    return token


def cause_for_token(session: Session, token: str) -> DonationCause | None:
    query = select(DonationCause).where(DonationCause.read_token_hash == tokens.sha256_hex(token))
    return session.scalars(query).one_or_none()


def get_cause(session: Session, cause_id: str) -> DonationCause:
    cause = session.get(DonationCause, cause_id)
    if cause is None:
        raise not_found(f"donation cause {shorten(cause_id)} does not exist; run chiiki-settle"
                        " donation-causes to see the cause ids")
    return cause


def list_causes(session: Session) -> list[DonationCause]:
    return list(session.scalars(select(DonationCause).order_by(DonationCause.created_at,
                                                                DonationCause.id)))


def create_campaign(session: Session, new: NewCampaign, *, now: datetime) -> DonationCampaign:
    """Validate ``new`` and store the campaign."""
    get_cause(session, new.cause_id)
    _check_campaign(session, new)
    if new.ends_at <= now:
        raise invalid(f"campaign end {_japan(new.ends_at)} is not in the future (now"
                      f" {_japan(now)}); give an end after now, e.g. --ends"
                      f" {_japan(now + timedelta(days=30))[:10]}")
    campaign = DonationCampaign(
        id=tokens.new_id("dc"), cause_id=new.cause_id, name=new.name.strip(),
        starts_at=new.starts_at, ends_at=new.ends_at, share_bp=new.share_bp,
        fixed_yen=new.fixed_yen, funder=new.funder,
        merchant_ids=sorted(new.merchant_ids) if new.merchant_ids is not None else None,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    logger.info("donation campaign %s created for cause %s", campaign.id, new.cause_id)
    return campaign


def _check_campaign(session: Session, new: NewCampaign) -> None:
    if not 1 <= len(new.name.strip()) <= 100:
        raise invalid(f"campaign name {shorten(new.name)!r} must be 1 to 100 characters")
    if (new.share_bp is None) == (new.fixed_yen is None):
        raise invalid("give exactly one of --share-bp (basis points, 100 = 1%) and --fixed-yen")
    if new.share_bp is not None and not 1 <= new.share_bp <= BASIS_POINTS:
        raise invalid(f"share {new.share_bp} bp is out of range; allowed: 1 to {BASIS_POINTS}"
                      " (100 bp = 1%)")
    if new.fixed_yen is not None and not 1 <= new.fixed_yen <= MAX_FIXED_YEN:
        raise invalid(f"fixed amount {new.fixed_yen} yen is out of range; allowed: 1 to"
                      f" {MAX_FIXED_YEN} yen")
    if new.funder not in FUNDERS:
        raise invalid(f"funder {new.funder!r} is unknown; use merchant or operator")
    if new.ends_at <= new.starts_at:
        raise invalid(f"campaign ends at {_japan(new.ends_at)}, not after it starts at"
                      f" {_japan(new.starts_at)}; give an end after the start")
    if new.merchant_ids is not None:
        _check_merchants(session, new.merchant_ids)


def _check_merchants(session: Session, merchant_ids: tuple[str, ...]) -> None:
    if not merchant_ids:
        raise invalid("the merchant list is empty; name at least one merchant, or none for all")
    known = set(session.scalars(select(Merchant.id).where(Merchant.id.in_(merchant_ids))))
    missing = [merchant_id for merchant_id in merchant_ids if merchant_id not in known]
    if missing:
        raise invalid(f"merchant {shorten(missing[0])} does not exist; run chiiki-settle"
                      " list-merchants to see the merchant ids")


def end_campaign(session: Session, campaign_id: str, ends_at: datetime, *,
                 now: datetime) -> DonationCampaign:
    """Move a campaign's end earlier, but not into the past.

    Payments already booked keep their donations, so an end before ``now`` would leave
    donations booked after the campaign's recorded end.
    """
    campaign = get_campaign(session, campaign_id)
    if ends_at > campaign.ends_at:
        raise invalid(f"campaign {campaign_id} already ends at {_japan(campaign.ends_at)};"
                      " a campaign can only be ended earlier")
    if ends_at <= campaign.starts_at:
        raise invalid(f"end {_japan(ends_at)} is not after the campaign's start"
                      f" {_japan(campaign.starts_at)}; give a later --at")
    if ends_at < now:
        raise invalid(f"end {_japan(ends_at)} is in the past (now {_japan(now)}), and the"
                      " payments since then have already given their share; leave --at out"
                      " to end the campaign now, or give a later --at")
    campaign.ends_at = ends_at
    session.flush()
    logger.info("donation campaign %s now ends at %s", campaign_id, ends_at.isoformat())
    return campaign


def _japan(moment: datetime) -> str:
    """Format ``moment`` in Japan time for operator messages, e.g. 2026-12-01 00:00 JST."""
    return format_japan_time(moment, "%Y-%m-%d %H:%M JST")


def get_campaign(session: Session, campaign_id: str) -> DonationCampaign:
    campaign = session.scalars(
        select(DonationCampaign).where(DonationCampaign.id == campaign_id)
    ).one_or_none()
    if campaign is None:
        raise not_found(f"donation campaign {shorten(campaign_id)} does not exist; run"
                        " chiiki-settle donation-campaigns to see the campaign ids")
    return campaign


def list_campaigns(session: Session) -> list[DonationCampaign]:
    return list(session.scalars(select(DonationCampaign).order_by(DonationCampaign.seq)))


def active_campaigns(session: Session, merchant_id: str, moment: datetime
                     ) -> list[DonationCampaign]:
    """Return the campaigns that apply to a payment at ``merchant_id`` at ``moment``, oldest first."""
    query = (
        select(DonationCampaign)
        .where(DonationCampaign.starts_at <= moment, DonationCampaign.ends_at > moment)
        .order_by(DonationCampaign.seq)
    )
    return [campaign for campaign in session.scalars(query)
            if campaign.merchant_ids is None or merchant_id in campaign.merchant_ids]


def donation_yen(campaign: DonationCampaign, payment_yen: int) -> int:
    """Return the campaign's donation on a payment of ``payment_yen``, before any cap."""
    if campaign.share_bp is not None:
        return payment_yen * campaign.share_bp // BASIS_POINTS
    assert campaign.fixed_yen is not None
    return min(campaign.fixed_yen, payment_yen)


# --- payments ------------------------------------------------------------------------------


def book_for_payment(session: Session, payment: Payment, *, now: datetime) -> None:
    """Book every active donation campaign's share of ``payment``."""
    campaigns = active_campaigns(session, payment.merchant_id, payment.created_at)
    if not campaigns:
        return
    merchant_left_yen = payment.amount_yen
    for campaign in campaigns:
        amount_yen = donation_yen(campaign, payment.amount_yen)
        if campaign.funder == FUNDER_MERCHANT:
            amount_yen = min(amount_yen, merchant_left_yen)
            merchant_left_yen -= amount_yen
        if amount_yen > 0:
            _book_donation(session, payment, campaign, amount_yen, now)


def _book_donation(session: Session, payment: Payment, campaign: DonationCampaign,
                   amount_yen: int, now: datetime) -> None:
    existing = session.scalars(select(DonationRow).where(
        DonationRow.payment_id == payment.id, DonationRow.campaign_id == campaign.id,
    )).one_or_none()
    if existing is not None:
        return

    cause = get_cause(session, campaign.cause_id)
    transfer_id = f"donation:{payment.id}:{campaign.id}"
    if campaign.funder == FUNDER_MERCHANT:
        ledger.pay_held(session, transfer_id=transfer_id,
                        source_id=_merchant_account(session, payment.merchant_id),
                        destination_id=cause.account_id, amount_yen=amount_yen, now=now,
                        delivered_by=payment.transfer_id)
        status = STATUS_BOOKED
    else:
        status = _book_from_fees(session, transfer_id, cause.account_id, amount_yen, now)

    row = DonationRow(
        payment_id=payment.id, campaign_id=campaign.id, cause_id=cause.id,
        merchant_id=payment.merchant_id, funder=campaign.funder,
        payment_yen=payment.amount_yen, amount_yen=amount_yen, refunded_payment_yen=0,
        returned_yen=0, booked_yen=amount_yen if status == STATUS_BOOKED else 0,
        reversed_yen=0, status=status, transfer_id=transfer_id, created_at=now,
    )
    session.add(row)
    session.flush()
    _add_event(session, row, EVENT_DONATED, "donated", amount_yen,
               transfer_id if status == STATUS_BOOKED else None, now)
    logger.info("donation %s: %d yen to cause %s, %s", transfer_id, amount_yen, cause.id, status)


def _book_from_fees(session: Session, transfer_id: str, cause_account_id: str,
                    amount_yen: int, now: datetime) -> str:
    """Pay from the fee account if it covers ``amount_yen`` now; return the donation status."""
    # NOTE: the lock makes operator-funded payments wait for each other on the fee account
    # row (on PostgreSQL; SQLite runs one writer at a time anyway). It keeps the balance check
    # and the transfer together, so the fee account never goes below zero.
    available_yen = _lock_fee_account(session)
    if available_yen < amount_yen:
        logger.warning("fee account holds %d yen, less than the donation of %d yen; %s is"
                       " recorded as owed", available_yen, amount_yen, transfer_id)
        return STATUS_OWED
    ledger.pay_held(session, transfer_id=transfer_id, source_id=FEE_ACCOUNT_ID,
                    destination_id=cause_account_id, amount_yen=amount_yen, now=now)
    return STATUS_BOOKED


def _lock_fee_account(session: Session) -> int:
    """Lock the fee account's row and return the yen it holds."""
    session.execute(select(Account.id).where(Account.id == FEE_ACCOUNT_ID).with_for_update())
    return sum(ledger.held_balance(session, FEE_ACCOUNT_ID).values())


def _merchant_account(session: Session, merchant_id: str) -> str:
    account_id = session.scalar(select(Merchant.account_id).where(Merchant.id == merchant_id))
    assert account_id is not None, f"payment names merchant {merchant_id}, which has no row"
    return account_id


def payment_donations(session: Session, payment_id: str) -> list[protocol.DonationLine]:
    """Return what a payment gave, per cause, after any refunds; owed donations included."""
    return donations_by_payment(session, [payment_id]).get(payment_id, [])


def donations_by_payment(session: Session, payment_ids: list[str]
                         ) -> dict[str, list[protocol.DonationLine]]:
    """Return ``payment_donations`` of many payments in one query, e.g. for a payment list."""
    rows = session.execute(
        select(DonationRow.payment_id, DonationCause.name,
               DonationRow.amount_yen - DonationRow.returned_yen)
        .join(DonationCause, DonationCause.id == DonationRow.cause_id)
        .where(DonationRow.payment_id.in_(payment_ids))
        .order_by(DonationRow.seq)
    ).all()
    lines: dict[str, list[protocol.DonationLine]] = {}
    for payment_id, name, net_yen in rows:
        if net_yen > 0:
            lines.setdefault(payment_id, []).append(
                protocol.DonationLine(cause=name, amount_yen=int(net_yen)))
    return lines


def reverse_for_refund(session: Session, payment: Payment, *, refund_id: str, refund_yen: int,
                       now: datetime) -> None:
    """Return the donated share of a refunded amount to whoever funded each donation.

    Called before the refund reverses the payment itself, so a shop whose donation came out of
    this payment gets it back before it pays the customer.
    """
    rows = session.scalars(
        select(DonationRow).where(DonationRow.payment_id == payment.id)
        .order_by(DonationRow.seq).with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for row in rows:
        _return_share(session, row, refund_id, refund_yen, now)


def _return_share(
    session: Session, row: DonationRow, refund_id: str, refund_yen: int, now: datetime
) -> None:
    key = f"refund:{refund_id}"
    if _event_exists(session, row.seq, key) or row.status == STATUS_CANCELLED:
        return

    refunded_yen = min(row.payment_yen, row.refunded_payment_yen + refund_yen)
    returned_total_yen = row.amount_yen * refunded_yen // row.payment_yen
    delta_yen = returned_total_yen - row.returned_yen
    row.refunded_payment_yen = refunded_yen
    row.returned_yen = returned_total_yen

    transfer_id: str | None = None
    if delta_yen > 0 and row.status == STATUS_BOOKED:
        transfer_id = _reverse_booked(session, row, refund_id, delta_yen, now)
    elif row.status == STATUS_OWED and row.returned_yen == row.amount_yen:
        row.status = STATUS_CANCELLED
    session.flush()
    _add_event(session, row, EVENT_RETURNED, key, delta_yen, transfer_id, now)
    logger.info("refund %s returned %d yen of donation %s", refund_id, delta_yen,
                row.transfer_id)


def _reverse_booked(session: Session, row: DonationRow, refund_id: str, delta_yen: int,
                    now: datetime) -> str | None:
    """Return up to ``delta_yen`` from the cause to the funder and return the transfer id.

    The part the cause's balance cannot cover is added to ``row.clawback_owed_yen``. The result
    is None when the cause's balance is 0, because then no transfer was booked.
    """
    returnable_yen = min(delta_yen, _lock_cause_account(session, row.cause_id))
    shortfall_yen = delta_yen - returnable_yen
    transfer_id: str | None = None
    if returnable_yen > 0:
        transfer_id = f"donation-refund:{refund_id}:{row.campaign_id}"
        ledger.reverse(session, transfer_id=transfer_id, original_transfer_id=row.transfer_id,
                       amount_yen=returnable_yen, now=now, other_held_value=True)
        row.reversed_yen += returnable_yen
    if shortfall_yen == 0:
        return transfer_id

    row.clawback_owed_yen += shortfall_yen
    session.flush()
    _add_event(session, row, EVENT_CLAWBACK_OWED, f"clawback:{refund_id}", shortfall_yen, None,
               now)
    logger.warning("cause %s holds too little to return %d yen of donation %s on refund %s; it"
                   " owes that to the %s and repays it before its next payout", row.cause_id,
                   shortfall_yen, row.transfer_id, refund_id, row.funder)
    return transfer_id


def _lock_cause_account(session: Session, cause_id: str) -> int:
    """Lock the cause's account row and return the yen it holds.

    The lock keeps the balance read and the reversal together, so a payout running at the
    same time cannot take the value this refund counted on.
    """
    account_id = get_cause(session, cause_id).account_id
    session.execute(select(Account.id).where(Account.id == account_id).with_for_update())
    return sum(ledger.held_balance(session, account_id).values())


# --- owed donations ------------------------------------------------------------------------


def settle_owed(session: Session, *, now: datetime) -> SettleSummary:
    """Book owed operator-funded donations, oldest first, while the fee account covers them.

    Stops at the first donation the fee account cannot cover, so donations are paid in the
    order they were made.
    """
    available_yen = _lock_fee_account(session)
    # Locked and re-read, so a refund committing meanwhile is counted before the amount due.
    rows = session.scalars(
        select(DonationRow).where(DonationRow.status == STATUS_OWED).order_by(DonationRow.seq)
        .with_for_update().execution_options(populate_existing=True)
    ).all()
    settled_count = settled_yen = 0
    for index, row in enumerate(rows):
        due_yen = row.amount_yen - row.returned_yen
        if due_yen > available_yen:
            left = rows[index:]
            return SettleSummary(settled_count, settled_yen, len(left),
                                 sum(item.amount_yen - item.returned_yen for item in left))
        _settle_one(session, row, due_yen, now)
        available_yen -= due_yen
        settled_count += 1
        settled_yen += due_yen
    return SettleSummary(settled_count, settled_yen, 0, 0)


def _settle_one(session: Session, row: DonationRow, due_yen: int, now: datetime) -> None:
    cause = get_cause(session, row.cause_id)
    ledger.pay_held(session, transfer_id=row.transfer_id, source_id=FEE_ACCOUNT_ID,
                    destination_id=cause.account_id, amount_yen=due_yen, now=now)
    row.booked_yen = due_yen
    row.status = STATUS_BOOKED
    session.flush()
    _add_event(session, row, EVENT_SETTLED, "settled", due_yen, row.transfer_id, now)
    logger.info("owed donation %s settled: %d yen to cause %s", row.transfer_id, due_yen,
                cause.id)


def owed_back_yen(session: Session, cause_id: str) -> int:
    """Return the yen the cause owes back to funders for refunds it could not pay in full."""
    query = select(func.coalesce(func.sum(DonationRow.clawback_owed_yen), 0)).where(
        DonationRow.cause_id == cause_id)
    return int(session.scalar(query) or 0)


def owed_yen(session: Session, cause_id: str | None = None) -> int:
    """Return the yen of donations still owed, for one cause or all."""
    query = select(func.coalesce(func.sum(DonationRow.amount_yen - DonationRow.returned_yen), 0)
                   ).where(DonationRow.status == STATUS_OWED)
    if cause_id is not None:
        query = query.where(DonationRow.cause_id == cause_id)
    return int(session.scalar(query) or 0)


# --- events and totals ---------------------------------------------------------------------


def _add_event(session: Session, row: DonationRow, kind: str, key: str, amount_yen: int,
               transfer_id: str | None, now: datetime) -> None:
    session.add(DonationEvent(
        donation_seq=row.seq, campaign_id=row.campaign_id, cause_id=row.cause_id, kind=kind,
        key=key, amount_yen=amount_yen, transfer_id=transfer_id, created_at=now,
    ))
    session.flush()


def _event_exists(session: Session, donation_seq: int, key: str) -> bool:
    return session.scalar(select(DonationEvent.seq).where(
        DonationEvent.donation_seq == donation_seq, DonationEvent.key == key,
    )) is not None


def totals(
    session: Session, group: TotalsGroup, *, cause_id: str | None = None,
    campaign_id: str | None = None, since: datetime | None = None,
    until: datetime | None = None,
) -> list[TotalLine]:
    """Add up donations and returns per campaign, cause, day or month (Japan time).

    ``since`` and ``until`` bound the time of each donation and return, ``[since, until)``.
    Donations recorded as owed count as donated.
    """
    key = _group_key(session, group)
    donated = func.sum(case((DonationEvent.kind == EVENT_DONATED, DonationEvent.amount_yen),
                            else_=0))
    returned = func.sum(case((DonationEvent.kind == EVENT_RETURNED, DonationEvent.amount_yen),
                             else_=0))
    count = func.sum(case((DonationEvent.kind == EVENT_DONATED, 1), else_=0))
    query = select(key, donated, returned, count).group_by(key).order_by(key)
    if cause_id is not None:
        query = query.where(DonationEvent.cause_id == cause_id)
    if campaign_id is not None:
        query = query.where(DonationEvent.campaign_id == campaign_id)
    if since is not None:
        query = query.where(DonationEvent.created_at >= since)
    if until is not None:
        query = query.where(DonationEvent.created_at < until)

    labels = _labels(session, group)
    return [TotalLine(str(value), labels.get(str(value), str(value)), int(donated_yen or 0),
                      int(returned_yen or 0), int(payments or 0))
            for value, donated_yen, returned_yen, payments in session.execute(query)]


def _group_key(session: Session, group: TotalsGroup) -> ColumnElement[str]:
    if group == "campaign":
        return DonationEvent.campaign_id.expression
    if group == "cause":
        return DonationEvent.cause_id.expression
    pattern = "%Y-%m-%d" if group == "day" else "%Y-%m"
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime(pattern, DonationEvent.created_at, f"+{JAPAN_OFFSET_HOURS} hours")
    shifted = DonationEvent.created_at + func.make_interval(0, 0, 0, 0, JAPAN_OFFSET_HOURS)
    return func.to_char(shifted, "YYYY-MM-DD" if group == "day" else "YYYY-MM")


def _labels(session: Session, group: TotalsGroup) -> dict[str, str]:
    if group == "campaign":
        rows = session.execute(select(DonationCampaign.id, DonationCampaign.name))
        return {campaign_id: name for campaign_id, name in rows}
    if group == "cause":
        rows = session.execute(select(DonationCause.id, DonationCause.name))
        return {cause_id: name for cause_id, name in rows}
    return {}


def cause_held_yen(session: Session, cause: DonationCause) -> int:
    """Return the yen the cause's account holds."""
    return sum(ledger.held_balance(session, cause.account_id).values())
