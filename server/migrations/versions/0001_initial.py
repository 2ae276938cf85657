"""Create the ledger, merchant, terminal, wallet and payment tables

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('owner_type', sa.String(length=16), nullable=False),
    sa.Column('is_issuing', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    op.create_table('merchants',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_ascii', sa.String(length=25), nullable=False),
    sa.Column('city_ascii', sa.String(length=15), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('invoice_registration_number', sa.String(length=14), nullable=False),
    sa.Column('merchant_category_code', sa.String(length=4), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_merchants_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchants')),
    sa.UniqueConstraint('account_id', name=op.f('uq_merchants_account_id'))
    )
    op.create_table('transfers',
    sa.Column('id', sa.String(length=160), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('source_account_id', sa.String(length=40), nullable=False),
    sa.Column('destination_account_id', sa.String(length=40), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('parameters', sa.String(length=400), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_yen > 0', name=op.f('ck_transfers_amount_positive')),
    sa.ForeignKeyConstraint(['destination_account_id'], ['accounts.id'], name=op.f('fk_transfers_destination_account_id_accounts')),
    sa.ForeignKeyConstraint(['source_account_id'], ['accounts.id'], name=op.f('fk_transfers_source_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers'))
    )
    op.create_table('wallets',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_wallets_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallets')),
    sa.UniqueConstraint('account_id', name=op.f('uq_wallets_account_id')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_wallets_token_hash'))
    )
    op.create_table('lots',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('transfer_id', sa.String(length=160), nullable=False),
    sa.Column('value_kind', sa.String(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('initial_yen', sa.BigInteger(), nullable=False),
    sa.Column('remaining_yen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('(initial_yen > 0 AND remaining_yen >= 0 AND remaining_yen <= initial_yen) OR (initial_yen < 0 AND remaining_yen = initial_yen)', name=op.f('ck_lots_remaining_within_initial')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_lots_account_id_accounts')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_lots_transfer_id_transfers')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_lots'))
    )
    op.create_index('ix_lots_account_kind', 'lots', ['account_id', 'value_kind'], unique=False)
    op.create_index(op.f('ix_lots_transfer_id'), 'lots', ['transfer_id'], unique=False)
    op.create_table('postings',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('transfer_id', sa.String(length=160), nullable=False),
    sa.Column('account_id', sa.String(length=40), nullable=False),
    sa.Column('value_kind', sa.String(length=16), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_postings_account_id_accounts')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_postings_transfer_id_transfers')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_postings'))
    )
    op.create_index(op.f('ix_postings_account_id'), 'postings', ['account_id'], unique=False)
    op.create_index(op.f('ix_postings_transfer_id'), 'postings', ['transfer_id'], unique=False)
    op.create_table('terminals',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=25), nullable=False),
    sa.Column('activation_code_hash', sa.String(length=64), nullable=False),
    sa.Column('activation_expires_at', sa.DateTime(), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=True),
    sa.Column('enrolled_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_terminals_merchant_id_merchants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_terminals')),
    sa.UniqueConstraint('activation_code_hash', name=op.f('uq_terminals_activation_code_hash'))
    )
    op.create_index(op.f('ix_terminals_merchant_id'), 'terminals', ['merchant_id'], unique=False)
    op.create_table('payments',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('terminal_id', sa.String(length=40), nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('transfer_id', sa.String(length=160), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('refunded_yen', sa.BigInteger(), nullable=False),
    sa.Column('tax_lines', sa.JSON(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('refunded_yen >= 0 AND refunded_yen <= amount_yen', name=op.f('ck_payments_refund_bounds')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_payments_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_payments_terminal_id_terminals')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_payments_transfer_id_transfers')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_payments_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_payments')),
    sa.UniqueConstraint('id', name=op.f('uq_payments_id')),
    sa.UniqueConstraint('transfer_id', name=op.f('uq_payments_transfer_id'))
    )
    op.create_index('ix_payments_merchant_created', 'payments', ['merchant_id', 'created_at'], unique=False)
    op.create_table('intents',
    sa.Column('id', sa.String(length=25), nullable=False),
    sa.Column('terminal_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('tax_lines', sa.JSON(), nullable=False),
    sa.Column('payload', sa.String(length=512), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchants.id'], name=op.f('fk_intents_merchant_id_merchants')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_intents_payment_id_payments')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_intents_terminal_id_terminals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intents')),
    sa.UniqueConstraint('terminal_id', 'idempotency_key', name=op.f('uq_intents_terminal_id'))
    )
    op.create_table('payment_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_codes_payment_id_payments')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_payment_codes_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_payment_codes'))
    )
    op.create_index(op.f('ix_payment_codes_wallet_id'), 'payment_codes', ['wallet_id'], unique=False)
    op.create_table('refunds',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=False),
    sa.Column('terminal_id', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('transfer_id', sa.String(length=160), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_refunds_payment_id_payments')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_refunds_terminal_id_terminals')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_refunds_transfer_id_transfers')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_refunds')),
    sa.UniqueConstraint('id', name=op.f('uq_refunds_id')),
    sa.UniqueConstraint('terminal_id', 'idempotency_key', name=op.f('uq_refunds_terminal_id')),
    sa.UniqueConstraint('transfer_id', name=op.f('uq_refunds_transfer_id'))
    )
    op.create_index(op.f('ix_refunds_payment_id'), 'refunds', ['payment_id'], unique=False)

    # The operator's issuance account: the negative side of every coin issued.
    accounts = sa.table(
        "accounts",
        sa.column("id", sa.String),
        sa.column("owner_type", sa.String),
        sa.column("is_issuing", sa.Boolean),
        sa.column("created_at", sa.DateTime),
    )
    op.bulk_insert(
        accounts,
        [{"id": "issuance", "owner_type": "issuance", "is_issuing": True, "created_at": datetime(2026, 1, 1)}],
    )


def downgrade() -> None:
    op.drop_index(op.f('ix_refunds_payment_id'), table_name='refunds')
    op.drop_table('refunds')
    op.drop_index(op.f('ix_payment_codes_wallet_id'), table_name='payment_codes')
    op.drop_table('payment_codes')
    op.drop_table('intents')
    op.drop_index('ix_payments_merchant_created', table_name='payments')
    op.drop_table('payments')
    op.drop_index(op.f('ix_terminals_merchant_id'), table_name='terminals')
    op.drop_table('terminals')
    op.drop_index(op.f('ix_postings_transfer_id'), table_name='postings')
    op.drop_index(op.f('ix_postings_account_id'), table_name='postings')
    op.drop_table('postings')
    op.drop_index(op.f('ix_lots_transfer_id'), table_name='lots')
    op.drop_index('ix_lots_account_kind', table_name='lots')
    op.drop_table('lots')
    op.drop_table('wallets')
    op.drop_table('transfers')
    op.drop_table('merchants')
    op.drop_table('accounts')
