"""Tiny, valid PDFs built with fpdf2 for upload tests."""

from fpdf import FPDF


def tiny_pdf(*, pages: int = 1, text: str = "Seeing in the dark", size: str | tuple[float, float] = "letter") -> bytes:
    """A PDF of `pages` pages (US Letter by default; a size tuple is in mm) with a line of text on each."""
    pdf = FPDF(unit="mm", format=size)
    pdf.set_font("Helvetica", size=10)
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.cell(text=f"{text}, page {n}")
    return bytes(pdf.output())


A0_PORTRAIT_MM = (841.0, 1189.0)
