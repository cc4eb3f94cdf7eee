"""review members: per-review access, a user's role in one review

One row per (review slug, user) with the role granted there (reviewer or resolver). The
slug, not the review's row, is the key so access can be granted before the first sweep.
An empty table means every user works on every review, as before this revision.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_members",
        sa.Column("review_slug", sa.String(100), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
            nullable=False,
        ),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_members_user", "review_members", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_review_members_user", table_name="review_members")
    op.drop_table("review_members")
