"""Database rows of stamp rallies: rallies, their booths, participants and stamps.

A participant gets at most one stamp per booth per Japan calendar day, which the unique key of
``rally_stamps`` enforces, and a stamp is applied once per (terminal, entry id). The
participant row is locked while a stamp is added, so the stamp count and the one-time reward
stay right when two booths stamp the same participant at once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, SeqType, UtcDateTime


class Rally(Base):
    """A stamp rally: its period in Japan days, the goal and the reward for reaching it."""

    __tablename__ = "rallies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    goal_stamps: Mapped[int] = mapped_column(Integer)
    # premium_all or benefit: points issued from ``issuing_account_id`` to the wallet at the
    # goal, expiring at ``reward_expires_at``. coupon: a coupon of ``reward_coupon_campaign_id``
    # (reward_yen is then 0, and the coupon campaign sets its own validity).
    reward_kind: Mapped[str] = mapped_column(String(16))
    reward_yen: Mapped[int] = mapped_column(BigInteger)
    reward_expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    issuing_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    reward_coupon_campaign_id: Mapped[str | None] = mapped_column(String(24), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        CheckConstraint("goal_stamps >= 1", name="goal_positive"),
        CheckConstraint("reward_yen >= 0", name="reward_not_negative"),
        CheckConstraint("ends_on >= starts_on", name="period_order"),
    )


class RallyBooth(Base):
    """A terminal that gives stamps of one rally."""

    __tablename__ = "rally_booths"

    rally_id: Mapped[str] = mapped_column(ForeignKey("rallies.id"), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_rally_booths_terminal", "terminal_id"),)


class RallyParticipant(Base):
    """A wallet's progress in one rally.

    ``reward_transfer_id`` is set once, at the goal: the ledger transfer of a points reward, or
    the coupon id of a coupon reward. It stays None when the coupon campaign had no budget left.
    """

    __tablename__ = "rally_participants"

    rally_id: Mapped[str] = mapped_column(ForeignKey("rallies.id"), primary_key=True)
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"), primary_key=True)
    stamp_count: Mapped[int] = mapped_column(Integer, default=0)
    first_stamp_at: Mapped[datetime] = mapped_column(UtcDateTime)
    goal_reached_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    reward_transfer_id: Mapped[str | None] = mapped_column(String(160), nullable=True)


class RallyStamp(Base):
    """One stamp a booth gave a participant, on ``stamp_day`` (Japan time)."""

    __tablename__ = "rally_stamps"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    rally_id: Mapped[str] = mapped_column(ForeignKey("rallies.id"))
    wallet_id: Mapped[str] = mapped_column(ForeignKey("wallets.id"))
    terminal_id: Mapped[str] = mapped_column(ForeignKey("terminals.id"))
    entry_id: Mapped[str] = mapped_column(String(64))
    stamp_day: Mapped[date] = mapped_column(Date)
    # The participant's stamp count including this stamp.
    stamp_number: Mapped[int] = mapped_column(Integer)
    captured_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("rally_id", "wallet_id", "terminal_id", "stamp_day",
                         name="uq_rally_stamps_one_per_booth_day"),
        UniqueConstraint("terminal_id", "entry_id", name="uq_rally_stamps_terminal_entry"),
        Index("ix_rally_stamps_rally_day", "rally_id", "stamp_day"),
    )
