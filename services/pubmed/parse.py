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

Each field's rule lives in fields.py, and the rendering of inline markup and
MathML (superscripts, formulas) in markup.py.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from lxml import etree

from services.pubmed import fields
from services.records import Deletion, Quarantined, Record

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
            raise PubmedXMLError(f"NCBI returned an error in {name}: {fields.text_of(elem)}")
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
    title = fields.title(article)
    sections = fields.abstract_sections(article.find("Abstract"))
    abstract = fields.join_abstract(sections)
    return Record(
        pmid=pmid,
        version=version,
        title=title,
        abstract=abstract,
        abstract_sections=sections,
        journal=fields.journal_name(journal, citation),
        year=fields.article_year(journal, article),
        doi=fields.article_doi(article, pubmed_data),
        publication_types=fields.texts(article.find("PublicationTypeList"), "PublicationType"),
        mesh_terms=fields.mesh_terms(citation),
        keywords=fields.keywords(citation),
        authors=fields.authors(article.iterchildren("AuthorList")),
        **fields.languages(article),
        nct_ids=fields.nct_ids(article, citation, title, abstract),
        retractions=fields.retractions(citation),
        errata=fields.errata(citation),
    )


def _book_record(elem: Element) -> Record:
    """A PubmedBookArticle: a book or a book chapter (GeneReviews, NCBI Bookshelf)."""
    document = elem.find("BookDocument")
    if document is None:
        raise _RecordError("PubmedBookArticle has no BookDocument")
    pmid, version = _pmid(document, elem.tag)
    book = document.find("Book")
    book_title = fields.child_text(book, "BookTitle")
    title = fields.child_text(document, "ArticleTitle") or book_title
    sections = fields.abstract_sections(document.find("Abstract"))
    abstract = fields.join_abstract(sections)
    return Record(
        pmid=pmid,
        version=version,
        title=title,
        abstract=abstract,
        abstract_sections=sections,
        journal=book_title,
        year=fields.book_year(document, book),
        doi=fields.book_doi(document, elem.find("PubmedBookData")),
        publication_types=fields.texts(document, "PublicationType"),
        mesh_terms=[],
        keywords=fields.keywords(document),
        authors=fields.authors(document.iterchildren("AuthorList")),
        **fields.languages(document),
        nct_ids=fields.dedupe(fields.NCT.findall(f"{title}\n{abstract or ''}")),
        retractions=fields.retractions(document),
        errata=fields.errata(document),
        is_book=True,
    )


# --------------------------------------------------------------------------- PMID


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
