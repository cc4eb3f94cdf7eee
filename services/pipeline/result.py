"""What a sweep reports: its state, its counts, the review's gaps, in one line for people."""

from __future__ import annotations

from dataclasses import dataclass, field

COUNTS = (
    "found",
    "fetched",
    "new",
    "updated",
    "unchanged",
    "deleted",
    "missing",
    "quarantined",
    "given_up",
    "recovered",
    "screened",
    "unscreened",
    "requests",
)


@dataclass
class SweepResult:
    sweep_id: int
    state: str
    counts: dict[str, int]
    error: str | None = None
    changed_ids: list[int] = field(default_factory=list)
    screen_error: str | None = None
    gaps: list[dict[str, object]] = field(default_factory=list)  # the review's, at the end

    def summary(self, slug: str) -> str:
        c = self.counts
        head = f"{slug}: sweep {self.sweep_id} {self.state}"
        body = (
            f"{c['found']} found, {c['fetched']} fetched, {c['new']} new, {c['updated']} updated, "
            f"{c['unchanged']} unchanged, {c['missing']} missing, {c['quarantined']} quarantined, "
            f"{c['given_up']} given up, {c['recovered']} recovered, {c['screened']} screened, "
            f"{c['unscreened']} unscreened, {c['requests']} requests"
        )
        text = f"{head}: {body}"
        if self.gaps:
            by_kind: dict[str, list[str]] = {}
            for gap in self.gaps:
                label = f"{gap['kind']}{' (given up)' if gap['state'] == 'given_up' else ''}"
                by_kind.setdefault(label, []).append(str(gap["pmid"]))
            listed = "; ".join(
                f"{kind} {', '.join(p[:10])}{', ...' if len(p) > 10 else ''}"
                for kind, p in by_kind.items()
            )
            text += f"; gaps: {listed} (livescreen status lists the reasons)"
        if self.screen_error:
            text += f"; screening: {self.screen_error}"
        return text + (f"; error: {self.error}" if self.error else "")
