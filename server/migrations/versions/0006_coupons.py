"""Add coupon campaigns, their shops, coupons, uses, declines and prize draws

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('coupon_campaigns',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('title', sa.String(length=30), nullable=False),
    sa.Column('issuer_name', sa.String(length=100), nullable=False),
    sa.Column('issuer_merchant_id', sa.String(length=40), nullable=True),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('discount_kind', sa.String(length=8), nullable=False),
    sa.Column('discount_value', sa.BigInteger(), nullable=False),
    sa.Column('max_discount_yen', sa.BigInteger(), nullable=False),
    sa.Column('minimum_spend_yen', sa.BigInteger(), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('audience_resident', sa.Boolean(), nullable=True),
    sa.Column('audience_attributes', sa.JSON(), nullable=False),
    sa.Column('budget_yen', sa.BigInteger(), nullable=False),
    sa.Column('committed_yen', sa.BigInteger(), nullable=False),
    sa.Column('chain_group', sa.String(length=24), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_coupon_campaigns_account_id_accounts')),
    sa.ForeignKeyConstraint(['issuer_merchant_id'], ['merchants.id'], name=op.f('fk_coupon_campaigns_issuer_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupon_campaigns')),
    sa.UniqueConstraint('account_id', name=op.f('uq_coupon_campaigns_account_id'))
    )
    op.create_index(op.f('ix_coupon_campaigns_chain_group'), 'coupon_campaigns', ['chain_group'], unique=False)
    op.create_table('coupon_campaign_shops',
    sa.Column('campaign_id', sa.String(length=24), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['coupon_campaigns.id'], name=op.f('fk_coupon_campaign_shops_campaign_id_coupon_campaigns')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_coupon_campaign_shops_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('campaign_id', 'merchant_id', name=op.f('pk_coupon_campaign_shops'))
    )
    op.create_index(op.f('ix_coupon_campaign_shops_merchant_id'), 'coupon_campaign_shops', ['merchant_id'], unique=False)
    op.create_table('coupon_prize_draws',
    sa.Column('campaign_id', sa.String(length=24), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('committed_at', sa.DateTime(), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=True),
    sa.Column('winners', sa.JSON(), nullable=True),
    sa.Column('drawn_at', sa.DateTime(), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['coupon_campaigns.id'], name=op.f('fk_coupon_prize_draws_campaign_id_coupon_campaigns')),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_coupon_prize_draws'))
    )
    op.create_table('coupons',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('campaign_id', sa.String(length=24), nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_ids', sa.JSON(), nullable=False),
    sa.Column('reserved_yen', sa.BigInteger(), nullable=False),
    sa.Column('valid_from', sa.DateTime(), nullable=False),
    sa.Column('valid_until', sa.DateTime(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('issued_for', sa.String(length=8), nullable=False),
    sa.Column('chained_from', sa.String(length=24), nullable=True),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['coupon_campaigns.id'], name=op.f('fk_coupons_campaign_id_coupon_campaigns')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_coupons_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coupons')),
    sa.UniqueConstraint('chained_from', name=op.f('uq_coupons_chained_from'))
    )
    op.create_index(op.f('ix_coupons_campaign_id'), 'coupons', ['campaign_id'], unique=False)
    op.create_index('ix_coupons_campaign_wallet', 'coupons', ['campaign_id', 'wallet_id'], unique=False)
    op.create_index(op.f('ix_coupons_wallet_id'), 'coupons', ['wallet_id'], unique=False)
    op.create_table('coupon_declines',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=False),
    sa.Column('coupon_id', sa.String(length=24), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('terminal_id', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('total_yen', sa.BigInteger(), nullable=False),
    sa.Column('missing_yen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('message', sa.String(length=400), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_coupon_declines_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_coupon_declines_payment_id_payments')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_coupon_declines')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_coupon_declines_payment_id'))
    )
    op.create_index(op.f('ix_coupon_declines_merchant_id'), 'coupon_declines', ['merchant_id'], unique=False)
    op.create_table('coupon_prize_entries',
    sa.Column('coupon_id', sa.String(length=24), nullable=False),
    sa.Column('campaign_id', sa.String(length=24), nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['coupon_campaigns.id'], name=op.f('fk_coupon_prize_entries_campaign_id_coupon_campaigns')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_prize_entries_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_coupon_prize_entries_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('coupon_id', name=op.f('pk_coupon_prize_entries'))
    )
    op.create_index(op.f('ix_coupon_prize_entries_campaign_id'), 'coupon_prize_entries', ['campaign_id'], unique=False)
    op.create_table('coupon_uses',
    sa.Column('coupon_id', sa.String(length=24), nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=False),
    sa.Column('campaign_id', sa.String(length=24), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('total_yen', sa.BigInteger(), nullable=False),
    sa.Column('discount_yen', sa.BigInteger(), nullable=False),
    sa.Column('returned_yen', sa.BigInteger(), nullable=False),
    sa.Column('transfer_id', sa.String(length=160), nullable=False),
    sa.Column('offline', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['coupon_campaigns.id'], name=op.f('fk_coupon_uses_campaign_id_coupon_campaigns')),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupons.id'], name=op.f('fk_coupon_uses_coupon_id_coupons')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_coupon_uses_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_coupon_uses_payment_id_payments')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_coupon_uses_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('coupon_id', name=op.f('pk_coupon_uses')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_coupon_uses_payment_id'))
    )
    op.create_index(op.f('ix_coupon_uses_campaign_id'), 'coupon_uses', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_coupon_uses_merchant_id'), 'coupon_uses', ['merchant_id'], unique=False)
    op.create_table('coupon_intents',
    sa.Column('intent_id', sa.String(length=25), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('total_yen', sa.BigInteger(), nullable=False),
    sa.Column('discount_yen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['intent_id'], ['intents.id'], name=op.f('fk_coupon_intents_intent_id_intents')),
    sa.PrimaryKeyConstraint('intent_id', name=op.f('pk_coupon_intents'))
    )


def downgrade() -> None:
    op.drop_table('coupon_intents')
    op.drop_table('coupon_uses')
    op.drop_table('coupon_prize_entries')
    op.drop_table('coupon_declines')
    op.drop_table('coupons')
    op.drop_table('coupon_prize_draws')
    op.drop_table('coupon_campaign_shops')
    op.drop_table('coupon_campaigns')
