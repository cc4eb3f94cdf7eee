"""Streaming parser for PubMed XML (EFetch output and MEDLINE/PubMed baseline files).

Pure: bytes in, ``Record`` / ``Deletion`` / ``Quarantined`` out; no HTTP, no database.

Why it is built this way:

* ``lxml.etree.iterparse`` with a tag filter, clearing each record and its
  preceding siblings once read, keeps memory flat however large the file (a
  baseline file holds 30,000 records; an EFetch batch up to 10,000).
* DTDs are never loaded and entities never resolved: EFetch output names a DTD
  on dtd.nlm.nih.gov, and a parser that fetched it would make every sweep
  depend on the network (and on trusting what comes back).
* One bad record must not cost the batch: a record whose fields cannot be read
  comes out as ``Quarantined`` with the reason and its XML, and parsing goes on.
  A document that is not well-formed, in contrast, raises ``PubmedXMLError``,
  but only after every record read before the break has been yielded, so the
  caller decides whether a partial batch is worth keeping.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from lxml import etree

from services.records import AbstractSection, Deletion, Quarantined, Record, RetractionLink

__all__ = [
    "ParseItem",
    "PubmedXMLError",
    "iter_pubmed_xml",
    "parse_pubmed_xml",
]

ParseItem = Record | Deletion | Quarantined

Element = Any  # lxml's _Element; typed loosely because iterparse yields it untyped

# MedlineCitation is a record only under a legacy MedlineCitationSet root;
# inside a PubmedArticle it is handled with its parent.
_RECORD_TAGS = (
    "PubmedArticle",
    "PubmedBookArticle",
    "DeleteCitation",
    "MedlineCitation",
    "ERROR",
)
_KNOWN_ROOTS = frozenset({"PubmedArticleSet", "MedlineCitationSet", "PubmedBookArticleSet"})
_RETRACTION_TYPES = frozenset({"RetractionIn", "RetractionOf"})
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_NCT = re.compile(r"NCT\d{8}")
_GZIP_MAGIC = b"\x1f\x8b"


class PubmedXMLError(ValueError):
    """The document as a whole is unusable: not well-formed, truncated, or an NCBI ERROR."""


class _RecordError(ValueError):
    """A single record is unusable; becomes a ``Quarantined`` item, never escapes."""

    def __init__(self, reason: str, pmid: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pmid = pmid


# --------------------------------------------------------------------------- public API


def iter_pubmed_xml(source: str | Path | BinaryIO | bytes) -> Iterator[ParseItem]:
    """Yield one item per record of a PubMed XML document, in document order.

    ``source`` is a file path (``str`` or ``Path``; gzip when it ends in .gz),
    an open binary stream, or the document as ``bytes`` (gzip bytes are
    recognised by their magic number). A ``str`` is always a path: XML text
    must come as bytes so that its encoding declaration is honoured.

    Raises ``PubmedXMLError`` when the document breaks off or is not
    well-formed (after yielding every record completed before that point),
    when NCBI answered with an ``<ERROR>`` element, or when the root element is
    not a PubMed article set.
    """
    stream, name, owned = _open_source(source)
    try:
        yield from _iterate(stream, name)
    finally:
        if owned:
            stream.close()


def parse_pubmed_xml(source: str | Path | BinaryIO | bytes) -> list[ParseItem]:
    """All items of a document as a list; convenient for small EFetch batches."""
    return list(iter_pubmed_xml(source))


# --------------------------------------------------------------------------- the stream


def _open_source(source: str | Path | BinaryIO | bytes) -> tuple[IO[bytes], str, bool]:
    """A binary stream over the document, a name for messages, and whether we must close it."""
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        if data.startswith(_GZIP_MAGIC):
            return cast(IO[bytes], gzip.GzipFile(fileobj=io.BytesIO(data))), "<bytes, gzip>", True
        return io.BytesIO(data), "<bytes>", True
    if isinstance(source, str) and source.lstrip().startswith("<"):
        raise TypeError("iter_pubmed_xml: a str is a file path; pass XML text as bytes")
    if isinstance(source, str | Path):
        path = Path(source)
        if path.suffix == ".gz":
            return cast(IO[bytes], gzip.open(path, "rb")), str(path), True
        return path.open("rb"), str(path), True
    return source, getattr(source, "name", "<stream>"), False


def _iterate(stream: IO[bytes], name: str) -> Iterator[ParseItem]:
    events = etree.iterparse(
        stream,
        events=("end",),
        tag=_RECORD_TAGS,
        no_network=True,
        resolve_entities=False,
        load_dtd=False,
        huge_tree=True,
        remove_comments=True,
        remove_pis=True,
    )
    read = 0
    last_pmid: str | None = None
    while True:
        try:
            _event, elem = next(events)
        except StopIteration:
            break
        except etree.XMLSyntaxError as exc:
            raise PubmedXMLError(_syntax_message(exc, name, read, last_pmid)) from exc
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            after = f", after PMID {last_pmid}" if last_pmid else ""
            raise PubmedXMLError(
                f"{name}: gzip data is truncated or corrupt ({exc}); "
                f"{read} item(s) read before the break{after}"
            ) from exc
        tag = elem.tag
        if tag == "MedlineCitation" and _inside_article(elem):
            continue  # read with its PubmedArticle, which ends next
        if tag == "ERROR":
            raise PubmedXMLError(f"NCBI returned an error in {name}: {_text(elem)}")
        items = _deletions(elem) if tag == "DeleteCitation" else [_record_or_quarantine(elem)]
        _release(elem)
        for item in items:
            read += 1
            if not isinstance(item, Quarantined):
                last_pmid = item.pmid
            yield item
    root = events.root
    if root is not None and root.tag not in _KNOWN_ROOTS:
        raise PubmedXMLError(f"{name} is not a PubMed article set: root element is <{root.tag}>")


def _inside_article(elem: Element) -> bool:
    parent = elem.getparent()
    return parent is not None and parent.tag == "PubmedArticle"


def _syntax_message(exc: etree.XMLSyntaxError, name: str, read: int, last: str | None) -> str:
    line, column = exc.position if exc.position else (exc.lineno, 0)
    after = f", after PMID {last}" if last else ""
    return (
        f"{name} is not well-formed XML at line {line}, column {column}: {exc.msg} "
        f"({read} item(s) read before the break{after})"
    )


def _release(elem: Element) -> None:
    """Free a finished record and everything before it, so memory stays flat."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def _record_or_quarantine(elem: Element) -> Record | Quarantined:
    pmid: str | None = None
    try:
        if elem.tag == "PubmedBookArticle":
            return _book_record(elem)
        return _article_record(elem)
    except _RecordError as exc:
        reason, pmid = exc.reason, exc.pmid
    except Exception as exc:  # any fault in one record quarantines that record only
        reason = f"{elem.tag}: {exc.__class__.__name__}: {exc}"
        pmid = _safe_pmid(elem)
    xml = etree.tostring(elem, encoding="unicode", with_tail=False)
    return Quarantined(pmid=pmid, reason=reason, xml=xml)


def _safe_pmid(elem: Element) -> str | None:
    """The record's PMID for a quarantine entry, if it can be read at all."""
    holder = elem.find("BookDocument") if elem.tag == "PubmedBookArticle" else elem
    if holder is not None and holder.tag == "PubmedArticle":
        holder = holder.find("MedlineCitation")
    pmid_el = holder.find("PMID") if holder is not None else None
    text = (pmid_el.text or "").strip() if pmid_el is not None else ""
    return text if text.isdigit() else None


def _deletions(elem: Element) -> list[ParseItem]:
    items: list[ParseItem] = []
    for pmid_el in elem.iterchildren("PMID"):
        text = (pmid_el.text or "").strip()
        if text.isascii() and text.isdigit():
            items.append(Deletion(pmid=text))
        else:
            reason = f"DeleteCitation: PMID {text!r} is not an integer"
            xml = etree.tostring(pmid_el, encoding="unicode", with_tail=False)
            items.append(Quarantined(pmid=None, reason=reason, xml=xml))
    return items


# --------------------------------------------------------------------------- records


def _article_record(elem: Element) -> Record:
    """A PubmedArticle, or a bare MedlineCitation from a legacy MedlineCitationSet."""
    if elem.tag == "PubmedArticle":
        citation = elem.find("MedlineCitation")
        pubmed_data = elem.find("PubmedData")
        if citation is None:
            raise _RecordError("PubmedArticle has no MedlineCitation")
    else:
        citation, pubmed_data = elem, None
    pmid, version = _pmid(citation, elem.tag)
    article = citation.find("Article")
    if article is None:
        raise _RecordError(f"PMID {pmid}: MedlineCitation has no Article", pmid)
    journal = article.find("Journal")
    title = _title(article)
    sections = _abstract_sections(article.find("Abstract"))
    abstract = _join_abstract(sections)
    return Record(
        pmid=pmid,
        version=version,
        title=title,
        abstract=abstract,
        abstract_sections=sections,
        journal=_journal_name(journal, citation),
        year=_article_year(journal, article),
        doi=_article_doi(article, pubmed_data),
        publication_types=_texts(article.find("PublicationTypeList"), "PublicationType"),
        mesh_terms=_mesh_terms(citation),
        keywords=_keywords(citation),
        authors=_authors(article.iterchildren("AuthorList")),
        language=_first_text(article, "Language"),
        nct_ids=_nct_ids(article, citation, title, abstract),
        retractions=_retractions(citation),
    )


def _book_record(elem: Element) -> Record:
    """A PubmedBookArticle: a book or a book chapter (GeneReviews, NCBI Bookshelf)."""
    document = elem.find("BookDocument")
    if document is None:
        raise _RecordError("PubmedBookArticle has no BookDocument")
    pmid, version = _pmid(document, elem.tag)
    book = document.find("Book")
    book_title = _child_text(book, "BookTitle")
    title = _child_text(document, "ArticleTitle") or book_title
    sections = _abstract_sections(document.find("Abstract"))
    abstract = _join_abstract(sections)
    return Record(
        pmid=pmid,
        version=version,
        title=title,
        abstract=abstract,
        abstract_sections=sections,
        journal=book_title,
        year=_date_year(book.find("PubDate")) if book is not None else None,
        doi=_book_doi(document, elem.find("PubmedBookData")),
        publication_types=_texts(document, "PublicationType"),
        mesh_terms=[],
        keywords=_keywords(document),
        authors=_authors(document.iterchildren("AuthorList")),
        language=_first_text(document, "Language"),
        nct_ids=_dedupe(_NCT.findall(f"{title}\n{abstract or ''}")),
        retractions=_retractions(document),
        is_book=True,
    )


# --------------------------------------------------------------------------- field groups


def _pmid(holder: Element, where: str) -> tuple[str, int]:
    """PMID text and version; a missing or non-integer PMID quarantines the record."""
    pmid_el = holder.find("PMID")
    if pmid_el is None:
        raise _RecordError(f"{where}: no PMID")
    text = (pmid_el.text or "").strip()
    if not text:
        raise _RecordError(f"{where}: empty PMID")
    if not (text.isascii() and text.isdigit()):
        raise _RecordError(f"{where}: PMID {text!r} is not an integer")
    raw_version = pmid_el.get("Version", "1").strip() or "1"
    if not (raw_version.isascii() and raw_version.isdigit()):
        raise _RecordError(f"PMID {text}: Version {raw_version!r} is not an integer", text)
    return text, int(raw_version)


def _title(article: Element) -> str:
    """ArticleTitle; VernacularTitle when NLM left the English title empty."""
    return _child_text(article, "ArticleTitle") or _child_text(article, "VernacularTitle")


def _abstract_sections(abstract: Element | None) -> list[AbstractSection]:
    if abstract is None:
        return []
    sections = []
    for part in abstract.iterchildren("AbstractText"):
        text = _text(part)
        label = " ".join((part.get("Label") or "").split())
        if text or label:
            sections.append(AbstractSection(label=label, text=text))
    return sections


def _join_abstract(sections: list[AbstractSection]) -> str | None:
    """Sections as ``LABEL: text`` lines, so screening sees the structure too."""
    if not sections:
        return None
    lines = [f"{s.label}: {s.text}" if s.label else s.text for s in sections]
    return "\n".join(lines)


def _journal_name(journal: Element | None, citation: Element) -> str:
    if journal is not None:
        name = _child_text(journal, "Title") or _child_text(journal, "ISOAbbreviation")
        if name:
            return name
    info = citation.find("MedlineJournalInfo")
    return _child_text(info, "MedlineTA") if info is not None else ""


def _article_year(journal: Element | None, article: Element) -> int | None:
    """Issue date first (what citations show); the electronic date only as a fallback."""
    if journal is not None:
        issue = journal.find("JournalIssue")
        if issue is not None:
            year = _date_year(issue.find("PubDate"))
            if year is not None:
                return year
    for article_date in article.iterchildren("ArticleDate"):
        year = _date_year(article_date)
        if year is not None:
            return year
    return None


def _date_year(date: Element | None) -> int | None:
    """Year of a PubDate-like element: its Year, else the first 4-digit year of MedlineDate."""
    if date is None:
        return None
    for tag in ("Year", "MedlineDate"):
        match = _YEAR.search(_child_text(date, tag))
        if match:
            return int(match.group(1))
    return None


def _article_doi(article: Element, pubmed_data: Element | None) -> str | None:
    for location in article.iterchildren("ELocationID"):
        if location.get("EIdType") == "doi" and location.get("ValidYN", "Y") != "N":
            doi = _text(location)
            if doi:
                return doi
    if pubmed_data is not None:
        return _doi_from_ids(pubmed_data.find("ArticleIdList"))
    return None


def _book_doi(document: Element, book_data: Element | None) -> str | None:
    doi = _doi_from_ids(document.find("ArticleIdList"))
    if doi is None and book_data is not None:
        doi = _doi_from_ids(book_data.find("ArticleIdList"))
    return doi


def _doi_from_ids(id_list: Element | None) -> str | None:
    if id_list is None:
        return None
    for article_id in id_list.iterchildren("ArticleId"):
        if article_id.get("IdType") == "doi":
            doi = _text(article_id)
            if doi:
                return doi
    return None


def _mesh_terms(citation: Element) -> list[str]:
    headings = citation.find("MeshHeadingList")
    if headings is None:
        return []
    terms = []
    for heading in headings.iterchildren("MeshHeading"):
        descriptor = heading.find("DescriptorName")
        if descriptor is not None:
            term = _text(descriptor)
            if term:
                terms.append(term)
    return terms


def _keywords(holder: Element) -> list[str]:
    """Keywords of every KeywordList (NLM and author-supplied), in document order."""
    keywords: list[str] = []
    for keyword_list in holder.iterchildren("KeywordList"):
        keywords.extend(_texts(keyword_list, "Keyword"))
    return keywords


def _authors(author_lists: Iterable[Element]) -> list[str]:
    """``Last, Fore`` per author; editors' lists and names flagged invalid are left out.

    ValidYN="N" marks a name NLM keeps only to record a correction; it is not an author.
    """
    names: list[str] = []
    for author_list in author_lists:
        if author_list.get("Type", "authors") != "authors":
            continue
        for author in author_list.iterchildren("Author"):
            if author.get("ValidYN") == "N":
                continue
            name = _author_name(author)
            if name:
                names.append(name)
    return names


def _author_name(author: Element) -> str:
    collective = _child_text(author, "CollectiveName")
    if collective:
        return collective
    last = _child_text(author, "LastName")
    first = _child_text(author, "ForeName") or _child_text(author, "Initials")
    if last and first:
        return f"{last}, {first}"
    return last or first


def _nct_ids(article: Element, citation: Element, title: str, abstract: str | None) -> list[str]:
    """ClinicalTrials.gov ids registered for this record.

    Taken from the DataBankList, OtherID and the record's own title and
    abstract; never from its reference list, whose trials belong to other papers.
    """
    found: list[str] = []
    banks = article.find("DataBankList")
    if banks is not None:
        for bank in banks.iterchildren("DataBank"):
            if _child_text(bank, "DataBankName").lower() != "clinicaltrials.gov":
                continue
            accessions = bank.find("AccessionNumberList")
            if accessions is not None:
                for number in _texts(accessions, "AccessionNumber"):
                    found.extend(_NCT.findall(number.upper()))
    for other in citation.iterchildren("OtherID"):
        found.extend(_NCT.findall(_text(other)))
    found.extend(_NCT.findall(f"{title}\n{abstract or ''}"))
    return _dedupe(found)


def _retractions(holder: Element) -> list[RetractionLink]:
    comments = holder.find("CommentsCorrectionsList")
    if comments is None:
        return []
    links = []
    for link in comments.iterchildren("CommentsCorrections"):
        ref_type = link.get("RefType", "")
        if ref_type not in _RETRACTION_TYPES:
            continue
        pmid = _child_text(link, "PMID") or None
        links.append(
            RetractionLink(ref_type=ref_type, pmid=pmid, source=_child_text(link, "RefSource"))
        )
    return links


# --------------------------------------------------------------------------- text helpers


def _text(elem: Element) -> str:
    """All text inside an element (inline markup and MathML flattened), whitespace normalised."""
    if len(elem):
        return " ".join("".join(elem.itertext()).split())
    return " ".join((elem.text or "").split())


def _child_text(parent: Element | None, tag: str) -> str:
    if parent is None:
        return ""
    child = parent.find(tag)
    return _text(child) if child is not None else ""


def _first_text(parent: Element, tag: str) -> str | None:
    for child in parent.iterchildren(tag):
        text = _text(child)
        if text:
            return text
    return None


def _texts(parent: Element | None, tag: str) -> list[str]:
    if parent is None:
        return []
    return [text for text in (_text(child) for child in parent.iterchildren(tag)) if text]


def _dedupe(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
