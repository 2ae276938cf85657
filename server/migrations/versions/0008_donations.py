"""Add donation causes, campaigns, the donations of payments and their events

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('donation_causes',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('read_token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_donation_causes_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_donation_causes')),
    sa.UniqueConstraint('account_id', name=op.f('uq_donation_causes_account_id')),
    sa.UniqueConstraint('read_token_hash', name=op.f('uq_donation_causes_read_token_hash'))
    )
    op.create_table('donation_campaigns',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('cause_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('share_bp', sa.Integer(), nullable=True),
    sa.Column('fixed_yen', sa.BigInteger(), nullable=True),
    sa.Column('funder', sa.String(length=16), nullable=False),
    sa.Column('merchant_ids', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('(share_bp IS NULL) <> (fixed_yen IS NULL)', name=op.f('ck_donation_campaigns_one_amount_rule')),
    sa.CheckConstraint('share_bp IS NULL OR (share_bp >= 1 AND share_bp <= 10000)', name=op.f('ck_donation_campaigns_share_bounds')),
    sa.CheckConstraint('fixed_yen IS NULL OR fixed_yen >= 1', name=op.f('ck_donation_campaigns_fixed_positive')),
    sa.CheckConstraint("funder IN ('merchant', 'operator')", name=op.f('ck_donation_campaigns_funder_known')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_donation_campaigns_period_order')),
    sa.ForeignKeyConstraint(['cause_id'], ['donation_causes.id'], name=op.f('fk_donation_campaigns_cause_id_donation_causes')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_donation_campaigns')),
    sa.UniqueConstraint('id', name=op.f('uq_donation_campaigns_id'))
    )
    op.create_index(op.f('ix_donation_campaigns_cause_id'), 'donation_campaigns', ['cause_id'], unique=False)
    op.create_index('ix_donation_campaigns_period', 'donation_campaigns', ['starts_at', 'ends_at'], unique=False)
    op.create_table('donations',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=False),
    sa.Column('campaign_id', sa.String(length=40), nullable=False),
    sa.Column('cause_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('funder', sa.String(length=16), nullable=False),
    sa.Column('payment_yen', sa.BigInteger(), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('refunded_payment_yen', sa.BigInteger(), nullable=False),
    sa.Column('returned_yen', sa.BigInteger(), nullable=False),
    sa.Column('booked_yen', sa.BigInteger(), nullable=False),
    sa.Column('reversed_yen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('transfer_id', sa.String(length=160), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_yen >= 1 AND returned_yen >= 0 AND returned_yen <= amount_yen', name=op.f('ck_donations_returned_bounds')),
    sa.CheckConstraint('refunded_payment_yen >= 0 AND refunded_payment_yen <= payment_yen', name=op.f('ck_donations_refunded_bounds')),
    sa.CheckConstraint('reversed_yen >= 0 AND reversed_yen <= booked_yen', name=op.f('ck_donations_reversed_bounds')),
    sa.ForeignKeyConstraint(['campaign_id'], ['donation_campaigns.id'], name=op.f('fk_donations_campaign_id_donation_campaigns')),
    sa.ForeignKeyConstraint(['cause_id'], ['donation_causes.id'], name=op.f('fk_donations_cause_id_donation_causes')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_donations_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_donations_payment_id_payments')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_donations')),
    sa.UniqueConstraint('payment_id', 'campaign_id', name=op.f('uq_donations_payment_id'))
    )
    op.create_index(op.f('ix_donations_campaign_id'), 'donations', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_donations_cause_id'), 'donations', ['cause_id'], unique=False)
    op.create_index('ix_donations_status_seq', 'donations', ['status', 'seq'], unique=False)
    op.create_table('donation_events',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('donation_seq', _SEQ, nullable=False),
    sa.Column('campaign_id', sa.String(length=40), nullable=False),
    sa.Column('cause_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('transfer_id', sa.String(length=160), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['donation_campaigns.id'], name=op.f('fk_donation_events_campaign_id_donation_campaigns')),
    sa.ForeignKeyConstraint(['cause_id'], ['donation_causes.id'], name=op.f('fk_donation_events_cause_id_donation_causes')),
    sa.ForeignKeyConstraint(['donation_seq'], ['donations.seq'], name=op.f('fk_donation_events_donation_seq_donations')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_donation_events')),
    sa.UniqueConstraint('donation_seq', 'key', name=op.f('uq_donation_events_donation_seq'))
    )
    op.create_index('ix_donation_events_campaign_created', 'donation_events', ['campaign_id', 'created_at'], unique=False)
    op.create_index('ix_donation_events_cause_created', 'donation_events', ['cause_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_donation_events_cause_created', table_name='donation_events')
    op.drop_index('ix_donation_events_campaign_created', table_name='donation_events')
    op.drop_table('donation_events')
    op.drop_index('ix_donations_status_seq', table_name='donations')
    op.drop_index(op.f('ix_donations_cause_id'), table_name='donations')
    op.drop_index(op.f('ix_donations_campaign_id'), table_name='donations')
    op.drop_table('donations')
    op.drop_index('ix_donation_campaigns_period', table_name='donation_campaigns')
    op.drop_index(op.f('ix_donation_campaigns_cause_id'), table_name='donation_campaigns')
    op.drop_table('donation_campaigns')
    op.drop_table('donation_causes')
