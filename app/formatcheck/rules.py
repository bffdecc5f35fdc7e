"""The AAAI format rules of SPEC.md: page checks, headings, references, columns and body pages.

Synonyms are matched against a heading's whole text, case-insensitively, with numbering
and trailing punctuation stripped. A synonym ending in ``*`` matches any heading that
contains a word starting with it (``plan*`` matches "Project Plan" and "Planned Work").
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import pypdfium2 as pdfium

from app.formatcheck.boxes import line_boxes, page_boxes

from app.formatcheck.reader import (
    EncryptedPdf,
    Line,
    PageBox,
    PageText,
    UnreadablePdf,
    new_font_cache,
    open_text_document,
    read_page_text,
    read_structure,
)
from app.formatcheck.report import CheckReport, Finding, pages_phrase

RULESETS: tuple[str, ...] = ("proposal", "report", "poster", "slides")
PAPER_RULESETS: tuple[str, ...] = ("proposal", "report")
DEFAULT_PAGE_LIMITS: dict[str, int] = {"proposal": 3, "report": 6}
DEFAULT_REQUIRED_SECTIONS: dict[str, tuple[str, ...]] = {
    "proposal": ("abstract", "introduction", "related-work", "plan"),
    "report": ("abstract", "introduction", "related-work", "proposed-solution", "experiments", "conclusion"),
}
DEFAULT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "abstract": ("abstract",),
    "introduction": ("introduction",),
    "related-work": (
        "related work",
        "related works",
        "literature review",
        "prior work",
        "background and related work",
        "related research",
    ),
    "plan": ("plan*", "timeline*", "proposed approach", "proposed method", "methodology"),
    "proposed-solution": (
        "proposed solution",
        "proposed method",
        "method",
        "methods",
        "methodology",
        "approach",
        "our approach",
        "proposed approach",
        "model",
    ),
    "experiments": (
        "experiment",
        "experiments",
        "experimental results",
        "experimental setup",
        "experiments and results",
        "evaluation",
        "results",
    ),
    "conclusion": (
        "conclusion",
        "conclusions",
        "conclusion and future work",
        "conclusions and future work",
        "discussion and conclusion",
        "discussion and conclusions",
        "summary",
    ),
}
REFERENCE_HEADINGS: frozenset[str] = frozenset(
    {"references", "reference", "bibliography", "literature cited", "works cited", "cited works"}
)

# Character analysis stops here: a verdict on a longer file needs no more pages
# (page-limit is already certain), and a 5,000-page upload must stay cheap.
MAX_TEXT_PAGES = 40

LETTER_PT = (612.0, 792.0)
LETTER_TOLERANCE_PT = 4.0
PT_PER_MM = 72.0 / 25.4
A0_MM = (841.0, 1189.0)
A0_TOLERANCE_MM = 3.0
# The AAAI text block: 7 x 9 in, 0.75 in from the top, left and right edges of a Letter page.
BLOCK_MARGIN_PT = 54.0
BLOCK_HEIGHT_PT = 648.0
MARGIN_SLACK_PT = 18.0  # a quarter inch: other templates' slightly larger blocks are not layout errors
BODY_SIZE_RANGE = (9.0, 11.0)
COLUMN_JUDGE_MIN_CHARS = 500
NO_TEXT_CHARS_PER_PAGE = 16
FONT_SIZE_SAMPLE_BOXES = 5
FONT_SIZE_SAMPLE_MIN_LINE = 40  # paragraph lines, not the author names of the title block

_PDFIUM_LOCK = threading.Lock()  # pdfium is not thread-safe; worker processes never contend for it

_NAMED_SIZES_MM = {
    "A0": (841, 1189),
    "A1": (594, 841),
    "A2": (420, 594),
    "A3": (297, 420),
    "A4": (210, 297),
    "A5": (148, 210),
    "US Letter": (215.9, 279.4),
    "US Legal": (215.9, 355.6),
}

_TOP_NUMBER = re.compile(r"^(?:\d{1,2}|[IVX]{1,6})\.?\s+(?=\S)")
_SUB_NUMBER = re.compile(r"^(?:\d{1,2}\.\d|[IVX]{1,6}\.[A-Z0-9]|[A-Z]\.\d|[A-Z][.)]\s)")
_NUMBERING = re.compile(r"^(?:(?:\d{1,2}(?:\.\d{1,2})*|[IVXivx]{1,6}|[A-Za-z])[.)]?\s+|\d{1,2}(?:\.\d{1,2})*\.?\s*)")
_CAPTION = re.compile(r"^(?:fig(?:ure)?|table|tab|algorithm|listing|eq(?:uation)?)\.?\s*\d", re.I)
_RUN_IN = re.compile(r"^\s*([^\W\d_][^.:—–]{0,48}?)\s*([.:—–]|-{1,2}\s)")
_REFERENCE_ENTRY = re.compile(r"\b(?:19|20)\d\d[a-z]?\b|^\s*\[\d{1,3}\]|^\s*\d{1,3}\.\s")
_SOFT_HYPHENS = str.maketrans({"\ufffe": "-", "\u00ad": "-", "\u2010": "-"})


@dataclass(slots=True)
class _Item:
    """A line (or figure) with its place in reading order."""

    line: Line
    bucket: int
    furniture: bool
    index: int = 0


@dataclass(slots=True)
class _Heading:
    text: str
    key: str  # normalised text
    item: int  # index of its first line in reading order
    page: int
    size: float
    kind: str  # "display" or "run-in"
    top: bool = False


@dataclass(slots=True)
class _Layout:
    """Everything the paper rules are judged on."""

    body_size: float | None
    items: list[_Item]
    two_column: list[bool]
    headings: list[_Heading] = field(default_factory=list)
    candidates: list[_Heading] = field(default_factory=list)
    references: tuple[int, int] | None = None
    references_page: int | None = None


def check_pdf(
    source: str | os.PathLike[str] | bytes,
    ruleset: str = "proposal",
    *,
    required_sections: Sequence[str] | None = None,
    synonyms: Mapping[str, Iterable[str]] | None = None,
    page_limit: int | None = None,
) -> CheckReport:
    """Check a PDF (path or bytes) against a rule set, in this process."""
    if ruleset not in RULESETS:
        raise ValueError(f"unknown ruleset {ruleset!r}; expected one of {', '.join(RULESETS)}")
    data = _load(source)
    try:
        structure = read_structure(data)
    except EncryptedPdf:
        return _encrypted_report(ruleset)
    except UnreadablePdf as exc:
        return unreadable_report(ruleset, _unreadable_reason(exc))
    boxes = structure.pages
    report = CheckReport(ruleset=ruleset, pages=len(boxes))
    report.facts["page_sizes_pt"] = [[_pt(b.width), _pt(b.height)] for b in boxes]
    if ruleset == "slides":
        return report
    if ruleset == "poster":
        _check_poster(report, boxes)
        return report
    limit = page_limit if page_limit is not None else DEFAULT_PAGE_LIMITS[ruleset]
    if limit < 1:
        raise ValueError("page_limit must be at least 1")
    required = tuple(required_sections) if required_sections is not None else DEFAULT_REQUIRED_SECTIONS[ruleset]
    table = _synonym_table(synonyms)
    try:
        _check_paper(report, data, boxes, limit, required, table)
    except UnreadablePdf as exc:
        return unreadable_report(ruleset, _unreadable_reason(exc))
    except EncryptedPdf:
        return _encrypted_report(ruleset)
    return report


def unreadable_report(ruleset: str, detail: str) -> CheckReport:
    """A report holding only the `unreadable` error; `detail` is what the PDF reader said."""
    message = (
        "This file could not be read as a PDF: it is damaged, cut short or not a PDF at all. "
        f"Export it again as a PDF and upload that. (Details: {detail}.)"
    )
    return CheckReport(ruleset=ruleset, pages=0, errors=[Finding("unreadable", message, [])])


def _encrypted_report(ruleset: str) -> CheckReport:
    message = (
        "This PDF is protected by a password, so nobody can open it without one. "
        "Save or export it again without a password."
    )
    return CheckReport(ruleset=ruleset, pages=0, errors=[Finding("encrypted", message, [])])


def _unreadable_reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()).rstrip(".")
    if not text:
        return type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _load(source: str | os.PathLike[str] | bytes) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (bytearray, memoryview)):
        return bytes(source)
    with open(source, "rb") as handle:
        return handle.read()


def _pt(value: float) -> float | int:
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def _size_name(width: float, height: float) -> str:
    short, long = sorted((width / PT_PER_MM, height / PT_PER_MM))
    for name, (a, b) in _NAMED_SIZES_MM.items():
        if abs(short - a) <= 3 and abs(long - b) <= 3:
            return name
    return ""


def _describe_size(width: float, height: float) -> str:
    name = _size_name(width, height)
    text = f"{width:.0f} × {height:.0f} pt"
    return f"{text} ({name})" if name else text


# --- posters -----------------------------------------------------------------------


def _check_poster(report: CheckReport, boxes: list[PageBox]) -> None:
    if len(boxes) != 1:
        report.errors.append(
            Finding(
                "poster-pages",
                f"The poster has {len(boxes)} pages; it must be a single page.",
                list(range(2, len(boxes) + 1)),
            )
        )
    a0_short, a0_long = (v * PT_PER_MM for v in A0_MM)
    tolerance = A0_TOLERANCE_MM * PT_PER_MM
    wrong_size = []
    landscape = []
    for number, box in enumerate(boxes, start=1):
        short, long = sorted((box.width, box.height))
        if abs(short - a0_short) > tolerance or abs(long - a0_long) > tolerance:
            wrong_size.append(number)
        if box.width > box.height:
            landscape.append(number)
    if wrong_size:
        box = boxes[wrong_size[0] - 1]
        w_mm, h_mm = box.width / PT_PER_MM, box.height / PT_PER_MM
        name = _size_name(box.width, box.height)
        sheet = f"{w_mm:.0f} × {h_mm:.0f} mm" + (f", {name}" if name else "")
        where = "The sheet is" if len(boxes) == 1 else f"{pages_phrase(wrong_size)}: the sheet is"
        report.errors.append(
            Finding(
                "poster-size",
                f"{where} {sheet}; a poster must be A0, 841 × 1189 mm (±3 mm).",
                wrong_size,
                page_boxes(wrong_size, boxes),
            )
        )
    if landscape:
        where = "The poster is" if len(boxes) == 1 else f"{pages_phrase(landscape)} are"
        report.errors.append(
            Finding(
                "poster-orientation",
                f"{where} landscape (wider than high); the poster must be portrait, 841 mm wide × 1189 mm high.",
                landscape,
                page_boxes(landscape, boxes),
            )
        )


# --- papers ------------------------------------------------------------------------


def _check_paper(
    report: CheckReport,
    data: bytes,
    boxes: list[PageBox],
    limit: int,
    required: tuple[str, ...],
    synonyms: dict[str, list[str]],
) -> None:
    total = len(boxes)
    page_limit_at: int | None = None
    wrong = [n for n, b in enumerate(boxes, start=1) if not _is_letter(b)]
    if wrong:
        sizes = sorted({_describe_size(boxes[n - 1].width, boxes[n - 1].height) for n in wrong})
        verb = "is" if len(wrong) == 1 else "are"
        report.errors.append(
            Finding(
                "page-size",
                f"{pages_phrase(wrong)} {verb} {', '.join(sizes)}; every page must be US Letter, "
                "612 × 792 pt (8.5 × 11 in).",
                wrong,
                page_boxes(wrong, boxes),
            )
        )
    if total > limit:
        page_limit_at = len(report.errors)
        report.errors.append(
            Finding(
                "page-limit",
                f"The {report.ruleset} has {total} pages; at most {limit} are allowed "
                f"(page {limit} only for references).",
                list(range(limit + 1, total + 1)),
            )
        )
    analysed = min(total, MAX_TEXT_PAGES)
    texts = _read_texts(data, boxes[:analysed], first_image_page=limit - 1)
    chars = sum(t.chars for t in texts)
    facts = report.facts
    facts["pages_analysed"] = analysed
    facts["text_chars"] = chars
    if chars < NO_TEXT_CHARS_PER_PAGE * analysed:
        report.errors.append(
            Finding(
                "no-text",
                "This PDF has no text layer: it looks scanned or made of images. Export it from your "
                "editor (LaTeX, Word) so that its text can be selected.",
                [],
            )
        )
        facts.update(references_start_page=None, headings=[], body_font_size=None, columns_per_page=[])
        if page_limit_at is not None:
            finding = report.errors[page_limit_at]
            report.errors[page_limit_at] = replace(finding, boxes=page_boxes(finding.pages, boxes))
        return
    layout = _analyse(texts, boxes, synonyms)
    if page_limit_at is not None:
        finding = report.errors[page_limit_at]
        report.errors[page_limit_at] = replace(finding, boxes=_page_limit_boxes(layout, boxes, finding.pages))
    facts["references_start_page"] = layout.references_page
    facts["headings"] = [h.text for h in layout.headings]
    facts["body_font_size"] = layout.body_size

    body_pages = _body_pages(layout)
    facts["body_pages"] = body_pages
    late = [p for p in body_pages if p >= limit]
    if late:
        message = _body_pages_message(layout, late, limit)
        if analysed < total:
            message += f" (Only the first {analysed} pages were read.)"
        late_set = {p - 1 for p in late}
        body = [it.line for it in layout.items if it.line.page in late_set and _is_body(layout, it)]
        report.errors.append(Finding("body-pages", message, late, line_boxes(body, boxes)))

    columns, single, spanning = _judge_columns(layout, texts, boxes)
    facts["columns_per_page"] = columns
    if single:
        verb = "is" if len(single) == 1 else "are"
        report.errors.append(
            Finding(
                "columns",
                f"{pages_phrase(single)} {verb} set in one column; the AAAI template sets the body in two columns.",
                single,
                line_boxes(spanning, boxes),
            )
        )

    found = {section for h in layout.headings for section in _sections_of(h.key, synonyms)}
    for key in required:
        if key not in found:
            accepted = ", ".join(s.rstrip("*") + ("…" if s.endswith("*") else "") for s in synonyms.get(key, [key]))
            report.warnings.append(
                Finding(
                    f"missing-section:{key}",
                    f"No {_display_name(key)} section heading was found (accepted headings: {accepted}).",
                    [],
                )
            )
    if layout.references is None:
        report.warnings.append(
            Finding("no-references", "No References or Bibliography section was found at the end of the paper.", [])
        )
    size = layout.body_size
    if size is not None and not (BODY_SIZE_RANGE[0] <= size <= BODY_SIZE_RANGE[1]):
        sample = [
            it.line
            for it in layout.items
            if it.line.kind == "text" and not it.furniture and it.line.size == size
            and len(it.line.text) >= FONT_SIZE_SAMPLE_MIN_LINE and not _in_references(layout, it.index)
        ]
        report.warnings.append(
            Finding(
                "font-size",
                f"The body text is set in {size:g} pt; the AAAI template uses 10 pt.",
                [],
                line_boxes(sample, boxes, limit=FONT_SIZE_SAMPLE_BOXES),
            )
        )
    outside, stray = _margin_pages(layout, boxes)
    if outside:
        report.warnings.append(
            Finding(
                "margins",
                f"Text lies outside the AAAI text block (7 × 9 in; 0.75 in top, left and right margins) "
                f"on {pages_phrase(outside).lower()}.",
                outside,
                line_boxes(stray, boxes),
            )
        )


def _page_limit_boxes(layout: _Layout, boxes: list[PageBox], pages: list[int]) -> list[dict[str, float]]:
    """The content of the pages past the limit; the whole sheet where none of it was read."""
    wanted = {p - 1 for p in pages}
    lines = [
        it.line
        for it in layout.items
        if it.line.page in wanted and not it.furniture and (it.line.kind == "image" or it.line.chars)
    ]
    if not lines:
        return page_boxes(pages, boxes)
    return line_boxes(lines, boxes)


def _is_letter(box: PageBox) -> bool:
    return abs(box.width - LETTER_PT[0]) <= LETTER_TOLERANCE_PT and abs(box.height - LETTER_PT[1]) <= LETTER_TOLERANCE_PT


def _read_texts(data: bytes, boxes: list[PageBox], *, first_image_page: int) -> list[PageText]:
    with _PDFIUM_LOCK:
        doc = open_text_document(data)
        try:
            fonts = new_font_cache()
            texts = []
            for index, box in enumerate(boxes):
                try:
                    texts.append(read_page_text(doc, index, box, fonts, want_images=index >= first_image_page))
                except pdfium.PdfiumError:
                    texts.append(PageText(lines=[], chars=0, images=[]))  # one bad page is not a bad file
            return texts
        finally:
            doc.close()


# --- synonyms ----------------------------------------------------------------------


def _synonym_table(overrides: Mapping[str, Iterable[str]] | None) -> dict[str, list[str]]:
    table = {key: list(values) for key, values in DEFAULT_SYNONYMS.items()}
    if overrides:
        for key, values in overrides.items():
            table[key] = [str(v) for v in values]
    return table


def _display_name(key: str) -> str:
    return " ".join(part.capitalize() for part in key.replace("_", "-").split("-"))


def _normalise(text: str) -> str:
    """Lower-case heading text without numbering, soft hyphens or trailing punctuation."""
    text = unicodedata.normalize("NFKC", text).translate(_SOFT_HYPHENS)
    text = " ".join(text.split())
    text = _NUMBERING.sub("", text, count=1)
    text = text.replace("&", " and ")
    text = re.sub(r"[\s.:;,!?\-—–]+$", "", text)
    return " ".join(text.lower().split())


def _matches(key: str, synonym: str) -> bool:
    if synonym.endswith("*"):
        stem = _normalise(synonym[:-1])
        return any(word.startswith(stem) for word in re.findall(r"[^\W_]+", key))
    return key == _normalise(synonym)


def _sections_of(key: str, synonyms: dict[str, list[str]]) -> list[str]:
    """Every section a heading satisfies ("Methodology" is both a plan and a proposed solution)."""
    return [section for section, values in synonyms.items() if any(_matches(key, v) for v in values)]


def _is_known_heading(key: str, synonyms: dict[str, list[str]]) -> bool:
    return key in REFERENCE_HEADINGS or bool(_sections_of(key, synonyms))


# --- layout analysis ---------------------------------------------------------------


def _analyse(texts: list[PageText], boxes: list[PageBox], synonyms: dict[str, list[str]]) -> _Layout:
    furniture = [_furniture_flags(text.lines, box) for text, box in zip(texts, boxes)]
    weights: Counter[float] = Counter()
    for text, flags in zip(texts, furniture):
        for line, flag in zip(text.lines, flags):
            if not flag:
                weights[line.size] += line.chars
    layout = _layout(texts, boxes, furniture, synonyms, _mode(weights))
    if layout.references is not None:
        # Body text is what is not references: a long 9 pt bibliography must not outvote it.
        weights = Counter()
        for item in layout.items:
            if item.line.kind == "text" and not item.furniture and not _in_references(layout, item.index):
                weights[item.line.size] += item.line.chars
        body_size = _mode(weights)
        if body_size is not None and body_size != layout.body_size:
            layout = _layout(texts, boxes, furniture, synonyms, body_size)
    return layout


def _mode(weights: Counter[float]) -> float | None:
    if not weights:
        return None
    return max(weights.items(), key=lambda kv: (kv[1], -kv[0]))[0]


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
        two = _is_two_column([ln for ln, f in zip(text.lines, flags) if not f], box, body_size)
        two_column.append(two)
        page_items = [_Item(ln, _bucket(ln, box, two), f) for ln, f in zip(text.lines, flags)]
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


def _furniture_flags(lines: list[Line], box: PageBox) -> list[bool]:
    """Running heads, page numbers and footers: short lines at the very top or bottom of the sheet,
    set apart from the text (a heading at the top of a column sits close to its first line)."""
    flags = []
    for line in lines:
        flag = False
        if line.kind == "text" and len(line.text.split()) <= 8 and (
            line.y < 0.07 * box.height or line.y > 0.93 * box.height
        ):
            reach = max(22.0, 2 * line.size)
            flag = not any(
                other is not line
                and abs(other.y - line.y) <= reach
                and other.x0 < line.x1
                and other.x1 > line.x0
                for other in lines
            )
        flags.append(flag)
    return flags


def _crosses_centre(line: Line, box: PageBox) -> bool:
    centre = box.width / 2
    return line.x0 < centre - 4 and line.x1 > centre + 4


def _is_two_column(lines: list[Line], box: PageBox, body_size: float | None) -> bool:
    """Two columns unless much of the body-size text runs across the page's centre."""
    if body_size is None:
        return False
    spanning = total = 0
    for line in lines:
        if line.kind != "text" or abs(line.size - body_size) > 1.0:
            continue
        n = line.chars
        total += n
        if _crosses_centre(line, box):
            spanning += n
    return total == 0 or spanning < 0.4 * total


def _bucket(line: Line, box: PageBox, two_column: bool) -> int:
    """Reading-order bucket: full-width top matter, left column, right column, full-width bottom."""
    if not two_column:
        return 0
    centre = box.width / 2
    if line.x1 <= centre + 4:
        return 1
    if line.x0 >= centre - 4:
        return 2
    return 0 if line.y > box.height / 2 else 3


def _distinctive(line: Line, body_size: float) -> str | None:
    """How a line stands out from body text, if it does: bold, larger, or set in capitals."""
    letters = [ch for ch in line.text if ch.isalpha()]
    if len(letters) < 2:
        return None
    if line.bold:
        return "bold"
    if line.size >= body_size + 0.9:
        return "large"
    text = line.text.rstrip()
    # Small capitals (IEEE's "I. INTRODUCTION") mark headings; a capitalised sentence end does not.
    if len(letters) >= 4 and all(ch.isupper() for ch in letters) and not text.endswith(".") and "[" not in text:
        return "caps"
    return None


def _heading_text_ok(text: str) -> bool:
    words = text.split()
    if not words or len(words) > 14 or len(text) > 120:
        return False
    if "@" in text or _CAPTION.match(text) or text.rstrip().endswith((",", ";")):
        return False
    rest = _NUMBERING.sub("", text, count=1).lstrip()
    return bool(rest) and not rest[0].islower() and any(ch.isalpha() for ch in rest)


def _run_in(line: Line) -> str | None:
    """The run-in heading at the start of a paragraph ("Abstract." / "Abstract—"), if any."""
    if line.kind != "text" or not line.runs or not (line.runs[0].bold or line.runs[0].italic):
        return None
    match = _RUN_IN.match(line.text)
    if not match:
        return None
    prefix = match.group(1).strip()
    if len(prefix.split()) > 6:
        return None
    styled = ""
    for run in line.runs:
        if not (run.bold or run.italic):
            break
        styled += run.text + " "
    # The phrase must be set in the distinctive face; punctuation may follow in the body face.
    if len(prefix) > len(styled.strip()) + 1:
        return None
    return prefix


def _title_block_floor(layout: _Layout, synonyms: dict[str, list[str]], body_size: float) -> float | None:
    """Lines on page 1 above this height are the title block (title, authors), not headings."""
    first_page = [it for it in layout.items if it.line.page == 0 and it.line.kind == "text" and not it.furniture]
    for item in sorted(first_page, key=lambda it: -it.line.y):
        line = item.line
        text = line.text
        key = _normalise(text)
        if _distinctive(line, body_size) and (_is_known_heading(key, synonyms) or _TOP_NUMBER.match(text)):
            return line.y
        prefix = _run_in(line)
        if prefix and _is_known_heading(_normalise(prefix), synonyms):
            return line.y
        if abs(line.size - body_size) <= 0.6 and not line.bold and len(text.split()) >= 6 and len(text) >= 40:
            return line.y
    return None


def _find_headings(layout: _Layout, synonyms: dict[str, list[str]]) -> None:
    body_size = layout.body_size
    assert body_size is not None
    floor = _title_block_floor(layout, synonyms, body_size)
    display: list[_Heading] = []
    run_ins: list[_Heading] = []
    group: list[_Item] = []
    group_style: str | None = None

    def flush() -> None:
        nonlocal group, group_style
        if group:
            text = _join_lines([it.line.text for it in group])
            first = group[0]
            if _heading_text_ok(text):
                display.append(_Heading(text, _normalise(text), first.index, first.line.page, first.line.size, "display"))
            else:
                prefix = _run_in(first.line)
                if prefix:
                    run_ins.append(_Heading(prefix, _normalise(prefix), first.index, first.line.page, first.line.size, "run-in"))
        group, group_style = [], None

    for item in layout.items:
        line = item.line
        if line.kind != "text" or item.furniture:
            continue
        if floor is not None and line.page == 0 and line.y > floor + 0.5:
            continue
        style = _distinctive(line, body_size)
        if style is None:
            flush()
            prefix = _run_in(line)
            if prefix:
                run_ins.append(_Heading(prefix, _normalise(prefix), item.index, line.page, line.size, "run-in"))
            continue
        if group:
            last = group[-1]
            same = (
                style == group_style
                and last.line.page == line.page
                and last.bucket == item.bucket
                and abs(last.line.size - line.size) < 0.3
                and 0 < last.line.y - line.y <= 1.6 * line.size
                and not last.line.text.rstrip().endswith((".", ":"))
            )
            if not same:
                flush()
        group.append(item)
        group_style = style
    flush()

    section_size = _section_size(display)
    for heading in display:
        heading.top = (
            section_size is not None
            and heading.size >= section_size - 0.4
            and not _SUB_NUMBER.match(heading.text)
        )
    first_top = min((h.item for h in display if h.top), default=len(layout.items))
    kept = [h for h in display if h.top]
    # Before the first section (the front matter) an Abstract may be set in any style, or run in.
    kept += [
        h
        for h in display + run_ins
        if not h.top and h.item < first_top and _sections_of(h.key, synonyms)
    ]
    kept.sort(key=lambda h: h.item)
    layout.headings = kept
    layout.candidates = display + run_ins


def _join_lines(texts: list[str]) -> str:
    out = ""
    for text in texts:
        text = text.strip()
        if out.endswith(("\ufffe", "\u00ad", "-")) and out[-2:-1].isalpha():
            out = out[:-1] + text
        else:
            out = f"{out} {text}" if out else text
    return out


def _section_size(display: list[_Heading]) -> float | None:
    """The size of top-level section headings: that of numbered ones, else the largest repeated."""
    numbered = [h.size for h in display if _TOP_NUMBER.match(h.text) and not _SUB_NUMBER.match(h.text)]
    if numbered:
        return Counter(numbered).most_common(1)[0][0]
    if not display:
        return None
    sizes = Counter(h.size for h in display)
    repeated = [s for s, n in sizes.items() if n >= 2]
    return max(repeated) if repeated else max(sizes)


def _find_references(layout: _Layout) -> None:
    """The real bibliography: the last References heading followed by a reference list."""
    candidates = layout.candidates
    tops = sorted(h.item for h in layout.headings if h.top)
    for heading in sorted(candidates, key=lambda h: -h.item):
        if heading.key not in REFERENCE_HEADINGS:
            continue
        end = next((i for i in tops if i > heading.item), len(layout.items))
        entries = [
            it.line.text
            for it in layout.items[heading.item + 1 : end]
            if it.line.kind == "text" and not it.furniture
        ]
        if entries:
            hits = sum(1 for t in entries if _REFERENCE_ENTRY.search(t))
            if hits < 2 and hits < 0.25 * len(entries):
                continue
        elif end != len(layout.items):
            continue  # an empty list counts only at the very end of the paper
        layout.references = (heading.item, end)
        layout.references_page = heading.page + 1
        if heading not in layout.headings:
            layout.headings.append(heading)
            layout.headings.sort(key=lambda h: h.item)
        return


def _in_references(layout: _Layout, index: int) -> bool:
    span = layout.references
    return span is not None and span[0] <= index < span[1]


def _is_body(layout: _Layout, item: _Item) -> bool:
    """Body content: anything but references and page furniture; a figure is body wherever it sits."""
    line = item.line
    if line.kind == "image":
        return True
    if item.furniture or _in_references(layout, item.index):
        return False
    return any(ch.isalnum() for ch in line.text)


def _body_pages(layout: _Layout) -> list[int]:
    return sorted({item.line.page + 1 for item in layout.items if _is_body(layout, item)})


def _body_pages_message(layout: _Layout, late: list[int], limit: int) -> str:
    """Name what sits on the late pages: 'Page 3 holds the Conclusion; only references may follow page 2.'"""
    what: list[str] = []
    late_set = set(late)
    current: _Heading | None = None
    heading_at = {h.item: h for h in layout.headings}
    for item in layout.items:
        heading = heading_at.get(item.index)
        if heading is not None and heading.key not in REFERENCE_HEADINGS:
            current = heading
        if item.line.page + 1 not in late_set or not _is_body(layout, item):
            continue
        if item.line.kind == "image":
            name = "a figure"
        elif current is None or _in_references(layout, item.index):
            name = "text"
        else:
            name = _NUMBERING.sub("", current.text, count=1).strip().rstrip(".:—–")
        if name not in what:
            what.append(name)
    tail = "the paper may hold only references" if limit <= 1 else f"only references may follow page {limit - 1}"
    verb = "holds" if len(late) == 1 else "hold"
    if what == ["text"] or not what:
        return f"{pages_phrase(late)} {verb} body text; {tail}."
    if len(what) == 1:
        article = "" if what[0] == "a figure" else "the "
        return f"{pages_phrase(late)} {verb} {article}{what[0]}; {tail}."
    named = [w for w in what if w != "text"]
    shown = ", ".join(named[:4]) + (", …" if len(named) > 4 else "")
    return f"{pages_phrase(late)} {verb} body text ({shown}); {tail}."


def _judge_columns(
    layout: _Layout, texts: list[PageText], boxes: list[PageBox]
) -> tuple[list[int | None], list[int], list[Line]]:
    """Columns per page (None where under 500 body characters), the single-column pages,
    and the body lines that run across the gutter on them."""
    body_size = layout.body_size
    per_page: dict[int, list[Line]] = {}
    for item in layout.items:
        line = item.line
        if item.furniture or line.kind != "text" or _in_references(layout, item.index):
            continue
        if body_size is None or abs(line.size - body_size) > 1.0:
            continue
        per_page.setdefault(line.page, []).append(line)
    columns: list[int | None] = []
    single: list[int] = []
    spanning: list[Line] = []
    for page in range(len(texts)):
        lines = per_page.get(page, [])
        if sum(line.chars for line in lines) < COLUMN_JUDGE_MIN_CHARS:
            columns.append(None)
            continue
        two = _is_two_column(lines, boxes[page], body_size)
        columns.append(2 if two else 1)
        if not two:
            single.append(page + 1)
            spanning += [line for line in lines if _crosses_centre(line, boxes[page])]
    return columns, single, spanning


def _margin_pages(layout: _Layout, boxes: list[PageBox]) -> tuple[list[int], list[Line]]:
    """Letter pages with text outside the AAAI block, when that is so on at least half of them,
    and the lines that lie outside."""
    judged: set[int] = set()
    outside: set[int] = set()
    stray: list[Line] = []
    for item in layout.items:
        line = item.line
        box = boxes[line.page]
        if line.kind != "text" or item.furniture or not _is_letter(box):
            continue
        judged.add(line.page)
        top = box.height - BLOCK_MARGIN_PT
        bottom = top - BLOCK_HEIGHT_PT
        if (
            line.x0 < BLOCK_MARGIN_PT - MARGIN_SLACK_PT
            or line.x1 > box.width - BLOCK_MARGIN_PT + MARGIN_SLACK_PT
            or line.y + 0.7 * line.size > top + MARGIN_SLACK_PT
            or line.y < bottom - MARGIN_SLACK_PT
        ):
            outside.add(line.page)
            stray.append(line)
    if not outside or len(outside) * 2 < len(judged):
        return [], []
    return sorted(p + 1 for p in outside), stray
