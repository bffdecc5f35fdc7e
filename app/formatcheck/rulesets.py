"""The rule sets, page limits, required sections and heading synonyms (no PDF library needed).

The API, the course defaults and the worker pool's parent import these without loading the
PDF readers, which only the worker processes need.
"""

from __future__ import annotations

RULESETS: tuple[str, ...] = ("proposal", "report", "poster", "slides")
PAPER_RULESETS: tuple[str, ...] = ("proposal", "report")
DEFAULT_PAGE_LIMITS: dict[str, int] = {"proposal": 3, "report": 6}
DEFAULT_REQUIRED_SECTIONS: dict[str, tuple[str, ...]] = {
    "proposal": ("abstract", "introduction", "related-work", "plan"),
    "report": ("abstract", "introduction", "related-work", "proposed-solution", "experiments", "conclusion"),
}
DEFAULT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "abstract": ("abstract",),
    # The lecture's questions ("What is the problem?", "What has been done before?") head sections too.
    "introduction": ("introduction", "*introduction*", "*what is the problem*"),
    "related-work": (
        "related work",
        "related works",
        "literature review",
        "prior work",
        "background and related work",
        "related research",
        "*related work*",
        "*done before*",
        "*previous work*",
        "*existing work*",
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
# Labels that head the front matter however they are set (Word sets "Abstract" centred in the body face).
FRONT_MATTER_LABELS: frozenset[str] = frozenset({"abstract"})
REFERENCE_HEADINGS: frozenset[str] = frozenset(
    {"references", "reference", "bibliography", "literature cited", "works cited", "cited works"}
)
