"""How `ivr replay` shows its judged calls: the table of expected outcomes (the judging itself:
ivr.app.replay)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from ivr.app.replay import ReplayedFile
from ivr.privacy import mask_number


def expectation_table(
    outcomes: list[ReplayedFile], expectations: dict[str, Any], show_numbers: bool
) -> Table:
    """A row per call: outcome, expected outcome, duration, prompts, QA score, verdict (phone
    numbers masked unless `show_numbers`)."""
    table = Table(title="Expected outcomes", title_justify="left")
    for name in ("file", "outcome", "expected", "duration s", "prompts", "QA", "result"):
        table.add_column(name)
    shown = (lambda text: text) if show_numbers else mask_number
    for o in outcomes:
        exp = expectations.get(Path(o.file).name)
        verdict = {
            "pass": "[green]pass[/green]",
            "fail": "[red]FAIL[/red] " + escape(shown("; ".join(o.problems))),
            "skip": "[yellow]skip[/yellow]: needs recognition (--asr reference)",
        }.get(o.verdict, "-")
        table.add_row(
            escape(shown(Path(o.file).name)),
            o.outcome or "error",
            (exp.outcome or "-") if exp else "-",
            f"{o.duration_s:.2f}",
            str(len(o.result.prompts)) if o.result is not None else "-",
            f"{o.qa.score:.0f}" if o.qa else "-",
            verdict,
        )
    return table
