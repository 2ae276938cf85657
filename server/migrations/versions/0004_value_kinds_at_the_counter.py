"""Add lot restrictions and funding, local shops, wallet attributes and receipt balances

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('lots') as batch:
        batch.add_column(sa.Column('restriction', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('funding_account_id', sa.String(length=40), nullable=True))
    with op.batch_alter_table('merchants') as batch:
        batch.add_column(sa.Column('is_local', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
    with op.batch_alter_table('wallets') as batch:
        batch.add_column(sa.Column('is_resident', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column('household_id', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('attributes', sa.JSON(), nullable=False,
                                   server_default=sa.text("'{}'")))
        batch.add_column(sa.Column('show_balance_on_receipt', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('wallet_remaining', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('wallet_remaining')
    with op.batch_alter_table('wallets') as batch:
        batch.drop_column('show_balance_on_receipt')
        batch.drop_column('attributes')
        batch.drop_column('household_id')
        batch.drop_column('is_resident')
    with op.batch_alter_table('merchants') as batch:
        batch.drop_column('is_local')
    with op.batch_alter_table('lots') as batch:
        batch.drop_column('funding_account_id')
        batch.drop_column('restriction')
