"""Database rows of coupon campaigns: campaigns, their shops, coupons, uses and prize draws."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, SeqType, UtcDateTime


class CouponCampaign(Base):
    """A coupon campaign: its terms, audience, budget and the account that pays discounts.

    ``committed_yen`` is the budget in use: the reservation of every coupon that is neither
    used nor released, plus the discounts of used coupons. Issuing a coupon adds its
    reservation and is refused when the sum would pass ``budget_yen``.
    """

    __tablename__ = "coupon_campaigns"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    title: Mapped[str] = mapped_column(String(30))
    # Shown on receipts as who grants the discount: the merchant's name or the operator's.
    issuer_name: Mapped[str] = mapped_column(String(100))
    # None when the operator funds the campaign.
    issuer_merchant_id: Mapped[str | None] = mapped_column(
        ForeignKey("merchants.id"), nullable=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), unique=True)
    discount_kind: Mapped[str] = mapped_column(String(8))
    discount_value: Mapped[int] = mapped_column(BigInteger)
    max_discount_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    minimum_spend_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Days a coupon is valid from its issue; None means until the campaign ends.
    valid_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    audience_resident: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # Attribute name -> accepted values; a wallet must match every listed attribute.
    audience_attributes: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    budget_yen: Mapped[int] = mapped_column(BigInteger)
    committed_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    # Campaigns with the same chain group pass a customer on to one another's shops.
    chain_group: Mapped[str | None] = mapped_column(String(24), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CouponCampaignShop(Base):
    __tablename__ = "coupon_campaign_shops"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("coupon_campaigns.id"), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(
        ForeignKey("merchants.id"), primary_key=True, index=True
    )


class Coupon(Base):
    """One issued coupon and its signed code."""

    __tablename__ = "coupons"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("coupon_campaigns.id"), index=True)
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"), index=True)
    # Empty means every shop of the campaign.
    merchant_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    reserved_yen: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime)
    code: Mapped[str] = mapped_column(Text)
    # "audience" (operator issue) or "chain" (issued by the use of another coupon).
    issued_for: Mapped[str] = mapped_column(String(8))
    # The used coupon that issued this one; unique, so a use issues at most one coupon.
    chained_from: Mapped[str | None] = mapped_column(String(24), nullable=True, unique=True)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set when the reservation went back to the budget: the coupon expired unused or was
    # withdrawn.
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_coupons_campaign_wallet", "campaign_id", "wallet_id"),)


class CouponUseRow(Base):
    """The one use of a coupon; the primary key on coupon_id makes a second use impossible."""

    __tablename__ = "coupon_uses"

    coupon_id: Mapped[str] = mapped_column(ForeignKey("coupons.id"), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), unique=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("coupon_campaigns.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"))
    total_yen: Mapped[int] = mapped_column(BigInteger)
    discount_yen: Mapped[int] = mapped_column(BigInteger)
    # Discount already returned to the campaign account by refunds of the payment.
    returned_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    transfer_id: Mapped[str] = mapped_column(String(160))
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CouponDecline(Base):
    """A coupon an offline payment used that the server did not honour at sync."""

    __tablename__ = "coupon_declines"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), unique=True)
    coupon_id: Mapped[str] = mapped_column(String(24))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    terminal_id: Mapped[str] = mapped_column(String(40))
    entry_id: Mapped[str] = mapped_column(String(64))
    total_yen: Mapped[int] = mapped_column(BigInteger)
    missing_yen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CouponIntent(Base):
    """The coupon a merchant-presented intent carries, applied when the wallet pays it."""

    __tablename__ = "coupon_intents"

    intent_id: Mapped[str] = mapped_column(ForeignKey("intents.id"), primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    total_yen: Mapped[int] = mapped_column(BigInteger)
    discount_yen: Mapped[int] = mapped_column(BigInteger)


class CouponPrizeEntry(Base):
    """One entry in a campaign's prize draw, earned by one coupon use."""

    __tablename__ = "coupon_prize_entries"

    coupon_id: Mapped[str] = mapped_column(ForeignKey("coupons.id"), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("coupon_campaigns.id"), index=True)
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CouponPrizeDraw(Base):
    """A commit-reveal prize draw of one campaign (server.lottery).

    ``seed`` is the secret behind ``commitment``. It is stored by the draw, never before it,
    and shown to nobody until ``published_at``. ``candidates`` (wallet id -> entries) and
    ``winners`` are fixed at the draw.
    """

    __tablename__ = "coupon_prize_draws"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("coupon_campaigns.id"), primary_key=True)
    places: Mapped[int] = mapped_column(Integer)
    # None until the draw: until then the seed is only in the operator's seed file, so a
    # database reader cannot predict the winners. Draws committed before migration 0014 hold
    # their seed from the commit on.
    seed: Mapped[str | None] = mapped_column(String(64), nullable=True)
    commitment: Mapped[str] = mapped_column(String(64))
    committed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    candidates: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    winners: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    drawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        # ``publish_prize_draw`` reveals the seed the winners were drawn with.
        CheckConstraint("drawn_at IS NULL OR seed IS NOT NULL", name="drawn_with_seed"),
    )
