"""The lecture's LaTeX rule: a `not-latex` warning when no TeX program made the PDF."""

from __future__ import annotations

import pytest

from app.formatcheck import check_pdf
from tests.formatcheck.formatcheck_pdfs import Paper, build_paper, plain, proposal_blocks

WORD_MESSAGE = (
    "This PDF was made with Microsoft Word (“Microsoft® Word for Microsoft 365”), not with LaTeX; the lecture asks "
    "for reports written in LaTeX (for example with the AAAI template on Overleaf)."
)


def xmp(producer: str, creator_tool: str) -> str:
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<pdf:Producer>{producer}</pdf:Producer><xmp:CreatorTool>{creator_tool}</xmp:CreatorTool>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def test_a_word_export_gets_not_latex_naming_word() -> None:
    data = build_paper(
        Paper(
            proposal_blocks(), producer="Microsoft® Word for Microsoft 365", creator="Microsoft® Word for Microsoft 365"
        )
    )

    report = check_pdf(data, "proposal")

    assert report.verdict == "accept"
    assert plain(report.warnings) == [{"code": "not-latex", "message": WORD_MESSAGE, "pages": []}]


@pytest.mark.parametrize(
    ("producer", "creator"),
    [
        ("pdfTeX-1.40.25", "LaTeX with hyperref"),
        ("xdvipdfmx (20220710)", "XeTeX output 2024.01.02:1200"),
        ("LuaTeX-1.17.0", "TeX"),
        ("Tectonic", ""),
        ("GPL Ghostscript 10.0", "dvips(k) 2023.1"),
        ("macOS Version 14.2 (Build 23C64) Quartz PDFContext", "TeX"),
    ],
)
def test_tex_engines_and_drivers_are_latex(producer: str, creator: str) -> None:
    report = check_pdf(build_paper(Paper(proposal_blocks(), producer=producer, creator=creator)), "proposal")

    assert report.warning_codes == []


def test_xmp_is_read_when_the_info_dictionary_is_silent() -> None:
    tex = build_paper(Paper(proposal_blocks(), producer="", creator="", xmp=xmp("pdfTeX-1.40.26", "LaTeX")))
    docs = build_paper(
        Paper(proposal_blocks(), producer="", creator="", xmp=xmp("Skia/PDF m120", "Google Docs Renderer"))
    )

    assert check_pdf(tex, "proposal").warning_codes == []
    assert [w.message for w in check_pdf(docs, "proposal").warnings] == [
        "This PDF was made with Google Docs (“Google Docs Renderer”), not with LaTeX; the lecture asks for reports "
        "written in LaTeX (for example with the AAAI template on Overleaf)."
    ]


def test_a_file_that_names_no_program_is_not_held_against_it() -> None:
    report = check_pdf(build_paper(Paper(proposal_blocks(), producer="", creator="")), "proposal")

    assert report.warning_codes == []


def test_posters_and_slides_have_no_latex_rule() -> None:
    data = build_paper(Paper(proposal_blocks(), producer="Microsoft® PowerPoint® 2019", creator="PowerPoint"))

    assert check_pdf(data, "slides").warning_codes == []
    assert check_pdf(data, "poster").warning_codes == []
