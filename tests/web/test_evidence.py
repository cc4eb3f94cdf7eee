"""Evidence on the screening page: every criterion visible where spans nest or overlap,
verdicts in words with their reasons, each quote once, and the protocol's blind option."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from services.protocols import ProtocolError, load_protocol
from services.web import evidence

TEXT = "Adults took 1 mg psilocybin or placebo in a randomised trial."


def ev(quote: str, field: str = "abstract") -> dict:
    start = TEXT.index(quote)
    return {"field": field, "start": start, "end": start + len(quote), "text": quote}


MACHINE = {
    "criteria": {
        # a whole sentence, and phrases nested in it and overlapping each other
        "controlled": {
            "verdict": "met",
            "confidence": 0.9,
            "reason": "placebo arm",
            "evidence": [ev(TEXT), ev("placebo"), ev("placebo")],
        },
        "low_dose": {
            "verdict": "met",
            "confidence": 0.8,
            "reason": "1 mg arm is below 5 mg",
            "evidence": [ev("1 mg psilocybin")],
        },
        "psilocybin": {"verdict": "unclear", "confidence": 0.4, "evidence": [ev("psilocybin")]},
    }
}


def test_pieces_carry_every_covering_criterion() -> None:
    spans = evidence.evidence_spans(MACHINE, "abstract", TEXT)
    cut = dict(evidence.pieces(TEXT, spans))
    assert set(cut["psilocybin"]) == {"controlled", "low_dose", "psilocybin"}
    assert set(cut["1 mg "]) == {"controlled", "low_dose"}
    assert set(cut["placebo"]) == {"controlled"}
    assert "".join(p for p, _ in evidence.pieces(TEXT, spans)) == TEXT


def test_highlight_nests_one_mark_per_criterion() -> None:
    colours = evidence.colour_index(["psilocybin", "low_dose", "controlled"], MACHINE)
    html = evidence.highlight(TEXT, evidence.evidence_spans(MACHINE, "abstract", TEXT), colours)
    doc = lxml.html.fragment_fromstring(str(html), create_parent="div")
    assert doc.text_content() == TEXT
    inner = [m for m in doc.iter("mark") if m.text_content() == "psilocybin"]
    assert {m.get("data-criterion") for m in inner} == {"psilocybin", "low_dose", "controlled"}
    assert sorted(m.get("class").split()[2] for m in inner) == ["l0", "l1", "l2"]  # stacked


def test_verdicts_in_words_with_reason_and_quotes_once() -> None:
    rows = {r["name"]: r for r in evidence.verdict_rows(MACHINE, {})}
    assert rows["controlled"]["words"] == "meets this criterion"
    assert rows["controlled"]["reason"] == "placebo arm"
    assert rows["controlled"]["quotes"] == [TEXT, "placebo"]
    assert rows["psilocybin"]["words"].startswith("unclear")


def test_stale_or_bad_offsets_never_break_the_page() -> None:
    machine = {
        "criteria": {
            "x": {
                "evidence": [
                    {"field": "abstract", "start": 500, "end": 9, "text": "nowhere"},
                    "junk",
                ]
            }
        }
    }
    assert evidence.evidence_spans(machine, "abstract", TEXT) == []


def test_hide_suggestions_is_validated_at_load(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('slug = "g"\ntitle = "G"\nquery = "q"\nhide_suggestions = true\n')
    assert load_protocol(good).hide_suggestions is True
    bad = tmp_path / "bad.toml"
    bad.write_text('slug = "b"\ntitle = "B"\nquery = "q"\nhide_suggestions = "yes"\n')
    with pytest.raises(ProtocolError, match="hide_suggestions"):
        load_protocol(bad)
