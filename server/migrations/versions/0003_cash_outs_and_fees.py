"""Add fee plans, merchant bank accounts, cash-outs, payout batches and merchant transfers

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('fee_plans',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('fixed_monthly_yen', sa.BigInteger(), nullable=False),
    sa.Column('monthly_cap_yen', sa.BigInteger(), nullable=True),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_fee_plans'))
    )
    op.create_table('merchant_fee_plans',
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('plan_name', sa.String(length=40), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_fee_plans_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['plan_name'], ['fee_plans.name'], name=op.f('fk_merchant_fee_plans_plan_name_fee_plans')),
    sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_merchant_fee_plans'))
    )
    op.create_table('merchant_bank_accounts',
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('bank_code', sa.String(length=4), nullable=False),
    sa.Column('branch_code', sa.String(length=3), nullable=False),
    sa.Column('account_type', sa.Integer(), nullable=False),
    sa.Column('account_number', sa.String(length=7), nullable=False),
    sa.Column('holder_name', sa.String(length=30), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_bank_accounts_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_merchant_bank_accounts'))
    )
    op.create_table('payout_batches',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('transfer_date', sa.Date(), nullable=False),
    sa.Column('sender_bank_code', sa.String(length=4), nullable=False),
    sa.Column('consignor_code', sa.String(length=10), nullable=False),
    sa.Column('file_name', sa.String(length=400), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('cash_out_count', sa.Integer(), nullable=False),
    sa.Column('total_yen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_payout_batches')),
    sa.UniqueConstraint('id', name=op.f('uq_payout_batches_id'))
    )
    op.create_table('cash_outs',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('terminal_id', sa.String(length=40), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('fee_yen', sa.BigInteger(), nullable=False),
    sa.Column('fixed_fee_yen', sa.BigInteger(), nullable=False),
    sa.Column('metered_fee_yen', sa.BigInteger(), nullable=False),
    sa.Column('net_yen', sa.BigInteger(), nullable=False),
    sa.Column('fee_plan', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payout_date', sa.Date(), nullable=False),
    sa.Column('bank_code', sa.String(length=4), nullable=False),
    sa.Column('branch_code', sa.String(length=3), nullable=False),
    sa.Column('account_type', sa.Integer(), nullable=False),
    sa.Column('account_number', sa.String(length=7), nullable=False),
    sa.Column('holder_name', sa.String(length=30), nullable=False),
    sa.Column('batch_id', sa.String(length=40), nullable=True),
    sa.Column('failure_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('in_file_at', sa.DateTime(), nullable=True),
    sa.Column('settled_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('net_yen > 0 AND fee_yen >= 0 AND amount_yen = fee_yen + net_yen', name=op.f('ck_cash_outs_amount_split')),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batches.id'], name=op.f('fk_cash_outs_batch_id_payout_batches')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_cash_outs_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_cash_outs_terminal_id_terminals')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_cash_outs')),
    sa.UniqueConstraint('id', name=op.f('uq_cash_outs_id')),
    sa.UniqueConstraint('merchant_id', 'idempotency_key', name=op.f('uq_cash_outs_merchant_id'))
    )
    op.create_index('ix_cash_outs_merchant_month', 'cash_outs', ['merchant_id', 'month'], unique=False)
    op.create_index('ix_cash_outs_status_payout_date', 'cash_outs', ['status', 'payout_date'], unique=False)
    op.create_table('merchant_transfers',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('recipient_merchant_id', sa.String(length=40), nullable=False),
    sa.Column('terminal_id', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('transfer_id', sa.String(length=160), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_merchant_transfers_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['recipient_merchant_id'], ['merchants.id'], name=op.f('fk_merchant_transfers_recipient_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_merchant_transfers_terminal_id_terminals')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_merchant_transfers_transfer_id_transfers')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_merchant_transfers')),
    sa.UniqueConstraint('id', name=op.f('uq_merchant_transfers_id')),
    sa.UniqueConstraint('merchant_id', 'idempotency_key', name=op.f('uq_merchant_transfers_merchant_id')),
    sa.UniqueConstraint('transfer_id', name=op.f('uq_merchant_transfers_transfer_id'))
    )
    op.create_index('ix_merchant_transfers_merchant_created', 'merchant_transfers', ['merchant_id', 'created_at'], unique=False)
    op.create_index('ix_merchant_transfers_recipient_created', 'merchant_transfers', ['recipient_merchant_id', 'created_at'], unique=False)

    # The operator's fee account and the clearing account of cash-outs on their way to banks.
    accounts = sa.table(
        "accounts",
        sa.column("id", sa.String),
        sa.column("owner_type", sa.String),
        sa.column("is_issuing", sa.Boolean),
        sa.column("created_at", sa.DateTime),
    )
    op.bulk_insert(accounts, [
        {"id": "fees", "owner_type": "fees", "is_issuing": False,
         "created_at": datetime(2026, 1, 1)},
        {"id": "payout-clearing", "owner_type": "payout_clearing", "is_issuing": False,
         "created_at": datetime(2026, 1, 1)},
    ])


def downgrade() -> None:
    op.execute("DELETE FROM accounts WHERE id IN ('fees', 'payout-clearing')")
    op.drop_index('ix_merchant_transfers_recipient_created', table_name='merchant_transfers')
    op.drop_index('ix_merchant_transfers_merchant_created', table_name='merchant_transfers')
    op.drop_table('merchant_transfers')
    op.drop_index('ix_cash_outs_status_payout_date', table_name='cash_outs')
    op.drop_index('ix_cash_outs_merchant_month', table_name='cash_outs')
    op.drop_table('cash_outs')
    op.drop_table('payout_batches')
    op.drop_table('merchant_bank_accounts')
    op.drop_table('merchant_fee_plans')
    op.drop_table('fee_plans')
