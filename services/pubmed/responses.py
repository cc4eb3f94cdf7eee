"""What E-utilities answers mean: errors NCBI reports, ESearch results, and EFetch bodies
checked for completeness.

Kept apart from the HTTP client: the client retries what these checks call
:class:`Transient` and raises the rest; these functions only read bodies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from lxml import etree

logger = logging.getLogger("services.pubmed.client")


class EutilsError(RuntimeError):
    """A failure that retrying will not fix; the message says what NCBI said."""


class RetrievalCapError(EutilsError):
    """PubMed refuses to page past its first 9,999 records for one query.

    Callers handle this by splitting the query (for example into smaller date
    windows) rather than by retrying.
    """


class Transient(Exception):
    """This attempt failed in a way worth retrying; ``str`` is the reason."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class SearchResult:
    """What one ESearch call returned.

    ``webenv``/``query_key`` are set when the search was stored on NCBI's
    history server (``usehistory``); ``ids`` holds at most ``retmax`` PMIDs.
    ``phrases_not_found`` lists phrases NCBI reported in ``ErrorList``
    (``PhraseNotFound``); they do not fail the search because a living review's
    query legitimately contains terms that have no hits yet.
    """

    count: int
    webenv: str | None
    query_key: str | None
    ids: list[str]
    phrases_not_found: list[str] = field(default_factory=list)


def _xml_parser() -> etree.XMLParser:
    """A parser that never fetches DTDs or expands external entities (NCBI bodies name a DTD)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)


def is_cap_message(text: str) -> bool:
    """Recognise NCBI's wording for the PubMed retrieval cap (it has varied over time)."""
    lowered = text.lower()
    return any(
        phrase in lowered
        for phrase in (
            "cannot be larger than",  # 'retstart' cannot be larger than 9998 ...
            "esearch can only retrieve",  # ... only retrieve the first 9,999 records
            "out of acceptable range",  # older: Position 15000 is out of acceptable range
        )
    )


def _ncbi_error(text: str) -> EutilsError:
    """The right exception class for an error text NCBI sent."""
    text = text.strip()
    if is_cap_message(text):
        return RetrievalCapError(text)
    return EutilsError(text)


def error_text_from_body(body: bytes) -> str | None:
    """NCBI's own message in an error body: an ``<ERROR>`` element or a JSON ``error`` field."""
    stripped = body.strip()
    if not stripped:
        return None
    if stripped.startswith(b"{"):
        import json

        try:
            data = json.loads(stripped)
        except ValueError:
            return None
        if isinstance(data, dict) and "error" in data:
            return str(data["error"])
        return None
    try:
        root = etree.fromstring(stripped, parser=_xml_parser())
    except etree.XMLSyntaxError:
        return None
    errors = [(el.text or "").strip() for el in root.iter("ERROR")]
    errors = [e for e in errors if e]
    return "; ".join(errors) if errors else None


def parse_esearch(body: bytes) -> SearchResult:
    """Turn an eSearchResult into a SearchResult, or say why it is not one."""
    try:
        root = etree.fromstring(body, parser=_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise Transient(f"esearch response is not well-formed XML ({exc})") from exc
    if root.tag != "eSearchResult":
        raise Transient(f"esearch response has root <{root.tag}>, not <eSearchResult>")
    error_texts = [(el.text or "").strip() for el in root.findall("ERROR")]
    if error_texts:
        raise _ncbi_error("; ".join(t for t in error_texts if t) or "ERROR without text")
    phrases: list[str] = []
    other_errors: list[str] = []
    error_list = root.find("ErrorList")
    if error_list is not None:
        for child in error_list:
            if not isinstance(child.tag, str):
                continue
            text = (child.text or "").strip()
            if child.tag == "PhraseNotFound":
                phrases.append(text)
            else:
                other_errors.append(f"{child.tag}: {text}")
    if other_errors:
        raise EutilsError("NCBI reported: " + "; ".join(other_errors))
    count_text = root.findtext("Count")
    if count_text is None or not count_text.strip().isdigit():
        raise Transient("esearch response lacks a numeric <Count>")
    if phrases:
        logger.warning("PubMed did not find these phrases of the query: %s", phrases)
    ids = [(el.text or "").strip() for el in root.iterfind("IdList/Id")]
    webenv = root.findtext("WebEnv")
    query_key = root.findtext("QueryKey")
    return SearchResult(
        count=int(count_text),
        webenv=webenv.strip() if webenv else None,
        query_key=query_key.strip() if query_key else None,
        ids=[i for i in ids if i],
        phrases_not_found=phrases,
    )


def check_efetch(body: bytes) -> bytes:
    """Accept a complete PubmedArticleSet; spot NCBI errors and cut-off bodies.

    The cheap test (ends with the closing tag) covers almost every answer;
    only odd-looking bodies are parsed in full.
    """
    tail = body.rstrip()
    if tail.endswith(b"</PubmedArticleSet>") or (
        tail.endswith(b"/>") and tail.rsplit(b"<", 1)[-1].startswith(b"PubmedArticleSet")
    ):
        return body
    try:
        root = etree.fromstring(body, parser=_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise Transient(
            f"efetch response is truncated or not well-formed ({len(body)} bytes: {exc})"
        ) from exc
    if root.tag == "PubmedArticleSet":
        return body
    error_text = error_text_from_body(body)
    if error_text:
        raise _ncbi_error(error_text)
    raise Transient(f"efetch response has root <{root.tag}>, not <PubmedArticleSet>")
