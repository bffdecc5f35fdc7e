"""The format report: findings (errors and warnings) and the facts they were judged on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Finding:
    """One error or warning: a stable code, a message a student understands, the pages concerned."""

    code: str
    message: str
    pages: list[int] = field(default_factory=list)
    # Outline boxes locating the problem: {"page" (1-based), "x0", "y0", "x1", "y1"} in PDF points
    # of the displayed page (after /Rotate and /UserUnit), origin bottom-left, y up.
    boxes: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data."""
        return {
            "code": self.code,
            "message": self.message,
            "pages": list(self.pages),
            "boxes": [dict(box) for box in self.boxes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a finding from `to_dict()` output; reports stored before boxes existed have none."""
        return cls(
            data["code"],
            data["message"],
            list(data["pages"]),
            [dict(box) for box in data.get("boxes") or []],
        )


@dataclass(slots=True)
class CheckReport:
    """The result of checking one PDF against one rule set."""

    ruleset: str
    pages: int
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        """`accept` when there are no errors, else `reject`."""
        return "reject" if self.errors else "accept"

    @property
    def error_codes(self) -> list[str]:
        """The codes of the errors, in report order."""
        return [f.code for f in self.errors]

    @property
    def warning_codes(self) -> list[str]:
        """The codes of the warnings, in report order."""
        return [f.code for f in self.warnings]

    def to_dict(self) -> dict[str, Any]:
        """The report as the JSON object of SPEC.md."""
        return {
            "ruleset": self.ruleset,
            "verdict": self.verdict,
            "pages": self.pages,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "facts": self.facts,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckReport:
        """Rebuild a report from `to_dict()` output (used across the worker process boundary)."""
        return cls(
            ruleset=data["ruleset"],
            pages=data["pages"],
            errors=[Finding.from_dict(f) for f in data["errors"]],
            warnings=[Finding.from_dict(f) for f in data["warnings"]],
            facts=dict(data["facts"]),
        )


def page_ranges(pages: list[int]) -> str:
    """Format page numbers compactly for a message: [1, 2, 3, 5] -> '1–3 and 5'."""
    if not pages:
        return ""
    spans: list[tuple[int, int]] = []
    for p in sorted(set(pages)):
        if spans and p == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], p)
        else:
            spans.append((p, p))
    parts = [str(a) if a == b else f"{a}–{b}" for a, b in spans]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def pages_phrase(pages: list[int]) -> str:
    """'Page 3' or 'Pages 3–5'."""
    if len(set(pages)) == 1:
        return f"Page {pages[0]}"
    return f"Pages {page_ranges(pages)}"
