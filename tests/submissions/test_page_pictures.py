"""Page pictures: drawn in the isolated worker with the boxes where the report puts them, cached, and private."""

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from PIL import Image
from sqlmodel import Session

from app.config import get_settings
from app.formatcheck import RenderFailed, render_page_isolated
from app.models import Course, Submission, User
from app.storage import get_store
from tests.factories import auth, make_course, make_group, make_staff, make_student, make_submission, make_topic
from tests.formatcheck.formatcheck_pdfs import Paper, References, build_paper, filler, proposal_blocks

RED_MIN, OTHER_MAX = 150, 90


def red_bounds(png: bytes) -> tuple[int, int, int, int]:
    """The bounding box (left, top, right, bottom) of the outline's red pixels."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    pixels = image.load()
    xs, ys = [], []
    for y in range(height):
        for x in range(width):
            r, g, b = pixels[x, y]
            if r >= RED_MIN and g <= OTHER_MAX and b <= OTHER_MAX:
                xs.append(x)
                ys.append(y)
    assert xs, "no outline in the picture"
    return min(xs), min(ys), max(xs), max(ys)


def page_with_block() -> bytes:
    """A US Letter page with one black block 100 x 40 pt whose top-left corner is 400 pt right, 100 pt down."""
    pdf = FPDF(unit="pt", format=(612, 792))
    pdf.add_page()
    pdf.set_fill_color(0, 0, 0)
    pdf.rect(400, 100, 100, 40, style="F")
    return bytes(pdf.output())


def test_the_outline_is_drawn_where_the_box_lies_on_the_page(tmp_path: Path) -> None:
    path = tmp_path / "page.pdf"
    path.write_bytes(page_with_block())
    # The block in the report's space: origin bottom-left, y up (792 - 140 = 652 to 792 - 100 = 692).
    box = {"page": 1, "x0": 400.0, "y0": 652.0, "x1": 500.0, "y1": 692.0}
    png = render_page_isolated(path, 1, [box], width_px=612)
    image = Image.open(io.BytesIO(png))
    assert image.size == (612, 792)
    left, top, right, bottom = red_bounds(png)
    assert all(d <= 2 for d in (abs(left - 400), abs(top - 100), abs(right - 500), abs(bottom - 140)))
    # Inside the outline the black block shows through the tint.
    r, g, b = image.convert("RGB").getpixel((450, 120))
    assert max(r, g, b) < 80
    assert r > g


def test_a_box_on_another_page_is_not_drawn_and_a_missing_page_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "page.pdf"
    path.write_bytes(page_with_block())
    png = render_page_isolated(path, 1, [{"page": 2, "x0": 0, "y0": 0, "x1": 612, "y1": 792}], width_px=306)
    colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=100_000) or []
    assert not any(r >= RED_MIN and g <= OTHER_MAX and b <= OTHER_MAX for _, (r, g, b) in colours)
    with pytest.raises(RenderFailed) as refused:
        render_page_isolated(path, 2, [])
    assert str(refused.value) == "the file has no page 2"


def _stored_version(session: Session, pdf: bytes, *, boxes: list[dict[str, float]]) -> tuple[Course, User, Submission]:
    course = make_course(session)
    member = make_student(session, course)
    group = make_group(session, course, members=[member, make_student(session, course), make_student(session, course)])
    sha = hashlib.sha256(pdf).hexdigest()
    sub = make_submission(
        session,
        group,
        "report",
        received_at=datetime(2026, 12, 1, tzinfo=UTC),
        sha256=sha,
        verdict="reject",
        errors=["margins"],
    )
    sub.format_report = {
        **sub.format_report,
        "pages": 1,
        "errors": [{"code": "margins", "message": "Text outside the margins.", "pages": [1], "boxes": boxes}],
    }
    session.add(sub)
    staged = get_store().stage(max_bytes=len(pdf))
    staged.write(pdf)
    staged.finish()
    staged.commit()
    staged.discard()
    return course, member, sub


def test_only_those_who_may_see_a_version_get_its_pictures(client: TestClient, session: Session) -> None:
    box = {"page": 1, "x0": 400.0, "y0": 652.0, "x1": 500.0, "y1": 692.0}
    course, member, sub = _stored_version(session, page_with_block(), boxes=[box])
    ta = make_staff(session, course)
    other_course = make_course(session)
    other_group_student = make_student(session, course)
    make_group(session, course, members=[other_group_student])
    strangers = [other_group_student, make_staff(session, other_course), make_student(session, other_course)]
    session.commit()
    url = f"/api/v1/submissions/{sub.id}/pages/1.png"
    for stranger in strangers:
        response = client.get(url, headers=auth(session, stranger))
        assert (response.status_code, response.json()) == (404, {"error": "not_found", "detail": "No such submission."})
    assert client.get(url).status_code == 401
    cache = Path(get_settings().cache_dir) / "pages"
    assert not cache.exists()  # nothing drawn for the refused callers

    for viewer in (member, ta):
        response = client.get(url, headers=auth(session, viewer))
        assert (response.status_code, response.headers["content-type"]) == (200, "image/png")
        left, top, right, bottom = red_bounds(response.content)
        scale = 600 / 612  # pictures are 600 px wide
        assert all(
            abs(a - b) <= 2
            for a, b in zip(
                (left, top, right, bottom), (400 * scale, 100 * scale, 500 * scale, 140 * scale), strict=True
            )
        )
    assert len(list(cache.iterdir())) == 1  # drawn once, then served from the cache
    missing = client.get(f"/api/v1/submissions/{sub.id}/pages/2.png", headers=auth(session, member))
    assert (missing.status_code, missing.json()["detail"]) == (404, "This version has no such page.")
    assert client.get("/api/v1/submissions/999999/pages/1.png", headers=auth(session, member)).status_code == 404


def _char_boxes(pdf: bytes, page: int) -> tuple[str, list[tuple[float, float, float, float]]]:
    """The page's text and each character's box (left, bottom, right, top) in PDF points, as PDFium reads them."""
    document = pdfium.PdfDocument(pdf)
    try:
        text_page = document[page - 1].get_textpage()
        count = text_page.count_chars()
        return text_page.get_text_range(0, count), [text_page.get_charbox(i) for i in range(count)]
    finally:
        document.close()


def test_the_outline_lies_over_the_body_text_past_the_page_limit(client: TestClient, session: Session) -> None:
    pdf = build_paper(Paper([*proposal_blocks()[:-1], *filler(14, 6), References(8)]))
    course = make_course(session)
    members = [make_student(session, course) for _ in range(3)]
    group = make_group(session, course, members=members)
    make_topic(session, group)
    session.commit()
    headers = auth(session, members[0])
    stored = client.post(
        f"/api/v1/groups/{group.id}/milestones/proposal/submissions",
        headers=headers,
        files={"file": ("proposal.pdf", pdf, "application/pdf")},
    ).json()
    (finding,) = stored["format_report"]["errors"]
    assert (finding["code"], finding["pages"]) == ("body-pages", [3])
    (box,) = finding["boxes"]
    assert box["page"] == 3

    # Every character of the body text on page 3 (before the References heading) lies inside the box,
    # and the references do not.
    text, chars = _char_boxes(pdf, 3)
    references_at = text.index("References")
    body = [c for t, c in zip(text[:references_at], chars[:references_at], strict=True) if not t.isspace()]
    references = [c for t, c in zip(text[references_at:], chars[references_at:], strict=True) if not t.isspace()]
    assert len(body) > 500
    inside = [
        box["x0"] - 1 <= left and right <= box["x1"] + 1 and box["y0"] - 1 <= bottom and top <= box["y1"] + 1
        for left, bottom, right, top in body
    ]
    assert all(inside)
    assert not any(
        box["y0"] <= (bottom + top) / 2 <= box["y1"] and box["x0"] <= left <= box["x1"]
        for left, bottom, right, top in references
    )

    # The picture outlines that box: its red frame sits where the box's corners fall on the 600 px picture.
    response = client.get(f"/api/v1/submissions/{stored['id']}/pages/3.png", headers=headers)
    assert response.status_code == 200
    scale = 600 / 612
    expected = (box["x0"] * scale, (792 - box["y1"]) * scale, box["x1"] * scale, (792 - box["y0"]) * scale)
    left, top, right, bottom = red_bounds(response.content)
    assert all(abs(a - b) <= 2 for a, b in zip((left, top, right, bottom), expected, strict=True))
    # And the body text's pixels fall inside the frame.
    text_left = min(c[0] for c in body) * scale
    text_top = (792 - max(c[3] for c in body)) * scale
    assert left <= text_left + 1  # the box is tight around the text: a pixel of rounding
    assert top <= text_top + 1


def test_a_cached_picture_is_served_without_reading_the_stored_file(client: TestClient, session: Session) -> None:
    box = {"page": 1, "x0": 400.0, "y0": 652.0, "x1": 500.0, "y1": 692.0}
    _, member, sub = _stored_version(session, page_with_block(), boxes=[box])
    session.commit()
    url = f"/api/v1/submissions/{sub.id}/pages/1.png"
    drawn = client.get(url, headers=auth(session, member))
    assert drawn.status_code == 200
    # With the PDF gone from the store, only the cache can answer: in S3, a cached picture costs no download.
    store = get_store()
    names = [o.name for o in store.stored_objects()]
    assert len(names) == 1
    store.remove(names[0])
    again = client.get(url, headers=auth(session, member))
    assert (again.status_code, again.content) == (200, drawn.content)
