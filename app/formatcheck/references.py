"""The bibliography: the last References heading with a list of entries below it."""

from __future__ import annotations

import re
from collections import Counter

from app.formatcheck.layout import _CAPTION, _Layout, _mode
from app.formatcheck.reader import Line
from app.formatcheck.rulesets import REFERENCE_HEADINGS

REFERENCE_LIST_PROBE_LINES = 24
# The start of a bibliography entry: a number ("[3]", "3."), or authors ("Smith, A.", "Smith AB,",
# "A. Smith and B. Chen. 2020.") before a year.
_ENTRY_START = re.compile(
    r"^\s*(?:\[\d{1,3}\]|\d{1,3}\.\s)"
    r"|^[A-Z][\w'’\-]+,\s+(?:[A-Z]\.|[A-Z][a-z]+)"
    r"|^[A-Z][\w'’\-]+\s+[A-Z]{1,3}[,.]"
    r"|^[^()]{0,160}?[.,]\s\(?(?:19|20)\d\d[a-z]?\)?[.,:]"
)
_ENTRY_FACT = re.compile(
    r"\b(?:19|20)\d\d[a-z]?\b|\b(?:In|Proceedings|Proc\.|Journal|arXiv|Conference|Transactions|pp\.|vol\.)"
)


def _find_references(layout: _Layout) -> None:
    """The real bibliography: the last References heading followed by a reference list."""
    candidates = layout.candidates
    tops = sorted(h.item for h in layout.headings if h.top)
    for heading in sorted(candidates, key=lambda h: -h.item):
        if heading.key not in REFERENCE_HEADINGS:
            continue
        end = next((i for i in tops if i > heading.item), len(layout.items))
        floats = _floats_among(layout, heading.item + 1, end)
        lines = [
            it.line
            for it in layout.items[heading.item + 1 : end]
            if it.line.kind == "text" and not it.furniture and it.index not in floats
        ]
        if lines:
            # A bibliography starts right below its heading; floats and back matter may follow it.
            if not _is_reference_list(lines[:REFERENCE_LIST_PROBE_LINES]):
                continue
        elif end != len(layout.items):
            continue  # an empty list counts only at the very end of the paper
        layout.references = (heading.item, end)
        layout.references_page = heading.page + 1
        layout.floats_in_references = floats
        if heading not in layout.headings:
            layout.headings.append(heading)
            layout.headings.sort(key=lambda h: h.item)
        return


def _is_reference_list(lines: list[Line]) -> bool:
    """A bibliography is a list of entries (numbered, or starting with authors and a year) most of
    which hold a year or a venue; prose that cites works, as author kits' instructions do, is not."""
    entries: list[list[str]] = []
    for line in lines:
        text = line.text
        if _ENTRY_START.match(text) or not entries:
            entries.append([text])
        else:
            entries[-1].append(text)
    starts = sum(1 for line in lines if _ENTRY_START.match(line.text))
    dated = sum(1 for entry in entries if _ENTRY_FACT.search(" ".join(entry)))
    # Table cells are narrow; the share of entry starts is taken over lines as wide as a column.
    widest = max(line.x1 - line.x0 for line in lines)
    wide = sum(1 for line in lines if line.x1 - line.x0 >= 0.4 * widest)
    return starts >= 2 and starts >= 0.15 * wide and dated >= 0.5 * len(entries)


def _floats_among(layout: _Layout, start: int, end: int) -> set[int]:
    """Text inside the references span that belongs to figures and tables placed there: captions,
    lines across the gutter of a two-column page, and text in another size than the entries."""
    span = [it for it in layout.items[start:end] if it.line.kind == "text" and not it.furniture]
    weights: Counter[float] = Counter()
    for item in span:
        if _ENTRY_START.match(item.line.text):
            weights[item.line.size] += item.line.chars
    entry_size = _mode(weights)
    found = set()
    for item in span:
        line = item.line
        across = layout.two_column[line.page] and item.bucket in (0, 3)
        if across or _CAPTION.match(line.text) or (entry_size is not None and abs(line.size - entry_size) > 0.6):
            found.add(item.index)
    return found
