"""Papers for the demo course, made here with fpdf2 so that no third-party file is shipped.

An AAAI-like layout: US Letter, 0.75 in margins, a 7 x 9 in text block in two columns, Times
10 pt body, 12 pt section headings, 9 pt references. `overflow` pushes the plan onto the
page that may hold only references, which the format check rejects (`body-pages`).
"""

from fpdf import FPDF

LETTER = (612.0, 792.0)
MARGIN, BLOCK_HEIGHT, GUTTER = 54.0, 648.0, 24.0
_WORDS = [
    "deep",
    "networks",
    "learn",
    "useful",
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
    "model",
    "is",
    "pretrained",
    "and",
    "the",
    "schedule",
    "is",
    "tuned",
]
SECTIONS = {
    "proposal": ["Introduction", "Related Work", "Project Plan"],
    "report": ["Introduction", "Related Work", "Proposed Solution", "Experiments", "Conclusion"],
}


def _words(n: int, seed: int) -> str:
    return " ".join(_WORDS[(seed + i * 7) % len(_WORDS)] for i in range(n)).capitalize() + "."


class _Columns:
    """Writes lines down two columns, page after page."""

    def __init__(self, pdf: FPDF, top: float) -> None:
        self.pdf = pdf
        width = (LETTER[0] - 2 * MARGIN - GUTTER) / 2
        self.columns = [(MARGIN, width), (MARGIN + width + GUTTER, width)]
        self.col, self.y, self.first_top = 0, top, top
        self.pages = 1

    def _need(self, height: float) -> None:
        if self.y + height <= MARGIN + BLOCK_HEIGHT:
            return
        if self.col == 0:
            self.col, self.y = 1, self.first_top if self.pages == 1 else MARGIN
        else:
            self.pdf.add_page()
            self.pages += 1
            self.col, self.y = 0, MARGIN

    def text(self, text: str, *, size: float = 10, bold: bool = False, center: bool = False) -> None:
        """A paragraph (or heading), wrapped to the column."""
        self.pdf.set_font("Times", "B" if bold else "", size)
        x, width = self.columns[self.col]
        line = ""
        lines = []
        for word in text.split():
            trial = f"{line} {word}" if line else word
            if line and self.pdf.get_string_width(trial) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
        for item in lines:
            self._need(size * 1.2)
            x, width = self.columns[self.col]
            self.y += size * 1.2
            dx = (width - self.pdf.get_string_width(item)) / 2 if center else 0
            self.pdf.text(x + dx, self.y - size * 0.25, item)
        self.y += 2

    def heading(self, text: str) -> None:
        """A section heading kept with its first lines."""
        self._need(60)
        self.y += 6
        self.text(text, size=12, bold=True, center=True)


def demo_paper(*, title: str, ruleset: str, seed: int = 0, overflow: bool = False) -> bytes:
    """A proposal or report that passes the format check (or, with `overflow`, one rejected for body-pages)."""
    pdf = FPDF(unit="pt", format=LETTER)
    pdf.set_auto_page_break(False)
    pdf.set_creator("Course Project Tracker demo")
    pdf.add_page()
    pdf.set_font("Times", "B", 14)
    pdf.text(MARGIN + (LETTER[0] - 2 * MARGIN - pdf.get_string_width(title)) / 2, MARGIN + 16, title)
    flow = _Columns(pdf, MARGIN + 40)
    flow.heading("Abstract")
    flow.text(_words(70, seed))
    paragraphs = 3 if ruleset == "proposal" else 5
    for n, section in enumerate(SECTIONS[ruleset], start=1):
        flow.heading(f"{n} {section}")
        for k in range(paragraphs + (22 if overflow and n == len(SECTIONS[ruleset]) else 0)):
            flow.text(_words(60, seed + n * 11 + k))
    flow.heading("References")
    for k in range(8):
        flow.text(
            f"Author{k}, A.; and Writer, B. {2010 + k}. A study of topic {k} in deep learning. "
            f"In Proceedings of the Conference on Learning, {100 + k}-{110 + k}.",
            size=9,
        )
    return bytes(pdf.output())
