"""Broken, encrypted, image-only and hostile files: clean reports within the limits, never a crash."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.formatcheck import check_pdf, check_pdf_isolated
from app.formatcheck.isolate import WorkerPool
from tests.formatcheck.formatcheck_pdfs import (
    A4,
    ColumnBreak,
    Heading,
    PageBreak,
    Paper,
    References,
    bomb_pdf,
    build_paper,
    filler,
    looping_pdf,
    slow_pdf,
    text_page_pdf,
)

BLOCKS = [
    Heading("Abstract", size=10),
    *filler(2, 1),
    Heading("1 Introduction"),
    *filler(3, 2),
    Heading("2 Related Work"),
    *filler(3, 3),
    PageBreak(),
    Heading("3 Project Plan"),
    *filler(3, 4),
    ColumnBreak(),
    References(12),
]
ENCRYPTED = {
    "ruleset": "proposal",
    "verdict": "reject",
    "pages": 0,
    "errors": [
        {
            "code": "encrypted",
            "message": "This PDF is protected by a password, so nobody can open it without one. "
            "Save or export it again without a password.",
            "pages": [],
            "boxes": [],
        }
    ],
    "warnings": [],
    "facts": {},
}
TOO_MUCH_MEMORY = (
    "This file could not be checked: reading it needed more than 512 MB of memory. "
    "Export it again as a PDF and upload that."
)


@pytest.fixture(scope="module")
def paper() -> bytes:
    return build_paper(Paper(BLOCKS))


def error_codes(report) -> list[tuple[str, list[int]]]:
    return [(f.code, f.pages) for f in report.errors]


def test_user_password_is_encrypted_and_nothing_else() -> None:
    data = build_paper(Paper(BLOCKS, encrypt_user_password="student-secret"))

    assert check_pdf(data, "proposal").to_dict() == ENCRYPTED
    assert check_pdf_isolated(data, "proposal").to_dict() == ENCRYPTED


def test_owner_password_only_opens_with_the_empty_password(paper: bytes) -> None:
    data = build_paper(Paper(BLOCKS, encrypt_user_password=""))

    report = check_pdf(data, "proposal")

    assert report.verdict == "accept"
    assert report.facts["headings"] == check_pdf(paper, "proposal").facts["headings"]


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b"", "Cannot read an empty file"),
        (b"Hello, this is a Word document.", "Stream has ended unexpectedly"),
        (b"%PDF-1.5\nnothing else here\n", "Stream has ended unexpectedly"),
    ],
)
def test_not_a_pdf_is_unreadable(data: bytes, detail: str) -> None:
    report = check_pdf(data, "report")

    assert report.to_dict() == {
        "ruleset": "report",
        "verdict": "reject",
        "pages": 0,
        "errors": [
            {
                "code": "unreadable",
                "message": "This file could not be read as a PDF: it is damaged, cut short or not a PDF at all. "
                f"Export it again as a PDF and upload that. (Details: {detail}.)",
                "pages": [],
                "boxes": [],
            }
        ],
        "warnings": [],
        "facts": {},
    }


def test_truncated_file_is_unreadable(paper: bytes) -> None:
    report = check_pdf(paper[: len(paper) * 6 // 10], "proposal")

    assert error_codes(report) == [("unreadable", [])]
    assert report.errors[0].message == (
        "This file could not be read as a PDF: it is damaged, cut short or not a PDF at all. "
        "Export it again as a PDF and upload that. (Details: Stream has ended unexpectedly.)"
    )


def test_image_only_pdf_has_no_text() -> None:
    report = check_pdf(build_paper(Paper([], images_only=True)), "proposal")

    assert report.to_dict()["errors"] == [
        {
            "code": "no-text",
            "message": "This PDF has no text layer: it looks scanned or made of images. Export it from your "
            "editor (LaTeX, Word) so that its text can be selected.",
            "pages": [],
            "boxes": [],
        }
    ]
    assert report.warnings == []
    assert report.facts["headings"] == []


def test_no_text_keeps_only_page_size_and_page_limit() -> None:
    data = build_paper(Paper([], images_only=True, page_size=A4, extra_pages=0))
    pages = text_page_pdf(5, size=A4, text=b"")

    assert error_codes(check_pdf(data, "proposal")) == [("page-size", [1]), ("no-text", [])]
    assert error_codes(check_pdf(pages, "proposal")) == [
        ("page-size", [1, 2, 3, 4, 5]),
        ("page-limit", [4, 5]),
        ("no-text", []),
    ]


def test_page_tree_loop_is_unreadable() -> None:
    report = check_pdf_isolated(looping_pdf(), "report")

    assert error_codes(report) == [("unreadable", [])]
    assert report.errors[0].message == (
        "This file could not be read as a PDF: it is damaged, cut short or not a PDF at all. "
        "Export it again as a PDF and upload that. (Details: Detected cyclic page references.)"
    )


def test_five_thousand_pages_get_page_limit_quickly() -> None:
    data = text_page_pdf(5000, text=b"Chapter text that goes on and on, page after page, for ever.")

    report = check_pdf_isolated(data, "proposal")

    # Pages 1, 3 and 4 settle the verdict; the rest of the first 40 are only skimmed for headings.
    assert error_codes(report) == [("page-limit", list(range(4, 5001))), ("body-pages", [3, 4])]
    assert (
        report.errors[0].message == "The proposal has 5000 pages; at most 3 are allowed (page 3 only for references)."
    )
    assert report.errors[1].message == (
        "Pages 3–4 hold body text; only references may follow page 2. "
        "(Only the first 40 pages were read, pages 2 and 5–40 only skimmed for headings.)"
    )
    assert report.facts["pages_analysed"] == 3
    assert report.facts["pages_skimmed"] == [2, *range(5, 41)]
    assert len(report.facts["page_sizes_pt"]) == 5000


def test_decompression_bomb_is_stopped_by_the_memory_limit() -> None:
    data = bomb_pdf(gigabytes=1)

    report = check_pdf_isolated(data, "report")

    assert report.to_dict()["errors"] == [{"code": "unreadable", "message": TOO_MUCH_MEMORY, "pages": [], "boxes": []}]
    # The pool replaced the dead worker: the next check works.
    assert check_pdf_isolated(build_paper(Paper(BLOCKS)), "proposal").verdict == "accept"


def test_slow_file_is_stopped_by_the_time_limit() -> None:
    data = text_page_pdf(60_000, text=b"Slow to parse")

    report = check_pdf_isolated(data, "report", time_limit=1.0)

    assert report.to_dict()["errors"] == [
        {
            "code": "unreadable",
            "message": "This file could not be checked: reading it took longer than 1 s. "
            "Export it again as a PDF and upload that.",
            "pages": [],
            "boxes": [],
        }
    ]


def test_millions_of_operators_on_one_page_are_fine() -> None:
    report = check_pdf_isolated(slow_pdf(3_000_000), "slides")

    assert report.verdict == "accept"


def test_other_checks_go_on_while_one_file_overruns(paper: bytes) -> None:
    pool = WorkerPool(size=2)
    pool.warm()
    slow = text_page_pdf(60_000, text=b"Slow to parse")
    try:
        with ThreadPoolExecutor(max_workers=1) as executor:
            stuck = executor.submit(check_pdf_isolated, slow, "report", time_limit=2.0, pool=pool)
            while len(pool._idle) != 1:  # wait until the slow file holds one of the two workers
                time.sleep(0.01)
            quick = check_pdf_isolated(paper, "proposal", pool=pool)
            # The quick check came back while the slow file was still being read.
            assert not stuck.done()
            assert quick.verdict == "accept"
            assert stuck.result().errors[0].code == "unreadable"
        assert check_pdf_isolated(paper, "proposal", pool=pool).verdict == "accept"
    finally:
        pool.close()


def test_a_worker_that_died_while_idle_is_replaced(paper: bytes) -> None:
    pool = WorkerPool(size=1)
    try:
        first = check_pdf_isolated(paper, "proposal", pool=pool)
        (idle,) = pool._idle
        idle.process.kill()
        idle.process.wait()
        # Make it look alive, as when it dies between the liveness check and the send.
        idle.alive = lambda: True  # type: ignore[method-assign]
        second = check_pdf_isolated(paper, "proposal", pool=pool)
        assert second.to_dict() == first.to_dict()
        assert pool._idle[0] is not idle
    finally:
        pool.close()


def test_isolated_and_in_process_reports_agree(paper: bytes, tmp_path) -> None:
    path = tmp_path / "paper.pdf"
    path.write_bytes(paper)

    assert check_pdf_isolated(path, "proposal").to_dict() == check_pdf(paper, "proposal").to_dict()


def test_isolated_raises_caller_errors(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        check_pdf_isolated(tmp_path / "missing.pdf", "report")
    with pytest.raises(ValueError, match="unknown ruleset"):
        check_pdf_isolated(b"%PDF", "thesis")


def test_many_threads_at_once(paper: bytes) -> None:
    expected = check_pdf(paper, "proposal").to_dict()
    barrier = threading.Barrier(4)

    def run(isolated: bool) -> dict:
        barrier.wait()
        return (check_pdf_isolated if isolated else check_pdf)(paper, "proposal").to_dict()

    with ThreadPoolExecutor(max_workers=4) as executor:
        results = list(executor.map(run, [False, False, True, True]))

    assert results == [expected] * 4
