"""Store coupons: issuing, checking and redeeming them inside a payment, chaining and refunds.

Money. The wallet pays ``total - discount`` to the shop as the payment itself. The discount
goes from the campaign's account to the shop in a second transfer ``coupon:<coupon id>`` in
the same transaction. The campaign account receives the whole budget when the campaign is
created, from the merchant's account or, for the operator's campaigns, as coin issued from the
issuance account (``server.coupon_cli``). Discounts stay within the budget (below), so the
account always holds enough to pay them.

Budget. Issuing a coupon reserves its largest possible discount (the fixed yen, or the cap of
a percentage) in ``CouponCampaign.committed_yen``; issuing stops when the next reservation
would pass the budget. A use replaces the reservation by the actual discount. A coupon that
expired unused gives its reservation back after ``release_grace`` (time for offline uses to
reach the server).

Single use. The use row's primary key is the coupon id, claimed with ``INSERT ... ON CONFLICT
DO NOTHING``: on PostgreSQL a concurrent second claim waits for the first transaction and then
finds the row, so at most one payment redeems a coupon, online or offline.

Chaining. A use issues the wallet its next coupon at another shop: among the open campaigns of
the used coupon's chain group (or its own campaign when it has no group), every pair of
campaign and participating shop other than the shop just visited, whose audience contains the
wallet and whose budget has room, is a candidate. The pair with the fewest chain coupons issued
so far wins, so shops receive customers in turn. Ties go to the smallest SHA-256 of
``<used coupon id>|<campaign id>|<merchant id>``, which is deterministic and, because coupon ids
are random, equally likely for every tied pair. A use also adds one entry to the used coupon's
campaign prize draw.

Offline. A terminal verifies a coupon with the cached issuer keys and accepts it. At sync, the
first use of a coupon wins. A later use from another terminal keeps its payment (the wallet
paid ``total - discount`` from its offline reserve, and is never charged the discount later),
but its discount is not paid: the shop misses it, and a ``CouponDecline`` row and the sync
result's ``coupon_declined`` show the shop that amount.

Refunds. The wallet gets back at most what it paid, through the ordinary refund. Each refund
also returns the discount's share of it from the shop to the campaign account, so that after
refunds of ``r`` yen of a payment of ``p`` yen, ``discount * r // p`` has gone back (the whole
discount once the whole payment is refunded). Returned discount frees budget.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server import issuer, ledger
from server.coupon_models import (
    Coupon,
    CouponCampaign,
    CouponCampaignShop,
    CouponDecline,
    CouponIntent,
    CouponPrizeEntry,
    CouponUseRow,
)
from server.errors import ServerError
from server.models import Merchant, Payment, Refund, Wallet, table_of
from server.settings import iso_utc
from terminal import coupon_code, protocol
from terminal.coupon_code import CouponRejection, DiscountKind
from terminal.protocol import ErrorCode

logger = logging.getLogger(__name__)

ACCOUNT_PREFIX = "coupons:"
ISSUED_FOR_AUDIENCE = "audience"
ISSUED_FOR_CHAIN = "chain"
DISCOUNT_KINDS = {"yen": DiscountKind.YEN, "percent": DiscountKind.PERCENT}
# Random characters after "c_" in a coupon id (72 bits), short to keep the code short.
_COUPON_ID_BYTES = 9

_USES = table_of(CouponUseRow)
_CLAIM_USE_SQLITE: Insert = (
    sqlite.insert(_USES).on_conflict_do_nothing(index_elements=[_USES.c.coupon_id])
    .returning(_USES.c.coupon_id)
)
_CLAIM_USE_POSTGRESQL: Insert = (
    postgresql.insert(_USES).on_conflict_do_nothing(index_elements=[_USES.c.coupon_id])
    .returning(_USES.c.coupon_id)
)


@dataclass(frozen=True)
class CheckedCoupon:
    """A coupon whose code, row and terms passed every check for one sale."""

    code: coupon_code.CouponCode
    coupon: Coupon
    campaign: CouponCampaign
    discount_yen: int


def campaign_account_id(campaign_id: str) -> str:
    return f"{ACCOUNT_PREFIX}{campaign_id}"


def rejected(reason: CouponRejection, message: str) -> ServerError:
    """Return the ServerError whose wire code is ``reason``."""
    return ServerError(ErrorCode(reason.value), message)


def release_grace(offline_max_age_s: int, certificate_validity_s: int) -> timedelta:
    """Return how long after expiry an unused coupon keeps its reservation.

    An offline use captured before expiry reaches the server at the latest when its offline
    code would be too old for any terminal, so the same period as for retired issuer keys.
    """
    return timedelta(seconds=offline_max_age_s + certificate_validity_s)


# --- issuing -------------------------------------------------------------------------------


def reservation_yen(campaign: CouponCampaign) -> int:
    """Return the largest discount one coupon of the campaign can give."""
    if campaign.discount_kind == "yen":
        return campaign.discount_value
    return campaign.max_discount_yen


def campaign_shops(session: Session, campaign_id: str) -> list[str]:
    query = (select(CouponCampaignShop.merchant_id)
             .where(CouponCampaignShop.campaign_id == campaign_id)
             .order_by(CouponCampaignShop.merchant_id))
    return list(session.scalars(query))


def in_audience(campaign: CouponCampaign, wallet: Wallet) -> bool:
    """Tell whether the wallet's operator-held attributes match the campaign's audience."""
    if campaign.audience_resident is not None and wallet.is_resident != campaign.audience_resident:
        return False
    attributes = wallet.attributes or {}
    return all(
        attributes.get(name) in accepted
        for name, accepted in (campaign.audience_attributes or {}).items()
    )


def audience_order_key(campaign_id: str, wallet_id: str) -> bytes:
    """Return the key that orders an audience for issuing: SHA-256 of ``<campaign>:<wallet>``."""
    return hashlib.sha256(f"{campaign_id}:{wallet_id}".encode()).digest()


def is_open(campaign: CouponCampaign, now: datetime) -> bool:
    return campaign.closed_at is None and campaign.starts_at <= now < campaign.ends_at


def issue_coupon(
    session: Session, campaign: CouponCampaign, wallet_id: str, merchant_ids: Sequence[str], *,
    issued_for: str, now: datetime, chained_from: str | None = None,
) -> Coupon | None:
    """Sign and store one coupon, or return None when the budget has no room for it.

    The caller holds the campaign row locked, because this reads and raises committed_yen.
    """
    reserve_yen = reservation_yen(campaign)
    if campaign.committed_yen + reserve_yen > campaign.budget_yen:
        return None

    valid_from = max(now, campaign.starts_at).replace(microsecond=0)
    valid_until = campaign.ends_at
    if campaign.valid_days is not None:
        valid_until = min(valid_until, valid_from + timedelta(days=campaign.valid_days))
    key_id, private_key = issuer.signing_key(session, now)
    coupon_id = "c_" + secrets.token_urlsafe(_COUPON_ID_BYTES)
    terms = coupon_code.CouponTerms(
        issuer_key_id=key_id, coupon_id=coupon_id, campaign_id=campaign.id, wallet_id=wallet_id,
        discount_kind=DISCOUNT_KINDS[campaign.discount_kind],
        discount_value=campaign.discount_value, minimum_spend_yen=campaign.minimum_spend_yen,
        max_discount_yen=campaign.max_discount_yen, valid_from=valid_from,
        valid_until=valid_until.replace(microsecond=0), merchant_ids=tuple(merchant_ids),
        title=campaign.title,
    )
    coupon = Coupon(
        id=coupon_id, campaign_id=campaign.id, wallet_id=wallet_id,
        merchant_ids=list(merchant_ids), reserved_yen=reserve_yen, valid_from=terms.valid_from,
        valid_until=terms.valid_until, code=coupon_code.make_coupon_code(terms, private_key),
        issued_for=issued_for, chained_from=chained_from, issued_at=now,
    )
    session.add(coupon)
    campaign.committed_yen += reserve_yen
    session.flush()
    logger.info("coupon %s of campaign %s issued to wallet %s (%s)", coupon_id, campaign.id,
                wallet_id, issued_for)
    return coupon


def release_expired(session: Session, campaign: CouponCampaign, *, now: datetime,
                    grace: timedelta) -> int:
    """Give back the reservations of coupons that expired unused more than ``grace`` ago.

    The caller holds the campaign row locked. Returns how many coupons were released.
    """
    used = select(CouponUseRow.coupon_id)
    query = select(Coupon).where(
        Coupon.campaign_id == campaign.id, Coupon.released_at.is_(None),
        Coupon.valid_until <= now - grace, Coupon.id.not_in(used),
    )
    released = list(session.scalars(query))
    for coupon in released:
        coupon.released_at = now
        campaign.committed_yen -= coupon.reserved_yen
    session.flush()
    if released:
        logger.info("campaign %s: %d expired coupons released %d yen of budget", campaign.id,
                    len(released), sum(coupon.reserved_yen for coupon in released))
    return len(released)


# --- checking ------------------------------------------------------------------------------


def participating_campaigns(session: Session, merchant_id: str) -> list[str]:
    """Return the ids of campaigns the merchant takes part in that are not closed."""
    query = (
        select(CouponCampaign.id)
        .join(CouponCampaignShop, CouponCampaignShop.campaign_id == CouponCampaign.id)
        .where(CouponCampaignShop.merchant_id == merchant_id, CouponCampaign.closed_at.is_(None))
        .order_by(CouponCampaign.id)
    )
    return list(session.scalars(query))


def check_coupon(
    session: Session, text: str, *, merchant_id: str, total_yen: int, now: datetime,
    wallet_id: str | None = None,
) -> CheckedCoupon:
    """Run every check a use needs except the single-use claim; raise a coupon ServerError.

    ``now`` is the moment of the sale (the capture time for an offline sale). Without
    ``wallet_id`` the holder is not checked, as for a quote before the wallet is known.
    """
    code = _verified_code(session, text, now)
    coupon = session.get(Coupon, code.coupon_id)
    if coupon is None or coupon.code != code.text:
        raise rejected(CouponRejection.NOT_FOUND,
                       f"coupon {code.coupon_id} was not issued by this server")
    if coupon.withdrawn_at is not None:
        raise rejected(CouponRejection.WITHDRAWN,
                       f"coupon {coupon.id} was withdrawn at {iso_utc(coupon.withdrawn_at)}")
    campaign = session.get(CouponCampaign, coupon.campaign_id)
    assert campaign is not None

    try:
        coupon_code.check_shop(code, merchant_id, participating_campaigns(session, merchant_id))
        if wallet_id is not None:
            coupon_code.check_wallet(code, wallet_id)
    except coupon_code.CouponCodeError as exc:
        raise rejected(exc.reason, str(exc)) from None
    if total_yen < code.minimum_spend_yen:
        raise rejected(CouponRejection.BELOW_MINIMUM,
                       f"coupon {coupon.id} needs a total of at least {code.minimum_spend_yen}"
                       f" yen, not {total_yen} yen")
    if session.get(CouponUseRow, coupon.id) is not None:
        raise rejected(CouponRejection.USED, f"coupon {coupon.id} was already used")
    return CheckedCoupon(code, coupon, campaign, coupon_code.discount_yen(code, total_yen))


def _verified_code(session: Session, text: str, now: datetime) -> coupon_code.CouponCode:
    try:
        code = coupon_code.parse_coupon_code(text)
        coupon_code.verify(code, issuer.public_keys(session), now)
    except coupon_code.CouponCodeError as exc:
        masked = coupon_code.mask_coupon_code(text)
        raise rejected(exc.reason, f"coupon code {masked} is not accepted: {exc}") from None
    return code


def quote(
    session: Session, merchant_id: str, request: protocol.CouponQuoteRequest, now: datetime
) -> protocol.CouponQuote:
    """Return the discount a coupon gives on a total at this shop, checking all but the wallet."""
    checked = check_coupon(session, request.code, merchant_id=merchant_id,
                           total_yen=request.total_yen, now=now)
    return protocol.CouponQuote(
        coupon_id=checked.coupon.id, title=checked.code.title,
        issuer_name=checked.campaign.issuer_name, total_yen=request.total_yen,
        discount_yen=checked.discount_yen, pay_yen=request.total_yen - checked.discount_yen,
        valid_until=iso_utc(checked.code.valid_until),
    )


def check_use_amounts(use: protocol.CouponUse, amount_yen: int) -> None:
    """Reject a coupon whose total and discount do not add up to the payment amount."""
    if use.total_yen - use.discount_yen != amount_yen:
        raise rejected(
            CouponRejection.DISCOUNT_MISMATCH,
            f"amount_yen {amount_yen} is not total_yen {use.total_yen} minus discount_yen"
            f" {use.discount_yen}; send the amount the wallet pays after the discount",
        )


def _check_discount(checked: CheckedCoupon, use: protocol.CouponUse) -> None:
    if checked.discount_yen != use.discount_yen:
        raise rejected(
            CouponRejection.DISCOUNT_MISMATCH,
            f"coupon {checked.coupon.id} gives {checked.discount_yen} yen on {use.total_yen}"
            f" yen, not {use.discount_yen} yen; quote the coupon again",
        )


# --- redeeming -----------------------------------------------------------------------------


def check_for_payment(
    session: Session, coupon: protocol.CouponUse, *, merchant_id: str, wallet_id: str,
    amount_yen: int, now: datetime,
) -> CheckedCoupon:
    """Run every check of an online use before any value moves; raise a coupon ServerError.

    Checked first, a coupon the paying wallet cannot use is reported as such, and not as a
    short balance that a top-up would not cure.
    """
    check_use_amounts(coupon, amount_yen)
    checked = check_coupon(session, coupon.code, merchant_id=merchant_id,
                           total_yen=coupon.total_yen, now=now, wallet_id=wallet_id)
    _check_discount(checked, coupon)
    return checked


def redeem_checked(
    session: Session, payment: Payment, checked: CheckedCoupon, coupon: protocol.CouponUse, *,
    now: datetime,
) -> None:
    """Redeem a coupon ``check_for_payment`` accepted, in the payment's transaction.

    A second use racing this one fails on the unique use row and rolls the payment back.
    """
    _redeem(session, payment, checked, coupon.total_yen, now=now, offline=False)


def apply_to_payment(
    session: Session, payment: Payment, coupon: protocol.CouponUse, *, now: datetime
) -> None:
    """Redeem ``coupon`` for ``payment`` in the payment's transaction.

    Any failed check raises a coupon ServerError, which rolls the whole payment back.
    """
    checked = check_for_payment(session, coupon, merchant_id=payment.merchant_id,
                                wallet_id=payment.wallet_id, amount_yen=payment.amount_yen,
                                now=now)
    redeem_checked(session, payment, checked, coupon, now=now)


def apply_offline(
    session: Session, payment: Payment, coupon: protocol.CouponUse, *, terminal_id: str,
    entry_id: str, captured_at: datetime, now: datetime,
) -> protocol.CouponDeclined | None:
    """Redeem a coupon an offline payment used, or record why its discount is not paid.

    The payment stays booked either way, because the wallet already paid the discounted
    amount at the counter.
    """
    try:
        with session.begin_nested():
            check_use_amounts(coupon, payment.amount_yen)
            checked = check_coupon(session, coupon.code, merchant_id=payment.merchant_id,
                                   total_yen=coupon.total_yen, now=captured_at,
                                   wallet_id=payment.wallet_id)
            _check_discount(checked, coupon)
            _redeem(session, payment, checked, coupon.total_yen, now=now, offline=True)
        return None
    except ServerError as exc:
        return _record_decline(session, payment, coupon, exc, terminal_id=terminal_id,
                               entry_id=entry_id, now=now)


def _redeem(
    session: Session, payment: Payment, checked: CheckedCoupon, total_yen: int, *,
    now: datetime, offline: bool,
) -> None:
    coupon = checked.coupon
    transfer_id = f"coupon:{coupon.id}"
    _claim_use(session, payment, checked, total_yen, transfer_id, now, offline)
    group = _lock_chain_group(session, checked.campaign)
    campaign = group[checked.campaign.id]

    if coupon.released_at is None:
        campaign.committed_yen -= coupon.reserved_yen - checked.discount_yen
    else:
        # An offline use that reached the server after the reservation was given back.
        if campaign.committed_yen + checked.discount_yen > campaign.budget_yen:
            raise rejected(CouponRejection.EXPIRED,
                           f"coupon {coupon.id} expired and its budget was given back before"
                           " this offline use reached the server")
        campaign.committed_yen += checked.discount_yen
    _pay_discount(session, campaign, payment.merchant_id, transfer_id, checked.discount_yen, now)
    session.add(CouponPrizeEntry(coupon_id=coupon.id, campaign_id=campaign.id,
                                 wallet_id=payment.wallet_id, created_at=now))
    _issue_next(session, list(group.values()), coupon, payment, now)
    session.flush()
    logger.info("coupon %s used on payment %s: %d yen off %d yen at merchant %s%s", coupon.id,
                payment.id, checked.discount_yen, total_yen, payment.merchant_id,
                " (offline)" if offline else "")


def _claim_use(
    session: Session, payment: Payment, checked: CheckedCoupon, total_yen: int,
    transfer_id: str, now: datetime, offline: bool,
) -> None:
    connection = session.connection()
    statement = (_CLAIM_USE_SQLITE if connection.dialect.name == "sqlite"
                 else _CLAIM_USE_POSTGRESQL)
    claimed = connection.execute(statement, {
        "coupon_id": checked.coupon.id, "payment_id": payment.id,
        "campaign_id": checked.campaign.id, "merchant_id": payment.merchant_id,
        "wallet_id": payment.wallet_id, "total_yen": total_yen,
        "discount_yen": checked.discount_yen, "returned_yen": 0, "transfer_id": transfer_id,
        "offline": offline, "created_at": now,
    }).scalar()
    if claimed is None:
        raise rejected(CouponRejection.USED,
                       f"coupon {checked.coupon.id} was used by another payment at the same time")


def _lock_chain_group(session: Session, campaign: CouponCampaign) -> dict[str, CouponCampaign]:
    """Lock the campaign and the rest of its chain group in id order.

    Every transaction takes these locks in the same order, so two uses in one group cannot
    deadlock.
    """
    query = select(CouponCampaign).order_by(CouponCampaign.id).with_for_update()
    if campaign.chain_group is None:
        query = query.where(CouponCampaign.id == campaign.id)
    else:
        query = query.where(CouponCampaign.chain_group == campaign.chain_group)
    rows = session.scalars(query.execution_options(populate_existing=True))
    return {row.id: row for row in rows}


def _pay_discount(
    session: Session, campaign: CouponCampaign, merchant_id: str, transfer_id: str,
    discount_yen: int, now: datetime,
) -> None:
    ledger.pay(session, transfer_id=transfer_id, source_id=campaign.account_id,
               destination_id=_merchant_account(session, merchant_id), amount_yen=discount_yen,
               now=now)


def _merchant_account(session: Session, merchant_id: str) -> str:
    account_id = session.scalar(select(Merchant.account_id).where(Merchant.id == merchant_id))
    assert account_id is not None
    return account_id


# --- chaining ------------------------------------------------------------------------------


def _issue_next(
    session: Session, group: list[CouponCampaign], used: Coupon, payment: Payment,
    now: datetime,
) -> Coupon | None:
    wallet = session.get(Wallet, payment.wallet_id)
    assert wallet is not None
    candidates = [
        (campaign, merchant_id)
        for campaign in group
        if is_open(campaign, now) and in_audience(campaign, wallet)
        and campaign.committed_yen + reservation_yen(campaign) <= campaign.budget_yen
        for merchant_id in campaign_shops(session, campaign.id)
        if merchant_id != payment.merchant_id
    ]
    if not candidates:
        return None

    counts = _chain_counts(session, [campaign.id for campaign in group])
    campaign, merchant_id = min(candidates, key=lambda pair: (
        counts[(pair[0].id, pair[1])], _tie_break(used.id, pair[0].id, pair[1]),
    ))
    return issue_coupon(session, campaign, wallet.id, [merchant_id], issued_for=ISSUED_FOR_CHAIN,
                        now=now, chained_from=used.id)


def _chain_counts(session: Session, campaign_ids: Collection[str]) -> Counter[tuple[str, str]]:
    # NOTE: this reads every chain coupon of the group on each use. That is cheap for a
    # shopping street's few thousand coupons, but far more would need a counter table.
    rows = session.execute(
        select(Coupon.campaign_id, Coupon.merchant_ids)
        .where(Coupon.campaign_id.in_(campaign_ids), Coupon.issued_for == ISSUED_FOR_CHAIN)
    ).all()
    return Counter((campaign_id, merchant_ids[0]) for campaign_id, merchant_ids in rows)


def _tie_break(used_coupon_id: str, campaign_id: str, merchant_id: str) -> bytes:
    return hashlib.sha256(f"{used_coupon_id}|{campaign_id}|{merchant_id}".encode()).digest()


# --- offline declines ----------------------------------------------------------------------


def _record_decline(
    session: Session, payment: Payment, coupon: protocol.CouponUse, error: ServerError, *,
    terminal_id: str, entry_id: str, now: datetime,
) -> protocol.CouponDeclined:
    coupon_id = _coupon_id_of(coupon.code)
    session.add(CouponDecline(
        payment_id=payment.id, coupon_id=coupon_id, merchant_id=payment.merchant_id,
        terminal_id=terminal_id, entry_id=entry_id, total_yen=coupon.total_yen,
        missing_yen=coupon.discount_yen, reason=error.code.value, message=error.message[:400],
        created_at=now,
    ))
    session.flush()
    logger.warning("coupon %s on offline payment %s declined, merchant %s misses %d yen: %s",
                   coupon_id, payment.id, payment.merchant_id, coupon.discount_yen,
                   error.message)
    return protocol.CouponDeclined(coupon_id=coupon_id, reason=error.code,
                                   missing_yen=coupon.discount_yen, message=error.message)


def _coupon_id_of(text: str) -> str:
    try:
        return coupon_code.parse_coupon_code(text).coupon_id
    except coupon_code.CouponCodeError:
        return "(unreadable)"


def declined_for_payment(session: Session, payment_id: str) -> protocol.CouponDeclined | None:
    """Return the coupon decline of an offline payment, for a repeated sync result."""
    row = session.scalars(
        select(CouponDecline).where(CouponDecline.payment_id == payment_id)
    ).one_or_none()
    if row is None:
        return None
    return protocol.CouponDeclined(coupon_id=row.coupon_id, reason=ErrorCode(row.reason),
                                   missing_yen=row.missing_yen, message=row.message)


def merchant_declines(session: Session, merchant_id: str, limit: int) -> protocol.CouponDeclineList:
    rows = session.scalars(
        select(CouponDecline).where(CouponDecline.merchant_id == merchant_id)
        .order_by(CouponDecline.seq.desc()).limit(limit)
    )
    return protocol.CouponDeclineList(declines=[
        protocol.CouponDeclineRecord(
            coupon_id=row.coupon_id, payment_id=row.payment_id, terminal_id=row.terminal_id,
            entry_id=row.entry_id, total_yen=row.total_yen, missing_yen=row.missing_yen,
            reason=ErrorCode(row.reason), message=row.message, created_at=iso_utc(row.created_at),
        )
        for row in rows
    ])


# --- merchant-presented intents ------------------------------------------------------------


def store_intent_coupon(
    session: Session, intent_id: str, merchant_id: str, coupon: protocol.CouponUse,
    amount_yen: int, now: datetime,
) -> None:
    """Check a coupon for a new intent and keep it until the wallet pays the intent."""
    check_use_amounts(coupon, amount_yen)
    checked = check_coupon(session, coupon.code, merchant_id=merchant_id,
                           total_yen=coupon.total_yen, now=now)
    _check_discount(checked, coupon)
    session.add(CouponIntent(intent_id=intent_id, code=coupon.code, total_yen=coupon.total_yen,
                             discount_yen=coupon.discount_yen))
    session.flush()


def intent_coupon(session: Session, intent_id: str) -> protocol.CouponUse | None:
    row = session.get(CouponIntent, intent_id)
    if row is None:
        return None
    return protocol.CouponUse(code=row.code, total_yen=row.total_yen,
                              discount_yen=row.discount_yen)


# --- payments and refunds ------------------------------------------------------------------


def payments_with_coupon(session: Session, payment_ids: Sequence[str]) -> set[str]:
    """Return which of ``payment_ids`` used a coupon, in one query."""
    return set(session.scalars(
        select(CouponUseRow.payment_id).where(CouponUseRow.payment_id.in_(payment_ids))
    ))


def applied_coupon(session: Session, payment_id: str) -> protocol.CouponApplied | None:
    """Return the coupon used by a payment, or None."""
    use = session.scalars(
        select(CouponUseRow).where(CouponUseRow.payment_id == payment_id)
    ).one_or_none()
    if use is None:
        return None
    coupon = session.get(Coupon, use.coupon_id)
    campaign = session.get(CouponCampaign, use.campaign_id)
    assert coupon is not None and campaign is not None
    return protocol.CouponApplied(
        coupon_id=coupon.id, title=campaign.title, issuer_name=campaign.issuer_name,
        total_yen=use.total_yen, discount_yen=use.discount_yen,
        next_coupon=_next_coupon(session, coupon.id),
    )


def _next_coupon(session: Session, used_coupon_id: str) -> protocol.NextCoupon | None:
    chained = session.scalars(
        select(Coupon).where(Coupon.chained_from == used_coupon_id)
    ).one_or_none()
    if chained is None:
        return None
    title = session.scalar(
        select(CouponCampaign.title).where(CouponCampaign.id == chained.campaign_id)
    )
    return protocol.NextCoupon(shop_name=_shop_names(session, chained.merchant_ids)[0],
                               title=title or "", valid_until=iso_utc(chained.valid_until))


def _shop_names(session: Session, merchant_ids: Sequence[str]) -> list[str]:
    names = dict(session.execute(
        select(Merchant.id, Merchant.name).where(Merchant.id.in_(merchant_ids))
    ).all())
    return [names.get(merchant_id, merchant_id) for merchant_id in merchant_ids]


def on_refund(session: Session, payment: Payment, refund: Refund, *, now: datetime) -> None:
    """Return the refund's share of the discount from the shop to the campaign account."""
    use = session.scalars(
        select(CouponUseRow).where(CouponUseRow.payment_id == payment.id).with_for_update()
    ).one_or_none()
    if use is None:
        return
    due_yen = use.discount_yen * payment.refunded_yen // payment.amount_yen
    share_yen = due_yen - use.returned_yen
    if share_yen <= 0:
        return

    ledger.reverse(session, transfer_id=f"coupon-refund:{refund.id}",
                   original_transfer_id=use.transfer_id, amount_yen=share_yen, now=now,
                   other_held_value=True)
    use.returned_yen += share_yen
    campaign = session.scalars(
        select(CouponCampaign).where(CouponCampaign.id == use.campaign_id).with_for_update()
    ).one()
    campaign.committed_yen -= share_yen
    session.flush()
    logger.info("refund %s returned %d yen of coupon %s's discount to campaign %s", refund.id,
                share_yen, use.coupon_id, campaign.id)


# --- wallets -------------------------------------------------------------------------------


def wallet_coupons(session: Session, wallet_id: str, now: datetime) -> protocol.WalletCouponList:
    """List a wallet's coupons, newest first, with their codes and status at ``now``."""
    rows = session.execute(
        select(Coupon, CouponCampaign, CouponUseRow.coupon_id)
        .join(CouponCampaign, CouponCampaign.id == Coupon.campaign_id)
        .outerjoin(CouponUseRow, CouponUseRow.coupon_id == Coupon.id)
        .where(Coupon.wallet_id == wallet_id)
        .order_by(Coupon.issued_at.desc(), Coupon.id)
    ).all()
    return protocol.WalletCouponList(coupons=[
        _wallet_coupon(session, coupon, campaign, used_id is not None, now)
        for coupon, campaign, used_id in rows
    ])


def _wallet_coupon(
    session: Session, coupon: Coupon, campaign: CouponCampaign, used: bool, now: datetime
) -> protocol.WalletCoupon:
    status: protocol.CouponStatus
    if used:
        status = "used"
    elif coupon.withdrawn_at is not None:
        status = "withdrawn"
    elif now >= coupon.valid_until:
        status = "expired"
    elif now < coupon.valid_from:
        status = "not_yet_valid"
    else:
        status = "usable"
    unit = "yen" if campaign.discount_kind == "yen" else "percent"
    return protocol.WalletCoupon(
        coupon_id=coupon.id, campaign_id=campaign.id, title=campaign.title, code=coupon.code,
        discount=f"{campaign.discount_value} {unit}", minimum_spend_yen=campaign.minimum_spend_yen,
        max_discount_yen=campaign.max_discount_yen, valid_from=iso_utc(coupon.valid_from),
        valid_until=iso_utc(coupon.valid_until),
        shops=_shop_names(session, coupon.merchant_ids), status=status,
    )


def prize_entries(session: Session, campaign_id: str) -> dict[str, int]:
    """Return each wallet's number of prize draw entries in a campaign."""
    rows = session.execute(
        select(CouponPrizeEntry.wallet_id, func.count())
        .where(CouponPrizeEntry.campaign_id == campaign_id)
        .group_by(CouponPrizeEntry.wallet_id)
    ).all()
    return {wallet_id: int(count) for wallet_id, count in rows}
