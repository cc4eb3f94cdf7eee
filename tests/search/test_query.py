"""The parser reads what reviewers type, and says plainly what it cannot read."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.search.fulltext import fts5_expression, tsquery_expression
from services.search.query import Identifier, Query, QueryError, Text, Year, parse


def test_words_phrases_prefixes_and_fields() -> None:
    q = parse('mood psilocyb* "low dose" author:smith journal:"J Psychedelic" title:lsd')
    assert q.terms == (
        Text(("mood",)),
        Text(("psilocyb",), prefix=True),
        Text(("low", "dose")),
        Text(("smith",), column="authors"),
        Text(("j", "psychedelic"), column="journal"),
        Text(("lsd",), column="title"),
    )


def test_punctuation_splits_words_as_the_indexes_do() -> None:
    assert parse("5-HT2A").terms == (Text(("5", "ht2a")),)
    assert parse("placebo-controlled").terms == (Text(("placebo", "controlled")),)
    assert parse("( & )").terms == ()


@pytest.mark.parametrize(
    ("raw", "year"),
    [
        ("year:2019..2023", Year(2019, 2023)),
        ("year:2020", Year(2020, 2020)),
        ("year:>=2020", Year(2020, None)),
        ("year:>2020", Year(2021, None)),
        ("year:<2020", Year(None, 2019)),
        ("year:..2010", Year(None, 2010)),
        ("year:2010..", Year(2010, None)),
    ],
)
def test_year_forms(raw: str, year: Year) -> None:
    assert parse(raw).terms == (year,)


def test_identifiers_typed_or_pasted() -> None:
    assert parse("pmid:123").terms == (Identifier("pmid", "123"),)
    assert parse("doi:10.1000/ABC").terms == (Identifier("doi", "10.1000/abc"),)
    assert parse("nct:nct01234567").terms == (Identifier("nct", "NCT01234567"),)
    assert parse("10.1000/ABC").terms == (Identifier("doi", "10.1000/abc"),)
    assert parse("NCT01234567").terms == (Identifier("nct", "NCT01234567"),)
    assert parse("  31415926 ").terms == (Identifier("pmid", "31415926"),)
    assert parse("25 mg").terms == (Text(("25",)), Text(("mg",)))


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ('"low dose', "quote is not closed"),
        ('low"dose', "quote must start a phrase"),
        ("year:20x0", "not a year"),
        ("year:2023..2019", "runs backwards"),
        ("pmid:abc", "digits only"),
        ("nct:123", "NCT and eight digits"),
        ("doi:abc", "starts with 10."),
        ("colour:red", "Unknown field 'colour'"),
        ("author:", "needs a value"),
        ("psi*lo", "only end a word"),
        ("p*", "at least two letters"),
        ('""', "no letters or digits"),
        (" ".join(["w"] * 21), "at most 20 terms"),
    ],
)
def test_malformed_queries_say_what_to_change(raw: str, says: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(raw)
    assert says in str(caught.value)


def test_database_expressions() -> None:
    texts = parse('"low dose" psilocyb* author:smith abstract:mesh').texts
    assert fts5_expression(texts) == (
        '"low dose" AND "psilocyb"* AND authors : "smith" AND {abstract mesh keywords} : "mesh"'
    )
    assert tsquery_expression(texts) == "(low <-> dose) & (psilocyb:*) & (smith:C) & (mesh:B)"


@given(st.text(max_size=80))
def test_any_input_parses_or_fails_with_a_query_error(raw: str) -> None:
    try:
        query = parse(raw)
    except QueryError as exc:
        assert str(exc)
        return
    assert isinstance(query, Query)
    for text in query.texts:  # what reaches the databases is letters and digits only
        assert all(token.isalnum() for token in text.tokens)
        assert fts5_expression((text,)).count('"') == 2  # one quoted phrase, nothing loose


@given(st.lists(st.from_regex(r"[a-z]{2,8}", fullmatch=True), min_size=1, max_size=6))
def test_words_in_any_order_are_the_same_terms(words: list[str]) -> None:
    forward = set(parse(" ".join(words)).terms)
    assert forward == set(parse(" ".join(reversed(words))).terms)
