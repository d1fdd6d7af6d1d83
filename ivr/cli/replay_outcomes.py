"""How `ivr replay` shows its judged calls: the table of expected outcomes (the judging itself:
ivr.app.replay)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from pathlib import Path
from typing import Any

from rich.markup import escape

from ivr.app.replay import ReplayedFile
from ivr.cli.tables import CliTable
from ivr.privacy import mask_number


def expectation_table(
    outcomes: list[ReplayedFile],
    expectations: dict[str, Any],
    show_numbers: bool,
    unlisted: Collection[str] = (),
) -> CliTable:
    """A row per call: outcome, expected outcome, duration, prompts, QA score, verdict (phone
    numbers masked unless `show_numbers`; `unlisted`: names of the files the manifest does not
    list)."""
    table = CliTable("Expected outcomes")
    for name in ("file", "outcome", "expected", "duration s", "prompts", "QA", "result"):
        table.column(name, keep=name in ("file", "outcome", "expected"))
    shown = (lambda text: text) if show_numbers else mask_number
    for o in outcomes:
        exp = expectations.get(Path(o.file).name)
        verdict = {
            "pass": "[green]pass[/green]",
            "fail": "[red]FAIL[/red] " + escape(shown("; ".join(o.problems))),
            "skip": "[yellow]skip[/yellow]: needs recognition (--asr reference)",
        }.get(o.verdict, "not in the manifest" if Path(o.file).name in unlisted else "-")
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


def judged_counts(outcomes: list[ReplayedFile], unlisted: Collection[str]) -> str:
    """One line counting the calls by verdict: `expected outcomes: 10 pass, 1 fail, 1 not
    judged (needs recognition), 1 not in the manifest` (the last two only when there are
    any; `unlisted`: names of the files the manifest does not list)."""
    counts = Counter(o.verdict for o in outcomes)
    parts = [f"{counts['pass']} pass", f"{counts['fail']} fail"]
    if counts["skip"]:
        parts.append(f"{counts['skip']} not judged (needs recognition)")
    missing = sum(Path(o.file).name in unlisted for o in outcomes)
    if missing:
        parts.append(f"{missing} not in the manifest")
    return "expected outcomes: " + ", ".join(parts)
