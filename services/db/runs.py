"""Step runs: one row per run of a step of a review's pipeline, so every failure is visible.

The living loop is a chain of steps (sweep, screen, rank, alerts, deliver); each run
records its state, how many attempts it took, its last error and the sweep it
belongs to. ``livescreen status`` and the dashboard read the newest run of each step,
and the alerts step reads its own last success as a watermark (the sweeps it has
already raised alerts for).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from services.db.models import cascading_key, timestamp

STEPS = ("sweep", "registry", "screen", "rank", "alerts", "deliver")


class StepRun(SQLModel, table=True):
    __tablename__ = "step_runs"
    __table_args__ = (sa.Index("ix_step_runs_review_step", "review_id", "step", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    step: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    state: str = Field(sa_column=sa.Column(sa.String(10), nullable=False))
    sweep_id: int | None = Field(default=None)
    attempt: int = Field(default=1)
    detail: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    started_at: datetime = timestamp()
    finished_at: datetime | None = timestamp(nullable=True)


class RankingRun(SQLModel, table=True):
    """One retraining of a review's queue order: the model (as data), what it learned from,
    how long it took, and the stopping rule's verdict at that moment.

    ``model_version`` is what ``review_records.ranked_by``, claims and decisions carry, so
    an ordering is traced back to the run (and its spec) that produced it.
    """

    __tablename__ = "ranking_runs"
    __table_args__ = (sa.Index("ix_ranking_runs_review", "review_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = cascading_key("reviews")
    model_version: str = Field(sa_column=sa.Column(sa.String(24), nullable=False))
    learned: bool = Field(default=False)
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))
    records: int = Field(default=0)
    labelled: int = Field(default=0)
    includes: int = Field(default=0)
    reranked: int = Field(default=0)
    seconds: float = Field(default=0.0)
    estimated_recall: float | None = Field(default=None)
    recall_lower_bound: float | None = Field(default=None)
    can_stop: bool = Field(default=False)
    created_at: datetime = timestamp()
