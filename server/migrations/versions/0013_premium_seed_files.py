"""Keep premium lottery seeds out of the database until their round is drawn

premium-commit now writes the seeds to the operator's seed file and stores only their
commitments, so ``premium_draws.seed`` is empty until the draw stores it. Rows committed
before this migration keep their seed, and those rounds can still be drawn without a file.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode, because SQLite cannot alter a column's nullability in place; PostgreSQL
    # alters it directly.
    with op.batch_alter_table('premium_draws') as batch:
        batch.alter_column('seed', existing_type=sa.String(length=64), nullable=True)
        batch.create_check_constraint(op.f('ck_premium_draws_drawn_with_seed'),
                                      'drawn_at IS NULL OR seed IS NOT NULL')


def downgrade() -> None:
    secret = op.get_bind().scalar(sa.text(
        'SELECT COUNT(*) FROM premium_draws WHERE seed IS NULL'))
    if secret:
        raise RuntimeError(
            f'{secret} premium lottery rounds are committed but not drawn, and their seeds are'
            ' only in the operators\' seed files; the older schema requires the seed in the'
            ' database, so draw those rounds before downgrading')
    with op.batch_alter_table('premium_draws') as batch:
        batch.drop_constraint(op.f('ck_premium_draws_drawn_with_seed'), type_='check')
        batch.alter_column('seed', existing_type=sa.String(length=64), nullable=False)
