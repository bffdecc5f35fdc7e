"""Which program made a PDF, judged from its producer and creator strings (document info and XMP)."""

from __future__ import annotations

import re

# TeX engines, drivers and front ends that write these strings; ConTeXt needs a word boundary,
# or macOS's "Quartz PDFContext" would pass for it.
_TEX = re.compile(
    r"pdf-?tex|xe-?tex|lua-?(?:hb)?tex|tectonic|dvipdfm|dvips|\blatex\b|\btex\b|miktex|tex ?live|\bcontext\b"
    r"|overleaf|\blyx\b|texmacs|ptex|uptex|hyperref",
    re.I,
)
# Friendly names for what students commonly export from, in the order they are tried.
_KNOWN: tuple[tuple[str, str], ...] = (
    (r"microsoft.{0,3}\s*word|\bword\b.*microsoft|^word\b", "Microsoft Word"),
    (r"microsoft.{0,3}\s*powerpoint", "Microsoft PowerPoint"),
    (r"wps", "WPS Office"),
    (r"libreoffice", "LibreOffice"),
    (r"openoffice", "OpenOffice"),
    (r"google docs|google", "Google Docs"),
    (r"\bpages\b", "Apple Pages"),
    (r"quartz|mac ?os", "the macOS print dialog"),
    (r"typst", "Typst"),
    (r"wkhtmltopdf|chrom|skia", "a web browser"),
    (r"acrobat|adobe pdf|distiller|pdfmaker", "Adobe Acrobat"),
    (r"scan|lura|abbyy|finereader|omnipage|readiris", "a scanner or OCR program"),
)


def made_by_tex(makers: list[str]) -> bool:
    """Whether any producer or creator string names a TeX engine or driver."""
    return any(_TEX.search(maker) for maker in makers)


def describe_makers(makers: list[str]) -> str | None:
    """What made the file, for a student ('Microsoft Word'), or None when nothing was recorded."""
    named = [maker.strip() for maker in makers if maker and maker.strip()]
    if not named:
        return None
    for pattern, name in _KNOWN:
        for maker in named:
            if re.search(pattern, maker, re.I):
                return f"{name} (“{maker}”)"
    return f"“{named[0]}”"
