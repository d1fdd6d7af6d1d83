"""The console of the CLI commands and their one-line errors (their shared options:
ivr.app.options; `DbOption` is also here for `ivr calls`)."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console

from ivr.app.options import DbOption

PLAIN_WIDTH = 120
"""Width (characters) of tables printed to a pipe or file, where rich would assume 80."""


def make_console(stderr: bool = False) -> Console:
    """A rich console; on a pipe or file, wide enough that tables are not truncated."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=max(console.width, PLAIN_WIDTH))
    return console


def say(console: Console, text: str, style: str = "") -> None:
    """Print `text` as one line (never wrapped, however long its paths), no markup."""
    console.print(text, style=style or None, markup=False, highlight=False, soft_wrap=True)


def fail_line(message: str, code: int = 2) -> NoReturn:
    """Print `error: message` on stderr (one line, no traceback) and exit with `code`."""
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(code)


__all__ = ["PLAIN_WIDTH", "DbOption", "fail_line", "make_console", "say"]
