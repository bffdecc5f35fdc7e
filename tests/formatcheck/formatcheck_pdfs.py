"""Build the PDFs the format checker tests need: AAAI-like papers with fpdf2, hostile files by hand."""

from __future__ import annotations

import io
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import EncryptionMethod
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import FloatObject, NameObject, RectangleObject


def corpus_dir() -> Path | None:
    """../shared/corpus next to the repository (or $TRACKER_CORPUS_DIR), if it is there."""
    configured = os.environ.get("TRACKER_CORPUS_DIR")
    folder = Path(configured) if configured else Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
    return folder.resolve() if (folder / "EXPECTED.tsv").is_file() else None


def plain(findings: list[Any]) -> list[dict[str, Any]]:
    """Findings as JSON without their outline boxes (tests of the boxes themselves compare those)."""
    return [{k: v for k, v in f.to_dict().items() if k != "boxes"} for f in findings]


LETTER = (612.0, 792.0)
A4 = (595.28, 841.89)
MM = 72 / 25.4
A0 = (841 * MM, 1189 * MM)
A1 = (594 * MM, 841 * MM)

_WORDS = [
    "deep",
    "learning",
    "models",
    "learn",
    "representations",
    "from",
    "data",
    "and",
    "we",
    "study",
    "how",
    "training",
    "choices",
    "affect",
    "accuracy",
    "robustness",
    "and",
    "cost",
    "across",
    "several",
    "benchmark",
    "datasets",
    "with",
    "careful",
    "ablations",
    "our",
    "results",
    "show",
    "consistent",
    "gains",
    "when",
    "the",
    "network",
    "is",
    "pretrained",
    "and",
    "the",
    "schedule",
    "is",
    "tuned",
]


def words(n: int, seed: int = 0) -> str:
    """n deterministic filler words that read like body text."""
    return " ".join(_WORDS[(seed + i * 7) % len(_WORDS)] for i in range(n)).capitalize() + "."


# --- the blocks a paper is made of ---------------------------------------------------


@dataclass
class Heading:
    """A display heading; section headings are 12 pt bold, subsections 11 pt bold."""

    text: str
    size: float = 12.0
    bold: bool = True


@dataclass
class RunIn:
    """A paragraph that starts with a bold run-in heading ("Abstract." / "Abstract—")."""

    head: str
    text: str


@dataclass
class Para:
    """A body paragraph."""

    text: str
    size: float = 10.0


@dataclass
class References:
    """A References heading followed by n entries (9 pt)."""

    n: int
    title: str = "References"


@dataclass
class Figure:
    """An image block of the given height (a grey raster image)."""

    height: float = 120.0


@dataclass
class ColumnBreak:
    """Continue in the next column (or page)."""


@dataclass
class PageBreak:
    """Continue at the top of the next page."""


@dataclass
class Paper:
    """Layout settings: AAAI geometry by default (0.75 in margins, 7 x 9 in block, two columns)."""

    blocks: list[object]
    title: str = "A Study of Deep Learning for Course Projects"
    authors: str = "Ada Student, Alan Student"
    page_size: tuple[float, float] = LETTER
    columns: int = 2
    margin: float = 54.0
    block_height: float = 648.0
    gutter: float = 24.0
    body_size: float = 10.0
    extra_pages: int = 0  # blank-ish pages appended (used for many-page files)
    images_only: bool = False
    encrypt_user_password: str | None = None
    encrypt_owner_password: str = "owner-secret"
    meta: dict[str, object] = field(default_factory=dict)
    # These papers imitate LaTeX output, so they say so; a test of not-latex sets Word's strings.
    producer: str = "pdfTeX-1.40.25"
    creator: str = "LaTeX with hyperref"
    xmp: str | None = None  # an XMP packet (the x:xmpmeta element)


class _Flow:
    """Places lines into columns, page after page."""

    def __init__(self, pdf: FPDF, paper: Paper) -> None:
        self.pdf = pdf
        self.paper = paper
        width = paper.page_size[0] - 2 * paper.margin
        if paper.columns == 2:
            col = (width - paper.gutter) / 2
            self.columns = [(paper.margin, col), (paper.margin + col + paper.gutter, col)]
        else:
            self.columns = [(paper.margin, width)]
        self.top = paper.margin
        self.bottom = paper.margin + paper.block_height
        self.col = 0
        self.y = self.top
        self.pages = 1
        self.first_page_top = self.top  # below the title block, set once the title is drawn

    @property
    def x(self) -> float:
        return self.columns[self.col][0]

    @property
    def width(self) -> float:
        return self.columns[self.col][1]

    def next_column(self) -> None:
        if self.col + 1 < len(self.columns):
            self.col += 1
            self.y = self.first_page_top if self.pages == 1 else self.top
        else:
            self.new_page()

    def new_page(self) -> None:
        self.pdf.add_page()
        self.pages += 1
        self.col = 0
        self.y = self.top

    def need(self, height: float) -> None:
        if self.y + height > self.bottom:
            self.next_column()

    def wrap(self, text: str, font: str, size: float, first_indent: float = 0.0) -> list[str]:
        self.pdf.set_font("Times", font, size)
        lines: list[str] = []
        current = ""
        limit = self.width - first_indent
        for word in text.split():
            trial = f"{current} {word}" if current else word
            if current and self.pdf.get_string_width(trial) > limit:
                lines.append(current)
                current = word
                limit = self.width
            else:
                current = trial
        if current:
            lines.append(current)
        return lines

    def line(self, text: str, font: str, size: float, *, center: bool = False, dx: float = 0.0) -> None:
        leading = size * 1.2
        self.need(leading)
        self.y += leading
        self.pdf.set_font("Times", font, size)
        x = self.x + dx
        if center:
            x = self.x + (self.width - self.pdf.get_string_width(text)) / 2
        self.pdf.text(x, self.y - size * 0.25, text)

    def heading(self, block: Heading) -> None:
        self.need(block.size * 3 + 24)  # keep a heading with its first lines
        self.y += 6
        for text in self.wrap(block.text, "B" if block.bold else "", block.size):
            self.line(text, "B" if block.bold else "", block.size, center=True)
        self.y += 3

    def para(self, text: str, size: float) -> None:
        for text_line in self.wrap(text, "", size):
            self.line(text_line, "", size)
        self.y += 2

    def run_in(self, block: RunIn) -> None:
        size = self.paper.body_size
        self.pdf.set_font("Times", "B", size)
        head_width = self.pdf.get_string_width(block.head + " ")
        lines = self.wrap(block.text, "", size, first_indent=head_width)
        leading = size * 1.2
        self.need(leading)
        self.y += leading
        baseline = self.y - size * 0.25
        self.pdf.set_font("Times", "B", size)
        self.pdf.text(self.x, baseline, block.head)
        self.pdf.set_font("Times", "", size)
        self.pdf.text(self.x + head_width, baseline, lines[0])
        for text_line in lines[1:]:
            self.line(text_line, "", size)
        self.y += 2

    def references(self, block: References) -> None:
        self.heading(Heading(block.title))
        for k in range(block.n):
            entry = (
                f"Author{k}, A.; and Writer, B. {2000 + k % 24}. A study of topic number {k} in deep learning. "
                f"In Proceedings of the Conference on Learning, {100 + k}-{110 + k}."
            )
            for text_line in self.wrap(entry, "", 9):
                self.line(text_line, "", 9)
            self.y += 2

    def figure(self, block: Figure) -> None:
        self.need(block.height + 6)
        self.pdf.image(_grey_png(), x=self.x, y=self.y + 3, w=self.width, h=block.height)
        self.y += block.height + 6


def _grey_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 130, 140)).save(buffer, format="PNG")
    return buffer.getvalue()


def build_paper(paper: Paper) -> bytes:
    """Render a paper to PDF bytes."""
    pdf = FPDF(unit="pt", format=paper.page_size)
    pdf.core_fonts_encoding = "windows-1252"  # WinAnsi: em dashes for "Abstract—"
    pdf.set_auto_page_break(False)
    pdf.set_compression(True)
    pdf.set_producer(paper.producer)
    pdf.set_creator(paper.creator)
    if paper.xmp is not None:
        pdf.set_xmp_metadata(paper.xmp)
    if paper.encrypt_user_password is not None:
        pdf.set_encryption(
            owner_password=paper.encrypt_owner_password,
            user_password=paper.encrypt_user_password,
            encryption_method=EncryptionMethod.RC4,
        )
    pdf.add_page()
    if paper.images_only:
        pdf.image(_grey_png(), x=paper.margin, y=paper.margin, w=paper.page_size[0] - 2 * paper.margin, h=400)
        return bytes(pdf.output())
    flow = _Flow(pdf, paper)
    # Title block across both columns.
    full = paper.page_size[0] - 2 * paper.margin
    pdf.set_font("Times", "B", 14)
    y = paper.margin + 16
    pdf.text(paper.margin + (full - pdf.get_string_width(paper.title)) / 2, y, paper.title)
    pdf.set_font("Times", "B", 12)
    y += 22
    pdf.text(paper.margin + (full - pdf.get_string_width(paper.authors)) / 2, y, paper.authors)
    pdf.set_font("Times", "", 10)
    affiliation = "Department of Computer Science, Example University, 100 Campus Road, Springfield"
    y += 14
    pdf.text(paper.margin + (full - pdf.get_string_width(affiliation)) / 2, y, affiliation)
    flow.y = flow.first_page_top = y + 24
    for block in paper.blocks:
        if isinstance(block, Heading):
            flow.heading(block)
        elif isinstance(block, RunIn):
            flow.run_in(block)
        elif isinstance(block, Para):
            flow.para(block.text, block.size)
        elif isinstance(block, References):
            flow.references(block)
        elif isinstance(block, Figure):
            flow.figure(block)
        elif isinstance(block, ColumnBreak):
            flow.next_column()
        elif isinstance(block, PageBreak):
            flow.new_page()
        else:  # pragma: no cover - a typo in a test
            raise TypeError(block)
    for k in range(paper.extra_pages):
        pdf.add_page()
        pdf.set_font("Times", "", 10)
        pdf.text(paper.margin, paper.margin + 20, f"Appendix page {k + 1}: {words(12, k)}")
    return bytes(pdf.output())


# --- ready-made papers -----------------------------------------------------------


def filler(paragraphs: int, seed: int = 0, size: float = 10.0) -> list[object]:
    """Some body paragraphs of about 60 words each."""
    return [Para(words(60, seed + k), size) for k in range(paragraphs)]


def proposal_blocks(*, references: int = 8) -> list[object]:
    """A complete proposal: Abstract, Introduction, Related Work, Plan, References."""
    return [
        Heading("Abstract", size=10),
        *filler(2, 1),
        Heading("1 Introduction"),
        *filler(4, 2),
        Heading("2 Related Work"),
        *filler(4, 3),
        Heading("3 Project Plan"),
        *filler(3, 4),
        Heading("3.1 Results We Expect", size=11),
        *filler(2, 5),
        References(references),
    ]


# --- transformations with pypdf ----------------------------------------------------


def rotate_pages(data: bytes) -> bytes:
    """Put each portrait page on a landscape MediaBox with /Rotate 90, so it still displays portrait."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for page in writer.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        page.add_transformation(Transformation().rotate(90).translate(height, 0))
        page.mediabox = RectangleObject((0, 0, height, width))
        page.cropbox = RectangleObject((0, 0, height, width))
        page.rotation = 90
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_user_unit(data: bytes, unit: float) -> bytes:
    """Shrink each page by 1/unit and set /UserUnit, so the printed sheet stays the same size."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for page in writer.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        page.add_transformation(Transformation().scale(1 / unit))
        page.mediabox = RectangleObject((0, 0, width / unit, height / unit))
        page.cropbox = RectangleObject((0, 0, width / unit, height / unit))
        page[NameObject("/UserUnit")] = FloatObject(unit)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- hand-made files -----------------------------------------------------------------


def raw_pdf(objects: list[bytes], *, root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """Assemble numbered objects (object k+1 is objects[k]) into a PDF with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        trailer_extra,
        xref,
    )
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    """A stream object body."""
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def text_page_pdf(pages: int, *, size: tuple[float, float] = LETTER, text: bytes = b"Page text") -> bytes:
    """A PDF of many pages that share one small content stream (a many-page file costs a few KB)."""
    content = b"BT /F1 10 Tf 54 700 Td (" + text + b") Tj ET"
    kids = b" ".join(b"%d 0 R" % (5 + k) for k in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
        stream(content),
    ]
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>" % size
    )
    objects += [page] * pages
    return raw_pdf(objects)


def bomb_pdf(gigabytes: int = 1) -> bytes:
    """One page whose content stream inflates to `gigabytes` GiB (Flate applied twice)."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 24)
    inner = b"".join(compressor.compress(chunk) for _ in range(64 * gigabytes)) + compressor.flush()
    outer = zlib.compress(inner, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        stream(outer, b"/Filter [/FlateDecode /FlateDecode] "),
    ]
    return raw_pdf(objects)


def slow_pdf(operators: int = 6_000_000) -> bytes:
    """One page whose content is millions of cheap operators: slow to interpret, small in memory."""
    content = b"q Q " * operators + b"BT /F1 10 Tf 54 700 Td (Slow) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        stream(zlib.compress(content, 9), b"/Filter /FlateDecode "),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman >>",
    ]
    return raw_pdf(objects)


def looping_pdf() -> bytes:
    """A page tree whose /Kids points back at itself."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    return raw_pdf(objects)
