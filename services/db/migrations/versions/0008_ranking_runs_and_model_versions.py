"""learned ranking: ranking runs, and the model version on queue rows, claims and decisions

Each retraining of a review's queue order leaves a ``ranking_runs`` row (the model spec
as data, the labels it learned from, its time and the stopping rule's verdict); the
version of the model that set a record's priority is kept on ``review_records`` and
copied onto each claim and decision, so every ordering can be traced to its model.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ranking_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "review_id",
            sa.Integer(),
            sa.ForeignKey("reviews.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("model_version", sa.String(24), nullable=False),
        sa.Column("learned", sa.Boolean(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("labelled", sa.Integer(), nullable=False),
        sa.Column("includes", sa.Integer(), nullable=False),
        sa.Column("reranked", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("estimated_recall", sa.Float(), nullable=True),
        sa.Column("recall_lower_bound", sa.Float(), nullable=True),
        sa.Column("can_stop", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ranking_runs_review", "ranking_runs", ["review_id", "id"])
    for table in ("review_records", "claims", "decisions"):
        column = "ranked_by" if table == "review_records" else "model_version"
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column(column, sa.String(24), nullable=True))


def downgrade() -> None:
    for table in ("review_records", "claims", "decisions"):
        column = "ranked_by" if table == "review_records" else "model_version"
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
    op.drop_index("ix_ranking_runs_review", table_name="ranking_runs")
    op.drop_table("ranking_runs")
