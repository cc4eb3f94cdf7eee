"""Reading the diagram back: each box is a ``<g id=...>`` whose text a reader sees."""

from __future__ import annotations

from lxml import etree

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: bytes) -> etree._Element:
    """The SVG parsed strictly (lxml raises on anything not well-formed)."""
    root = etree.fromstring(svg, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == f"{SVG}svg"
    return root


def box_text(root: etree._Element, key: str) -> str:
    """The words of one box, lines joined by spaces, no-break spaces read as spaces."""
    (group,) = root.findall(f".//{SVG}g[@id='{key}']")
    lines = ["".join(span.itertext()).strip() for span in group.iter(f"{SVG}tspan")]
    return " ".join(lines).replace("\u00a0", " ")


def box_ids(root: etree._Element) -> set[str]:
    return {str(g.get("id")) for g in root.iter(f"{SVG}g") if g.get("class") == "box"}
