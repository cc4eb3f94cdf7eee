"""The PRISMA 2020 flow diagram as a standalone SVG (and PNG when ``cairosvg`` is installed).

The layout follows the PRISMA 2020 template: phase bars on the left (identification,
screening, included), the main column of boxes joined by arrows, and side boxes for the
records removed before screening and the records excluded. An updated review gets the
template's extra column: the studies included in the previous version, which join the
new ones in the total. The SVG is self-contained (no fonts, images or styles fetched:
a generic font family), so it renders the same in a browser, a report or a converter.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from lxml import etree

from services.reports.prisma import Flow, PrismaNumbers

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "sans-serif"
FONT_SIZE = 13
LINE = 17  # line height, px
PAD = 10  # inside a box
CHARS = 40  # characters per line of a main or side box
GAP = 36  # between rows
MARGIN = 20
BAR_W = 30  # phase bar
MAIN_W = 300
SIDE_W = 300
PREV_W = 220
BOX_STYLE = {"fill": "#ffffff", "stroke": "#1f2937", "stroke-width": "1.2"}
BAR_STYLE = {"fill": "#c7dcef", "stroke": "#5b7fa6", "stroke-width": "1"}
HEAD_STYLE = {"fill": "#f4c542", "stroke": "#a07d12", "stroke-width": "1"}


class PngUnavailable(RuntimeError):
    """PNG output needs the optional ``plots`` extra; the message says how to get it."""


def n(value: int) -> str:
    """``(n = 1,234)`` with no-break spaces, so a line is never wrapped inside it."""
    return f"(n\u00a0=\u00a0{value:,})"


def phase_height(label: str) -> float:
    """The height a phase bar needs for its label written upwards (bold, about 8.5 px a letter)."""
    return 8.5 * len(label) + 24


@dataclass
class Box:
    """A box of wrapped text; ``key`` becomes its group's id, for readers and tests."""

    key: str
    lines: list[str]
    x: float = 0.0
    y: float = 0.0
    w: float = MAIN_W

    @property
    def h(self) -> float:
        return 2 * PAD + LINE * len(self.lines)


def wrap(*paragraphs: str, width: int = CHARS) -> list[str]:
    """Each paragraph wrapped to ``width``; continuation lines indented under their first."""
    out: list[str] = []
    for text in paragraphs:
        indent = "   " if text.startswith("   ") else ""
        out.extend(textwrap.wrap(text, width=width, subsequent_indent=indent + "  ") or [""])
    return out


def flow_boxes(flow: Flow, *, updated: bool) -> dict[str, Box]:
    """The boxes of one pass through the flow, with their text and no position yet."""
    included = "New studies" if updated else "Studies"
    identified = [f"Records identified from {n(flow.identified)}:"]
    identified += [f"   {s.name} {n(s.records)}" for s in flow.sources]
    removed = [
        "Records removed before screening:",
        f"   Duplicate records removed {n(flow.duplicates_removed)}",
        f"   Records withdrawn by PubMed {n(flow.withdrawn)}",
    ]
    excluded = [f"Records excluded {n(flow.excluded)}"]
    excluded += [f"   {reason} {n(count)}" for reason, count in flow.excluded_by_reason]
    return {
        "identified": Box("identified", wrap(*identified)),
        "removed": Box("removed", wrap(*removed), w=SIDE_W),
        "screened": Box(
            "screened",
            wrap(f"Records screened {n(flow.screened)}", f"Awaiting screening {n(flow.awaiting)}"),
        ),
        "excluded": Box("excluded", wrap(*excluded), w=SIDE_W),
        "assessed": Box(
            "assessed", wrap(f"Reports assessed for eligibility {n(flow.reports_assessed)}")
        ),
        "included": Box("included", wrap(f"{included} included in review {n(flow.included)}")),
    }


def render_svg(numbers: PrismaNumbers) -> bytes:
    """The diagram as UTF-8 SVG bytes, laid out for a new or an updated review."""
    updated = numbers.updated
    boxes = flow_boxes(numbers.flow, updated=updated)
    prev_x = MARGIN + BAR_W + 12
    main_x = prev_x + (PREV_W + 30 if updated else 0)
    side_x = main_x + MAIN_W + 50
    width = side_x + SIDE_W + MARGIN
    for key in ("identified", "screened", "assessed", "included"):
        boxes[key].x = main_x
    for key in ("removed", "excluded"):
        boxes[key].x = side_x
    head_y, head_h = MARGIN, 40
    y = head_y + head_h + GAP / 2
    rows = [("identified", "removed"), ("screened", "excluded"), ("assessed", None)]
    rows.append(("included", None))
    if updated:
        boxes["total"] = Box(
            "total", wrap(f"Total studies included in review {n(numbers.total_included)}")
        )
        boxes["total"].x = main_x
        boxes["previous"] = Box(
            "previous",
            wrap(
                "Studies included in previous version of review "
                + n(numbers.previous_included or 0),
                width=28,
            ),
            x=prev_x,
            w=PREV_W,
        )
        rows.append(("total", None))
    row_top: list[float] = []
    least = {0: phase_height("Identification")}  # single-row phases must fit their label
    if len(rows) == 4:
        least[3] = phase_height("Included")
    for i, (main, side) in enumerate(rows):
        row_h = max(boxes[main].h, boxes[side].h if side else 0, least.get(i, 0))
        row_top.append(y)
        boxes[main].y = y + (row_h - boxes[main].h) / 2
        if side:
            boxes[side].y = y + (row_h - boxes[side].h) / 2
        y += row_h + GAP
    if updated:
        boxes["previous"].y = boxes["identified"].y
    height = y - GAP + MARGIN

    svg = etree.Element(
        f"{{{SVG_NS}}}svg",
        nsmap={None: SVG_NS},  # type: ignore[dict-item]
        width=f"{width:g}",
        height=f"{height:g}",
        viewBox=f"0 0 {width:g} {height:g}",
        role="img",
        attrib={"font-family": FONT, "font-size": str(FONT_SIZE)},
    )
    title = _sub(svg, "title")
    title.text = f"PRISMA 2020 flow diagram: {numbers.title} ({numbers.review})"
    _arrowhead(svg)
    _sub(svg, "rect", x="0", y="0", width=f"{width:g}", height=f"{height:g}", fill="#ffffff")
    heading = (
        "Identification of new studies via databases, registers and imported files"
        if updated
        else "Identification of studies via databases, registers and imported files"
    )
    _banner(svg, "heading", main_x, head_y, side_x + SIDE_W - main_x, head_h, heading)
    if updated:
        _banner(svg, "previous-heading", prev_x, head_y, PREV_W, head_h, "Previous studies")
    row_bottom = [top - GAP for top in row_top[1:]] + [height - MARGIN]
    phases = [("Identification", 0, 0), ("Screening", 1, 2), ("Included", 3, len(rows) - 1)]
    for label, first, last in phases:
        _phase(svg, label, MARGIN, row_top[first], row_bottom[last] - row_top[first])
    for box in boxes.values():
        _box(svg, box)
    for (upper, _), (lower, _) in zip(rows, rows[1:], strict=False):
        a, b = boxes[upper], boxes[lower]
        _arrow(svg, [(a.x + a.w / 2, a.y + a.h), (b.x + b.w / 2, b.y)])
    for main, side in rows:
        if side:
            a, b = boxes[main], boxes[side]
            _arrow(svg, [(a.x + a.w, a.y + a.h / 2), (b.x, b.y + b.h / 2)])
    if updated:
        p, t = boxes["previous"], boxes["total"]
        _arrow(
            svg, [(p.x + p.w / 2, p.y + p.h), (p.x + p.w / 2, t.y + t.h / 2), (t.x, t.y + t.h / 2)]
        )
    return etree.tostring(svg, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _sub(
    parent: etree._Element, tag: str, attrib: dict[str, str] | None = None, **extra: str
) -> etree._Element:
    """A child in the SVG namespace (an unqualified one would serialise with ``xmlns=""``)."""
    return etree.SubElement(parent, f"{{{SVG_NS}}}{tag}", attrib={**(attrib or {}), **extra})


def _arrowhead(svg: etree._Element) -> None:
    defs = _sub(svg, "defs")
    marker = _sub(
        defs, "marker", id="arrow", viewBox="0 0 10 10", refX="9", refY="5",
        markerWidth="8", markerHeight="8", orient="auto-start-reverse",
    )  # fmt: skip
    _sub(marker, "path", d="M 0 0 L 10 5 L 0 10 z", fill="#1f2937")


def _text(parent: etree._Element, x: float, y: float, lines: list[str], **attrib: str) -> None:
    text = _sub(parent, "text", x=f"{x:g}", y=f"{y:g}", attrib=attrib)
    for i, line in enumerate(lines):
        span = _sub(text, "tspan", x=f"{x:g}", dy="0" if i == 0 else str(LINE))
        span.text = line
        if line.startswith("   "):
            span.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


def _box(svg: etree._Element, box: Box) -> None:
    group = _sub(svg, "g", id=box.key, attrib={"class": "box"})
    _sub(
        group, "rect", x=f"{box.x:g}", y=f"{box.y:g}", width=f"{box.w:g}", height=f"{box.h:g}",
        rx="3", attrib=BOX_STYLE,
    )  # fmt: skip
    _text(group, box.x + PAD, box.y + PAD + FONT_SIZE, box.lines)


def _banner(
    svg: etree._Element, key: str, x: float, y: float, w: float, h: float, label: str
) -> None:
    group = _sub(svg, "g", id=key)
    _sub(
        group,
        "rect",
        x=f"{x:g}",
        y=f"{y:g}",
        width=f"{w:g}",
        height=f"{h:g}",
        rx="8",
        attrib=HEAD_STYLE,
    )
    _text(
        group,
        x + w / 2,
        y + h / 2 + FONT_SIZE / 3,
        [label],
        **{"text-anchor": "middle", "font-weight": "bold"},
    )


def _phase(svg: etree._Element, label: str, x: float, y: float, h: float) -> None:
    group = _sub(svg, "g", id=f"phase-{label.lower()}")
    _sub(
        group,
        "rect",
        x=f"{x:g}",
        y=f"{y:g}",
        width=str(BAR_W),
        height=f"{h:g}",
        rx="8",
        attrib=BAR_STYLE,
    )
    cx, cy = x + BAR_W / 2 + FONT_SIZE / 3, y + h / 2
    _text(
        group,
        cx,
        cy,
        [label],
        transform=f"rotate(-90 {cx:g} {cy:g})",
        **{"text-anchor": "middle", "font-weight": "bold"},
    )


def _arrow(svg: etree._Element, points: list[tuple[float, float]]) -> None:
    _sub(
        svg, "polyline", points=" ".join(f"{x:g},{y:g}" for x, y in points), fill="none",
        stroke="#1f2937", attrib={"stroke-width": "1.4", "marker-end": "url(#arrow)"},
    )  # fmt: skip


def render_png(svg: bytes, *, scale: float = 2.0) -> bytes:
    """The SVG rasterised by cairosvg (the ``plots`` extra); a clear error when it is missing."""
    try:
        import cairosvg
    except (ImportError, OSError) as exc:  # OSError: the package is there but libcairo is not
        raise PngUnavailable(
            "PNG output needs cairosvg and the cairo library: pip install 'livescreen[plots]' "
            f"(or write .svg) ({exc.__class__.__name__})"
        ) from None
    return bytes(cairosvg.svg2png(bytestring=svg, scale=scale))
