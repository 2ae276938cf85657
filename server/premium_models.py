"""Database rows of premium point sales: the sale, its lottery draws and the applications.

A sale offers ``total_sets`` sets, each sold for ``price_yen`` of coin and delivering
``local_yen`` of premium_local and ``all_yen`` of premium_all points that expire at
``usage_until``. Residents apply during the application period. When the applications ask for
more sets than there are, a lottery decides the winners, who buy during the purchase period.
Sets nobody bought go to a second draw among the first round's losers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, SeqType, UtcDateTime

# Application states. ``won`` stays ``won`` after its purchase period ends unbought; the sale's
# report counts those sets as unclaimed.
APPLIED = "applied"
CANCELLED = "cancelled"
WON = "won"
LOST = "lost"
PURCHASED = "purchased"


class PremiumSale(Base):
    """A premium point sale and the accounts it issues from and is paid into."""

    __tablename__ = "premium_sales"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    # Chosen by the operator (lower-case letters, digits, hyphens), e.g. "2026-summer".
    id: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    apply_from: Mapped[datetime] = mapped_column(UtcDateTime)
    apply_until: Mapped[datetime] = mapped_column(UtcDateTime)
    purchase_from: Mapped[datetime] = mapped_column(UtcDateTime)
    purchase_until: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set by the operator when unclaimed sets go to a second draw.
    second_purchase_from: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    second_purchase_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The points of every set expire here; they are usable from the moment they are bought.
    usage_until: Mapped[datetime] = mapped_column(UtcDateTime)
    price_yen: Mapped[int] = mapped_column(BigInteger)
    local_yen: Mapped[int] = mapped_column(BigInteger)
    all_yen: Mapped[int] = mapped_column(BigInteger)
    total_sets: Mapped[int] = mapped_column(Integer)
    per_person_max_sets: Mapped[int] = mapped_column(Integer)
    household_max_people: Mapped[int] = mapped_column(Integer)
    household_max_sets: Mapped[int] = mapped_column(Integer)
    residents_only: Mapped[bool] = mapped_column(Boolean)
    # premium-sale:<id>, an issuing account: the points come from it and return to it on expiry.
    issuing_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    # premium-revenue:<id>: receives the coin the buyers pay.
    revenue_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        CheckConstraint("price_yen > 0 AND local_yen >= 0 AND all_yen >= 0"
                        " AND local_yen + all_yen >= price_yen", name="set_values"),
        CheckConstraint("total_sets > 0 AND per_person_max_sets > 0"
                        " AND household_max_people > 0 AND household_max_sets > 0",
                        name="limits_positive"),
        CheckConstraint("apply_from < apply_until AND apply_until <= purchase_from"
                        " AND purchase_from < purchase_until AND purchase_until < usage_until",
                        name="periods_ordered"),
    )


class PremiumDraw(Base):
    """One committed lottery round of a sale (round 1, or round 2 for unclaimed sets).

    ``seed`` is the secret behind ``commitment``. It is stored by the draw, never before it,
    and shown to nobody until ``published_at``.
    ``candidates`` is the published input of the draw, ``[{"id": application id, "sets": n}]``
    sorted by id, and ``winners`` its outcome, ``{application id: sets}``.
    """

    __tablename__ = "premium_draws"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    sale_id: Mapped[str] = mapped_column(ForeignKey("premium_sales.id"))
    round: Mapped[int] = mapped_column(Integer)
    commitment: Mapped[str] = mapped_column(String(64))
    # None until the round is drawn: until then the seed is only in the operator's seed file,
    # so a database reader cannot predict the draw. Rounds committed before migration 0013
    # hold their seed from the commit on.
    seed: Mapped[str | None] = mapped_column(String(64), nullable=True)
    committed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    supply_sets: Mapped[int | None] = mapped_column(Integer, nullable=True)
    candidates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    draw_order: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    winners: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    drawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("sale_id", "round"),
        CheckConstraint("round IN (1, 2)", name="round_known"),
        # ``publish`` reveals the seed a round was drawn with.
        CheckConstraint("drawn_at IS NULL OR seed IS NOT NULL", name="drawn_with_seed"),
    )


class PremiumApplication(Base):
    """A request for sets for one person, made by that person or by a household member.

    ``wallet_id`` is the person the sets are for, who receives the points.
    ``applicant_wallet_id`` sent the application; it differs only for a proxy application.
    ``household_id`` is the beneficiary's household when the application was made.
    """

    __tablename__ = "premium_applications"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    sale_id: Mapped[str] = mapped_column(ForeignKey("premium_sales.id"))
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"))
    applicant_wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"))
    household_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    sets_requested: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    # Set by a draw: the round the application won in and the sets it may buy (fewer than
    # requested only for the last winner when the supply ran short).
    round_won: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sets_won: Mapped[int] = mapped_column(Integer, default=0)
    # 1-based position in the draw order of the last round the application took part in.
    draw_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    purchase_transfer_id: Mapped[str | None] = mapped_column(String(160), nullable=True)
    paid_by_wallet_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    purchased_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("applicant_wallet_id", "idempotency_key"),
        CheckConstraint("sets_requested > 0 AND sets_won >= 0 AND sets_won <= sets_requested",
                        name="sets_bounds"),
        # One live application per person and sale; cancelled ones stay as history.
        Index("uq_premium_applications_live", "sale_id", "wallet_id", unique=True,
              sqlite_where=text("status != 'cancelled'"),
              postgresql_where=text("status != 'cancelled'")),
        Index("ix_premium_applications_sale_household", "sale_id", "household_id"),
    )
