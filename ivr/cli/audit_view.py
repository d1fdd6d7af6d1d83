"""`ivr audit --expect`: the labelled items of each recording, expected against measured, as
a table (a row per recording, a column per item), the problems one line each, and a summary."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from ivr.audit import ITEMS, Outcome
from ivr.audit.expect import ItemCheck, judge, summary
from ivr.cli.common import make_console, say
from ivr.cli.tables import CliTable, print_table
from ivr.corpus.audit_labels import AuditLabels


def judge_batch(outcomes: Sequence[Outcome], labels: AuditLabels) -> list[list[ItemCheck]]:
    """Each recording's checks, in the batch's order (none for a recording not labelled)."""
    checks = []
    for outcome in outcomes:
        call = labels.find(outcome.name)
        checks.append(judge(outcome, call, labels.tolerance_s) if call is not None else [])
    return checks


def _cell(check: ItemCheck | None) -> str:
    if check is None:
        return ""
    if check.met:
        return check.got
    if check.got == check.expected:  # the verdict, not its moments
        return f"[red]{check.got} (moments)[/red]"
    return f"[red]{check.got}, want {check.expected}[/red]"


def expectation_table(outcomes: Sequence[Outcome], checks: Sequence[list[ItemCheck]]) -> CliTable:
    """A row per labelled recording: each labelled item's measured verdict, in red with the
    expected one when they differ."""
    judged = [[c for c in calls if not c.skipped] for calls in checks]
    keys = [i.key for i in ITEMS if any(c.key == i.key for calls in judged for c in calls)]
    table = CliTable("Expected vs got")
    table.column("file", keep=True)
    table.column("met", justify="right", keep=True)
    for key in keys:
        table.column(key)
    for outcome, calls in zip(outcomes, judged, strict=True):
        if not calls:
            continue
        by_key = {c.key: c for c in calls}
        met = f"{sum(c.met for c in calls)}/{len(calls)}"
        table.add_row(escape(outcome.name), met, *(_cell(by_key.get(k)) for k in keys))
    return table


def print_expectations(
    console: Console, outcomes: Sequence[Outcome], checks: Sequence[list[ItemCheck]]
) -> None:
    """The table, each problem as a line (`file: item: problem`), then the summary line."""
    console.print()
    print_table(console, expectation_table(outcomes, checks))
    for calls in checks:
        for c in calls:
            if not c.met and c.got != "error":
                say(console, f"{c.file}: {c.key}: {c.problem}", "red")
    flat = [c for calls in checks for c in calls]
    say(console, summary(flat, sum(1 for calls in checks if not calls)))


def warn_unlabelled(outcomes: Sequence[Outcome], labels: AuditLabels) -> None:
    """Say on stderr which recordings the labels do not list (they are not judged)."""
    names = [o.name for o in outcomes if labels.find(o.name) is None]
    if names:
        say(
            make_console(stderr=True),
            f"warning: {len(names)} recording(s) not in the labels {labels.path}, not judged: "
            + ", ".join(names),
            "yellow",
        )
