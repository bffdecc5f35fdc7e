"""Notice kinds and their rendering: a subject, a plain-text body and an HTML body per kind (Jinja).

Each kind has `<kind>.txt` and `<kind>.html` under templates/; the text template's first line is
`Subject: ...`, so subject and bodies are written, and reviewed, side by side.
"""

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.timefmt import duration, local_time

TEMPLATES_DIR = Path(__file__).parent / "templates"

# The kinds a user may turn off; every other kind always goes (receipts, security notices, decisions).
REMINDER, DIGEST = "reminder", "digest"
OPTIONAL_KINDS = (REMINDER, DIGEST)
OPTIONAL_LABELS = {
    REMINDER: "Deadline reminders (48 h and 24 h before a deadline)",
    DIGEST: "Weekly digest for staff (what arrived, what is late, what is unreviewed)",
}
KINDS = (
    "activation",
    REMINDER,
    "receipt",
    "topic_decision",
    "extension_granted",
    "extension_changed",
    "extension_withdrawn",
    "marks_released",
    "selection_published",
    "selection_superseded",
    "programme_placed",
    DIGEST,
    "password_changed",
    "account_disabled",
    "invitation",
)


@dataclass(frozen=True)
class Rendered:
    """A notice ready for the outbox."""

    subject: str
    text: str
    html: str


def span(delta: timedelta) -> str:
    """A lateness in words: '1 d 6 h 0 min', '59 s'; 'on time' for none."""
    return duration(delta) if delta > timedelta(0) else "on time"


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]) if autoescape else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(local_time=local_time, span=span)
    return env


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def notice_render(kind: str, context: dict[str, Any]) -> Rendered:
    """Subject, text and HTML of a notice of `kind` (KeyError for an unknown kind)."""
    if kind not in KINDS:
        raise KeyError(kind)
    text = _TEXT.get_template(f"{kind}.txt").render(context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject: "):
        raise ValueError(f"{kind}.txt must start with 'Subject: '")
    html = _HTML.get_template(f"{kind}.html").render({**context, "subject": first[9:].strip()})
    return Rendered(subject=first[9:].strip()[:300], text=body.lstrip("\n"), html=html)
