"""Database rows of benefit programmes and the payouts they made to wallets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, SeqType, UtcDateTime


class BenefitProgramme(Base):
    """A public benefit paid into wallets from one issuing account, such as 出産応援給付.

    ``categories`` is the comma-joined, sorted list of 4-digit merchant category codes where
    the benefit may be spent, or None for any shop. At most one of ``expires_on`` (the value
    expires at the end of that day, Japan time) and ``valid_days`` (it expires at the end of
    the day that many days after the payout day, Japan time) is set. ``paid_yen`` and
    ``payout_count`` are kept in the transaction of each payout, so the budget check needs no
    sum over the payouts.
    """

    __tablename__ = "benefit_programmes"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    funding_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    categories: Mapped[str | None] = mapped_column(String(200), nullable=True)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_per_recipient_yen: Mapped[int] = mapped_column(BigInteger)
    budget_yen: Mapped[int] = mapped_column(BigInteger)
    paid_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    payout_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        CheckConstraint("paid_yen >= 0 AND paid_yen <= budget_yen", name="within_budget"),
        CheckConstraint("max_per_recipient_yen > 0", name="max_positive"),
        CheckConstraint("expires_on IS NULL OR valid_days IS NULL", name="one_expiry_rule"),
    )


class BenefitPayout(Base):
    """One wallet's payout from a programme, booked as transfer ``benefit:<programme>:<key>``.

    ``line_key`` is ``<payout_round>:<wallet id>``, so a wallet is paid at most once per round
    of a programme, whatever line of whichever file names it. ``line_number`` and ``reference`` are
    copied from the import file line that paid it.
    """

    __tablename__ = "benefit_payouts"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(ForeignKey("benefit_programmes.id"))
    line_key: Mapped[str] = mapped_column(String(80))
    payout_round: Mapped[str] = mapped_column(String(20))
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"))
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), unique=True)
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(100), default="")
    line_number: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        CheckConstraint("amount_yen > 0", name="amount_positive"),
        Index("ix_benefit_payouts_programme_key", "programme_id", "line_key", unique=True),
        Index("ix_benefit_payouts_programme_wallet", "programme_id", "wallet_id"),
    )
