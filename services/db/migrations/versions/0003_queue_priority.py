"""queue priority on review_records

The reviewer queue orders by machine p_include; keeping the current value on the
membership row lets PostgreSQL and SQLite walk one index instead of joining and
sorting every record of the review on each ranking (all columns descending in the
query, so both databases scan this ascending index backwards).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("review_records") as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Float(), nullable=False, server_default="-1"))
    op.create_index(
        "ix_review_records_queue_order",
        "review_records",
        [
            "review_id",
            "priority",
            "added_at",
            "record_id",
        ],
    )
    # Existing screenings: copy the newest p_include of each record under its review's
    # current protocol version.
    op.execute(
        """
        UPDATE review_records SET priority = COALESCE((
            SELECT s.p_include FROM screenings s
            JOIN reviews r ON r.id = s.review_id
            JOIN records rec ON rec.id = s.record_id
            WHERE s.review_id = review_records.review_id
              AND s.record_id = review_records.record_id
              AND s.protocol_version = r.protocol_version
              AND s.content_hash = rec.content_hash
            ORDER BY s.id DESC LIMIT 1
        ), -1)
        """
    )


def downgrade() -> None:
    op.drop_index("ix_review_records_queue_order", table_name="review_records")
    with op.batch_alter_table("review_records") as batch_op:
        batch_op.drop_column("priority")
