"""Plain text of PubMed XML elements whose text carries inline markup or MathML.

Pure: an lxml element in, a string out.

Why not simply join the element's text nodes: PubMed marks exponents, indices
and formulas up (``<sup>``, ``<sub>``, ``<mml:math>``), and dropping the tags
changes meaning: ``2.5 × 10<sup>18</sup>`` would read ``2.5 × 1018``, and MathML,
pretty-printed by NCBI, would come out one token per line (``( V . O 2 m a x )``).
So:

* a superscript becomes Unicode superscript characters when every character has
  one (``10¹⁸``, ``kg⁻¹``: the dose grammar in classifiers reads ``kg⁻¹``), a mark
  with no letter or digit stays as it is (``GeneReviews®``), an ordinal stays on
  its number (``5th``), a script opening a word is written as it is, and
  anything else is written ``^x`` or ``^(x y)``;
* a subscript likewise: ``CO₂``, ``IC₅₀``, else ``p_trend``;
* MathML is rendered from its structure, without the whitespace NCBI lays it
  out with: tokens are joined (``VO2max``), subscripts and prescripts written
  on the line as running text writes them (``VO2max``, isotopes ``3He``),
  superscripts as above, fractions ``a/b``, roots ``√x``. A dot accent (Newton's
  "rate", as in V̇O2) is dropped, as plain-text abstracts and keywords write it;
  other accents (bar, hat, tilde, arrow) become combining marks (``x̄``) because
  they change what the symbol means.
"""

from __future__ import annotations

from typing import Any

__all__ = ["element_text", "subscript", "superscript"]

Element = Any  # lxml's _Element

_SUPERSCRIPTS = str.maketrans("0123456789+-−–=()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁻⁼⁽⁾")
_SUBSCRIPTS = str.maketrans("0123456789+-−–=()", "₀₁₂₃₄₅₆₇₈₉₊₋₋₋₌₍₎")
_SCRIPTABLE = frozenset("0123456789+-−–=()")
_ORDINALS = frozenset({"st", "nd", "rd", "th"})
_OPENERS = frozenset("([{\"'“‘")  # after these a script starts a word

# MathML elements that draw nothing, and the token elements that hold the text.
_SILENT = frozenset(
    {"annotation", "annotation-xml", "none", "mprescripts", "mphantom", "malignmark", "maligngroup"}
)
_TOKENS = frozenset({"mi", "mn", "mo", "ms", "mtext"})
# Accents over a base: combining marks; dots are dropped (see the module docstring).
_ACCENTS = {
    "¯": "\u0304",
    "‾": "\u0304",
    "_": "\u0304",
    "―": "\u0304",
    "^": "\u0302",
    "ˆ": "\u0302",
    "~": "\u0303",
    "˜": "\u0303",
    "→": "\u20d7",
    "⃗": "\u20d7",
    ".": "",
    "˙": "",
    "·": "",
    "\u0307": "",
    "¨": "",
    "..": "",
}
_UNDER_ACCENTS = {"_": "\u0332", "¯": "\u0332", "‾": "\u0332", "―": "\u0332", "~": "\u0330"}


def element_text(elem: Element) -> str:
    """All text inside ``elem``, inline markup rendered, whitespace normalised."""
    if not len(elem):
        return " ".join((elem.text or "").split())
    parts: list[str] = []
    _inline_children(elem, parts)
    return " ".join("".join(parts).split())


def superscript(text: str, before: str = "") -> str:
    """A superscript as plain text that keeps it apart from what precedes it."""
    return _script(text, before, _SUPERSCRIPTS, "^")


def subscript(text: str, before: str = "") -> str:
    """A subscript as plain text that keeps it apart from what precedes it."""
    return _script(text, before, _SUBSCRIPTS, "_")


def _script(text: str, before: str, table: dict[int, int], marker: str) -> str:
    text = " ".join(text.split())
    if not text:
        return ""
    if _SCRIPTABLE.issuperset(text):
        return text.translate(table)
    if not any(c.isalnum() for c in text):
        return text  # ®, ™, *, †: a mark, not a number to keep apart
    last = before[-1:]
    if not last or last.isspace() or last in _OPENERS:
        return text  # at a word's start nothing can merge with it: <sub>V</sub>MLSS is VMLSS
    if marker == "^" and text.lower() in _ORDINALS and last.isdigit():
        return text  # 5<sup>th</sup>
    return f"{marker}({text})" if " " in text else marker + text


# --------------------------------------------------------------------------- inline markup


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _inline_children(elem: Element, parts: list[str]) -> None:
    """``elem``'s own text and its children's, appended to ``parts`` (never an empty one).

    A script looks at ``parts[-1]`` to see what it follows.
    """
    if elem.text:
        parts.append(elem.text)
    for child in elem:
        name = _local(child.tag)
        rendered = ""
        if name in ("sup", "sub"):
            inner: list[str] = []
            _inline_children(child, inner)
            render = superscript if name == "sup" else subscript
            rendered = render("".join(inner), parts[-1] if parts else "")
        elif name == "math":
            rendered = _math(child)
        elif name:
            _inline_children(child, parts)  # <i>, <b>, <u> and the like: their text only
        if rendered:
            parts.append(rendered)
        if child.tail:
            parts.append(child.tail)


# --------------------------------------------------------------------------- MathML


def _math(node: Element) -> str:
    """Compact text of one MathML element; container text and tails are layout, never content."""
    name = _local(node.tag)
    if name in _TOKENS:
        text = "".join(node.itertext())
        if name == "mtext":
            # Text the author typed: its spaces (NBSP, thin space, " and ") are content.
            words = " ".join(text.split())
            lead = " " if text[:1].isspace() else ""
            trail = " " if text[-1:].isspace() and words else ""
            return lead + words + trail
        return " ".join(text.split())
    if name in _SILENT:
        return ""
    if name == "mspace":
        return " "
    children = list(node)
    if name in ("msub", "msup", "msubsup"):
        return _scripted(name, [_math(c) for c in children])
    if name in ("mover", "munder", "munderover"):
        return _over_under(name, children)
    if name == "mmultiscripts":
        return _multiscripts(children)
    if name == "mfrac" and len(children) == 2:
        return f"{_grouped(_math(children[0]))}/{_grouped(_math(children[1]))}"
    if name == "msqrt":
        return "√" + _grouped(_row(children))
    if name == "mroot" and len(children) == 2:
        return superscript(_math(children[1])) + "√" + _grouped(_math(children[0]))
    if name == "mfenced":
        return _fenced(node, children)
    if name == "semantics":
        return _math(children[0]) if children else ""
    if name == "mtable":
        return "; ".join(_math(row) for row in children)
    if name in ("mtr", "mlabeledtr"):
        return " ".join(_math(cell) for cell in children)
    return _row(children)


def _row(children: list[Element]) -> str:
    return "".join(_math(child) for child in children)


def _scripted(name: str, parts: list[str]) -> str:
    if not parts:
        return ""
    base = parts[0]
    sub = parts[1] if name in ("msub", "msubsup") and len(parts) > 1 else ""
    sup = parts[-1] if name in ("msup", "msubsup") and len(parts) > 1 else ""
    return base + sub + superscript(sup, base + sub)


def _over_under(name: str, children: list[Element]) -> str:
    """Base, then its under- and over-scripts: accents as combining marks, others as scripts."""
    if not children:
        return ""
    out = _math(children[0])
    under = children[1:2] if name in ("munder", "munderover") else []
    over = children[2:3] if name == "munderover" else children[1:2] if name == "mover" else []
    for script_node in under:
        script = _math(script_node)
        out += _UNDER_ACCENTS[script] if script in _UNDER_ACCENTS else subscript(script, out)
    for script_node in over:
        script = _math(script_node)
        out += _ACCENTS[script] if script in _ACCENTS else superscript(script, out)
    return out


def _multiscripts(children: list[Element]) -> str:
    """Base, then (sub, sup) pairs, then <mprescripts/> and (presub, presup) pairs."""
    if not children:
        return ""
    base = _math(children[0])
    post: list[str] = []
    pre: list[str] = []
    target = post
    for child in children[1:]:
        if _local(child.tag) == "mprescripts":
            target = pre
            continue
        target.append(_math(child))
    subs = "".join(post[0::2])
    sups = "".join(post[1::2])
    return "".join(pre) + base + subs + superscript(sups, base + subs)


def _fenced(node: Element, children: list[Element]) -> str:
    separators = "".join((node.get("separators") or ",").split())
    inner = ""
    for index, child in enumerate(children):
        if index and separators:
            inner += separators[min(index - 1, len(separators) - 1)]
        inner += _math(child)
    return node.get("open", "(") + inner + node.get("close", ")")


def _grouped(text: str) -> str:
    """Parentheses around a fraction part or radicand of more than one term."""
    text = text.strip()
    if len(text) <= 1 or text.replace(".", "").isalnum() or text[0] + text[-1] == "()":
        return text
    return f"({text})"
