"""review records newest first: an index for the default listing of a review's records

The records page, search without words and the exports' default order read a review's
records newest first. Without an index on (review_id, added_at, record_id) both databases
sorted every record of the review to show the first fifty (0.4 s on 100,000 in SQLite);
with it they walk the index and stop.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_review_records_newest", "review_records", ["review_id", "added_at", "record_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_review_records_newest", table_name="review_records")
