"""Where the sentences of a field are, and which abstract section each belongs to.

Why hand-written: the boundary rule (". " before a capital, a line break, but not after
"e.g." or "vs.") is one regular expression plus an abbreviation check; a sentence
tokenizer library would split differently from the rule the criteria were tuned on, and
offsets must be into the field exactly as given.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? followed by space and an upper-case letter/digit/quote,
# or at a line break (structured abstracts). Decimal points ("0.5 mg") and common
# abbreviations ("e.g.", "vs.", "approx.") do not end a sentence.
ABBREVIATIONS = frozenset(
    ("e.g.", "i.e.", "vs.", "approx.", "ca.", "al.", "fig.", "no.", "spp.", "sp.", "p.")
)
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])|\n+")
_SPLIT = re.compile(r"[.!?\n](?:(?<=[.!?])(\s+)(?=[\"'(\[A-Z0-9])|(?<=\n)\n*)")


def is_abbreviation(text: str, dot: int) -> bool:
    """Whether the full stop at ``text[dot]`` ends an abbreviation ("e.g.", "et al.")."""
    space = text.rfind(" ", max(0, dot - 8), dot)
    if space == -1 and dot > 8:
        return False  # the word is longer than any abbreviation
    return text[space + 1 : dot + 1].lstrip("([").lower() in ABBREVIATIONS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Half-open (start, end) spans of the sentences of ``text``, whitespace trimmed."""
    # The boundaries of ``_BOUNDARY.finditer`` (a lookbehind at the start of a pattern
    # makes the engine try every position) less those after an abbreviation: ``_SPLIT``
    # starts at the . ! ? or line break itself, so the engine skips to those characters,
    # and its gap group is the boundary ``_BOUNDARY`` matches.
    spans: list[tuple[int, int]] = []
    start = 0
    for found in _SPLIT.finditer(text):
        end = found.start(1)
        if end < 0:  # a line break that does not follow . ! ?
            end = found.start()
        elif (
            text[found.start()] == "."
            and "\n" not in found.group(1)
            and is_abbreviation(text, found.start())
        ):
            continue  # "e.g. LSD": the sentence goes on (a line break still ends it)
        # the sentence [start, end) with surrounding whitespace trimmed, if any is left
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
        start = found.end()
    end = len(text)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
    return spans


# Structured abstracts label their sections (BACKGROUND:, METHODS:, ...); a sentence that
# starts with a label opens that section, and the kinds below are what criteria ask about.
SECTION_LABEL = re.compile(
    r"(?P<label>background|introduction|aims?|objectives?|purpose|context|rationale"
    r"|methods?(?: and analysis)?|design|setting|participants|interventions?"
    r"|results?|findings|conclusions?|discussion|interpretation"
    r"|ethics and dissemination|trial registration|limitations)\s*:",
    re.IGNORECASE,
)
SECTION_KIND = {
    "background": "background",
    "introduction": "background",
    "context": "background",
    "rationale": "background",
    "conclusion": "conclusion",
    "conclusions": "conclusion",
    "discussion": "conclusion",
    "interpretation": "conclusion",
    "limitations": "conclusion",
}
