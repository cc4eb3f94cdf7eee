"""The dashboard's recall curve as SVG geometry: includes found against records screened.

Drawn server-side as a polyline (no script, nothing inline for the CSP to refuse), with
the line a random order would follow for comparison and the stopping rule's advice.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 320.0, 160.0, 24.0
MAX_POINTS = 400  # enough for a smooth line; a long review is sampled, never truncated


@dataclass(frozen=True, slots=True)
class Curve:
    points: str  # polyline of includes found so far
    random: str  # what screening in random order would find on average
    screened: int
    found: int
    total: int
    width: float = WIDTH
    height: float = HEIGHT
    pad: float = PAD


def recall_curve(labels: list[int], total: int) -> Curve | None:
    """``labels`` in screening order; ``total`` records in the review. None before any."""
    if not labels or total <= 0:
        return None
    cumulative = [0]
    for y in labels:
        cumulative.append(cumulative[-1] + y)
    found = cumulative[-1]
    top = max(found, 1)
    step = max(1, len(cumulative) // MAX_POINTS)
    picked = list(range(0, len(cumulative), step))
    if picked[-1] != len(cumulative) - 1:
        picked.append(len(cumulative) - 1)

    def xy(screened: float, includes: float) -> str:
        x = PAD + (WIDTH - 2 * PAD) * screened / total
        y = HEIGHT - PAD - (HEIGHT - 2 * PAD) * includes / top
        return f"{x:.1f},{y:.1f}"

    points = " ".join(xy(i, cumulative[i]) for i in picked)
    # random order finds includes at the overall rate seen so far: found/screened per record
    rate = found / len(labels)
    random = f"{xy(0, 0)} {xy(len(labels), rate * len(labels))}"
    return Curve(points, random, len(labels), found, total)
