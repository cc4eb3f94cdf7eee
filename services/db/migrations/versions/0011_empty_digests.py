"""empty digests: a "nothing new" e-mail per sweep for subscriptions that ask for it

A sweep without alerts writes no deliveries, so "send even when nothing is new" gets
its own outbox rows: one per (subscription, sweep), unique, with a delivery's state,
lease and attempts.

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


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _ref(name: str, table: str) -> sa.Column:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "empty_digests",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("subscription_id", "subscriptions"),
        _ref("sweep_id", "sweeps"),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("first_attempt_at", nullable=True),
        _ts("next_attempt_at"),
        _ts("lease_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        _ts("delivered_at", nullable=True),
        _ts("created_at"),
        sa.UniqueConstraint("subscription_id", "sweep_id", name="uq_empty_digest"),
    )
    op.create_index("ix_empty_digests_due", "empty_digests", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_empty_digests_due", table_name="empty_digests")
    op.drop_table("empty_digests")
