"""Coupons at the counter: checking a scanned coupon, its discount, and coupons used here.

The clerk scans the coupon the customer's wallet shows (``terminal.coupon_code``). The
terminal checks it before the payment starts, so the discount shows on the sale screen:

- Online, ``POST /v1/coupons/quote`` requests the server's check, which also covers whether the
  coupon was used and whether its campaign still runs.
- Offline, or when the quote request cannot reach the server, the terminal checks the coupon
  itself: the issuer signature (with its cached issuer keys), the validity window, the shop
  and the minimum spend. It also rejects a coupon this terminal has already used.

The payment then carries a ``protocol.CouponUse`` (code, total, discount); the wallet pays
total - discount and the server recomputes the discount and must agree.

Coupons used here are rows of the ``coupon_uses`` table in the terminal database, keyed by the
payment attempt: the redemption key of an online payment, or the code of an offline payment
(its capture id is chosen only when it is recorded). A row is written before the attempt's
first request or before its capture, and counts as a use while its redemption is open or
approved, or while its capture is not declined. So a coupon whose payment was declined,
cancelled or never sent can be used again, and the sync worker finds the coupon of an entry or
of a redemption it resends.

Rejections raise ``CouponRejected`` with a reason: a ``coupon_code.CouponRejection`` value (the
server's wire code) or one of the terminal's own reasons below. ``coupon_message`` turns a
reason into the clerk's text in Japanese or English.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Row
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.expression import Exists

from terminal import coupon_code, protocol
from terminal.api_client import ApiError, Declined, ProtocolError, Unreachable
from terminal.coupon_code import CouponCode, CouponRejection
from terminal.messages import (
    CHECK_FAILED,
    COUPON_MESSAGES_EN,
    COUPON_MESSAGES_JA,
    NEEDS_CONNECTION,
    NO_ISSUER_KEYS,
    REMOVE_REJECTED,
    STILL_CHECKING,
)
from terminal.store import Store, StoreError, captures, redemptions

logger = logging.getLogger(__name__)

# The terminal's own reasons, next to the server's CouponRejection values.
# How often the shop's campaigns are fetched again while coupons are checked online. Shops
# join campaigns rarely (an operator command), so a few hours is recent enough.
CAMPAIGNS_REFRESH_S = 6 * 3600.0
# The smallest total a coupon discounts: the wallet pays at least 1 yen of it.
MIN_DISCOUNTED_TOTAL_YEN = 2

coupon_metadata = MetaData()

coupon_uses = Table(
    "coupon_uses",
    coupon_metadata,
    # The redemption key of an online payment, or the capture id of an offline payment.
    Column("key", String(64), primary_key=True),
    Column("coupon_id", String(32), nullable=False, index=True),
    Column("code", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("issuer_name", Text, nullable=False),
    Column("total_yen", Integer, nullable=False),
    Column("discount_yen", Integer, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    # An offline payment's code as its capture stores it. The row is written before the
    # capture, whose id is not known yet, so the capture is found by its code.
    Column("offline_code", Text, unique=True),
    # Set when the server applied the offline payment but not its coupon: the shop gave the
    # discount and is not paid it.
    Column("declined_reason", String(40)),
    Column("missing_yen", Integer),
)


# The campaigns this shop takes part in, from GET /v1/coupons/campaigns.
coupon_campaigns = Table(
    "coupon_campaigns",
    coupon_metadata,
    Column("campaign_id", String(32), primary_key=True),
    Column("fetched_at", String(40), nullable=False),
)


@dataclass(frozen=True)
class CouponDecline:
    """An applied offline payment whose coupon the server did not honour."""

    capture_id: str
    coupon_id: str
    reason: str
    missing_yen: int


class CouponRejected(Exception):
    """The coupon cannot be applied; ``reason`` names why (see the module docstring)."""

    def __init__(self, reason: str, detail: str, *, minimum_spend_yen: int = 0) -> None:
        super().__init__(detail)
        self.reason = reason
        self.minimum_spend_yen = minimum_spend_yen

    def message(self, lang: str = "ja") -> str:
        return coupon_message(self.reason, lang, minimum_spend_yen=self.minimum_spend_yen)


@dataclass(frozen=True)
class AppliedCoupon:
    """A checked coupon and its discount on a sale of ``total_yen``."""

    terms: CouponCode
    title: str
    issuer_name: str
    total_yen: int
    discount_yen: int
    checked_online: bool

    @property
    def code(self) -> str:
        return self.terms.text

    @property
    def coupon_id(self) -> str:
        return self.terms.coupon_id

    @property
    def due_yen(self) -> int:
        """What the wallet pays: the total less the discount."""
        return self.total_yen - self.discount_yen

    def use(self) -> protocol.CouponUse:
        return protocol.CouponUse(
            code=self.code, total_yen=self.total_yen, discount_yen=self.discount_yen
        )

    def applied(self) -> protocol.CouponApplied:
        """Describe the coupon as the server does on a payment, for an offline receipt."""
        return protocol.CouponApplied(
            coupon_id=self.coupon_id,
            title=self.title,
            issuer_name=self.issuer_name,
            total_yen=self.total_yen,
            discount_yen=self.discount_yen,
        )

    def for_total(self, total_yen: int) -> AppliedCoupon:
        """Recompute the discount for a new sale total; raise CouponRejected when it fails."""
        if total_yen == self.total_yen:
            return self
        return replace(
            self, total_yen=total_yen, discount_yen=checked_discount(self.terms, total_yen)
        )


def checked_discount(terms: CouponCode, total_yen: int) -> int:
    """Return the discount on ``total_yen``; raise CouponRejected when it gives no discount.

    ``coupon_code.discount_yen`` leaves at least 1 yen for the wallet to pay, so a sale of
    1 yen gets no discount and is rejected like one below the minimum spend.
    """
    discount_yen = coupon_code.discount_yen(terms, total_yen)
    if discount_yen < 1:
        minimum_yen = max(terms.minimum_spend_yen, MIN_DISCOUNTED_TOTAL_YEN)
        raise CouponRejected(
            CouponRejection.BELOW_MINIMUM,
            f"coupon {terms.coupon_id} needs {minimum_yen} yen, the sale is {total_yen} yen",
            minimum_spend_yen=minimum_yen,
        )
    return discount_yen


def check_coupon_wallet(coupon: AppliedCoupon, wallet_id: str) -> None:
    """Raise CouponRejected (wrong wallet) unless ``wallet_id`` is the coupon's holder."""
    try:
        coupon_code.check_wallet(coupon.terms, wallet_id)
    except coupon_code.CouponCodeError as exc:
        raise CouponRejected(exc.reason, str(exc)) from exc


def parse(text: str) -> CouponCode:
    """Parse a scanned coupon; raise CouponRejected (malformed) when the scan is damaged."""
    try:
        return coupon_code.parse_coupon_code(text)
    except coupon_code.CouponCodeError as exc:
        logger.info("coupon %s rejected: %s", coupon_code.mask_coupon_code(text), exc)
        raise CouponRejected(exc.reason, str(exc)) from exc


# --- checking offline ----------------------------------------------------------------------


class CouponVerifier:
    """Checks coupons with the issuer keys cached in the terminal database."""

    def __init__(self, store: Store, merchant_id: str, now: Callable[[], datetime]) -> None:
        self.store = store
        self.merchant_id = merchant_id
        self._now = now
        self.uses = CouponUses(store)
        self.campaigns = CouponCampaigns(store, now)

    def check(self, text: str, total_yen: int) -> AppliedCoupon:
        """Verify ``text`` for a sale of ``total_yen`` without the server; raise CouponRejected.

        The paying wallet is not known yet; ``check_coupon_wallet`` checks it at payment.
        """
        terms = parse(text)
        self._verify(terms)
        self._check_shop(terms)
        if self.uses.is_used(terms.coupon_id):
            raise CouponRejected(
                CouponRejection.USED, f"coupon {terms.coupon_id} was already used here"
            )
        discount_yen = checked_discount(terms, total_yen)
        return AppliedCoupon(
            terms, terms.title, "", total_yen, discount_yen, checked_online=False
        )

    def _verify(self, terms: CouponCode) -> None:
        keys = self._issuer_keys()
        if not keys:
            raise CouponRejected(NO_ISSUER_KEYS, "no issuer keys are cached")
        try:
            coupon_code.verify(terms, keys, self._now())
        except coupon_code.CouponCodeError as exc:
            logger.info("coupon %s rejected offline: %s", terms.coupon_id, exc)
            raise CouponRejected(exc.reason, str(exc)) from exc

    def _check_shop(self, terms: CouponCode) -> None:
        campaign_ids = self.campaigns.ids()
        if terms.for_all_campaign_shops and terms.campaign_id not in campaign_ids:
            # The shop's campaigns are cached when a coupon is checked online. Without the
            # campaign in that list, the terminal cannot tell whether the issuer would pay the
            # discount, so the coupon waits for a connection.
            raise CouponRejected(
                NEEDS_CONNECTION,
                f"coupon {terms.coupon_id} is for the shops of campaign {terms.campaign_id},"
                " which is not among the cached campaigns of this shop",
            )
        try:
            coupon_code.check_shop(terms, self.merchant_id, campaign_ids)
        except coupon_code.CouponCodeError as exc:
            raise CouponRejected(exc.reason, str(exc)) from exc

    def _issuer_keys(self) -> Mapping[str, Ed25519PublicKey]:
        return {
            key.key_id: Ed25519PublicKey.from_public_bytes(protocol.b64decode(key.public_key))
            for key in self.store.issuer_keys()
        }


# --- checking online, with the offline check as fallback ----------------------------------


class QuoteApi(Protocol):
    """The call of ``terminal.api_client.ApiClient`` that quotes a coupon."""

    def quote_coupon(self, code: str, total_yen: int) -> protocol.CouponQuote: ...

    def coupon_campaigns(self) -> protocol.CouponCampaignList: ...


class CouponChecker:
    """Checks a scanned coupon with the server when it is reachable, else on the terminal.

    ``verifier`` is None without a terminal database (tests of lone screens); such a checker
    needs the server.
    """

    def __init__(
        self,
        api: QuoteApi,
        verifier: CouponVerifier | None,
        is_offline: Callable[[], bool] = lambda: False,
    ) -> None:
        self._api = api
        self.verifier = verifier
        self._is_offline = is_offline

    def check(self, text: str, total_yen: int) -> AppliedCoupon:
        """Return the coupon with its discount on ``total_yen``; raise CouponRejected."""
        terms = parse(text)
        if self.verifier is not None and self.verifier.uses.is_used(terms.coupon_id):
            raise CouponRejected(
                CouponRejection.USED, f"coupon {terms.coupon_id} was already used here"
            )
        if self._is_offline() and self.verifier is not None:
            return self.verifier.check(text, total_yen)
        try:
            applied = self._quote(terms, total_yen)
        except (Unreachable, ProtocolError) as exc:
            if self.verifier is None:
                raise CouponRejected(CHECK_FAILED, str(exc)) from exc
            logger.info(
                "coupon quote failed (%s); checking coupon %s offline", exc, terms.coupon_id
            )
            return self.verifier.check(text, total_yen)
        self._refresh_campaigns()
        return applied

    def _refresh_campaigns(self) -> None:
        """Cache the shop's campaigns while the server is reachable, for offline checks."""
        if self.verifier is None or not self.verifier.campaigns.stale():
            return
        try:
            campaigns = self._api.coupon_campaigns()
        except ApiError as exc:
            # The cached list stays; the next coupon checked online tries again.
            logger.warning("fetching coupon campaigns failed: %s", exc)
            return
        self.verifier.campaigns.replace(campaigns.campaign_ids)

    def _quote(self, terms: CouponCode, total_yen: int) -> AppliedCoupon:
        minimum_yen = terms.minimum_spend_yen
        try:
            quote = self._api.quote_coupon(terms.text, total_yen)
        except Declined as exc:
            reason = coupon_reason(str(exc.code)) or CHECK_FAILED
            logger.info("server rejected coupon %s: %s", terms.coupon_id, exc.code)
            raise CouponRejected(reason, exc.message, minimum_spend_yen=minimum_yen) from exc
        except ApiError as exc:
            if isinstance(exc, Unreachable | ProtocolError):
                raise
            raise CouponRejected(CHECK_FAILED, str(exc), minimum_spend_yen=minimum_yen) from exc

        return AppliedCoupon(
            terms, quote.title, quote.issuer_name, quote.total_yen, quote.discount_yen,
            checked_online=True,
        )


# --- the shop's campaigns ------------------------------------------------------------------


class CouponCampaigns:
    """The campaigns the shop takes part in, as last fetched from the server."""

    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self.store = store
        self._now = now
        try:
            coupon_metadata.create_all(store.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the coupon tables in {store.path}: {exc}") from exc

    def ids(self) -> frozenset[str]:
        try:
            with self.store.engine.begin() as connection:
                rows = connection.execute(select(coupon_campaigns.c.campaign_id)).all()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading coupon campaigns failed: {exc}") from exc
        return frozenset(row.campaign_id for row in rows if row.campaign_id)

    def stale(self) -> bool:
        """Tell whether the list is missing or older than ``CAMPAIGNS_REFRESH_S``."""
        try:
            with self.store.engine.begin() as connection:
                fetched = connection.execute(
                    select(func.min(coupon_campaigns.c.fetched_at))
                ).scalar_one_or_none()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading coupon campaigns failed: {exc}") from exc
        if fetched is None:
            return True
        age_s = (self._now() - datetime.fromisoformat(fetched)).total_seconds()
        return age_s >= CAMPAIGNS_REFRESH_S

    def replace(self, campaign_ids: Sequence[str]) -> None:
        fetched_at = self._now().isoformat(timespec="seconds")
        rows = [
            {"campaign_id": campaign_id, "fetched_at": fetched_at} for campaign_id in campaign_ids
        ]
        # An empty list is kept as one row with no campaign, so it is not fetched again at once.
        rows = rows or [{"campaign_id": "", "fetched_at": fetched_at}]
        try:
            with self.store.engine.begin() as connection:
                connection.execute(delete(coupon_campaigns))
                connection.execute(coupon_campaigns.insert(), rows)
        except SQLAlchemyError as exc:
            raise StoreError(f"saving coupon campaigns failed: {exc}") from exc
        logger.info("cached %d coupon campaigns of this shop", len(campaign_ids))


# --- coupons used on this terminal -------------------------------------------------------


class CouponUses:
    """The ``coupon_uses`` table, in the terminal database next to the store's tables."""

    def __init__(self, store: Store) -> None:
        self.store = store
        try:
            coupon_metadata.create_all(store.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the coupon table in {store.path}: {exc}") from exc

    def record(self, key: str, coupon: AppliedCoupon, now: datetime) -> None:
        """Record that the online attempt ``key`` uses ``coupon``; raise CouponRejected if used.

        The check and the insert run in one ``BEGIN IMMEDIATE`` transaction. The same key
        again replaces its row, so a retried attempt keeps one row.
        """
        self._insert(key, coupon, now, None)

    def record_offline(self, offline_code: str, coupon: AppliedCoupon, now: datetime) -> None:
        """Record ``coupon`` for the offline payment of ``offline_code``, before its capture."""
        normalised = offline_code.strip().upper()
        self._insert(offline_key(normalised), coupon, now, normalised)

    def _insert(
        self, key: str, coupon: AppliedCoupon, now: datetime, offline_code: str | None
    ) -> None:
        row = {
            "key": key,
            "coupon_id": coupon.coupon_id,
            "code": coupon.code,
            "title": coupon.title,
            "issuer_name": coupon.issuer_name,
            "total_yen": coupon.total_yen,
            "discount_yen": coupon.discount_yen,
            "recorded_at": now.isoformat(timespec="seconds"),
            "offline_code": offline_code,
        }
        try:
            with self.store.engine.begin() as connection:
                used = connection.execute(select(_used_query(coupon.coupon_id, key))).scalar()
                if used:
                    raise CouponRejected(
                        CouponRejection.USED, f"coupon {coupon.coupon_id} was already used here"
                    )
                if connection.execute(select(_captured(key))).scalar():
                    # A replayed offline code: its payment and coupon stay as recorded, and
                    # the offline check rejects the replay.
                    logger.info("coupon row %s belongs to a capture already; not replaced", key)
                    return
                connection.execute(delete(coupon_uses).where(coupon_uses.c.key == key))
                connection.execute(coupon_uses.insert().values(row))
        except SQLAlchemyError as exc:
            raise StoreError(f"recording coupon {coupon.coupon_id} failed: {exc}") from exc
        logger.info(
            "coupon %s recorded for %s: %d yen off %d yen",
            coupon.coupon_id, key, coupon.discount_yen, coupon.total_yen,
        )

    def forget(self, key: str) -> None:
        """Remove the coupon of an attempt that was never captured (its capture failed).

        A row whose payment was captured is kept, so a rejected replay of an offline code
        cannot take the coupon off the payment that code made first.
        """
        try:
            with self.store.engine.begin() as connection:
                connection.execute(
                    delete(coupon_uses).where(coupon_uses.c.key == key, ~_captured(key))
                )
        except SQLAlchemyError as exc:
            raise StoreError(f"removing the coupon of {key} failed: {exc}") from exc

    def is_used(self, coupon_id: str) -> bool:
        try:
            with self.store.engine.begin() as connection:
                return bool(connection.execute(select(_used_query(coupon_id))).scalar())
        except SQLAlchemyError as exc:
            raise StoreError(f"checking coupon {coupon_id} failed: {exc}") from exc

    def forget_offline(self, offline_code: str) -> None:
        """Remove the coupon of an offline payment that was not captured."""
        self.forget(offline_key(offline_code))

    def use_for(self, key: str) -> protocol.CouponUse | None:
        """Return the coupon of an online attempt (by key) or an offline code, or None."""
        row = self._row(key)
        if row is None:
            return None
        return protocol.CouponUse(
            code=row.code, total_yen=row.total_yen, discount_yen=row.discount_yen
        )

    def entry_use(self, entry: protocol.SyncEntry) -> protocol.CouponUse | None:
        """Return the coupon an offline payment entry carries, found by its code.

        An online payment's coupon was redeemed with the payment, so its entry carries none.
        """
        if entry.kind == "offline_payment" and entry.offline_code is not None:
            return self.use_for(offline_key(entry.offline_code))
        return None

    def discounts(self, *, declined: bool = False) -> dict[str, int]:
        """Return the discount in yen by capture id, of every capture that used a coupon.

        With ``declined``, only the coupons the server did not honour, and their missing yen.
        """
        rows = self._capture_rows(declined)
        if declined:
            return {row.capture_id: row.missing_yen for row in rows}
        return {row.capture_id: row.discount_yen for row in rows}

    def declines(self) -> list[CouponDecline]:
        """Return the coupons of applied offline payments that the server did not honour."""
        return [
            CouponDecline(row.capture_id, row.coupon_id, row.declined_reason, row.missing_yen)
            for row in self._capture_rows(True)
        ]

    def record_declines(self, results: Sequence[protocol.SyncResult]) -> None:
        """Keep each ``coupon_declined`` of the server's sync results on its coupon row."""
        declined = [result for result in results if result.coupon_declined is not None]
        if not declined:
            return
        try:
            with self.store.engine.begin() as connection:
                for result in declined:
                    _mark_declined(connection, result)
        except SQLAlchemyError as exc:
            raise StoreError(f"recording declined coupons failed: {exc}") from exc

    def _capture_rows(self, declined: bool) -> list[Any]:
        columns = (
            captures.c.capture_id, coupon_uses.c.coupon_id, coupon_uses.c.discount_yen,
            coupon_uses.c.declined_reason, coupon_uses.c.missing_yen,
        )
        on_capture = (coupon_uses.c.key == captures.c.capture_id) | (
            coupon_uses.c.offline_code == captures.c.offline_code
        )
        query = select(*columns).join(coupon_uses, on_capture).order_by(captures.c.seq)
        if declined:
            query = query.where(coupon_uses.c.declined_reason.is_not(None))
        try:
            with self.store.engine.begin() as connection:
                return list(connection.execute(query).all())
        except SQLAlchemyError as exc:
            raise StoreError(f"reading coupon discounts failed: {exc}") from exc

    def _row(self, key: str) -> Row[Any] | None:
        try:
            with self.store.engine.begin() as connection:
                return connection.execute(
                    select(coupon_uses).where(coupon_uses.c.key == key)
                ).first()
        except SQLAlchemyError as exc:
            raise StoreError(f"reading the coupon of {key} failed: {exc}") from exc


def _mark_declined(connection: Connection, result: protocol.SyncResult) -> None:
    declined = result.coupon_declined
    assert declined is not None
    code_of_entry = (
        select(captures.c.offline_code)
        .where(captures.c.capture_id == result.entry_id)
        .scalar_subquery()
    )
    marked = connection.execute(
        update(coupon_uses)
        .where(
            (coupon_uses.c.key == result.entry_id)
            | (coupon_uses.c.offline_code == code_of_entry)
        )
        .values(declined_reason=str(declined.reason)[:40], missing_yen=declined.missing_yen)
    ).rowcount
    logger.warning(
        "server did not honour coupon %s of entry %s: %s, %d yen missing%s",
        declined.coupon_id, result.entry_id, declined.reason, declined.missing_yen,
        "" if marked else " (no coupon row found)",
    )


def offline_key(offline_code: str) -> str:
    """Return the coupon row key of an offline payment, from its code as the capture stores it."""
    digest = hashlib.sha256(offline_code.strip().upper().encode("ascii", "replace")).hexdigest()
    return f"offline:{digest[:48]}"


def _captured(key: str) -> Exists:
    """Build EXISTS(a capture made by the attempt or offline code of the row ``key``)."""
    row_code = select(coupon_uses.c.offline_code).where(coupon_uses.c.key == key).scalar_subquery()
    return exists().where(
        (captures.c.capture_id == key) | (captures.c.offline_code == row_code)
    )


def _used_query(coupon_id: str, except_key: str | None = None) -> Exists:
    """Build EXISTS(a live attempt or capture of this terminal uses ``coupon_id``).

    ``except_key`` leaves out the open redemption of that key, the attempt being retried.
    """
    live_capture = exists().where(
        (captures.c.capture_id == coupon_uses.c.key)
        | (captures.c.offline_code == coupon_uses.c.offline_code),
        captures.c.state != "declined",
    )
    live_redemption = exists().where(
        redemptions.c.key == coupon_uses.c.key,
        redemptions.c.state.in_(("open", "approved")),
        coupon_uses.c.key != (except_key or ""),
    )
    condition = (coupon_uses.c.coupon_id == coupon_id) & (live_capture | live_redemption)
    return exists().where(condition)


# --- the clerk's messages ------------------------------------------------------------------


def coupon_reason(code: str | None) -> str | None:
    """Return ``code`` when it is a coupon reason (a server error code or the terminal's own)."""
    if code is None:
        return None
    return code if code in COUPON_MESSAGES_JA else None


def coupon_message(reason: str, lang: str = "ja", *, minimum_spend_yen: int = 0) -> str:
    """Return the clerk's text for a coupon ``reason``, with the minimum spend filled in."""
    catalogue = COUPON_MESSAGES_EN if lang == "en" else COUPON_MESSAGES_JA
    text = catalogue.get(reason, catalogue[CHECK_FAILED])
    return text.format(minimum=f"￥{minimum_spend_yen:,}")
