"""sweep gaps: per-review missing and quarantined PMIDs, screening outcome on sweeps

A PMID that esearch lists and no efetch returns (or whose XML never parses) becomes a
``record_gaps`` row that later sweeps retry up to a limit, so it is never silently
dropped; sweeps count what they gave up, recovered and screened, and keep the
screening step's error; a quarantined record's exact efetch bytes go to
``sweep_problems.raw``.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SWEEP_COUNTS = ("given_up", "recovered", "screened", "unscreened")


def upgrade() -> None:
    with op.batch_alter_table("sweeps") as batch_op:
        for name in SWEEP_COUNTS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("screen_error", sa.Text(), nullable=True))
    with op.batch_alter_table("sweep_problems") as batch_op:
        batch_op.add_column(sa.Column("raw", sa.LargeBinary(), nullable=True))
    op.create_table(
        "record_gaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("pmid", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_sweep_id", sa.Integer(), nullable=True),
        sa.Column("last_sweep_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["review_id"], ["reviews.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("review_id", "pmid", name="uq_record_gap"),
    )


def downgrade() -> None:
    op.drop_table("record_gaps")
    with op.batch_alter_table("sweep_problems") as batch_op:
        batch_op.drop_column("raw")
    with op.batch_alter_table("sweeps") as batch_op:
        batch_op.drop_column("screen_error")
        for name in reversed(SWEEP_COUNTS):
            batch_op.drop_column(name)
