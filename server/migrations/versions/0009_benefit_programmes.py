"""Add benefit programmes and their payouts to wallets

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('benefit_programmes',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('funding_account_id', sa.String(length=40), nullable=False),
    sa.Column('categories', sa.String(length=200), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('max_per_recipient_yen', sa.BigInteger(), nullable=False),
    sa.Column('budget_yen', sa.BigInteger(), nullable=False),
    sa.Column('paid_yen', sa.BigInteger(), nullable=False),
    sa.Column('payout_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('paid_yen >= 0 AND paid_yen <= budget_yen', name=op.f('ck_benefit_programmes_within_budget')),
    sa.CheckConstraint('max_per_recipient_yen > 0', name=op.f('ck_benefit_programmes_max_positive')),
    sa.CheckConstraint('expires_on IS NULL OR valid_days IS NULL', name=op.f('ck_benefit_programmes_one_expiry_rule')),
    sa.ForeignKeyConstraint(['funding_account_id'], ['accounts.id'], name=op.f('fk_benefit_programmes_funding_account_id_accounts')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_benefit_programmes')),
    sa.UniqueConstraint('id', name=op.f('uq_benefit_programmes_id'))
    )
    op.create_table('benefit_payouts',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('programme_id', sa.String(length=40), nullable=False),
    sa.Column('line_key', sa.String(length=80), nullable=False),
    sa.Column('payout_round', sa.String(length=20), nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('transfer_id', sa.String(length=160), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('line_number', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_yen > 0', name=op.f('ck_benefit_payouts_amount_positive')),
    sa.ForeignKeyConstraint(['programme_id'], ['benefit_programmes.id'], name=op.f('fk_benefit_payouts_programme_id_benefit_programmes')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_benefit_payouts_transfer_id_transfers')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_benefit_payouts_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_benefit_payouts')),
    sa.UniqueConstraint('transfer_id', name=op.f('uq_benefit_payouts_transfer_id'))
    )
    op.create_index('ix_benefit_payouts_programme_key', 'benefit_payouts', ['programme_id', 'line_key'], unique=True)
    op.create_index('ix_benefit_payouts_programme_wallet', 'benefit_payouts', ['programme_id', 'wallet_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_benefit_payouts_programme_wallet', table_name='benefit_payouts')
    op.drop_index('ix_benefit_payouts_programme_key', table_name='benefit_payouts')
    op.drop_table('benefit_payouts')
    op.drop_table('benefit_programmes')
