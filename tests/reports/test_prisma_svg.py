"""The diagram is well-formed SVG laid out like the PRISMA 2020 template, showing the
database's numbers; PNG comes from the same SVG when the ``plots`` extra is installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from services.db.models import Review
from services.reports.prisma import Flow, PrismaNumbers, Source, prisma_numbers
from services.reports.prisma_svg import render_png, render_svg
from services.runtime import Runtime
from tests.reports.helpers import box_ids, box_text, parse
from tests.reports.scenario import SLUG, add_second_sweep, build, runtime

__all__ = ["runtime"]


def diagram(runtime: Runtime) -> bytes:
    with runtime.sessions() as session:
        review = session.exec(select(Review).where(Review.slug == SLUG)).one()
        return render_svg(prisma_numbers(session=session, review=review, required=1))


def test_the_svg_shows_the_database_numbers_in_the_template_boxes(
    runtime: Runtime, tmp_path: Path
) -> None:
    build(runtime, tmp_path)
    root = parse(diagram(runtime))
    assert box_ids(root) == {
        "identified",
        "removed",
        "screened",
        "excluded",
        "assessed",
        "included",
    }
    assert box_text(root, "identified") == (
        "Records identified from (n = 9): PubMed (n = 5) extra.ris (n = 4)"
    )
    assert box_text(root, "removed") == (
        "Records removed before screening: Duplicate records removed (n = 2) "
        "Records withdrawn by PubMed (n = 1)"
    )
    assert box_text(root, "screened") == "Records screened (n = 4) Awaiting screening (n = 2)"
    assert box_text(root, "excluded") == (
        "Records excluded (n = 3) low_dose (n = 2) controlled (n = 1) no reason given (n = 1)"
    )
    assert box_text(root, "assessed") == "Reports assessed for eligibility (n = 1)"
    assert box_text(root, "included") == "Studies included in review (n = 1)"
    assert root.find("{http://www.w3.org/2000/svg}title").text.endswith("(prisma)")
    for phase in ("identification", "screening", "included"):
        assert root.find(f".//{{http://www.w3.org/2000/svg}}g[@id='phase-{phase}']") is not None


def test_an_updated_review_shows_previous_and_new_studies(runtime: Runtime, tmp_path: Path) -> None:
    review_id = build(runtime, tmp_path)
    add_second_sweep(runtime, review_id)
    root = parse(diagram(runtime))
    assert {"previous", "total"} <= box_ids(root)
    assert box_text(root, "previous") == "Studies included in previous version of review (n = 1)"
    assert box_text(root, "included") == "New studies included in review (n = 1)"
    assert box_text(root, "total") == "Total studies included in review (n = 2)"
    assert box_text(root, "identified") == "Records identified from (n = 2): PubMed (n = 2)"


def numbers(title: str = "Review", source: str = "PubMed") -> PrismaNumbers:
    flow = Flow(
        sources=(Source(source, "import", 1_234_567),), duplicates_removed=0, withdrawn=0,
        screened=0, awaiting=1_234_567, excluded=0, excluded_by_reason=(), reports_assessed=0,
        included=0,
    )  # fmt: skip
    return PrismaNumbers(review="r", title=title, flow=flow)


def test_names_from_users_are_escaped_and_long_ones_wrapped() -> None:
    hostile = 'a<b>&"c"</text><script>alert(1)</script>.ris'
    root = parse(render_svg(numbers(title="<x> & y", source=hostile)))
    assert hostile in box_text(root, "identified").replace(" ", "")  # as text, wrapped
    assert not root.findall(".//{http://www.w3.org/2000/svg}script")
    assert "(n = 1,234,567)" in box_text(root, "identified")
    long = "x" * 50 + ".ris"
    text = box_text(parse(render_svg(numbers(source=long))), "identified")
    assert text.count("x") == 50 and "x" * 41 not in text  # all there, cut to the box's width


def test_png_is_rendered_from_the_same_svg() -> None:
    pytest.importorskip("cairosvg", reason="PNG needs the plots extra")
    png = render_png(render_svg(numbers()))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
