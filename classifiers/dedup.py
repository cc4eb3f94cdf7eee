"""Finding records that report the same study: exact identifiers, then fuzzy bibliographic match.

Pure: plain values in, groups out. Why it is built this way:

* Exact keys first (PMID, normalised DOI, the NCT id of a registration record): they are
  never wrong in practice and cost a dictionary lookup each.
* The fuzzy step compares normalised titles with rapidfuzz, and only within blocks
  (records sharing the start of the title, its end, or year and first author's surname),
  so 100,000 records need a few hundred thousand comparisons instead of five billion.
  A duplicate with a typo at the start of its title still shares the end, and one with a
  rewritten title still shares year and author.
* A fuzzy match also needs the years to agree (within one: online-first versus print) and
  the first authors not to disagree, and two different DOIs never match: a reply, an
  erratum and the article share titles and authors but not DOIs.
* Short titles ("Editorial", "Reply to Smith") are matched only when exactly equal with
  the same year and author, since two different letters easily share four words.

Thresholds were measured on a duplicate set built from the shared PubMed data (see
``tests/imports/duplicate_set.py`` and ``benchmarks/dedup_benchmark.py``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

TITLE_THRESHOLD = 95.0  # rapidfuzz ratio (0-100) on normalised titles
AUTHOR_THRESHOLD = 80.0
WORD_THRESHOLD = 85.0  # a word only one title has must be this close to one only the other has
NOTICES = frozenset(
    {
        "erratum",
        "errata",
        "corrigendum",
        "correction",
        "reply",
        "response",
        "comment",
        "retraction",
        "retracted",
        "withdrawn",
        "addendum",
    }
)  # on normalised first-author surnames
SHORT_TITLE = (
    25  # characters (spaces dropped) of normalised title under which only exact equality counts
)
BLOCK_PREFIX = 16  # characters of the normalised title that make a block
MAX_BLOCK = 4000  # a block larger than this (a common prefix) is split by year
ROWS = 256  # titles scored against their block at once

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|https?://)", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_INITIALS = re.compile(r"^[A-Z][A-Z.\-]{0,4}$")


def fold(text: str) -> str:
    """Lower case, accents dropped (ü -> u), everything but letters and digits to one space."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", text.lower()).strip()


def normalise_doi(doi: str | None) -> str | None:
    """DOIs are case-insensitive and written with URL or "doi:" prefixes and trailing dots."""
    if not doi:
        return None
    text = _DOI_PREFIX.sub("", doi.strip()).removesuffix("[doi]").strip().rstrip(".;, ")
    text = text.removeprefix("doi.org/").lower()
    return text if text.startswith("10.") else None


def normalise_title(title: str | None) -> str:
    """Case, punctuation, accents and a trailing full stop or [brackets] do not matter."""
    text = (title or "").strip()
    if text.startswith("[") and text.endswith("]."):  # MEDLINE's translated-title brackets
        text = text[1:-2]
    return fold(text)


def first_author_surname(authors: Sequence[str]) -> str:
    """ "Smith, John", "Smith J", "Smith JA" and "John Smith" all give "smith"."""
    if not authors:
        return ""
    name = authors[0].strip()
    if "," in name:
        return fold(name.split(",", 1)[0]).replace(" ", "")
    parts = name.split()
    if len(parts) > 1 and _INITIALS.match(parts[-1]):
        return fold(" ".join(parts[:-1])).replace(" ", "")
    return fold(parts[-1] if parts else "").replace(" ", "")


def natural_key(
    *, pmid: str | None, doi: str | None, title: str, year: int | None, authors: Sequence[str]
) -> str:
    """The identity a record is stored under (20 characters at most).

    The PMID when there is one; else "doi:" and a digest of the normalised DOI; else
    "ref:" and a digest of normalised title, year and first author's surname. Real PMIDs
    are digits only, so the prefixes can never collide with one.
    """
    if pmid:
        return pmid
    normal = normalise_doi(doi)
    if normal:
        return "doi:" + hashlib.sha256(normal.encode()).hexdigest()[:16]
    basis = f"{normalise_title(title)}|{year or ''}|{first_author_surname(authors)}"
    return "ref:" + hashlib.sha256(basis.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Item:
    """What deduplication reads of a record; ``nct_id`` only for a registration itself."""

    id: int
    pmid: str | None = None
    doi: str | None = None
    nct_id: str | None = None
    title: str = ""
    year: int | None = None
    authors: tuple[str, ...] = ()
    has_abstract: bool = False


@dataclass(frozen=True, slots=True)
class Match:
    a: int
    b: int
    reason: str  # pmid, doi, nct, fuzzy
    score: float


@dataclass(frozen=True, slots=True)
class _Prepared:
    id: int
    pmid: str | None
    doi: str | None
    title: str  # normalised, without spaces: a "5-HT" whose hyphen was dropped is "5HT" too
    spaced: str  # normalised, with spaces (its words are split only for candidate pairs)
    year: int | None
    author: str


def _prepare(item: Item) -> _Prepared:
    title = normalise_title(item.title)
    return _Prepared(
        id=item.id,
        pmid=item.pmid,
        doi=normalise_doi(item.doi),
        title=title.replace(" ", ""),
        spaced=title,
        year=item.year,
        author=first_author_surname(item.authors),
    )


def _notices(compact_title: str) -> set[str]:
    """Notice words anywhere in the title (dropped punctuation may glue "disorder. Reply")."""
    return {word for word in NOTICES if word in compact_title}


def _substituted(a: _Prepared, b: _Prepared) -> bool:
    """Whether a word of one title was replaced by a different word in the other.

    A typo leaves a similar word ("treatmet"), dropped punctuation glues words that the
    other title still holds ("doubleblind"); "pantoprazole" for "lansoprazole" or
    "thirteenth" for "sixteenth" is another paper with an otherwise equal title.
    """
    words_a, words_b = set(a.spaced.split()), set(b.spaced.split())
    only_a = [w for w in words_a - words_b if len(w) >= 4 and w not in b.title]
    only_b = [w for w in words_b - words_a if len(w) >= 4 and w not in a.title]
    if not only_a or not only_b:
        return False
    return any(max(fuzz.ratio(w, v) for v in only_b) < WORD_THRESHOLD for w in only_a)


def exact_matches(items: Iterable[Item]) -> list[Match]:
    """Pairs that share a PMID, a normalised DOI or (registrations) an NCT id."""
    first: dict[tuple[str, str], int] = {}
    found: list[Match] = []
    for item in items:
        keys = [("pmid", item.pmid), ("doi", normalise_doi(item.doi)), ("nct", item.nct_id)]
        for kind, value in keys:
            if not value:
                continue
            key = (kind, value.upper() if kind == "nct" else value)
            if key in first:
                found.append(Match(first[key], item.id, kind, 100.0))
            else:
                first[key] = item.id
    return found


_NUMBER = re.compile(r"\d+")


def _compatible(a: _Prepared, b: _Prepared) -> bool:
    if _NUMBER.findall(a.title) != _NUMBER.findall(b.title):
        return False  # "Part 1" and "Part 2", "12-month" and "24-month" results
    if (a.doi and b.doi and a.doi != b.doi) or (a.pmid and b.pmid and a.pmid != b.pmid):
        return False  # two identifiers of one kind that differ: two records, however alike
    if _notices(a.title) != _notices(b.title):
        return False  # an erratum or a reply repeats the title of the article it is about
    if _substituted(a, b):
        return False
    if a.year and b.year and abs(a.year - b.year) > 1:
        return False
    if a.author and b.author and a.author != b.author:
        if a.author.endswith(b.author) or b.author.endswith(a.author):
            return True  # "van Gilst" written given-first loses its particle: "gilst"
        return fuzz.ratio(a.author, b.author) >= AUTHOR_THRESHOLD
    return True


def _block_key(kind: str, p: _Prepared) -> object:
    if kind == "head":
        return hash(p.title[:BLOCK_PREFIX])
    if kind == "tail":
        return hash(p.title[-BLOCK_PREFIX:])
    return hash((p.author, p.year)) if p.author and p.year else None


def _blocks(prepared: Sequence[_Prepared]) -> Iterator[list[int]]:
    """Indexes of records that could be duplicates of each other, per block.

    One kind of block at a time (title start, title end, year and author), keyed by hash,
    so the index of 100,000 records stays small; a hash collision only adds comparisons.
    """
    for kind in ("head", "tail", "who"):
        keyed: dict[object, list[int]] = defaultdict(list)
        for index, p in enumerate(prepared):
            key = _block_key(kind, p) if p.title else None
            if key is not None:
                keyed[key].append(index)
        for members in keyed.values():
            if len(members) < 2:
                continue
            if len(members) <= MAX_BLOCK:
                yield members
                continue
            by_year: dict[int | None, list[int]] = defaultdict(list)  # an over-common prefix
            for index in members:
                by_year[prepared[index].year].append(index)
            yield from (m for m in by_year.values() if 1 < len(m) <= MAX_BLOCK)
        del keyed


def fuzzy_matches(items: Sequence[Item], threshold: float = TITLE_THRESHOLD) -> list[Match]:
    """Pairs whose normalised titles agree to ``threshold`` and whose year and author agree."""
    prepared = [_prepare(item) for item in items]
    seen: set[tuple[int, int]] = set()
    found: list[Match] = []
    for block, r, c, score in _similar_titles(prepared, threshold):
        a, b = prepared[block[r]], prepared[block[c]]
        pair = (min(a.id, b.id), max(a.id, b.id))
        if pair in seen:
            continue
        seen.add(pair)
        short = min(len(a.title), len(b.title)) < SHORT_TITLE
        if short and not (
            a.title == b.title and a.year and a.year == b.year and a.author == b.author
        ):
            continue
        if _compatible(a, b):
            found.append(Match(pair[0], pair[1], "fuzzy", score))
    return found


def _similar_titles(
    prepared: Sequence[_Prepared], threshold: float
) -> Iterator[tuple[list[int], int, int, float]]:
    """(block, row, column, score) of title pairs within a block scoring ``threshold`` or more.

    Scored ROWS titles against the block at a time, so a large block's score matrix stays a
    few megabytes (4,000 x 4,000 at once would be 64 MB).
    """
    for block in _blocks(prepared):
        titles = [prepared[i].title for i in block]
        for start in range(0, len(titles), ROWS):
            scores = process.cdist(
                titles[start : start + ROWS], titles, scorer=fuzz.ratio, score_cutoff=threshold
            )
            rows, cols = scores.nonzero()
            for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
                if start + r < c:
                    yield block, start + r, c, float(scores[r, c])


def group(
    matches: Iterable[Match], identifiers: Mapping[int, Item] | None = None
) -> list[set[int]]:
    """Connected groups of the matched pairs (union-find), each of two records or more.

    With ``identifiers`` (record id -> item), two groups holding different DOIs or PMIDs
    are never joined, so a chain of fuzzy matches cannot pull an article and its reply
    together.
    """
    parent: dict[int, int] = {}
    held: dict[int, dict[str, str]] = {}
    for record_id, item in (identifiers or {}).items():
        ids = {"doi": normalise_doi(item.doi), "pmid": item.pmid}
        known = {kind: value for kind, value in ids.items() if value}
        if known:
            held[record_id] = known

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for match in matches:
        ra, rb = root(match.a), root(match.b)
        if ra == rb:
            continue
        ha, hb = held.get(ra, {}), held.get(rb, {})
        if any(kind in hb and hb[kind] != value for kind, value in ha.items()):
            continue
        keep, gone = min(ra, rb), max(ra, rb)
        parent[gone] = keep
        if ha or hb:
            held[keep] = {**ha, **hb}
    groups: dict[int, set[int]] = defaultdict(set)
    for x in parent:
        groups[root(x)].add(x)
    return [g for g in groups.values() if len(g) > 1]


def find_duplicates(items: Sequence[Item], threshold: float = TITLE_THRESHOLD) -> list[Match]:
    """Every exact and fuzzy pair among ``items`` (exact ones first)."""
    return exact_matches(items) + fuzzy_matches(items, threshold)


def choose_primary(items: Iterable[Item]) -> int:
    """The record reviewers see: one with a PMID, then with an abstract, then the oldest."""
    return min(items, key=lambda i: (not i.pmid, not i.has_abstract, i.id)).id
