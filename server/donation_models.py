"""Database rows of donation causes, campaigns and the donations of payments.

A cause is a recipient with its own ledger account. A campaign gives the cause a share of each
payment during a period, funded by the merchant or by the operator's fee account. One
``DonationRow`` per (payment, campaign) records what that payment gave, and ``DonationEvent``
rows record every change to it (the donation, returns on refunds, a later settlement), which
is what the running totals add up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models import Base, SeqType, UtcDateTime

FUNDER_MERCHANT = "merchant"
FUNDER_OPERATOR = "operator"

# Donation states. Booked: the cause received it. Owed: the operator's fee account could not
# cover it when the payment was booked, and ``chiiki-settle donation-settle`` books it later.
# Cancelled: refunds returned all of an owed donation before it was booked.
STATUS_BOOKED = "booked"
STATUS_OWED = "owed"
STATUS_CANCELLED = "cancelled"

EVENT_DONATED = "donated"
EVENT_RETURNED = "returned"
EVENT_SETTLED = "settled"
# A refund's return the cause could not pay (+ clawback_owed_yen), and a repayment of it (-).
EVENT_CLAWBACK_OWED = "clawback_owed"
EVENT_CLAWBACK_REPAID = "clawback_repaid"


class DonationCause(Base):
    """A recipient of donations, e.g. a food bank or a festival fund."""

    __tablename__ = "donation_causes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), unique=True)
    # SHA-256 of the bearer token the cause reads its totals with; None until one is issued.
    read_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DonationCampaign(Base):
    """A share of every payment in ``[starts_at, ends_at)`` given to one cause.

    Exactly one of ``share_bp`` (basis points of the payment, rounded down to whole yen) and
    ``fixed_yen`` (yen per payment) is set. ``merchant_ids`` None means every shop.
    """

    __tablename__ = "donation_campaigns"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    cause_id: Mapped[str] = mapped_column(ForeignKey("donation_causes.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    share_bp: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fixed_yen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    funder: Mapped[str] = mapped_column(String(16))
    merchant_ids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        CheckConstraint("(share_bp IS NULL) <> (fixed_yen IS NULL)", name="one_amount_rule"),
        CheckConstraint("share_bp IS NULL OR (share_bp >= 1 AND share_bp <= 10000)",
                        name="share_bounds"),
        CheckConstraint("fixed_yen IS NULL OR fixed_yen >= 1", name="fixed_positive"),
        CheckConstraint("funder IN ('merchant', 'operator')", name="funder_known"),
        CheckConstraint("ends_at > starts_at", name="period_order"),
        Index("ix_donation_campaigns_period", "starts_at", "ends_at"),
    )


class DonationRow(Base):
    """What one payment gave to one campaign's cause.

    ``amount_yen`` is the donation when the payment was booked. Refunds return part of it
    (``returned_yen``). ``booked_yen`` went from the funder to the cause in the transfer
    ``donation:<payment id>:<campaign id>``, and ``reversed_yen`` came back by refund
    transfers. The cause has received ``booked_yen - reversed_yen`` net. While owed, both are 0.
    ``clawback_owed_yen`` of that net is returned share the cause still owes the funder.
    """

    __tablename__ = "donations"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("donation_campaigns.id"), index=True)
    cause_id: Mapped[str] = mapped_column(ForeignKey("donation_causes.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"))
    funder: Mapped[str] = mapped_column(String(16))
    payment_yen: Mapped[int] = mapped_column(BigInteger)
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    # Payment yen refunded so far; the returned share is computed from it.
    refunded_payment_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    returned_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    booked_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    reversed_yen: Mapped[int] = mapped_column(BigInteger, default=0)
    # Part of a refund's return the cause could not pay, because it had paid its value out.
    # The cause owes it to the funder and repays it before its next payout.
    clawback_owed_yen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16))
    transfer_id: Mapped[str] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("payment_id", "campaign_id"),
        CheckConstraint("amount_yen >= 1 AND returned_yen >= 0 AND returned_yen <= amount_yen",
                        name="returned_bounds"),
        CheckConstraint("refunded_payment_yen >= 0 AND refunded_payment_yen <= payment_yen",
                        name="refunded_bounds"),
        CheckConstraint("reversed_yen >= 0 AND reversed_yen <= booked_yen",
                        name="reversed_bounds"),
        CheckConstraint("clawback_owed_yen >= 0 AND reversed_yen + clawback_owed_yen <= booked_yen",
                        name="clawback_bounds"),
        Index("ix_donations_status_seq", "status", "seq"),
    )


class DonationEvent(Base):
    """One change to a donation: donated (+), returned on a refund (-), settled later, or a
    return the cause owes back (clawback owed) and its repayment (clawback repaid).

    ``key`` makes each change happen once: ``donated``, ``refund:<refund id>``, ``settled``,
    ``clawback:<refund id>`` or ``clawback-repaid:<n>``.
    ``transfer_id`` is the ledger transfer that moved the value, None when nothing moved
    (a donation recorded as owed, or a return of an owed donation).
    """

    __tablename__ = "donation_events"

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    donation_seq: Mapped[int] = mapped_column(ForeignKey("donations.seq"))
    campaign_id: Mapped[str] = mapped_column(ForeignKey("donation_campaigns.id"))
    cause_id: Mapped[str] = mapped_column(ForeignKey("donation_causes.id"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(80))
    amount_yen: Mapped[int] = mapped_column(BigInteger)
    transfer_id: Mapped[str | None] = mapped_column(String(160), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        UniqueConstraint("donation_seq", "key"),
        Index("ix_donation_events_cause_created", "cause_id", "created_at"),
        Index("ix_donation_events_campaign_created", "campaign_id", "created_at"),
    )
