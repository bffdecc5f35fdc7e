#!/usr/bin/env python3
"""Build a labelled corpus of AAAI-like papers with TeX Live, for testing the format checker.

Usage: scripts/make_corpus.py [--out var/gencorpus] [--count 80] [--seed 13] [--long 0] [--jobs 2]

Each paper is one variation of the same kind of paper (2-8 pages; references mid-page or on
pages of their own; acknowledgements and appendices after the references; full-width floats;
wide equations and algorithms; one-column pages or papers; A4; line numbers; numbered and
question-style headings; missing sections; 9-12 pt; changed margins; running heads; Word's
producer strings), compiled with pdflatex and our own style scripts/corpus_kit/courseaaai.sty
(the AAAI-22 geometry). Its labels come from how it was built: the page count from pdflatex's
log, and the pages of body text, floats and the references from \\label markers in the .aux
file. The folder gets the PDFs, EXPECTED.tsv (as in ../shared/corpus) and MANIFEST.tsv.
With --long N the papers are 10-20 pages long (for the whole-batch benchmark).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "scripts" / "corpus_kit" / "courseaaai.sty"
PAGE_LIMITS = {"proposal": 3, "report": 6}
REQUIRED = {
    "proposal": ("abstract", "introduction", "related-work", "plan"),
    "report": ("abstract", "introduction", "related-work", "proposed-solution", "experiments", "conclusion"),
}
# Heading texts a student writes, and the sections of SPEC.md each one counts for.
HEADINGS: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {
    "introduction": (("Introduction", frozenset({"introduction"})),),
    "related-work": tuple(
        (text, frozenset({"related-work"}))
        for text in ("Related Work", "Related Works", "Literature Review", "Background and Related Work", "Prior Work")
    ),
    "method": (
        ("Proposed Method", frozenset({"plan", "proposed-solution"})),
        ("Methodology", frozenset({"plan", "proposed-solution"})),
        ("Proposed Solution", frozenset({"proposed-solution"})),
        ("Approach", frozenset({"proposed-solution"})),
        ("Method", frozenset({"proposed-solution"})),
    ),
    "plan": (
        ("Project Plan", frozenset({"plan"})),
        ("Our Plan", frozenset({"plan"})),
        ("Research Plan and Timeline", frozenset({"plan"})),
        ("Timeline", frozenset({"plan"})),
    ),
    "plan-question": (("What Is Your Plan to Solve This Problem?", frozenset({"plan"})),),
    # The lecture's questions, which students use as headings.
    "introduction-question": (("What Is the Problem?", frozenset({"introduction"})),),
    "related-work-question": (("What Has Been Done Before?", frozenset({"related-work"})),),
    "experiments": tuple(
        (text, frozenset({"experiments"}))
        for text in ("Experiments", "Experimental Results", "Evaluation", "Results", "Experiments and Results")
    ),
    "conclusion": tuple(
        (text, frozenset({"conclusion"}))
        for text in ("Conclusion", "Conclusions", "Conclusion and Future Work", "Summary", "Discussion and Conclusions")
    ),
}
_VOCABULARY = [
    "model",
    "models",
    "network",
    "networks",
    "training",
    "data",
    "dataset",
    "learning",
    "deep",
    "representation",
    "representations",
    "feature",
    "features",
    "layer",
    "layers",
    "attention",
    "transformer",
    "convolutional",
    "recurrent",
    "gradient",
    "loss",
    "objective",
    "optimisation",
    "accuracy",
    "robustness",
    "generalisation",
    "benchmark",
    "baseline",
    "baselines",
    "ablation",
    "study",
    "results",
    "method",
    "approach",
    "propose",
    "show",
    "improve",
    "reduce",
    "increase",
    "evaluate",
    "compare",
    "measure",
    "observe",
    "report",
    "analyse",
    "train",
    "fine",
    "tune",
    "large",
    "small",
    "efficient",
    "scalable",
    "simple",
    "strong",
    "weak",
    "robust",
    "noisy",
    "clean",
    "labelled",
    "unlabelled",
    "supervised",
    "image",
    "images",
    "text",
    "sentence",
    "token",
    "tokens",
    "graph",
    "node",
    "nodes",
    "reward",
    "policy",
    "agent",
    "environment",
    "task",
    "tasks",
    "performance",
    "error",
    "rate",
    "cost",
    "memory",
    "time",
    "budget",
    "inference",
    "prediction",
    "predictions",
    "label",
    "labels",
    "class",
    "classes",
    "embedding",
    "embeddings",
    "encoder",
    "decoder",
    "pretrained",
    "schedule",
    "batch",
    "epoch",
    "epochs",
    "rate",
    "regularisation",
    "the",
    "a",
    "of",
    "and",
    "in",
    "to",
    "for",
    "with",
    "on",
    "by",
    "from",
    "that",
    "this",
    "we",
    "our",
    "which",
    "while",
    "across",
    "over",
    "under",
    "between",
]
_VENUES = (
    "Proceedings of the AAAI Conference on Artificial Intelligence",
    "Advances in Neural Information Processing Systems",
    "International Conference on Learning Representations",
    "Journal of Machine Learning Research",
    "Proceedings of the Annual Meeting of the ACL",
    "Computer Vision and Pattern Recognition",
)
_SURNAMES = ("Smith", "Chen", "Garcia", "Müller", "Kumar", "Okafor", "Rossi", "Tanaka", "Novak", "Silva", "Dubois")


@dataclass
class Variant:
    """How one paper is built; every label follows from these choices and the compiled pages."""

    name: str
    seed: int
    body_paragraphs: int
    body_size: int = 10
    paper: str = "letterpaper"
    margin: str = "0.75in"
    lineno: bool = False
    numbering: str = "none"  # none, arabic, arabic-dot, roman
    sections: list[str] = field(default_factory=list)  # heading texts in order
    covers: list[str] = field(default_factory=list)  # SPEC sections the headings satisfy
    abstract: str = "latex"  # latex, runin (Word's bold run-in label), centred (Word's plain centred label), none
    references: int = 12
    references_new_page: bool = False
    after_references: list[str] = field(default_factory=list)  # acknowledgements, appendix
    wide_floats: int = 0
    wide_equations: bool = False
    columns: str = "two"  # two, one (the whole paper), appendix (a one-column appendix)
    word: bool = False
    kit_references_subsection: bool = False
    running: str = "none"  # none, numbers, heads
    big_tables: bool = False
    table_size: str = "small"  # the LaTeX size command of table text


class _Writer:
    """Writes the LaTeX source of a variant, with a \\label marker in every piece of body content."""

    def __init__(self, variant: Variant) -> None:
        self.v = variant
        self.rng = random.Random(variant.seed)
        self.out: list[str] = []
        self.markers = 0

    def mark(self) -> str:
        self.markers += 1
        return f"\\label{{bm:{self.markers}}}"

    def words(self, n: int) -> str:
        picked = [self.rng.choice(_VOCABULARY) for _ in range(n)]
        return " ".join(picked)

    def sentence(self) -> str:
        text = self.words(self.rng.randint(12, 24))
        return text[0].upper() + text[1:] + "."

    def paragraph(self, sentences: int | None = None) -> str:
        count = sentences if sentences is not None else self.rng.randint(4, 7)
        body = " ".join(self.sentence() for _ in range(count))
        first, _, rest = body.partition(" ")
        return f"{first}{self.mark()} {rest}{self.mark()}\n\n"

    def emit(self, text: str) -> None:
        self.out.append(text)


def _preamble(w: _Writer) -> None:
    v = w.v
    w.emit(
        f"\\documentclass{{article}}\n\\def\\aaaibody{{{v.body_size}}}\\def\\aaaipaper{{{v.paper}}}"
        f"\\def\\aaaimargin{{{v.margin}}}\n\\usepackage{{courseaaai}}\n"
    )
    if v.lineno:
        w.emit("\\usepackage[switch]{lineno}\n\\linenumbers\n")
    if v.numbering != "none":
        style = {"arabic": "\\arabic{section}", "arabic-dot": "\\arabic{section}.", "roman": "\\Roman{section}."}
        w.emit(f"\\setcounter{{secnumdepth}}{{2}}\\renewcommand\\thesection{{{style[v.numbering]}}}\n")
        w.emit("\\renewcommand\\thesubsection{\\arabic{section}.\\arabic{subsection}}\n")
    if v.word:
        w.emit("\\pdfinfo{/Producer (Microsoft\\string\\256 Word for Microsoft 365) /Creator (Microsoft Word)}\n")
    if v.running == "numbers":
        w.emit("\\pagestyle{plain}\n")
    elif v.running == "heads":
        w.emit(
            "\\makeatletter\\def\\@oddhead{\\hfil\\small Course Project Proposal, Deep Learning 2026\\hfil}"
            "\\def\\@evenhead{\\@oddhead}\\def\\@oddfoot{\\hfil\\thepage\\hfil}\\def\\@evenfoot{\\@oddfoot}"
            "\\makeatother\\pagestyle{myheadings}\\setlength\\headheight{10pt}\\setlength\\headsep{8pt}"
            "\\addtolength\\topmargin{-18pt}\n"
        )
    title = w.words(7).title()
    one_column = "\\onecolumn\n" if v.columns == "one" else ""
    w.emit(
        f"\\title{{{title}}}\n\\author{{Ada Student, Alan Student, Grace Student}}\n"
        "\\affiliations{Department of Computer Science, Example University}\n\\begin{document}\n"
        f"{one_column}\\maketitle\n"
    )
    if v.running != "none":
        w.emit("\\thispagestyle{" + ("plain" if v.running == "numbers" else "myheadings") + "}\n")


def _abstract(w: _Writer) -> None:
    v = w.v
    text = " ".join(w.sentence() for _ in range(6))
    first, _, rest = text.partition(" ")
    text = f"{first}{w.mark()} {rest}"
    if v.abstract == "latex":
        w.emit(f"\\begin{{abstract}}\n{text}\n\\end{{abstract}}\n")
    elif v.abstract == "runin":
        w.emit(f"\\noindent\\textbf{{Abstract:}} {text}\n\n")
    elif v.abstract == "centred":
        w.emit(f"\\begin{{center}}Abstract\\end{{center}}\n\\noindent {text}\n\n")


def _float(w: _Writer, index: int) -> None:
    v = w.v
    caption = w.sentence()
    if not v.big_tables and index % 2 == 0:
        w.emit(
            f"\\begin{{figure*}}[t]\\centering\\rule{{0.95\\textwidth}}{{{w.rng.choice(['2in', '3in', '5in'])}}}"
            f"\\caption{{{caption}{w.mark()}}}\\end{{figure*}}\n"
        )
        return
    rows = []
    for _ in range(w.rng.randint(8, 22) if v.big_tables else w.rng.randint(4, 8)):
        rows.append(" & ".join(w.words(w.rng.randint(2, 5)) for _ in range(5)) + " \\\\")
    size = f"\\{v.table_size}" if v.big_tables else ""
    w.emit(
        f"\\begin{{table*}}[t]\\centering{size}\\begin{{tabular}}{{*{{5}}{{p{{0.17\\textwidth}}}}}}\\hline\n"
        + "\n".join(rows)
        + f"\n\\hline\\end{{tabular}}\\caption{{{caption}{w.mark()}}}\\end{{table*}}\n"
    )


def _section(w: _Writer, title: str, paragraphs: int) -> None:
    w.emit(f"\\section{{{title}}}\n")
    for k in range(paragraphs):
        if paragraphs >= 4 and k == paragraphs // 2:
            w.emit(f"\\subsection{{{w.words(3).title()}}}\n")
        w.emit(w.paragraph())
        if w.rng.random() < 0.04:
            w.emit(f"A note follows.\\footnote{{{w.sentence()}}}{w.mark()}\n\n")
        if w.rng.random() < 0.05:
            w.emit(f"\\begin{{equation}}\\sum_{{i=1}}^{{n}} \\alpha_i x_i = \\beta{w.mark()}\\end{{equation}}\n")


def _kit_references_subsection(w: _Writer) -> None:
    w.emit(
        "\\section{Formatting Instructions}\n"
        + w.paragraph(3)
        + "\\subsection{References}\n"
        + "The references section should be labeled ``References'' and should appear at the very end of the paper "
        + "(Kautz and Selman 1996). Citations use the author-year form (Smith 2019; Chen and Garcia 2021), with "
        + "the list sorted by the first author's surname, as in the AAAI style since 2017 (Rossi 2017). "
        + f"Write (Tanaka 2020) rather than [4], and never number the entries.{w.mark()}\n\n"
        + w.paragraph(3)
    )


def _bibliography(w: _Writer) -> None:
    v = w.v
    if v.references_new_page:
        w.emit("\\clearpage\n")
    w.emit("\\begin{thebibliography}{99}\\label{refstart}\n")
    for k in range(v.references):
        authors = f"{w.rng.choice(_SURNAMES)}, {chr(65 + k % 26)}.; and {w.rng.choice(_SURNAMES)}, B."
        year = 1995 + (k * 7 + v.seed) % 30
        title = w.words(w.rng.randint(5, 10)).capitalize()
        w.emit(
            f"\\bibitem{{r{k}}} {authors} {year}. {title}. In \\emph{{{w.rng.choice(_VENUES)}}}, "
            f"{100 + k}--{112 + k}.\n"
        )
    w.emit("\\end{thebibliography}\n")


def _after_references(w: _Writer) -> None:
    v = w.v
    for part in v.after_references:
        if part == "acknowledgements":
            w.emit("\\section*{Acknowledgements}\n" + w.paragraph(2))
        elif part == "appendix":
            if v.columns == "appendix":
                w.emit("\\onecolumn\n")
            w.emit("\\appendix\n\\section{Additional Results}\n")
            for _ in range(w.rng.randint(2, 4)):
                w.emit(w.paragraph())
            if v.wide_equations:
                _wide_equations(w)


def _wide_equations(w: _Writer) -> None:
    """A full-width float of long equations and an algorithm in body-size text, as appendices hold."""
    lines = []
    for k in range(6):
        terms = " + ".join(f"\\frac{{\\partial \\mathcal{{L}}_{{{k}}}}}{{\\partial \\theta_{{{j}}}}}" for j in range(9))
        lines.append(f"g_{{{k}}} &= {terms} \\\\")
    steps = " \\\\\n".join(f"{n + 1}: \\quad {w.words(w.rng.randint(14, 20))}" for n in range(12))
    w.emit(
        "\\begin{figure*}[p]\\normalsize\\begin{align*}\n"
        + "\n".join(lines)
        + "\n\\end{align*}\n"
        + f"\\noindent\\textbf{{Algorithm 1}} {w.words(4)}\\\\\n{steps}\n"
        + f"\\caption{{{w.sentence()}{w.mark()}}}\\end{{figure*}}\n"
    )


def latex_source(v: Variant) -> str:
    """The LaTeX source of a variant."""
    w = _Writer(v)
    _preamble(w)
    _abstract(w)
    per_section = max(2, v.body_paragraphs // max(len(v.sections), 1))
    floats_at = set(w.rng.sample(range(len(v.sections)), min(v.wide_floats, len(v.sections))))
    for index, title in enumerate(v.sections):
        if title == "\\kitreferences":
            _kit_references_subsection(w)
            continue
        if index in floats_at:
            _float(w, index)
        _section(w, title, per_section + (1 if index < v.body_paragraphs % max(len(v.sections), 1) else 0))
    if v.references:
        _bibliography(w)
    _after_references(w)
    w.emit("\\end{document}\n")
    return "".join(w.out)


def make_variant(index: int, seed: int, *, long: bool = False) -> Variant:
    """The index-th variant of a seeded corpus: every choice is drawn from a generator seeded by both."""
    rng = random.Random(f"{seed}:{index}:{long}")
    v = Variant(
        name=f"gen-{seed}-{'long-' if long else ''}{index:03d}",
        seed=rng.randrange(1 << 30),
        body_paragraphs=rng.randint(45, 95) if long else rng.choice([3, 5, 8, 11, 14, 18, 22, 26]),
    )
    v.body_size = rng.choices([9, 10, 11, 12], weights=[10, 62, 13, 15])[0]
    if not long:  # larger type fills pages faster; keep short papers within 2-8 pages
        v.body_paragraphs = max(3, round(v.body_paragraphs * min(1.0, (10 / v.body_size) ** 2)))
    v.paper = "a4paper" if rng.random() < 0.08 else "letterpaper"
    v.margin = rng.choices(["0.75in", "0.4in", "1in"], weights=[86, 8, 6])[0]
    v.lineno = rng.random() < 0.15
    v.numbering = rng.choice(["none", "none", "arabic", "arabic-dot", "roman"])
    v.abstract = rng.choices(["latex", "runin", "centred", "none"], weights=[80, 7, 7, 6])[0]
    v.word = v.abstract in ("runin", "centred") and rng.random() < 0.7
    most = 60 if long else 8 + v.body_paragraphs  # short papers cite less
    v.references = 0 if rng.random() < 0.06 else rng.randint(5, most)
    v.references_new_page = rng.random() < 0.3
    v.after_references = rng.choices(
        [[], ["acknowledgements"], ["appendix"], ["acknowledgements", "appendix"]], weights=[60, 15, 15, 10]
    )[0]
    v.wide_floats = rng.choices([0, 1, 2, 3], weights=[50, 25, 15, 10])[0]
    v.wide_equations = "appendix" in v.after_references and rng.random() < 0.6
    v.big_tables = rng.random() < 0.1
    v.columns = "one" if rng.random() < 0.06 else "two"
    if v.columns == "two" and "appendix" in v.after_references and v.body_paragraphs >= 16 and rng.random() < 0.4:
        v.columns = "appendix"
    v.running = rng.choices(["none", "numbers", "heads"], weights=[60, 25, 15])[0]
    v.kit_references_subsection = rng.random() < 0.08
    _choose_sections(v, rng)
    return v


def _choose_sections(v: Variant, rng: random.Random) -> None:
    covers: set[str] = set() if v.abstract == "none" else {"abstract"}
    order = ["introduction", "related-work", "method", "plan", "experiments", "conclusion"]
    for key in order:
        if rng.random() < 0.1:
            continue  # a missing section
        if key == "plan" and "plan" in covers and rng.random() < 0.6:
            continue
        if key in ("introduction", "related-work", "plan") and rng.random() < 0.2:
            key = f"{key}-question"
        text, sections = rng.choice(HEADINGS[key])
        v.sections.append(text)
        covers |= sections
    if v.kit_references_subsection:
        v.sections.insert(min(2, len(v.sections)), "\\kitreferences")
    if not v.sections:
        v.sections.append("Overview")
    v.covers = sorted(covers)


@dataclass
class Built:
    """A compiled paper: its page count and where its body and references lie."""

    variant: Variant
    pages: int
    body_pages: list[int]
    references_page: int | None


_LABEL = re.compile(r"\\newlabel\{(bm:\d+|refstart)\}\{\{[^{}]*\}\{(\d+)\}")
_PAGES = re.compile(r"Output written on .*?\((\d+) pages?")


def compile_variant(v: Variant, out: Path) -> Built:
    """Compile one variant into out/<name>.pdf and read its labels from the .aux file."""
    with tempfile.TemporaryDirectory(prefix="gencorpus-") as tmp:
        work = Path(tmp)
        shutil.copy(KIT, work / KIT.name)
        (work / "paper.tex").write_text(latex_source(v), encoding="utf-8")
        result = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
            cwd=work,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=120,
            check=False,
        )
        log = (work / "paper.log").read_text(encoding="latin-1") if (work / "paper.log").exists() else ""
        if result.returncode != 0 or not (work / "paper.pdf").exists():
            tail = "\n".join(log.splitlines()[-30:])
            raise RuntimeError(f"pdflatex failed on {v.name}:\n{tail}")
        pages = int(_PAGES.search(log.replace("\n", "")).group(1))  # type: ignore[union-attr]
        labels = _LABEL.findall((work / "paper.aux").read_text(encoding="latin-1"))
        shutil.copy(work / "paper.pdf", out / f"{v.name}.pdf")
    body = sorted({int(page) for name, page in labels if name.startswith("bm:")})
    refs = next((int(page) for name, page in labels if name == "refstart"), None)
    facts = {"pages": pages, "body_pages": body, "references_page": refs}
    (out / f"{v.name}.json").write_text(json.dumps(facts), encoding="utf-8")
    return Built(v, pages, body, refs)


def compile_cached(v: Variant, out: Path) -> Built:
    """compile_variant, unless out/ already holds this paper (callers key out/ by sources_digest)."""
    facts_file = out / f"{v.name}.json"
    if facts_file.exists() and (out / f"{v.name}.pdf").exists():
        facts = json.loads(facts_file.read_text(encoding="utf-8"))
        return Built(v, facts["pages"], facts["body_pages"], facts["references_page"])
    return compile_variant(v, out)


def expectations(built: Built, ruleset: str) -> tuple[list[str], list[str]]:
    """The error and warning codes a correct checker gives this paper, from how it was built."""
    v, limit = built.variant, PAGE_LIMITS[ruleset]
    errors = []
    if v.paper != "letterpaper":
        errors.append("page-size")
    if built.pages > limit:
        errors.append("page-limit")
    if any(page >= limit for page in built.body_pages):
        errors.append("body-pages")
    if v.columns == "one":
        errors.append("columns")
    warnings = [f"missing-section:{key}" for key in REQUIRED[ruleset] if key not in v.covers]
    if not v.references:
        warnings.append("no-references")
    if v.body_size == 12:
        warnings.append("font-size")
    if v.margin == "0.4in" and v.paper == "letterpaper":
        warnings.append("margins")
    if v.word:
        warnings.append("not-latex")
    return errors, warnings


def _describe(b: Built) -> str:
    v = b.variant
    parts = [
        f"{b.pages}pp",
        v.paper,
        f"{v.body_size}pt",
        f"margin {v.margin}",
        f"columns {v.columns}",
        f"body p{','.join(map(str, b.body_pages))}",
        f"refs p{b.references_page} ({v.references})",
        "headings " + "; ".join(s for s in v.sections),
        f"abstract {v.abstract}",
    ]
    flags = [
        name
        for name, on in (
            ("lineno", v.lineno),
            ("word", v.word),
            ("kit-references", v.kit_references_subsection),
            ("refs-new-page", v.references_new_page),
            ("wide-equations", v.wide_equations),
            ("big-tables", v.big_tables),
        )
        if on
    ]
    if v.after_references:
        flags.append("after refs: " + "+".join(v.after_references))
    if v.wide_floats:
        flags.append(f"{v.wide_floats} wide floats")
    if v.numbering != "none":
        flags.append(f"numbering {v.numbering}")
    if v.running != "none":
        flags.append(f"running {v.running}")
    return "; ".join(parts + flags)


def build_corpus(out: Path, *, count: int, seed: int, long: bool = False, jobs: int = 2) -> list[Built]:
    """Compile `count` seeded variants into `out` (in parallel) and write EXPECTED.tsv and MANIFEST.tsv."""
    if shutil.which("pdflatex") is None:
        raise RuntimeError(
            "pdflatex is not installed (Debian: texlive-latex-base texlive-latex-extra texlive-fonts-recommended)"
        )
    out.mkdir(parents=True, exist_ok=True)
    variants = [make_variant(i, seed, long=long) for i in range(count)]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        built = list(pool.map(lambda v: compile_cached(v, out), variants))
    with (out / "EXPECTED.tsv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["file", "ruleset", "verdict", "errors", "warnings", "evidence"])
        for b in built:
            for ruleset in PAGE_LIMITS:
                errors, warnings = expectations(b, ruleset)
                writer.writerow(
                    [
                        f"{b.variant.name}.pdf",
                        ruleset,
                        "reject" if errors else "accept",
                        ",".join(errors) or "-",
                        ",".join(warnings) or "-",
                        _describe(b),
                    ]
                )
    with (out / "MANIFEST.tsv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["file", "source", "pages", "variant"])
        for b in built:
            writer.writerow(
                [f"{b.variant.name}.pdf", "generated by scripts/make_corpus.py", b.pages, repr(asdict(b.variant))]
            )
    return built


def sources_digest() -> str:
    """A hash of everything a build depends on (this script and the style), to key caches by."""
    digest = hashlib.sha256()
    for path in (Path(__file__).resolve(), KIT):
        digest.update(path.read_bytes())
    version = subprocess.run(["pdflatex", "--version"], capture_output=True, text=True, check=False).stdout
    digest.update(version.splitlines()[0].encode() if version else b"")
    return digest.hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    """Build the corpus into a folder."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "gencorpus", help="output folder")
    parser.add_argument("--count", type=int, default=80, help="number of papers")
    parser.add_argument("--seed", type=int, default=13, help="seed of the variations")
    parser.add_argument("--long", action="store_true", help="10-20 page papers (for the benchmark)")
    parser.add_argument("--jobs", type=int, default=2, help="pdflatex processes at once")
    args = parser.parse_args(argv)
    try:
        built = build_corpus(args.out, count=args.count, seed=args.seed, long=args.long, jobs=args.jobs)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    pages = sorted(b.pages for b in built)
    print(f"{len(built)} papers ({pages[0]}-{pages[-1]} pages) in {args.out}; labels in {args.out / 'EXPECTED.tsv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
