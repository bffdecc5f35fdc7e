"""The programme and the poster boards as CSV and as a printable PDF (fpdf2, core fonts only: no downloads)."""

import csv
import io
from datetime import datetime
from typing import Literal

from fpdf import FPDF

from app.milestones.service import local_instant
from app.programme.views import ProgrammeView
from app.spreadsheet import text_cell

CSV_HEADER = ["kind", "session", "room", "position", "starts_at", "ends_at", "board", "group", "topic", "members"]


def _local(view: ProgrammeView, instant: datetime) -> str:
    return local_instant(instant, view.course).isoformat()


def programme_csv(view: ProgrammeView) -> str:
    """One row per talk (in session order) and per poster board (by number); times in the course time zone."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for s in view.sessions:
        for t in s.talks:
            writer.writerow(
                [
                    "talk",
                    text_cell(s.session.title or f"Session {s.session.id}"),
                    text_cell(s.session.room),
                    t.slot.position + 1,
                    _local(view, t.span.starts_at),
                    _local(view, t.span.ends_at),
                    "",
                    text_cell(t.group.name),
                    text_cell(t.group.topic or ""),
                    text_cell("; ".join(t.group.members)),
                ]
            )
    row = view.programme
    starts = _local(view, row.poster_starts_at) if row.poster_starts_at else ""
    ends = _local(view, row.poster_ends_at) if row.poster_ends_at else ""
    for b in view.boards:
        writer.writerow(
            [
                "poster",
                "Poster session",
                text_cell(row.poster_room),
                "",
                starts,
                ends,
                b.board.number,
                text_cell(b.group.name),
                text_cell(b.group.topic or ""),
                text_cell("; ".join(b.group.members)),
            ]
        )
    return out.getvalue()


def _latin(text: str) -> str:
    # The PDF core fonts cover Latin-1 only; other characters print as '?' rather than failing the export.
    return text.replace("—", "-").replace("–", "-").encode("latin-1", "replace").decode("latin-1")


def _hm(view: ProgrammeView, instant: datetime) -> str:
    return f"{local_instant(instant, view.course):%H:%M}"


def programme_pdf(view: ProgrammeView) -> bytes:
    """A printable A4 programme: each session's talks with times, then the poster boards by number."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(_latin(f"{view.course.code} week 16 programme"))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin(f"{view.course.code} - {view.course.title}: week 16"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.cell(0, 6, _latin(f"Times in course time ({view.course.timezone})."), new_x="LMARGIN", new_y="NEXT")
    for s in view.sessions:
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        title = s.session.title or f"Session {s.session.id}"
        start = local_instant(s.start, view.course)
        pdf.cell(0, 8, _latin(f"{title} - {start:%A %d %B %Y}, room {s.session.room}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        rows = [
            (
                t.span.starts_at,
                f"{_hm(view, t.span.starts_at)}-{_hm(view, t.span.ends_at)}",
                f"{t.group.name}" + (f": {t.group.topic}" if t.group.topic else ""),
                ", ".join(t.group.members),
            )
            for t in s.talks
        ]
        rows += [(b.starts_at, f"{_hm(view, b.starts_at)}-{_hm(view, b.ends_at)}", "Break", "") for b in s.breaks]
        for _, when, what, who in sorted(rows, key=lambda r: r[0]):
            pdf.cell(28, 6, when)
            pdf.cell(0, 6, _latin(what), new_x="LMARGIN", new_y="NEXT")
            if who:
                pdf.set_x(pdf.l_margin + 28)
                pdf.set_font("Helvetica", "I", 9)
                pdf.cell(0, 5, _latin(who), new_x="LMARGIN", new_y="NEXT")
                pdf.set_font("Helvetica", "", 10)
    if view.boards:
        _boards_section(pdf, view)
    return bytes(pdf.output())


def _boards_section(pdf: FPDF, view: ProgrammeView) -> None:
    row = view.programme
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, "Poster boards", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    if row.poster_starts_at and row.poster_ends_at:
        when = f"{local_instant(row.poster_starts_at, view.course):%A %d %B %Y %H:%M}-{_hm(view, row.poster_ends_at)}"
        pdf.cell(0, 6, _latin(f"{when}, {row.poster_room}"), new_x="LMARGIN", new_y="NEXT")
    for b in view.boards:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(14, 6, str(b.board.number))
        pdf.cell(
            0, 6, _latin(b.group.name + (f": {b.group.topic}" if b.group.topic else "")), new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_x(pdf.l_margin + 14)
        pdf.set_font("Helvetica", "I", 9)
        pdf.cell(0, 5, _latin(", ".join(b.group.members)), new_x="LMARGIN", new_y="NEXT")


def programme_export(view: ProgrammeView, kind: Literal["csv", "pdf"]) -> tuple[str | bytes, str, dict[str, str]]:
    """The programme as a download: its content, media type and headers (the PDF opens in place, the CSV saves)."""
    name = f"programme-{view.course.id}.{kind}"
    if kind == "pdf":
        return programme_pdf(view), "application/pdf", {"Content-Disposition": f'inline; filename="{name}"'}
    return programme_csv(view), "text/csv; charset=utf-8", {"Content-Disposition": f'attachment; filename="{name}"'}
