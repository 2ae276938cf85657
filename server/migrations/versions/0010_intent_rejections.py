"""Record the latest rejected wallet pay call on an intent

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('intents') as batch:
        batch.add_column(sa.Column('last_rejection_code', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('last_rejection_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('intents') as batch:
        batch.drop_column('last_rejection_at')
        batch.drop_column('last_rejection_code')
