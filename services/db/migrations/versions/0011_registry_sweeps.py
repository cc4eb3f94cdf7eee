"""registry sweeps: ClinicalTrials.gov sweeps of a review, with their high-water mark

One row per sweep: counts, unreadable studies, error, and the newest LastUpdatePostDate
stored (``high_water``) under the query it was reached with (``query_hash``), so the next
sweep asks only for updated registrations.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = (
    "pages", "requests", "found", "new", "updated", "unchanged", "bad", "screened", "alerts",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "registry_sweeps",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "review_id",
            sa.Integer(),
            sa.ForeignKey("reviews.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("query_hash", sa.String(64), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("high_water", sa.Date(), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_registry_sweeps_review", "registry_sweeps", ["review_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_registry_sweeps_review", table_name="registry_sweeps")
    op.drop_table("registry_sweeps")
