"""conflict marks on review_records, session versions on users

Once a record's required decisions disagree it stays a conflict until a resolver
settles it, even if a reviewer later changes their vote: otherwise the second
reviewer of a blind review could flip their vote to match and settle the record
alone. ``conflict_at`` records the moment the disagreement first arose. Existing
disagreements are marked now.

``users.session_version`` is carried in every signed page session; bumping it on
sign-out, disable or a new token ends all of that user's sessions at once.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("review_records") as batch_op:
        batch_op.add_column(sa.Column("conflict_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        """
        UPDATE review_records SET conflict_at = CURRENT_TIMESTAMP
        WHERE (
            SELECT COUNT(DISTINCT d.decision) FROM decisions d
            WHERE d.review_id = review_records.review_id
              AND d.record_id = review_records.record_id
              AND d.is_current
        ) > 1
        AND NOT EXISTS (
            SELECT 1 FROM resolutions r
            WHERE r.review_id = review_records.review_id
              AND r.record_id = review_records.record_id
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("session_version")
    with op.batch_alter_table("review_records") as batch_op:
        batch_op.drop_column("conflict_at")
