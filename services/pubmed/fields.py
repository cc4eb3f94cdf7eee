"""The fields of a PubMed record, each read from its part of the XML.

Pure functions over lxml elements, kept apart from the streaming in parse.py
so each rule (which date is the year, which DOI counts, what an author's name
looks like) can be read and changed on its own.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable
from typing import Any

from services.pubmed.markup import element_text
from services.records import RETRACTION_REF_TYPES, AbstractSection, RetractionLink

Element = Any  # lxml's _Element

_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
NCT = re.compile(r"NCT\d{8}")


def title(article: Element) -> str:
    """ArticleTitle; VernacularTitle when NLM left the English title empty."""
    return child_text(article, "ArticleTitle") or child_text(article, "VernacularTitle")


def abstract_sections(abstract: Element | None) -> list[AbstractSection]:
    if abstract is None:
        return []
    sections = []
    for part in abstract.iterchildren("AbstractText"):
        text = text_of(part)
        label = " ".join((part.get("Label") or "").split())
        if text or label:
            sections.append(AbstractSection(label=label, text=text))
    return sections


def join_abstract(sections: list[AbstractSection]) -> str | None:
    """Sections as ``LABEL: text`` lines, so screening sees the structure too."""
    if not sections:
        return None
    lines = [f"{s.label}: {s.text}" if s.label else s.text for s in sections]
    return "\n".join(lines)


def journal_name(journal: Element | None, citation: Element) -> str:
    if journal is not None:
        name = child_text(journal, "Title") or child_text(journal, "ISOAbbreviation")
        if name:
            return name
    info = citation.find("MedlineJournalInfo")
    return child_text(info, "MedlineTA") if info is not None else ""


def article_year(journal: Element | None, article: Element) -> int | None:
    """Issue date first (what citations show); the electronic date only as a fallback."""
    if journal is not None:
        issue = journal.find("JournalIssue")
        if issue is not None:
            year = date_year(issue.find("PubDate"))
            if year is not None:
                return year
    for article_date in article.iterchildren("ArticleDate"):
        year = date_year(article_date)
        if year is not None:
            return year
    return None


def book_year(document: Element, book: Element | None) -> int | None:
    """A chapter's own year (ContributionDate); the book's PubDate for a whole book.

    A GeneReviews chapter sits in a book whose PubDate is the series' start
    (1993); PubMed cites the chapter by the date it was contributed.
    """
    year = date_year(document.find("ContributionDate"))
    if year is None and book is not None:
        year = date_year(book.find("PubDate"))
    return year


def date_year(date: Element | None) -> int | None:
    """Year of a PubDate-like element: its Year, else the first 4-digit year of MedlineDate."""
    if date is None:
        return None
    for tag in ("Year", "MedlineDate"):
        match = _YEAR.search(child_text(date, tag))
        if match:
            return int(match.group(1))
    return None


def article_doi(article: Element, pubmed_data: Element | None) -> str | None:
    for location in article.iterchildren("ELocationID"):
        if location.get("EIdType") == "doi" and location.get("ValidYN", "Y") != "N":
            doi = text_of(location)
            if doi:
                return doi
    if pubmed_data is not None:
        return _doi_from_ids(pubmed_data.find("ArticleIdList"))
    return None


def book_doi(document: Element, book_data: Element | None) -> str | None:
    doi = _doi_from_ids(document.find("ArticleIdList"))
    if doi is None and book_data is not None:
        doi = _doi_from_ids(book_data.find("ArticleIdList"))
    return doi


def _doi_from_ids(id_list: Element | None) -> str | None:
    if id_list is None:
        return None
    for article_id in id_list.iterchildren("ArticleId"):
        if article_id.get("IdType") == "doi":
            doi = text_of(article_id)
            if doi:
                return doi
    return None


def mesh_terms(citation: Element) -> list[str]:
    headings = citation.find("MeshHeadingList")
    if headings is None:
        return []
    terms = []
    for heading in headings.iterchildren("MeshHeading"):
        descriptor = heading.find("DescriptorName")
        if descriptor is not None:
            term = text_of(descriptor)
            if term:
                terms.append(term)
    return terms


def keywords(holder: Element) -> list[str]:
    """Keywords of every KeywordList (NLM and author-supplied), in document order."""
    keywords: list[str] = []
    for keyword_list in holder.iterchildren("KeywordList"):
        keywords.extend(texts(keyword_list, "Keyword"))
    return keywords


def authors(author_lists: Iterable[Element]) -> list[str]:
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
    """``Last, Fore Suffix`` (``Bunn, Paul A Jr``): the suffix tells a father from his son."""
    collective = child_text(author, "CollectiveName")
    if collective:
        return collective
    last = child_text(author, "LastName")
    first = child_text(author, "ForeName") or child_text(author, "Initials")
    name = f"{last}, {first}" if last and first else last or first
    suffix = child_text(author, "Suffix")
    return f"{name} {suffix}" if name and suffix else name


def languages(holder: Element) -> dict[str, Any]:
    """Every Language in order (a translated article lists several); ``language`` is the first."""
    found = dedupe(texts(holder, "Language"))
    return {"language": found[0] if found else None, "languages": found}


def nct_ids(article: Element, citation: Element, title: str, abstract: str | None) -> list[str]:
    """ClinicalTrials.gov ids registered for this record.

    Taken from the DataBankList, OtherID and the record's own title and
    abstract; never from its reference list, whose trials belong to other papers.
    """
    found: list[str] = []
    banks = article.find("DataBankList")
    if banks is not None:
        for bank in banks.iterchildren("DataBank"):
            if child_text(bank, "DataBankName").lower() != "clinicaltrials.gov":
                continue
            accessions = bank.find("AccessionNumberList")
            if accessions is not None:
                for number in texts(accessions, "AccessionNumber"):
                    found.extend(NCT.findall(number.upper()))
    for other in citation.iterchildren("OtherID"):
        found.extend(NCT.findall(text_of(other)))
    found.extend(NCT.findall(f"{title}\n{abstract or ''}"))
    return dedupe(found)


def retractions(holder: Element) -> list[RetractionLink]:
    """Retraction, retract-and-republish and expression-of-concern links, in document order."""
    return _links(holder, RETRACTION_REF_TYPES)


def errata(holder: Element) -> list[RetractionLink]:
    """ErratumIn links (corrections published for this record), in document order."""
    return _links(holder, ("ErratumIn",))


def _links(holder: Element, ref_types: Container[str]) -> list[RetractionLink]:
    comments = holder.find("CommentsCorrectionsList")
    if comments is None:
        return []
    links = []
    for link in comments.iterchildren("CommentsCorrections"):
        ref_type = link.get("RefType", "")
        if ref_type not in ref_types:
            continue
        pmid = child_text(link, "PMID") or None
        links.append(
            RetractionLink(ref_type=ref_type, pmid=pmid, source=child_text(link, "RefSource"))
        )
    return links


# --------------------------------------------------------------------------- text helpers

text_of = element_text  # sup/sub and MathML rendered so numbers keep their meaning (markup.py)


def child_text(parent: Element | None, tag: str) -> str:
    if parent is None:
        return ""
    child = parent.find(tag)
    return text_of(child) if child is not None else ""


def texts(parent: Element | None, tag: str) -> list[str]:
    if parent is None:
        return []
    return [text for text in (text_of(child) for child in parent.iterchildren(tag)) if text]


def dedupe(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
