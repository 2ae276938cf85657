"""Add premium point sales, their lottery draws and applications

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('premium_sales',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('apply_from', sa.DateTime(), nullable=False),
    sa.Column('apply_until', sa.DateTime(), nullable=False),
    sa.Column('purchase_from', sa.DateTime(), nullable=False),
    sa.Column('purchase_until', sa.DateTime(), nullable=False),
    sa.Column('second_purchase_from', sa.DateTime(), nullable=True),
    sa.Column('second_purchase_until', sa.DateTime(), nullable=True),
    sa.Column('usage_until', sa.DateTime(), nullable=False),
    sa.Column('price_yen', sa.BigInteger(), nullable=False),
    sa.Column('local_yen', sa.BigInteger(), nullable=False),
    sa.Column('all_yen', sa.BigInteger(), nullable=False),
    sa.Column('total_sets', sa.Integer(), nullable=False),
    sa.Column('per_person_max_sets', sa.Integer(), nullable=False),
    sa.Column('household_max_people', sa.Integer(), nullable=False),
    sa.Column('household_max_sets', sa.Integer(), nullable=False),
    sa.Column('residents_only', sa.Boolean(), nullable=False),
    sa.Column('issuing_account_id', sa.String(length=40), nullable=False),
    sa.Column('revenue_account_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('price_yen > 0 AND local_yen >= 0 AND all_yen >= 0 AND local_yen + all_yen >= price_yen', name=op.f('ck_premium_sales_set_values')),
    sa.CheckConstraint('total_sets > 0 AND per_person_max_sets > 0 AND household_max_people > 0 AND household_max_sets > 0', name=op.f('ck_premium_sales_limits_positive')),
    sa.CheckConstraint('apply_from < apply_until AND apply_until <= purchase_from AND purchase_from < purchase_until AND purchase_until < usage_until', name=op.f('ck_premium_sales_periods_ordered')),
    sa.ForeignKeyConstraint(['issuing_account_id'], ['accounts.id'], name=op.f('fk_premium_sales_issuing_account_id_accounts')),
    sa.ForeignKeyConstraint(['revenue_account_id'], ['accounts.id'], name=op.f('fk_premium_sales_revenue_account_id_accounts')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_premium_sales')),
    sa.UniqueConstraint('id', name=op.f('uq_premium_sales_id'))
    )
    op.create_table('premium_draws',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('sale_id', sa.String(length=24), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('committed_at', sa.DateTime(), nullable=False),
    sa.Column('supply_sets', sa.Integer(), nullable=True),
    sa.Column('candidates', sa.JSON(), nullable=True),
    sa.Column('draw_order', sa.JSON(), nullable=True),
    sa.Column('winners', sa.JSON(), nullable=True),
    sa.Column('drawn_at', sa.DateTime(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('round IN (1, 2)', name=op.f('ck_premium_draws_round_known')),
    sa.ForeignKeyConstraint(['sale_id'], ['premium_sales.id'], name=op.f('fk_premium_draws_sale_id_premium_sales')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_premium_draws')),
    sa.UniqueConstraint('sale_id', 'round', name=op.f('uq_premium_draws_sale_id'))
    )
    op.create_table('premium_applications',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('sale_id', sa.String(length=24), nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('applicant_wallet_id', sa.String(length=40), nullable=False),
    sa.Column('household_id', sa.String(length=40), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('sets_requested', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('round_won', sa.Integer(), nullable=True),
    sa.Column('sets_won', sa.Integer(), nullable=False),
    sa.Column('draw_position', sa.Integer(), nullable=True),
    sa.Column('purchase_transfer_id', sa.String(length=160), nullable=True),
    sa.Column('paid_by_wallet_id', sa.String(length=40), nullable=True),
    sa.Column('purchased_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('sets_requested > 0 AND sets_won >= 0 AND sets_won <= sets_requested', name=op.f('ck_premium_applications_sets_bounds')),
    sa.ForeignKeyConstraint(['applicant_wallet_id'], ['wallets.id'], name=op.f('fk_premium_applications_applicant_wallet_id_wallets')),
    sa.ForeignKeyConstraint(['sale_id'], ['premium_sales.id'], name=op.f('fk_premium_applications_sale_id_premium_sales')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_premium_applications_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_premium_applications')),
    sa.UniqueConstraint('applicant_wallet_id', 'idempotency_key', name=op.f('uq_premium_applications_applicant_wallet_id')),
    sa.UniqueConstraint('id', name=op.f('uq_premium_applications_id'))
    )
    op.create_index('ix_premium_applications_sale_household', 'premium_applications', ['sale_id', 'household_id'], unique=False)
    op.create_index('uq_premium_applications_live', 'premium_applications', ['sale_id', 'wallet_id'], unique=True, sqlite_where=sa.text("status != 'cancelled'"), postgresql_where=sa.text("status != 'cancelled'"))


def downgrade() -> None:
    op.drop_index('uq_premium_applications_live', table_name='premium_applications', sqlite_where=sa.text("status != 'cancelled'"), postgresql_where=sa.text("status != 'cancelled'"))
    op.drop_index('ix_premium_applications_sale_household', table_name='premium_applications')
    op.drop_table('premium_applications')
    op.drop_table('premium_draws')
    op.drop_table('premium_sales')
