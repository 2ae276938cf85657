"""Record what a cause owes back when a refund finds it already paid out

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('donations') as batch:
        batch.add_column(sa.Column('clawback_owed_yen', sa.BigInteger(), server_default='0',
                                   nullable=False))
        batch.create_check_constraint(
            op.f('ck_donations_clawback_bounds'),
            'clawback_owed_yen >= 0 AND reversed_yen + clawback_owed_yen <= booked_yen')


def downgrade() -> None:
    with op.batch_alter_table('donations') as batch:
        batch.drop_constraint(op.f('ck_donations_clawback_bounds'), type_='check')
        batch.drop_column('clawback_owed_yen')
