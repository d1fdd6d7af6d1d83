"""Cells of an exported CSV file that a spreadsheet opens as data, never as a formula.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` as a
formula (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`), and a leading tab or carriage return can hide
one. As OWASP advises (CSV injection), such a text cell gets a leading `'`, which the
spreadsheet shows as text and does not display. Only text is changed: a value that is a number
in the call log (a duration in s, a SIP status, an attempt, an id; a level of -42.5 dBFS) is
written as the number it is, so a negative one stays a number. NUL bytes are dropped from text.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""The first characters that make a spreadsheet read a cell as a formula."""

QUOTE = "'"
"""What goes before a text cell that would be read as a formula."""


def spreadsheet_cell(value: Any) -> Any:
    """`value` as a CSV cell: None as an empty cell, a number (int or float, not bool) as it
    is, anything else as text with NUL bytes dropped and a leading `'` if it starts like a
    formula (`-2+3` -> `'-2+3`)."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value).replace("\x00", "")
    return QUOTE + text if text.startswith(FORMULA_STARTS) else text
