"""Deduplication: what counts as the same record, and its precision and recall on a set of
known duplicates built from the shared datasets (floors: precision 0.99, recall 0.95)."""

from __future__ import annotations

from pathlib import Path

from classifiers.dedup import (
    Item,
    choose_primary,
    find_duplicates,
    first_author_surname,
    group,
    natural_key,
    normalise_doi,
    normalise_title,
)
from tests.imports.duplicate_set import build, precision_recall


def test_normalisation_of_doi_title_and_first_author() -> None:
    for doi in ("https://doi.org/10.1000/ABC.1", "doi: 10.1000/abc.1", "10.1000/abc.1 [doi]",
                "http://dx.doi.org/10.1000/Abc.1."):  # fmt: skip
        assert normalise_doi(doi) == "10.1000/abc.1"
    assert normalise_doi("not a doi") is None
    assert normalise_title("[Psilocybin: a Trial].") == normalise_title("psilocybin - A TRIAL")
    assert normalise_title("Über Psilocybin") == "uber psilocybin"
    for name in ("Smith, John", "Smith J", "Smith JA", "John Smith", "SMITH, J."):
        assert first_author_surname([name]) == "smith"


def test_natural_key_prefers_pmid_then_doi_then_bibliographic_digest() -> None:
    assert natural_key(pmid="123", doi="10.1/x", title="T", year=1, authors=[]) == "123"
    by_doi = natural_key(pmid="", doi="https://doi.org/10.1/X", title="A", year=None, authors=[])
    assert by_doi == natural_key(pmid=None, doi="10.1/x", title="B", year=2, authors=[])
    assert by_doi.startswith("doi:") and len(by_doi) == 20
    ref = natural_key(pmid=None, doi=None, title="A Title.", year=2020, authors=["Lee, A"])
    assert ref == natural_key(pmid=None, doi=None, title="a title", year=2020, authors=["Lee A"])
    assert ref.startswith("ref:") and len(ref) == 20


def test_exact_and_fuzzy_matches_and_what_never_matches() -> None:
    title = "Psilocybin microdosing and mood in healthy adults: a randomised trial"
    items = [
        Item(1, pmid="111", title=title, year=2021, authors=("Lee, Ann",), has_abstract=True),
        Item(2, doi="10.1/A", title=title.upper(), year=2021, authors=("Lee A",)),
        Item(3, doi="https://doi.org/10.1/a", title="Other", year=2021),  # same DOI as 2
        Item(4, title=title.replace("mood", "mod"), year=2022, authors=("Ann Lee",)),
        Item(5, title="Erratum: " + title, year=2021, authors=("Lee, Ann",)),  # a notice
        Item(6, title=title, year=2015, authors=("Lee, Ann",)),  # years apart
        Item(7, pmid="222", title=title, year=2021, authors=("Lee, Ann",)),  # another PMID
        Item(8, title=title.replace("Psilocybin", "Ketamine"), year=2021, authors=("Lee, A",)),
    ]
    matches = find_duplicates(items)
    groups = group(matches, {i.id: i for i in items})
    assert {2, 3} <= next(g for g in groups if 2 in g)
    assert any({1, 2, 4} <= g for g in groups)
    assert all(not {5, 6, 8} & g for g in groups)
    assert not any({1, 7} <= g for g in groups)
    assert choose_primary(i for i in items if i.id in (2, 1, 4)) == 1  # PMID and abstract


def test_precision_and_recall_on_the_duplicate_set(shared_data: Path) -> None:
    items, truth = build(shared_data, originals=20000, duplicated=2000)
    groups = group(find_duplicates(items), {i.id: i for i in items})
    precision, recall, predicted, true = precision_recall(groups, truth)
    print(f"dedup: precision {precision:.4f} recall {recall:.4f} ({predicted} pairs, {true} true)")
    assert true == 2000
    assert precision >= 0.99
    assert recall >= 0.95
