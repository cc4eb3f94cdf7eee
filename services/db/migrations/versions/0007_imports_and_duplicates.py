"""imports and duplicates: import runs with their source and bad records; duplicate groups

Each imported record keeps its run and row (``import_records``). Duplicate groups keep
every member with its role, so nothing is deleted and a split is remembered.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _ref(name: str, table: str, primary_key: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey(f"{table}.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("review_id", "reviews"),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("read", "imported", "new", "updated", "unchanged", "duplicates", "bad")
        ),
        sa.Column("problems", sa.JSON(), nullable=False),
        _ts("created_at"),
        _ts("finished_at", nullable=True),
    )
    op.create_index("ix_import_runs_review_hash", "import_runs", ["review_id", "content_hash"])
    op.create_table(
        "import_records",
        _ref("import_id", "import_runs", primary_key=True),
        _ref("record_id", "records", primary_key=True),
        sa.Column("row", sa.String(40), nullable=False),
    )
    op.create_table(
        "duplicate_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        _ref("review_id", "reviews"),
        _ref("primary_record_id", "records"),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_table(
        "duplicate_members",
        _ref("group_id", "duplicate_groups", primary_key=True),
        _ref("record_id", "records", primary_key=True),
        _ref("review_id", "reviews"),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        _ts("created_at"),
    )
    op.create_index(
        "ix_duplicate_members_review_role",
        "duplicate_members",
        ["review_id", "role", "record_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_duplicate_members_review_role", table_name="duplicate_members")
    op.drop_table("duplicate_members")
    op.drop_table("duplicate_groups")
    op.drop_table("import_records")
    op.drop_index("ix_import_runs_review_hash", table_name="import_runs")
    op.drop_table("import_runs")
