"""The machine's evidence as a reviewer reads it: verdicts in words, quotes once, highlights.

Evidence arrives as ``start``/``end`` offsets per field in the stored screening JSON.
Spans may be whole sentences or short phrases, and they may nest or overlap (the dose
phrase inside the design sentence). The text is therefore cut at every span boundary,
and each piece carries the set of criteria covering it, so no criterion's evidence is
ever hidden behind another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

PALETTE = 8
# How many stacked underlines a piece of text can show before the rest go in its tooltip.
MAX_DEPTH = 4

VERDICT_WORDS = {
    "met": "meets this criterion",
    "not_met": "fails this criterion",
    "unclear": "unclear from the title and abstract",
}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    criterion: str


def colour_index(criteria: list[str], machine: dict[str, Any] | None) -> dict[str, int]:
    """One stable colour per criterion: protocol order first, then any others the machine used."""
    names = list(criteria)
    for name in (machine or {}).get("criteria") or {}:
        if name not in names:
            names.append(name)
    return {name: i % PALETTE for i, name in enumerate(names)}


def evidence_spans(machine: dict[str, Any] | None, field: str, text: str) -> list[Span]:
    """Evidence offsets for one field, checked against the text (a stale offset is re-found)."""
    spans: list[Span] = []
    for name, verdict in ((machine or {}).get("criteria") or {}).items():
        for ev in (verdict or {}).get("evidence") or []:
            if not isinstance(ev, dict) or ev.get("field") != field:
                continue
            start, end, quote = ev.get("start"), ev.get("end"), ev.get("text") or ""
            if not (isinstance(start, int) and isinstance(end, int) and text[start:end] == quote):
                start = text.find(quote) if quote else -1
                end = start + len(quote)
            if 0 <= start < end <= len(text):
                spans.append(Span(start, end, name))
    return spans


def pieces(text: str, spans: list[Span]) -> list[tuple[str, list[str]]]:
    """``text`` cut at every span boundary: (piece, criteria covering it, first-seen order)."""
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    out: list[tuple[str, list[str]]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        covering = [s.criterion for s in spans if s.start <= a and b <= s.end]
        out.append((text[a:b], list(dict.fromkeys(covering))))
    return out


def highlight(text: str, spans: list[Span], colours: dict[str, int]) -> Markup:
    """HTML of ``text`` with evidence marked; a piece covered by several criteria nests one
    ``<mark>`` per criterion (in colour order), each drawing its own underline one step
    lower, so every overlapping criterion stays visible. The outermost also tints the
    background."""
    if not text:
        return Markup("")
    parts: list[str] = []
    for piece, names in pieces(text, spans):
        html = str(escape(piece))
        if not names:
            parts.append(html)
            continue
        ordered = sorted(names, key=lambda n: colours.get(n, 0))
        title = escape(", ".join(ordered))
        for depth in range(min(len(ordered), MAX_DEPTH) - 1, -1, -1):
            name = ordered[depth]
            attrs = f' data-criteria="{title}" title="{title}"' if depth == 0 else ""
            html = (
                f'<mark class="ev c{colours.get(name, 0)} l{depth}" '
                f'data-criterion="{escape(name)}"{attrs}>{html}</mark>'
            )
        parts.append(html)
    return Markup("".join(parts))


def verdict_rows(machine: dict[str, Any] | None, colours: dict[str, int]) -> list[dict[str, Any]]:
    """Per criterion: its verdict in words, the classifier's reason, and each quote once."""
    rows = []
    for name, verdict in ((machine or {}).get("criteria") or {}).items():
        verdict = verdict if isinstance(verdict, dict) else {}
        quotes: list[str] = []
        for ev in verdict.get("evidence") or []:
            quote = " ".join(str((ev or {}).get("text") or "").split())
            if quote and quote.casefold() not in {q.casefold() for q in quotes}:
                quotes.append(quote)
        code = str(verdict.get("verdict") or "")
        rows.append(
            {
                "name": name,
                "colour": colours.get(name, 0),
                "verdict": code,
                "words": VERDICT_WORDS.get(code, code or "no verdict"),
                "confidence": verdict.get("confidence"),
                "reason": str(verdict.get("reason") or ""),
                "quotes": quotes,
            }
        )
    return rows
