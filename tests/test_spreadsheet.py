"""CSV cells are safe to open in a spreadsheet."""

import pytest

from app.spreadsheet import text_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x","click")', '\'=HYPERLINK("http://x","click")'),
        ("+1", "'+1"),
        ("-Team", "'-Team"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTabbed", "'\tTabbed"),
        ("Owls", "Owls"),
        ("Ada Lovelace", "Ada Lovelace"),
        ("", ""),
    ],
)
def test_formula_starts_are_neutralised(value: str, cell: str) -> None:
    assert text_cell(value) == cell
