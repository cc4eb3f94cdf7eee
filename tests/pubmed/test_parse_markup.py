"""Inline markup and MathML keep their meaning as plain text.

Real records first (the ones the issue names), then the rendering rules on
small fragments written the way PubMed writes them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from services.pubmed.markup import element_text, subscript, superscript
from services.pubmed.parse import parse_pubmed_xml
from services.records import Record

MML = 'xmlns:mml="http://www.w3.org/1998/Math/MathML"'


def record_from(path: Path) -> Record:
    (record,) = parse_pubmed_xml(path)
    assert isinstance(record, Record)
    return record


def render(xml: str) -> str:
    return element_text(etree.fromstring(xml))


# --------------------------------------------------------------------------- real records


def test_exponents_and_formulas_keep_their_numbers_38914053(shared_data: Path) -> None:
    record = record_from(shared_data / "metapub" / "pmid_xml" / "38914053.xml")
    assert record.abstract is not None
    # 2.5 × 10<sup>18</sup>cm<sup>-3</sup>: an exponent, not the number 1018
    assert "2.5 × 1018" not in record.abstract
    assert "carrier concentration reached up 2.5 × 10¹⁸cm⁻³for" in record.abstract
    # SnO<sub>2</sub>: NCBI's text has no space after the tag, and none is invented
    assert record.title.startswith("Doped SnO₂thin films fabricated at low temperature")
    assert "Nb-doped SnO₂(NTO) thin films" in record.abstract
    assert record.keywords[2] == "doped SnO2 thin films"  # plain text stays as written


def test_markup_marks_stay_marks_genereviews(shared_data: Path) -> None:
    """GeneReviews<sup>®</sup>: a superscript with no letter or digit is left as it is."""
    record = record_from(shared_data / "metapub" / "sample_article_20301577.xml")
    assert record.journal == "GeneReviews®"
    assert record.title == "CACNA1C-Related Disorders"


def test_subscript_opening_a_word_pubmed6(shared_data: Path) -> None:
    """[<sub>V</sub>MLSS: nothing precedes the subscript, so nothing can merge with it."""
    record = record_from(shared_data / "biopython" / "pubmed6.xml")
    assert record.abstract is not None
    assert "endurance-trained [VMLSS 15.0 ± 1.1 km·h⁻¹;" in record.abstract
    assert "LE_min+1mM and LE_min+1.5mM" in record.abstract
    assert "(LE_min)" in record.abstract


# --------------------------------------------------------------------------- sup and sub


@pytest.mark.parametrize(
    ("xml", "text"),
    [
        ("<t>2.5 × 10<sup>18</sup> cm<sup>−3</sup></t>", "2.5 × 10¹⁸ cm⁻³"),
        ("<t>0.1 mg kg<sup>-1</sup></t>", "0.1 mg kg⁻¹"),
        ("<t>10<sup>−3.5</sup> M</t>", "10^−3.5 M"),
        ("<t>x<sup>n+1</sup></t>", "x^n+1"),
        ("<t>x<sup>a b</sup></t>", "x^(a b)"),
        ("<t>the 5<sup>th</sup> percentile</t>", "the 5th percentile"),
        ("<t>Ca<sup>2+</sup> channel</t>", "Ca²⁺ channel"),
        ("<t>Tiotropium<sup>*</sup> arm</t>", "Tiotropium* arm"),
        ("<t>CO<sub>2</sub> and IC<sub>50</sub></t>", "CO₂ and IC₅₀"),
        ("<t>C<sub>max</sub> = 3</t>", "C_max = 3"),
        ("<t>p<sub><i>trend</i></sub>=0.04</t>", "p_trend=0.04"),
        ("<t>5-HT<sub>2A</sub> receptor</t>", "5-HT_2A receptor"),
        ("<t><sup>13</sup>C-labelled</t>", "¹³C-labelled"),
        ("<t>a <i>b</i>\n   <b>c</b></t>", "a b c"),
        ("<t>x<sup> </sup><sub>max</sub></t>", "x_max"),  # an empty script hides nothing
    ],
)
def test_sup_and_sub_render_readably(xml: str, text: str) -> None:
    assert render(xml) == text


def test_script_helpers_without_context() -> None:
    assert superscript("18", "10") == "¹⁸"
    assert superscript("  ") == ""
    assert subscript("max", "V") == "_max"
    assert subscript("max") == "max"  # at the start: nothing before to merge with


# --------------------------------------------------------------------------- MathML


@pytest.mark.parametrize(
    ("math", "text"),
    [
        # NCBI's indentation between tokens is layout, not spaces in the formula
        (
            "<mml:mrow>\n  <mml:mi>a</mml:mi>\n  <mml:mo>+</mml:mo>\n"
            "  <mml:mn>1</mml:mn>\n</mml:mrow>",
            "a+1",
        ),
        ("<mml:msup><mml:mn>10</mml:mn><mml:mn>18</mml:mn></mml:msup>", "10¹⁸"),
        ("<mml:msup><mml:mi>e</mml:mi><mml:mi>x</mml:mi></mml:msup>", "e^x"),
        ("<mml:msub><mml:mi>T</mml:mi><mml:mn>1</mml:mn></mml:msub>", "T1"),
        (
            "<mml:msubsup><mml:mi>x</mml:mi><mml:mi>i</mml:mi><mml:mn>2</mml:mn></mml:msubsup>",
            "xi²",
        ),
        (
            "<mml:mfrac><mml:mrow><mml:mi>a</mml:mi><mml:mo>+</mml:mo><mml:mi>b</mml:mi>"
            "</mml:mrow><mml:mn>2</mml:mn></mml:mfrac>",
            "(a+b)/2",
        ),
        ("<mml:msqrt><mml:mi>n</mml:mi></mml:msqrt>", "√n"),
        (
            "<mml:mroot><mml:mi>x</mml:mi><mml:mn>3</mml:mn></mml:mroot>",
            "³√x",
        ),
        ("<mml:mover><mml:mi>x</mml:mi><mml:mo>¯</mml:mo></mml:mover>", "x\u0304"),
        ("<mml:mover><mml:mi>V</mml:mi><mml:mo>˙</mml:mo></mml:mover>", "V"),
        ("<mml:munder><mml:mi>y</mml:mi><mml:mo>_</mml:mo></mml:munder>", "y\u0332"),
        (
            "<mml:munderover><mml:mo>∑</mml:mo><mml:mrow><mml:mi>i</mml:mi><mml:mo>=</mml:mo>"
            "<mml:mn>1</mml:mn></mml:mrow><mml:mi>n</mml:mi></mml:munderover>",
            "∑_i=1^n",
        ),
        (
            "<mml:mfenced><mml:mi>a</mml:mi><mml:mi>b</mml:mi></mml:mfenced>",
            "(a,b)",
        ),
        ("<mml:mi>P</mml:mi><mml:mtext> and </mml:mtext><mml:mi>Q</mml:mi>", "P and Q"),
        (
            "<mml:semantics><mml:mi>k</mml:mi>"
            "<mml:annotation encoding='TeX'>k</mml:annotation></mml:semantics>",
            "k",
        ),
        (
            "<mml:mmultiscripts><mml:mi>He</mml:mi><mml:mprescripts/><mml:none/>"
            "<mml:mn>3</mml:mn></mml:mmultiscripts>",
            "3He",
        ),
    ],
)
def test_mathml_rendered_compactly(math: str, text: str) -> None:
    xml = f"<t {MML}>[<mml:math>{math}</mml:math>]</t>"
    assert render(xml) == f"[{text}]"
