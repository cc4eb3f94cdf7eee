"""alert outbox: subscriptions, alerts and their deliveries; step runs of the pipeline

Alerts are written in the same transaction as the change that causes them, and
one delivery per alert and subscription is unique in the database, so each event
reaches each channel once whatever crashes or retries happen. ``step_runs`` keeps
one row per run of each pipeline step (state, attempt, error) so failures are visible.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
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
        "subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("review_id", "reviews"),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("max_records", sa.Integer(), nullable=False),
        sa.Column("send_empty", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("review_id", "reviews"),
        _ref("record_id", "records"),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("p_include", sa.Float(), nullable=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sweep_id", sa.Integer(), nullable=True),
        _ts("created_at"),
        sa.UniqueConstraint("review_id", "key", name="uq_alert_key"),
    )
    op.create_index("ix_alerts_review_created", "alerts", ["review_id", "created_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("alert_id", "alerts"),
        _ref("subscription_id", "subscriptions"),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _ts("first_attempt_at", nullable=True),
        _ts("next_attempt_at"),
        _ts("lease_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        _ts("delivered_at", nullable=True),
        _ts("created_at"),
        sa.UniqueConstraint("alert_id", "subscription_id", name="uq_delivery"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "step_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("review_id", "reviews"),
        sa.Column("step", sa.String(10), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("sweep_id", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
    )
    op.create_index("ix_step_runs_review_step", "step_runs", ["review_id", "step", "id"])


def downgrade() -> None:
    op.drop_index("ix_step_runs_review_step", table_name="step_runs")
    op.drop_table("step_runs")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_alerts_review_created", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("subscriptions")
