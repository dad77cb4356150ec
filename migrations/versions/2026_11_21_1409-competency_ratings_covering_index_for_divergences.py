"""competency ratings covering index for divergences

Replaces the single-column index on competency_ratings.review_id with one on (review_id,
source, competency_id, level): the dashboard's divergence count (apprentice against tutor)
and the latest agreed levels read one source's levels of a review from the index alone. The
new index still starts with review_id, so it serves the foreign key as the old one did.

Revision ID: 1af58eb50a3b
Revises: 0b73e5256800
Create Date: 2026-11-21 14:09:37.674132
"""

from collections.abc import Sequence

from alembic import op

revision: str = "1af58eb50a3b"
down_revision: str | None = "0b73e5256800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("competency_ratings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_competency_ratings_review_source_levels",
            ["review_id", "source", "competency_id", "level"],
            unique=False,
        )
        batch_op.drop_index(batch_op.f("ix_competency_ratings_review_id"))


def downgrade() -> None:
    with op.batch_alter_table("competency_ratings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_competency_ratings_review_id"), ["review_id"], unique=False
        )
        batch_op.drop_index("ix_competency_ratings_review_source_levels")
