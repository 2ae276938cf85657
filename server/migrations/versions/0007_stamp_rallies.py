"""Add stamp rallies, their booths, participants and stamps

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('rallies',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('goal_stamps', sa.Integer(), nullable=False),
    sa.Column('reward_kind', sa.String(length=16), nullable=False),
    sa.Column('reward_yen', sa.BigInteger(), nullable=False),
    sa.Column('reward_expires_at', sa.DateTime(), nullable=False),
    sa.Column('issuing_account_id', sa.String(length=40), nullable=False),
    sa.Column('reward_coupon_campaign_id', sa.String(length=24), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('goal_stamps >= 1', name=op.f('ck_rallies_goal_positive')),
    sa.CheckConstraint('reward_yen >= 0', name=op.f('ck_rallies_reward_not_negative')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_rallies_period_order')),
    sa.ForeignKeyConstraint(['issuing_account_id'], ['accounts.id'], name=op.f('fk_rallies_issuing_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rallies'))
    )
    op.create_table('rally_booths',
    sa.Column('rally_id', sa.String(length=32), nullable=False),
    sa.Column('terminal_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rally_id'], ['rallies.id'], name=op.f('fk_rally_booths_rally_id_rallies')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_rally_booths_terminal_id_terminals')),
    sa.PrimaryKeyConstraint('rally_id', 'terminal_id', name=op.f('pk_rally_booths'))
    )
    op.create_index('ix_rally_booths_terminal', 'rally_booths', ['terminal_id'], unique=False)
    op.create_table('rally_participants',
    sa.Column('rally_id', sa.String(length=32), nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('stamp_count', sa.Integer(), nullable=False),
    sa.Column('first_stamp_at', sa.DateTime(), nullable=False),
    sa.Column('goal_reached_at', sa.DateTime(), nullable=True),
    sa.Column('reward_transfer_id', sa.String(length=160), nullable=True),
    sa.ForeignKeyConstraint(['rally_id'], ['rallies.id'], name=op.f('fk_rally_participants_rally_id_rallies')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_rally_participants_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('rally_id', 'wallet_id', name=op.f('pk_rally_participants'))
    )
    op.create_table('rally_stamps',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('rally_id', sa.String(length=32), nullable=False),
    sa.Column('wallet_id', sa.String(length=40), nullable=False),
    sa.Column('terminal_id', sa.String(length=40), nullable=False),
    sa.Column('entry_id', sa.String(length=64), nullable=False),
    sa.Column('stamp_day', sa.Date(), nullable=False),
    sa.Column('stamp_number', sa.Integer(), nullable=False),
    sa.Column('captured_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['rally_id'], ['rallies.id'], name=op.f('fk_rally_stamps_rally_id_rallies')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminals.id'], name=op.f('fk_rally_stamps_terminal_id_terminals')),
    sa.ForeignKeyConstraint(['wallet_id'], ['wallets.id'], name=op.f('fk_rally_stamps_wallet_id_wallets')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_rally_stamps')),
    sa.UniqueConstraint('rally_id', 'wallet_id', 'terminal_id', 'stamp_day', name='uq_rally_stamps_one_per_booth_day'),
    sa.UniqueConstraint('terminal_id', 'entry_id', name='uq_rally_stamps_terminal_entry')
    )
    op.create_index('ix_rally_stamps_rally_day', 'rally_stamps', ['rally_id', 'stamp_day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_rally_stamps_rally_day', table_name='rally_stamps')
    op.drop_table('rally_stamps')
    op.drop_table('rally_participants')
    op.drop_index('ix_rally_booths_terminal', table_name='rally_booths')
    op.drop_table('rally_booths')
    op.drop_table('rallies')
