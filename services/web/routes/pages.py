"""Server-rendered pages for people: sign-in, dashboard, screening, conflicts, search.

Each page is the twin of an ``/api/v1`` route and uses the same functions; forms
work without JavaScript and carry the session's CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlmodel import Session

from services import reviewing
from services.db.reviewing import User
from services.pipeline import formats
from services.pipeline.formats import csv_writer
from services.pipeline.status import sweep_health
from services.runtime import Runtime
from services.web import duplicates, evidence, revision, screening, views
from services.web.accounts import end_sessions, user_for_token
from services.web.auth import (
    check_csrf,
    has_role,
    page_user,
    require_role,
    session_user,
    start_page_session,
)
from services.web.deps import ReviewContext, find_review, get_runtime, get_session, lease
from services.web.inputs import RecordId, clean_form_text
from services.web.routes.api import all_reviews
from services.web.templating import render, render_sign_in

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def page_review(
    slug: str,
    request: Request,
    user: User = Depends(page_user),
    session: Session = Depends(get_session),
) -> ReviewContext:
    """Sign-in is checked before the review is looked up, so strangers learn nothing."""
    return find_review(session=session, runtime=get_runtime(request), slug=slug)


def safe_next(target: str) -> str:
    """Only same-site paths, so the sign-in form cannot be used to bounce people elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    response = render_sign_in(request)
    return response


@router.post("/login")
def login(
    request: Request,
    token: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/"),
    session: Session = Depends(get_session),
) -> Response:
    check_csrf(request, csrf_token)
    user = user_for_token(session=session, token=token.strip())
    if user is None:
        return render_sign_in(request, status_code=401, error="That token is not valid.")
    start_page_session(request, user)
    return see_other(safe_next(next))


@router.post("/logout")
def logout(
    request: Request, csrf_token: str = Form(""), session: Session = Depends(get_session)
) -> Response:
    """Sign out: this and every other page session of the user end, a replayed cookie too."""
    check_csrf(request, csrf_token)
    user = session_user(request, session)
    if user is not None:
        end_sessions(user)
        session.add(user)
        session.commit()
    request.session.clear()
    return see_other("/login")


@router.get("/")
def index(
    request: Request,
    user: User = Depends(page_user),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    reviews = [
        (
            ctx,
            reviewing.counts(
                session=session,
                review_id=ctx.id,
                required=ctx.required,
                blinding=views.blinding_for(ctx, user),
            ),
        )
        for ctx in all_reviews(session, runtime)
    ]
    swept = {ctx.slug for ctx, _ in reviews}
    waiting = [p for slug, p in runtime.protocols.items() if slug not in swept]
    return render(request, "reviews.html", {"user": user, "reviews": reviews, "waiting": waiting})


@router.get("/reviews/{slug}")
def dashboard(
    request: Request,
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    counts = reviewing.counts(
        session=session,
        review_id=ctx.id,
        required=ctx.required,
        blinding=views.blinding_for(ctx, user),
    )
    return render(
        request,
        "review.html",
        {
            "user": user,
            "review": ctx,
            "counts": counts,
            "resolver": has_role(user, "resolver"),
            "admin": has_role(user, "admin"),
            "sweep_health": sweep_health(session=session, review_id=ctx.id),
            "team": screening.team_progress(session=session, ctx=ctx, viewer=user),
            **living_review(session, ctx, total=int(counts.get("identified") or 0)),
        },
    )


def living_review(session: Session, ctx: ReviewContext, *, total: int) -> dict[str, Any]:
    """The living loop's panel: each step's last run, deliveries, next sweep, the queue's
    model, the stopping rule's advice and the recall curve."""
    from services.db.models import utcnow
    from services.pipeline.loop_status import loop_status
    from services.reviewing.learned import screened_labels
    from services.web.curve import recall_curve

    loop = loop_status(
        session=session, review_id=ctx.id, slug=ctx.slug, protocol=ctx.protocol, now=utcnow()
    )
    labels = screened_labels(session=session, review_id=ctx.id, required=ctx.required)
    return {"loop": loop, "curve": recall_curve(labels, total)}


def screen_context(
    ctx: ReviewContext, user: User, payload: dict[str, Any], *, show_machine: bool = True
) -> dict[str, Any]:
    """What the screening, record and conflict views show of a record and its evidence."""
    machine = payload.get("machine") if show_machine else None
    colours = evidence.colour_index(ctx.criteria, machine)
    title = payload["title"] or ""
    abstract = payload["abstract"] or ""
    title_spans = evidence.evidence_spans(machine, "title", title)
    abstract_spans = evidence.evidence_spans(machine, "abstract", abstract)
    marked = {s.criterion for s in title_spans + abstract_spans}
    return {
        "user": user,
        "review": ctx,
        "record": payload,
        "machine": machine,
        "machine_hidden": not show_machine,
        "verdicts": evidence.verdict_rows(machine, colours),
        "colours": colours,
        "legend": [(n, c) for n, c in colours.items() if n in marked],
        "title_html": evidence.highlight(title, title_spans, colours),
        "abstract_html": evidence.highlight(abstract, abstract_spans, colours),
    }


def decided_by(payload: dict[str, Any], user: User) -> bool:
    """Whether ``user`` has a current decision among the payload's (visible) decisions; a
    maybe is none (a hidden suggestion stays hidden until the include or exclude)."""
    return any(
        d["current"] and d["reviewer"] == user.name and d["decision"] != "maybe"
        for d in payload.get("decisions", [])
    )


@router.get("/reviews/{slug}/screen")
def screen(
    request: Request,
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    """The caller's held record, or a newly claimed one; 'nothing left' when the queue is empty."""
    payload = screening.next_payload(
        session=session, runtime=runtime, ranked=request.app.state.ranked, ctx=ctx, user=user
    )
    session.commit()
    if payload is None:
        counts = reviewing.counts(
            session=session,
            review_id=ctx.id,
            required=ctx.required,
            blinding=views.blinding_for(ctx, user),
        )
        return render(request, "done.html", {"user": user, "review": ctx, "counts": counts})
    context = screen_context(
        ctx, user, payload, show_machine=views.shows_machine(ctx, user, decided=False)
    )
    context["counts"] = reviewing.counts(
        session=session,
        review_id=ctx.id,
        required=ctx.required,
        blinding=views.blinding_for(ctx, user),
    )
    record = screening.find_record(session=session, ctx=ctx, record_id=payload["id"])
    context["revision"] = revision.revision_view(
        session=session, ctx=ctx, viewer=user, record=record
    )
    context.update(
        duplicates.page_context(
            session=session,
            review_id=ctx.id,
            record_id=payload["id"],
            viewer=user,
            here=f"/reviews/{ctx.slug}/screen",
        )
    )
    return render(request, "screen.html", context)


@router.post("/reviews/{slug}/records/{record_id}/decide")
def decide(
    request: Request,
    record_id: RecordId,
    decision: str = Form(""),
    reasons: list[str] = Form(default_factory=list),
    note: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    """Decide a record: from the screening page, or from its record page (``next``) when a
    maybe is decided for good."""
    check_csrf(request, csrf_token)
    record = screening.find_record(session=session, ctx=ctx, record_id=record_id)
    assert user.id is not None
    reviewing.record_decision(
        session=session,
        review_id=ctx.id,
        record_id=record_id,
        user_id=user.id,
        decision=decision,
        reasons=reasons if decision == "exclude" else [],
        note=clean_form_text(note.strip(), "note"),
        criteria=ctx.criteria,
        required=ctx.required,
    )
    session.commit()
    verb = {"include": "Included", "exclude": "Excluded", "maybe": "Kept as maybe"}[decision]
    request.session["flash"] = f"{verb} PMID {record.pmid}. Press u to undo."
    return see_other(safe_next(next) if next else f"/reviews/{ctx.slug}/screen")


@router.post("/reviews/{slug}/records/{record_id}/skip")
def skip(
    request: Request,
    record_id: RecordId,
    csrf_token: str = Form(""),
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    check_csrf(request, csrf_token)
    record = screening.find_record(session=session, ctx=ctx, record_id=record_id)
    assert user.id is not None
    reviewing.skip(session=session, review_id=ctx.id, record_id=record_id, user_id=user.id)
    session.commit()
    request.session["flash"] = f"Skipped PMID {record.pmid}; it comes back at the end."
    return see_other(f"/reviews/{ctx.slug}/screen")


@router.post("/reviews/{slug}/undo")
def undo(
    request: Request,
    csrf_token: str = Form(""),
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Response:
    check_csrf(request, csrf_token)
    assert user.id is not None
    row = reviewing.undo_last(
        session=session, review_id=ctx.id, user_id=user.id, lease=lease(runtime)
    )
    session.commit()
    request.session["flash"] = "Decision withdrawn; decide again." if row else "Nothing to undo."
    return see_other(f"/reviews/{ctx.slug}/screen")


@router.get("/reviews/{slug}/conflicts")
def conflicts(
    request: Request,
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    require_role(user, "resolver")
    items = [
        screening.record_payload(session=session, ctx=ctx, record=r, viewer=user, history=False)
        for r in reviewing.conflicts(
            session=session, review_id=ctx.id, required=ctx.required, resolver_id=user.id
        )
    ]
    views_of = [screen_context(ctx, user, item) for item in items]
    return render(request, "conflicts.html", {"user": user, "review": ctx, "items": views_of})


@router.post("/reviews/{slug}/records/{record_id}/resolve")
def resolve(
    request: Request,
    record_id: RecordId,
    decision: str = Form(""),
    note: str = Form(""),
    csrf_token: str = Form(""),
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    check_csrf(request, csrf_token)
    require_role(user, "resolver")
    record = screening.find_record(session=session, ctx=ctx, record_id=record_id)
    assert user.id is not None
    reviewing.resolve(
        session=session,
        review_id=ctx.id,
        record_id=record_id,
        user_id=user.id,
        decision=decision,
        note=clean_form_text(note.strip(), "note"),
        required=ctx.required,
    )
    session.commit()
    request.session["flash"] = f"Resolved PMID {record.pmid}: {decision}."
    return see_other(f"/reviews/{ctx.slug}/conflicts")


@router.get("/reviews/{slug}/export.{fmt}")
def export_file(
    fmt: str,
    user: User = Depends(page_user),
    ctx: ReviewContext = Depends(page_review),
    session: Session = Depends(get_session),
) -> Response:
    """The dashboard's export: the API's file, signed in by the session cookie."""
    try:
        write, media_type, ext = formats.writer(fmt)
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    rows = list(screening.export_rows(session=session, ctx=ctx, viewer=user))
    chunks = csv_writer.write(rows, criteria=ctx.criteria) if fmt == "csv" else write(rows)
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{ctx.slug}.{ext}"'},
    )
