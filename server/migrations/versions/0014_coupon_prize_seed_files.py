"""Keep coupon prize draw seeds out of the database until the draw

coupon-prize-commit now writes the seed to the operator's seed file and stores only its
commitment, so ``coupon_prize_draws.seed`` is empty until the draw stores it. Rows committed
before this migration keep their seed, and those draws can still be run without a file.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Batch mode, because SQLite cannot alter a column's nullability in place; PostgreSQL
    # alters it directly.
    with op.batch_alter_table('coupon_prize_draws') as batch:
        batch.alter_column('seed', existing_type=sa.String(length=64), nullable=True)
        batch.create_check_constraint(op.f('ck_coupon_prize_draws_drawn_with_seed'),
                                      'drawn_at IS NULL OR seed IS NOT NULL')


def downgrade() -> None:
    secret = op.get_bind().scalar(sa.text(
        'SELECT COUNT(*) FROM coupon_prize_draws WHERE seed IS NULL'))
    if secret:
        raise RuntimeError(
            f'{secret} coupon prize draws are committed but not drawn, and their seeds are'
            ' only in the operators\' seed files; the older schema requires the seed in the'
            ' database, so draw them before downgrading')
    with op.batch_alter_table('coupon_prize_draws') as batch:
        batch.drop_constraint(op.f('ck_coupon_prize_draws_drawn_with_seed'), type_='check')
        batch.alter_column('seed', existing_type=sa.String(length=64), nullable=False)
