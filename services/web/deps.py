"""FastAPI dependencies: the one way routes get a session, the runtime, the caller, the review."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session, select

from services.db.models import Review
from services.protocols import Protocol
from services.runtime import Runtime
from services.web.inputs import Slug


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_session(request: Request) -> Iterator[Session]:
    """A session per request, committed by the route's own code and always closed."""
    session = get_runtime(request).sessions()
    try:
        yield session
    finally:
        session.close()


@dataclass(frozen=True)
class ReviewContext:
    """A review row with the protocol settings that govern its screening."""

    review: Review
    protocol: Protocol | None

    @property
    def id(self) -> int:
        assert self.review.id is not None
        return self.review.id

    @property
    def slug(self) -> str:
        return self.review.slug

    @property
    def title(self) -> str:
        return self.protocol.title if self.protocol else self.review.title

    @property
    def required(self) -> int:
        return self.protocol.required_decisions if self.protocol else 1

    @property
    def screening(self) -> str:
        return self.protocol.screening if self.protocol else "single"

    @property
    def blind(self) -> bool:
        return self.protocol.blind if self.protocol else True

    @property
    def hide_suggestions(self) -> bool:
        """The protocol forces the machine's suggestion out of sight until a human decided."""
        return self.protocol.hide_suggestions if self.protocol else False

    @property
    def criteria(self) -> list[str]:
        return [c.name for c in self.protocol.criteria] if self.protocol else []


def find_review(*, session: Session, runtime: Runtime, slug: str) -> ReviewContext:
    """The review named ``slug``; 404 when no sweep has created it yet."""
    review = session.exec(select(Review).where(Review.slug == slug)).first()
    if review is None:
        hint = (
            " (configured, but no sweep has stored records yet)"
            if slug in runtime.protocols
            else ""
        )
        raise HTTPException(404, f"unknown review {slug!r}{hint}")
    return ReviewContext(review, runtime.protocols.get(slug))


REVIEW_CACHE_SECONDS = 5.0


def get_review(
    slug: Slug,
    request: Request,
    session: Session = Depends(get_session),
) -> ReviewContext:
    return review_for(request=request, session=session, slug=slug)


def review_for(*, request: Request, session: Session, slug: str) -> ReviewContext:
    """The review, remembered for a few seconds: it is read on every screening request."""
    cache: dict[str, tuple[ReviewContext, float]] | None = getattr(
        request.app.state, "review_cache", None
    )
    hit = cache.get(slug) if cache is not None else None
    if hit is not None and time.monotonic() - hit[1] < REVIEW_CACHE_SECONDS:
        return hit[0]
    ctx = find_review(session=session, runtime=get_runtime(request), slug=slug)
    if cache is not None:
        cache[slug] = (ctx, time.monotonic())
    return ctx


def lease(runtime: Runtime) -> timedelta:
    return timedelta(minutes=runtime.settings.lease_minutes)
