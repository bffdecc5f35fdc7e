"""SPEC.md's default course rules; every one is a per-course setting."""

from typing import Any

from app.formatcheck import DEFAULT_REQUIRED_SECTIONS as FORMATCHECK_REQUIRED_SECTIONS
from app.formatcheck import DEFAULT_SYNONYMS as FORMATCHECK_SYNONYMS

DEFAULT_WEEKS = 16
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_MIN_GROUP_SIZE = 3
DEFAULT_MAX_GROUP_SIZE = 5
DEFAULT_PRESENTATION_SLOTS = 10
DEFAULT_REQUIRED_REVIEWS = 1
DEFAULT_ASSIGNMENT_SHARE = 40.0
# Per group: versions kept per milestone, and megabytes stored over all its versions.
DEFAULT_MAX_VERSIONS_PER_MILESTONE = 20
DEFAULT_MAX_GROUP_STORAGE_MB = 200

# Upper bound in hours (None = no bound) and the multiplier applied to a mark that late.
DEFAULT_LATE_TIERS: list[dict[str, Any]] = [
    {"max_hours": 24, "multiplier": 0.9},
    {"max_hours": 72, "multiplier": 0.7},
    {"max_hours": None, "multiplier": 0.5},
]

DEFAULT_RUBRIC: list[dict[str, Any]] = [{"key": "overall", "label": "Overall", "max_points": 100}]

# key, title, week, weight (% of the project mark), format rule set, page limit, needs approved topic
DEFAULT_MILESTONES: list[dict[str, Any]] = [
    {
        "key": "proposal",
        "title": "Proposal",
        "week": 8,
        "weight": 20.0,
        "ruleset": "proposal",
        "page_limit": 3,
        "requires_approved_topic": True,
    },
    {
        "key": "report",
        "title": "Report",
        "week": 15,
        "weight": 60.0,
        "ruleset": "report",
        "page_limit": 6,
        "requires_approved_topic": False,
    },
    {
        "key": "final",
        "title": "Presentation or poster",
        "week": 16,
        "weight": 20.0,
        "ruleset": "final",
        "page_limit": None,
        "requires_approved_topic": False,
    },
]

# The format checker owns the section rules; a course starts from a copy it may edit.
DEFAULT_REQUIRED_SECTIONS: dict[str, list[str]] = {k: list(v) for k, v in FORMATCHECK_REQUIRED_SECTIONS.items()}
DEFAULT_SECTION_SYNONYMS: dict[str, list[str]] = {k: list(v) for k, v in FORMATCHECK_SYNONYMS.items()}
