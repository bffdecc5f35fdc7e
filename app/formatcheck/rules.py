"""The AAAI format rules of SPEC.md, composed: page checks, then the text, then each rule on it.

Each rule is a small function below; reading the pages lives in paper.py, where text lies in
layout.py, headings in headings.py, the bibliography in references.py and posters in poster.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from app.formatcheck.boxes import line_boxes, page_boxes
from app.formatcheck.headings import _NUMBERING, _display_name, _sections_of, _show_synonym, _synonym_table
from app.formatcheck.layout import (
    _body_pages,
    _describe_size,
    _Heading,
    _in_references,
    _is_body,
    _is_letter,
    _judge_columns,
    _Layout,
    _margin_pages,
    _pt,
)
from app.formatcheck.paper import MAX_TEXT_PAGES, NO_TEXT_CHARS_PER_PAGE, _analyse, _read_texts
from app.formatcheck.poster import _check_poster
from app.formatcheck.producer import describe_makers, made_by_tex
from app.formatcheck.reader import EncryptedPdf, PageBox, PageText, UnreadablePdf, read_structure
from app.formatcheck.report import CheckReport, Finding, pages_phrase
from app.formatcheck.rulesets import (  # re-exported: callers of rules.py find the public names here too
    DEFAULT_PAGE_LIMITS,
    DEFAULT_REQUIRED_SECTIONS,
    DEFAULT_SYNONYMS,
    FRONT_MATTER_LABELS,
    PAPER_RULESETS,
    REFERENCE_HEADINGS,
    RULESETS,
)

__all__ = [
    "DEFAULT_PAGE_LIMITS",
    "DEFAULT_REQUIRED_SECTIONS",
    "DEFAULT_SYNONYMS",
    "FRONT_MATTER_LABELS",
    "PAPER_RULESETS",
    "REFERENCE_HEADINGS",
    "RULESETS",
    "check_pdf",
    "unreadable_report",
]

BODY_SIZE_RANGE = (9.0, 11.0)
FONT_SIZE_SAMPLE_BOXES = 5
FONT_SIZE_SAMPLE_MIN_LINE = 40  # paragraph lines, not the author names of the title block


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
        _check_paper(report, data, boxes, limit, required, table, structure.makers)
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


def _check_paper(
    report: CheckReport,
    data: bytes,
    boxes: list[PageBox],
    limit: int,
    required: tuple[str, ...],
    synonyms: dict[str, list[str]],
    makers: list[str],
) -> None:
    total = len(boxes)
    _check_page_size(report, boxes)
    page_limit_at = _check_page_limit(report, total, limit)
    analysed = min(total, MAX_TEXT_PAGES)
    texts, skimmed = _read_texts(data, boxes[:analysed], limit=limit, synonyms=synonyms)
    if _check_no_text(report, texts, analysed, skimmed):
        if page_limit_at is not None:
            finding = report.errors[page_limit_at]
            report.errors[page_limit_at] = replace(finding, boxes=page_boxes(finding.pages, boxes))
        return
    layout = _analyse(texts, boxes[:analysed], synonyms)  # the pages read: a very long file is read only so far
    if page_limit_at is not None:
        finding = report.errors[page_limit_at]
        report.errors[page_limit_at] = replace(finding, boxes=_page_limit_boxes(layout, boxes, finding.pages))
    facts = report.facts
    facts["references_start_page"] = layout.references_page
    facts["headings"] = [h.text for h in layout.headings]
    facts["body_font_size"] = layout.body_size
    _check_body_pages(report, layout, boxes, limit, skimmed, (analysed, total))
    _check_columns(report, layout, texts, boxes)
    _check_sections(report, layout, required, synonyms)
    _check_references(report, layout)
    _check_font_size(report, layout, boxes)
    _check_margins(report, layout, boxes)
    _check_not_latex(report, makers)


def _check_page_size(report: CheckReport, boxes: list[PageBox]) -> None:
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


def _check_page_limit(report: CheckReport, total: int, limit: int) -> int | None:
    """Add page-limit when the paper is too long; its place in the errors (its boxes come later)."""
    if total <= limit:
        return None
    report.errors.append(
        Finding(
            "page-limit",
            f"The {report.ruleset} has {total} pages; at most {limit} are allowed (page {limit} only for references).",
            list(range(limit + 1, total + 1)),
        )
    )
    return len(report.errors) - 1


def _check_no_text(report: CheckReport, texts: list[PageText], analysed: int, skimmed: list[int]) -> bool:
    """Record what was read; add no-text (and say so) when the pages read hold almost no text."""
    chars = sum(t.chars for t in texts)
    facts = report.facts
    facts["pages_analysed"] = analysed - len(skimmed)
    if skimmed:
        facts["pages_skimmed"] = [p + 1 for p in skimmed]
    facts["text_chars"] = chars
    if chars >= NO_TEXT_CHARS_PER_PAGE * (analysed - len(skimmed)):
        return False
    report.errors.append(
        Finding(
            "no-text",
            "This PDF has no text layer: it looks scanned or made of images. Export it from your "
            "editor (LaTeX, Word) so that its text can be selected.",
            [],
        )
    )
    facts.update(references_start_page=None, headings=[], body_font_size=None, columns_per_page=[])
    return True


def _check_body_pages(
    report: CheckReport,
    layout: _Layout,
    boxes: list[PageBox],
    limit: int,
    skimmed: list[int],
    extent: tuple[int, int],
) -> None:
    analysed, total = extent
    body_pages = _body_pages(layout)
    report.facts["body_pages"] = body_pages
    late = [p for p in body_pages if p >= limit]
    if not late:
        return
    message = _body_pages_message(layout, late, limit)
    skim_note = f"{pages_phrase([p + 1 for p in skimmed])} only skimmed for headings" if skimmed else ""
    if analysed < total:
        tail = f", {skim_note[0].lower()}{skim_note[1:]}" if skim_note else ""
        message += f" (Only the first {analysed} pages were read{tail}.)"
    elif skimmed:
        verb = "was" if len(skimmed) == 1 else "were"
        message += f" ({skim_note.replace(' only', f' {verb} only', 1)}.)"
    late_set = {p - 1 for p in late}
    body = [it.line for it in layout.items if it.line.page in late_set and _is_body(layout, it)]
    report.errors.append(Finding("body-pages", message, late, line_boxes(body, boxes)))


def _check_columns(report: CheckReport, layout: _Layout, texts: list[PageText], boxes: list[PageBox]) -> None:
    columns, single, spanning = _judge_columns(layout, texts, boxes)
    report.facts["columns_per_page"] = columns
    judged = sum(1 for c in columns if c is not None)
    # A float page or a one-column appendix does not make a two-column paper one-column:
    # the paper as a whole is judged, by a clear majority of its judged pages.
    if single and len(single) * 2 > judged:
        verb = "is" if len(single) == 1 else "are"
        report.errors.append(
            Finding(
                "columns",
                f"{pages_phrase(single)} {verb} set in one column; the AAAI template sets the body in two columns.",
                single,
                line_boxes(spanning, boxes),
            )
        )


def _check_sections(
    report: CheckReport, layout: _Layout, required: tuple[str, ...], synonyms: dict[str, list[str]]
) -> None:
    found = {section for h in layout.headings for section in _sections_of(h.key, synonyms)}
    for key in required:
        if key not in found:
            accepted = ", ".join(_show_synonym(s) for s in synonyms.get(key, [key]))
            report.warnings.append(
                Finding(
                    f"missing-section:{key}",
                    f"No {_display_name(key)} section heading was found (accepted headings: {accepted}).",
                    [],
                )
            )


def _check_references(report: CheckReport, layout: _Layout) -> None:
    if layout.references is None:
        report.warnings.append(
            Finding("no-references", "No References or Bibliography section was found at the end of the paper.", [])
        )


def _check_font_size(report: CheckReport, layout: _Layout, boxes: list[PageBox]) -> None:
    size = layout.body_size
    if size is None or BODY_SIZE_RANGE[0] <= size <= BODY_SIZE_RANGE[1]:
        return
    sample = [
        it.line
        for it in layout.items
        if it.line.kind == "text"
        and not it.furniture
        and it.line.size == size
        and len(it.line.text) >= FONT_SIZE_SAMPLE_MIN_LINE
        and not _in_references(layout, it.index)
    ]
    report.warnings.append(
        Finding(
            "font-size",
            f"The body text is set in {size:g} pt; the AAAI template uses 10 pt.",
            [],
            line_boxes(sample, boxes, limit=FONT_SIZE_SAMPLE_BOXES),
        )
    )


def _check_margins(report: CheckReport, layout: _Layout, boxes: list[PageBox]) -> None:
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


def _check_not_latex(report: CheckReport, makers: list[str]) -> None:
    maker = _not_latex(makers)
    if maker is not None:
        report.warnings.append(
            Finding(
                "not-latex",
                f"This PDF was made with {maker}, not with LaTeX; the lecture asks for reports written in LaTeX "
                "(for example with the AAAI template on Overleaf).",
                [],
            )
        )


def _not_latex(makers: list[str]) -> str | None:
    """What made the PDF when its producer and creator show no TeX program; None when TeX made it
    or nothing was recorded (a file that says nothing is not held against its authors)."""
    if made_by_tex(makers):
        return None
    return describe_makers(makers)


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
