"""Section headings: how they stand out, which section each names, and the synonyms.

Synonyms are matched against a heading's whole text, case-insensitively, with numbering
and trailing punctuation stripped. A synonym ending in ``*`` matches any heading that
contains a word starting with it (``plan*`` matches "Project Plan" and "Planned Work");
one between two ``*`` matches any heading that contains the phrase as whole words
(``*related work*`` matches "Related Work and Background" and the lecture's question
"What related work exists?").
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.formatcheck.layout import _CAPTION, _caption_lines, _Heading, _Item, _Layout
from app.formatcheck.reader import Line
from app.formatcheck.rulesets import DEFAULT_SYNONYMS, FRONT_MATTER_LABELS, REFERENCE_HEADINGS

_TOP_NUMBER = re.compile(r"^(?:\d{1,2}|[IVX]{1,6})\.?\s+(?=\S)")
# "A. Goals" is a subsection; "V. Results" (a Roman numeral) is a section.
_SUB_NUMBER = re.compile(r"^(?:\d{1,2}\.\d|[IVX]{1,6}\.[A-Z0-9]|[A-Z]\.\d|[A-HJ-UWYZ][.)]\s)")
_NUMBERING = re.compile(r"^(?:(?:\d{1,2}(?:\.\d{1,2})*|[IVXivx]{1,6}|[A-Za-z])[.)]?\s+|\d{1,2}(?:\.\d{1,2})*\.?\s*)")
_RUN_IN = re.compile(r"^\s*([^\W\d_][^.:—–]{0,48}?)\s*([.:—–]|-{1,2}\s)")
_TRAILING_PUNCTUATION = re.compile(r"[\s.:;,!?\-—–]+$")
_WORDS = re.compile(r"[^\W_]+")
_SOFT_HYPHENS = str.maketrans({"\ufffe": "-", "\u00ad": "-", "\u2010": "-"})


def _synonym_table(overrides: Mapping[str, Iterable[str]] | None) -> dict[str, list[str]]:
    table = {key: list(values) for key, values in DEFAULT_SYNONYMS.items()}
    if overrides:
        for key, values in overrides.items():
            table[key] = [str(v) for v in values]
    return table


def _show_synonym(synonym: str) -> str:
    """How a synonym reads in a message: "plan…" for a word start, "…related work…" for a phrase."""
    if len(synonym) > 2 and synonym.startswith("*") and synonym.endswith("*"):
        return f"…{synonym[1:-1]}…"
    return synonym.rstrip("*") + ("…" if synonym.endswith("*") else "")


def _display_name(key: str) -> str:
    return " ".join(part.capitalize() for part in key.replace("_", "-").split("-"))


@functools.lru_cache(maxsize=4096)
def _normalise(text: str) -> str:
    """Lower-case heading text without numbering, soft hyphens or trailing punctuation."""
    text = unicodedata.normalize("NFKC", text).translate(_SOFT_HYPHENS)
    text = " ".join(text.split())
    text = _NUMBERING.sub("", text, count=1)
    text = text.replace("&", " and ")
    text = _TRAILING_PUNCTUATION.sub("", text)
    return " ".join(text.lower().split())


@dataclass(frozen=True, slots=True)
class _Matcher:
    """One section's synonyms, normalised once: whole headings, word starts and phrases."""

    section: str
    exact: frozenset[str]
    stems: tuple[str, ...]
    phrases: tuple[str, ...]

    def matches(self, key: str, words: list[str], spaced: str) -> bool:
        """Whether a normalised heading (`key`, its `words`, and them joined with spaces around) matches."""
        if key in self.exact:
            return True
        if any(word.startswith(stem) for stem in self.stems for word in words):
            return True
        return any(f" {phrase} " in spaced for phrase in self.phrases)


def _compile(synonyms: dict[str, list[str]]) -> list[_Matcher]:
    matchers = []
    for section, values in synonyms.items():
        exact, stems, phrases = set(), [], []
        for synonym in values:
            if len(synonym) > 2 and synonym.startswith("*") and synonym.endswith("*"):
                phrase = _normalise(synonym[1:-1])
                if phrase:
                    phrases.append(phrase)
            elif synonym.endswith("*"):
                stems.append(_normalise(synonym[:-1]))
            else:
                exact.add(_normalise(synonym))
        matchers.append(_Matcher(section, frozenset(exact), tuple(stems), tuple(phrases)))
    return matchers


# The matchers of the synonym table in use (one table per check; a check may run in any thread).
_COMPILED: list[tuple[dict[str, list[str]], list[_Matcher]]] = []


def _matchers(synonyms: dict[str, list[str]]) -> list[_Matcher]:
    cached = _COMPILED[-1] if _COMPILED else None
    if cached is not None and cached[0] is synonyms:
        return cached[1]
    compiled = _compile(synonyms)
    _COMPILED[:] = [(synonyms, compiled)]
    return compiled


def _sections_of(key: str, synonyms: dict[str, list[str]]) -> list[str]:
    """Every section a heading satisfies ("Methodology" is both a plan and a proposed solution)."""
    words = _WORDS.findall(key)
    spaced = f" {' '.join(words)} "
    return [m.section for m in _matchers(synonyms) if m.matches(key, words, spaced)]


def _is_known_heading(key: str, synonyms: dict[str, list[str]]) -> bool:
    return key in REFERENCE_HEADINGS or bool(_sections_of(key, synonyms))


def _distinctive(line: Line, body_size: float) -> str | None:
    """How a line stands out from body text, if it does: bold, larger, or set in capitals."""
    if line.bold or line.size >= body_size + 0.9:
        # Two letters make a heading; stop counting there (this runs on every line of the paper).
        if sum(1 for _ in itertools.islice(filter(str.isalpha, line.text), 2)) < 2:
            return None
        return "bold" if line.bold else "large"
    if any(map(str.islower, line.text)):
        return None  # a lower-case letter rules out capitals, without listing the letters
    letters = [ch for ch in line.text if ch.isalpha()]
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
    captions = _caption_lines(layout)
    for item in sorted(first_page, key=lambda it: -it.line.y):
        line = item.line
        text = line.text
        if item.index in captions:
            continue  # a teaser figure above the title says nothing of where the title block ends
        key = _normalise(text)
        if _distinctive(line, body_size) and (_is_known_heading(key, synonyms) or _TOP_NUMBER.match(text)):
            return line.y
        if key in FRONT_MATTER_LABELS:
            return line.y  # Word's AAAI template sets "Abstract" in the body face
        prefix = _run_in(line)
        if prefix and _is_known_heading(_normalise(prefix), synonyms):
            return line.y
        if abs(line.size - body_size) <= 0.6 and not line.bold and len(text.split()) >= 6 and len(text) >= 40:
            return line.y
    return None


def _find_headings(layout: _Layout, synonyms: dict[str, list[str]]) -> None:
    """Every heading candidate of the paper, and the headings kept: the top-level sections, and
    before the first of them any heading that names a section (an Abstract set in any style)."""
    body_size = layout.body_size
    assert body_size is not None
    layout.title_floor = _title_block_floor(layout, synonyms, body_size)
    display, run_ins = _heading_candidates(layout, body_size)
    section_size = _section_size(display)
    for heading in display:
        heading.top = (
            section_size is not None and heading.size >= section_size - 0.4 and not _SUB_NUMBER.match(heading.text)
        )
    first_top = min((h.item for h in display if h.top), default=len(layout.items))
    kept = [h for h in display if h.top]
    # Before the first section (the front matter) an Abstract may be set in any style, or run in.
    kept += [h for h in display + run_ins if not h.top and h.item < first_top and _sections_of(h.key, synonyms)]
    kept.sort(key=lambda h: h.item)
    layout.headings = kept
    layout.candidates = display + run_ins


class _Candidates:
    """Collects display headings (runs of distinctive lines) and run-in headings in reading order."""

    def __init__(self) -> None:
        self.display: list[_Heading] = []
        self.run_ins: list[_Heading] = []
        self.group: list[_Item] = []
        self.style: str | None = None

    def flush(self) -> None:
        """Close the current group of distinctive lines: a display heading, or a run-in one."""
        if self.group:
            text = _join_lines([it.line.text for it in self.group])
            first = self.group[0]
            if _heading_text_ok(text):
                self.display.append(
                    _Heading(text, _normalise(text), first.index, first.line.page, first.line.size, "display")
                )
            else:
                self.run_in(first)
        self.group, self.style = [], None

    def run_in(self, item: _Item) -> None:
        """A run-in heading at the start of this line, if there is one."""
        line = item.line
        prefix = _run_in(line)
        if prefix:
            self.run_ins.append(_Heading(prefix, _normalise(prefix), item.index, line.page, line.size, "run-in"))

    def add(self, item: _Item, style: str) -> None:
        """A distinctive line: it continues the group when set alike just below its last line."""
        line = item.line
        if self.group:
            last = self.group[-1]
            same = (
                style == self.style
                and last.line.page == line.page
                and last.bucket == item.bucket
                and abs(last.line.size - line.size) < 0.3
                and 0 < last.line.y - line.y <= 1.6 * line.size
                and not last.line.text.rstrip().endswith((".", ":"))
            )
            if not same:
                self.flush()
        self.group.append(item)
        self.style = style


def _heading_candidates(layout: _Layout, body_size: float) -> tuple[list[_Heading], list[_Heading]]:
    """Display and run-in heading candidates below the title block, in reading order."""
    found = _Candidates()
    floor = layout.title_floor
    for item in layout.items:
        line = item.line
        if line.kind != "text" or item.furniture:
            continue
        if floor is not None and line.page == 0 and line.y > floor + 0.5:
            continue
        style = _distinctive(line, body_size)
        if style is None and _normalise(line.text) in FRONT_MATTER_LABELS:
            found.flush()
            found.display.append(
                _Heading(line.text, _normalise(line.text), item.index, line.page, line.size, "display")
            )
        elif style is None:
            found.flush()
            found.run_in(item)
        else:
            found.add(item, style)
    found.flush()
    return found.display, found.run_ins


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
