"""Add offline certificates, issuer keys and sync results

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('issuer_keys',
    sa.Column('id', sa.String(length=8), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('private_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('verify_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuer_keys'))
    )
    op.create_table('offline_certificates',
    sa.Column('serial', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('issuer_key_id', sa.String(length=8), nullable=False),
    sa.Column('wallet_public_key', sa.String(length=64), nullable=False),
    sa.Column('allowance_yen', sa.BigInteger(), nullable=False),
    sa.Column('spent_yen', sa.BigInteger(), nullable=False),
    sa.Column('certificate', sa.String(length=256), nullable=False),
    sa.Column('valid_until', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('released_yen', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('spent_yen >= 0 AND spent_yen <= allowance_yen', name=op.f('ck_offline_certificates_reserve_bounds')),
    sa.ForeignKeyConstraint(['issuer_key_id'], ['issuer_keys.id'], name=op.f('fk_offline_certificates_issuer_key_id_issuer_keys')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_offline_certificates_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('serial', name=op.f('pk_offline_certificates')),
    sa.UniqueConstraint('wallet_id', 'idempotency_key', name=op.f('uq_offline_certificates_wallet_id'))
    )
    op.create_index(op.f('ix_offline_certificates_wallet_id'), 'offline_certificates', ['wallet_id'], unique=False)
    op.create_table('sync_results',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('terminal_id', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('message', sa.String(length=400), nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=True),
    sa.Column('refund_id', sa.String(length=40), nullable=True),
    sa.Column('business_day', sa.String(length=10), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_sync_results_terminal_id_terminals')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_sync_results')),
    sa.UniqueConstraint('terminal_id', 'entry_id', name=op.f('uq_sync_results_terminal_id'))
    )
    op.create_index('ix_sync_results_terminal_payment', 'sync_results', ['terminal_id', 'payment_id'], unique=False)
    op.create_table('offline_spends',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('serial', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('counter', sa.BigInteger(), nullable=False),
    sa.Column('terminal_id', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('amount_yen', sa.BigInteger(), nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=True),
    sa.Column('problem', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_offline_spends_payment_id_payments')),
    sa.ForeignKeyConstraint(['serial'], ['offline_certificates.serial'], name=op.f('fk_offline_spends_serial_offline_certificates')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_offline_spends_terminal_id_terminals')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_offline_spends_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_offline_spends')),
    sa.UniqueConstraint('terminal_id', 'entry_id', name=op.f('uq_offline_spends_terminal_id'))
    )
    op.create_index('ix_offline_spends_serial_counter', 'offline_spends', ['serial', 'counter'], unique=False)
    op.add_column('wallets', sa.Column('blocked_at', sa.DateTime(), nullable=True))
    op.add_column('wallets', sa.Column('blocked_reason', sa.String(length=200), nullable=True))


def downgrade() -> None:
    # SQLite cannot drop a column in place, so batch mode copies the table.
    with op.batch_alter_table('wallets') as batch:
        batch.drop_column('blocked_reason')
        batch.drop_column('blocked_at')
    op.drop_index('ix_offline_spends_serial_counter', table_name='offline_spends')
    op.drop_table('offline_spends')
    op.drop_index('ix_sync_results_terminal_payment', table_name='sync_results')
    op.drop_table('sync_results')
    op.drop_index(op.f('ix_offline_certificates_wallet_id'), table_name='offline_certificates')
    op.drop_table('offline_certificates')
    op.drop_table('issuer_keys')
