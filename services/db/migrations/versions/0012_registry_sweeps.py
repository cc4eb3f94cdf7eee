"""registry sweeps and registration links: ClinicalTrials.gov sweeps with their high-water
mark, and which records of a review cite a registration's NCT id

One row per sweep: counts, unreadable studies, error, and the newest LastUpdatePostDate
stored (``high_water``) under the query it was reached with (``query_hash``), so the next
sweep asks only for updated registrations. ``registration_links`` joins a registration
to each record of the same review that names its NCT id.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = (
    "pages", "requests", "found", "new", "updated", "unchanged", "bad", "screened", "alerts",
)  # fmt: skip


def _ref(name: str, table: str, primary_key: bool = True) -> sa.Column:
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "registry_sweeps",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("review_id", "reviews", primary_key=False),
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
    op.create_table(
        "registration_links",
        _ref("review_id", "reviews"),
        _ref("registration_id", "records"),
        _ref("record_id", "records"),
        sa.Column("nct_id", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_registration_links_record", "registration_links", ["review_id", "record_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_registration_links_record", table_name="registration_links")
    op.drop_table("registration_links")
    op.drop_index("ix_registry_sweeps_review", table_name="registry_sweeps")
    op.drop_table("registry_sweeps")
