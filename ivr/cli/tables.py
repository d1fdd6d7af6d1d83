"""How every command prints a table: one rule for all of them.

On a terminal, a rich table whose kept columns (file names, outcomes, phone numbers: what a
reader looks a row up by) are as wide as their longest cell; the other columns wrap, and a
cell too long for any width folds onto the next line instead of ending in `…`; a table that
cannot fit so is printed as plain lines. On a pipe or a file, plain lines: the title, the
header, one row per line, columns aligned with two spaces, no box drawing, nothing cut, so
`grep` and `awk` see whole rows.
"""

from __future__ import annotations

from typing import Any, Literal

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

GAP = "  "
"""Between two columns of a plain (piped) table."""

WORD_MAX = 12
"""Widest (characters) a column not kept is left unbroken when a table is too wide for its
terminal: a longer word folds."""

NARROWEST = 4
"""Narrowest (characters) a column not kept is made on a terminal; a table that does not fit
then is printed as plain lines, which the terminal wraps whole."""


class CliTable(Table):
    """A rich table that knows which of its columns are never cut (`kept`: their indexes)."""

    def __init__(self, title: str | None = None, **options: Any) -> None:
        options.setdefault("title_justify", "left")
        super().__init__(title=title, **options)
        self.kept: set[int] = set()

    def column(
        self,
        header: str,
        *,
        keep: bool = False,
        justify: Literal["left", "right", "center"] = "left",
    ) -> None:
        """Add a column; `keep` for file names, outcomes and phone numbers (never cut)."""
        self.add_column(header, justify=justify, overflow="fold")
        if keep:
            self.kept.add(len(self.columns) - 1)


def plain(cell: RenderableType | None) -> str:
    """A cell's text without rich markup or styles."""
    if cell is None:
        return ""
    if isinstance(cell, Text):
        return cell.plain.replace("\n", " ")
    if isinstance(cell, str):
        return Text.from_markup(cell).plain.replace("\n", " ")
    return str(cell)


def print_table(console: Console, table: Table, keep: tuple[str, ...] = ()) -> None:
    """Print `table` by the module's rule: rich on a terminal, plain lines on a pipe or file
    (and on a terminal too narrow for the kept columns beside the others at their narrowest).
    `keep`: headers of columns never cut, besides a CliTable's own kept ones."""
    widths: list[int] | None = None
    if console.is_terminal:
        kept = set(getattr(table, "kept", set()))
        kept |= {i for i, c in enumerate(table.columns) if plain(c.header) in keep}
        texts = [[plain(c) for c in (col.header, *col.cells)] for col in table.columns]
        padding = sum(table._get_padding_width(i) for i in range(len(table.columns)))
        widths = fit_widths(texts, kept, console.width - table._extra_width - padding)
    if widths is None:
        for line in plain_lines(table):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        return
    for column, width in zip(table.columns, widths, strict=True):
        column.overflow = "fold"
        column.width = width
    console.print(table)


def fit_widths(texts: list[list[str]], kept: set[int], room: int) -> list[int] | None:
    """Widths (characters) of columns holding `texts` (each column's header and cells) in
    `room`, or None when they cannot fit: kept columns as wide as their longest cell, the
    others at least their longest word (at most WORD_MAX), narrowed down to NARROWEST when
    need be, then given a share of what is left by how much more they hold."""
    natural = [max(map(cell_len, cells), default=1) for cells in texts]
    if sum(natural) <= room:
        return natural
    least = [
        natural[i] if i in kept else min(WORD_MAX, max(cell_len(w) for c in cells for w in
                                                       (c.split() or [""])))
        for i, cells in enumerate(texts)
    ]  # fmt: skip
    others = [i for i in range(len(texts)) if i not in kept]
    while sum(least) > room and others:
        widest = max(others, key=lambda i: least[i])
        if least[widest] <= min(NARROWEST, natural[widest]):
            return None
        least[widest] -= 1
    if sum(least) > room:
        return None
    spare = room - sum(least)
    wants = [natural[i] - least[i] for i in range(len(texts))]
    total = sum(wants)
    return [least[i] + (spare * wants[i] // total if total else 0) for i in range(len(texts))]


def plain_lines(table: Table) -> list[str]:
    """The table as plain lines: title, header, rows (columns aligned), caption."""
    columns = table.columns
    grid = [[plain(c.header) for c in columns]] if table.show_header else []
    cells = [list(c.cells) for c in columns]
    grid += [[plain(col[row]) for col in cells] for row in range(table.row_count)]
    widths = [max((cell_len(r[i]) for r in grid), default=0) for i in range(len(columns))]
    lines = [plain(table.title)] if table.title else []
    for row in grid:
        parts = []
        for i, text in enumerate(row):
            pad = " " * (widths[i] - cell_len(text))
            last = i == len(row) - 1
            right = columns[i].justify == "right"
            parts.append(pad + text if right else text + ("" if last else pad))
        lines.append(GAP.join(parts).rstrip())
    if table.caption:
        lines.append(plain(table.caption))
    return lines


__all__ = ["GAP", "CliTable", "plain", "plain_lines", "print_table"]
