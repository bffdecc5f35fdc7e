"""A paper's text: the pages read (in full or skimmed) and their analysis into one layout."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable

import pypdfium2 as pdfium

from app.formatcheck.headings import _find_headings, _normalise, _sections_of
from app.formatcheck.layout import (
    _CAPTION,
    _bucket,
    _flag_running_heads,
    _furniture_flags,
    _in_references,
    _in_title_block,
    _is_two_column,
    _Item,
    _Layout,
    _mode,
)
from app.formatcheck.lines import new_font_cache, read_page_text
from app.formatcheck.reader import PageBox, PageText, open_text_document
from app.formatcheck.references import _find_references
from app.formatcheck.rulesets import REFERENCE_HEADINGS

# Character analysis stops here: a verdict on a longer file needs no more pages
# (page-limit is already certain), and a 5,000-page upload must stay cheap.
MAX_TEXT_PAGES = 40
NO_TEXT_CHARS_PER_PAGE = 16

_PDFIUM_LOCK = threading.Lock()  # pdfium is not thread-safe; worker processes never contend for it
_SKIM_PREFIX = re.compile(r"^(?:\d{1,4}\s+)+(?=\S)")  # line numbers before a heading in plain text
_SKIM_SUFFIX = re.compile(r"(?<=\S)\s+\d{1,4}$")


def _read_texts(
    data: bytes, boxes: list[PageBox], *, limit: int, synonyms: dict[str, list[str]], skim: bool = True
) -> tuple[list[PageText], list[int]]:
    """The lines of each page, and the pages only skimmed (their lines left empty).

    A paper longer than the limit by more than a page is certain to get page-limit, and its
    body-pages verdict is settled by page 1 and pages N and N+1, as long as its references do
    not start before page N. Its other pages are read in full only when their plain text shows
    a heading line (a section or the references) or follows the references heading: lines and
    fonts cost several times what plain text does, and body pages in between change nothing.
    """
    total = len(boxes)
    skim = skim and total > limit + 1
    always = {0, limit - 1, limit}
    texts: list[PageText] = []
    skimmed: list[int] = []
    state = {"early": False, "next": False}

    def wanted(index: int) -> Callable[[str], bool]:
        def decide(plain: str) -> bool:
            kind = _skim_headings(plain, synonyms)
            if kind == "references":
                state["next"] = True  # the list continues on the next page
                if index < limit:
                    state["early"] = True  # body may follow the references anywhere: read it all
                return True
            return kind == "heading" or index in always or state["early"]

        return decide

    with _PDFIUM_LOCK:
        doc = open_text_document(data)
        try:
            fonts = new_font_cache()
            for index, box in enumerate(boxes):
                follow, state["next"] = state["next"], False
                decide = wanted(index) if skim and not follow else None
                try:
                    text = read_page_text(doc, index, box, fonts, want_images=index >= limit - 1, wanted=decide)
                except pdfium.PdfiumError:
                    text = PageText(lines=[], chars=0, images=[])  # one bad page is not a bad file
                if text is None:
                    skimmed.append(index)
                    text = PageText(lines=[], chars=0, images=[])
                texts.append(text)
        finally:
            doc.close()
    if state["early"] and skimmed:
        return _read_texts(data, boxes, limit=limit, synonyms=synonyms, skim=False)[0], []
    return texts, skimmed


def _skim_headings(plain: str, synonyms: dict[str, list[str]]) -> str | None:
    """ "references" or "heading" when a line of a page's plain text reads as one, else None."""
    lines = [_SKIM_PREFIX.sub("", line).strip() for line in plain.splitlines()]
    found = None
    for k, line in enumerate(lines):
        # Headings start with a capital or a number; most lines of running text do not.
        if not line[:1].isupper() and not line[:1].isdigit():
            continue
        short = len(line.split()) <= 9
        following = f"{line} {lines[k + 1]}" if short and k + 1 < len(lines) else ""
        # Line numbers printed right of the text end the line in plain text.
        for candidate in (line, _SKIM_SUFFIX.sub("", line), following):
            if not candidate or len(candidate) > 120 or len(candidate.split()) > 14:
                continue
            key = _normalise(candidate)
            if key in REFERENCE_HEADINGS:
                return "references"
            if found is None and _sections_of(key, synonyms):
                found = "heading"
    return found


def _analyse(texts: list[PageText], boxes: list[PageBox], synonyms: dict[str, list[str]]) -> _Layout:
    furniture = [_furniture_flags(text.lines, box) for text, box in zip(texts, boxes, strict=True)]
    _flag_running_heads(texts, boxes, furniture)
    weights: Counter[float] = Counter()
    for text, flags in zip(texts, furniture, strict=True):
        for line, flag in zip(text.lines, flags, strict=True):
            if not flag:
                weights[line.size] += line.chars
    layout = _layout(texts, boxes, furniture, synonyms, _mode(weights))
    # The body size is that of the running text: paragraph lines outside the title block, the
    # headings, the captions and the references (a long 9 pt bibliography or big tables must not outvote it).
    tried = {layout.body_size}
    for _ in range(2):  # the references and the title block are found anew at the new size
        body_size = _mode(_paragraph_weights(layout, boxes))
        if body_size is None or body_size in tried:
            break
        tried.add(body_size)
        layout = _layout(texts, boxes, furniture, synonyms, body_size)
    return layout


def _paragraph_weights(layout: _Layout, boxes: list[PageBox]) -> Counter[float]:
    """Characters per size over the lines of body paragraphs (table cells are narrow, so they are left out)."""
    weights: Counter[float] = Counter()
    for item in layout.items:
        line = item.line
        if line.kind != "text" or item.furniture or _in_references(layout, item.index):
            continue
        if _in_title_block(layout, line) or _CAPTION.match(line.text):
            continue
        if len(line.text.split()) >= 5 and line.x1 - line.x0 >= 0.2 * boxes[line.page].width:
            weights[line.size] += line.chars
    return weights


def _layout(
    texts: list[PageText],
    boxes: list[PageBox],
    furniture: list[list[bool]],
    synonyms: dict[str, list[str]],
    body_size: float | None,
) -> _Layout:
    """Reading order, headings and references, judged against one body size."""
    items: list[_Item] = []
    two_column: list[bool] = []
    for page, text in enumerate(texts):
        box = boxes[page]
        flags = furniture[page]
        two = _is_two_column([ln for ln, f in zip(text.lines, flags, strict=True) if not f], box, body_size)
        two_column.append(two)
        page_items = [_Item(ln, _bucket(ln, box, two), f) for ln, f in zip(text.lines, flags, strict=True)]
        page_items += [_Item(img, _bucket(img, box, two), False) for img in text.images]
        page_items.sort(key=lambda it: (it.bucket, -it.line.y, it.line.x0))
        items.extend(page_items)
    for index, item in enumerate(items):
        item.index = index
    layout = _Layout(body_size=body_size, items=items, two_column=two_column)
    if body_size is not None:
        _find_headings(layout, synonyms)
        _find_references(layout)
    return layout
