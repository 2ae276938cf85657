"""Record the donation cause a cash-out pays out

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cash_outs') as batch:
        batch.add_column(sa.Column('cause_id', sa.String(length=40), nullable=True))
        batch.create_index(batch.f('ix_cash_outs_cause_id'), ['cause_id'], unique=False)
        batch.create_foreign_key(batch.f('fk_cash_outs_cause_id_donation_causes'),
                                 'donation_causes', ['cause_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('cash_outs') as batch:
        batch.drop_constraint(batch.f('fk_cash_outs_cause_id_donation_causes'),
                              type_='foreignkey')
        batch.drop_index(batch.f('ix_cash_outs_cause_id'))
        batch.drop_column('cause_id')
