"""How `ivr replay` judges each replayed call and shows it: the QA score, the verdict against
its expectation, the call log's remarks, the table of expected outcomes and the report's view."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from ivr.app.records import qa_of, report_view
from ivr.privacy import mask_number
from ivr.qa.phrases import ForbiddenPhrase
from ivr.report.html import ReportCall
from ivr.script.model import Script

if TYPE_CHECKING:
    from ivr.call.replay import CallResult


@dataclass(frozen=True)
class Outcome:
    """One replayed call (its result), or the error that stopped it; then how it is judged."""

    file: str
    started: datetime
    """When its replay started (local time with its UTC offset)."""
    result: CallResult | None = None
    error: str = ""
    picture: Path | None = None
    picture_error: str = ""
    qa: dict | None = None
    """The call's QA score (ivr.qa.score)."""
    verdict: str = ""
    """Against its expectation: pass, fail, skip (not judged without recognition), or ''."""
    problems: tuple[str, ...] = ()
    no_space: bool = False
    """The error is a full disk under the outputs: the batch stops (every later call would
    fail the same way)."""

    @property
    def notes(self) -> tuple[str, ...]:
        """What was odd about the recording (cut short, non-finite samples), each a few words."""
        return self.result.notes if self.result is not None else ()

    @property
    def outcome(self) -> str:
        """The call's outcome ('' for a file that could not be replayed)."""
        return self.result.outcome if self.result is not None else ""

    @property
    def duration_s(self) -> float:
        """Length of the call up to the hang-up (s; 0 without a call)."""
        return self.result.duration_s if self.result is not None else 0.0


def judge(
    o: Outcome,
    script: Script,
    forbidden: Sequence[ForbiddenPhrase],
    answer_within_ms: int | None,
    expectations: dict[str, Any],
    recognizes: bool,
) -> Outcome:
    """The outcome with its QA score and its verdict against its expectation (if any)."""
    from ivr.call.expect import check_call

    if o.error:
        return replace(o, verdict="fail", problems=(o.error,))
    qa = qa_of(o.result, script, forbidden, answer_within_ms)
    exp = expectations.get(Path(o.file).name)
    if exp is None:
        return replace(o, qa=qa)
    if exp.needs_recognition and not recognizes:
        return replace(o, qa=qa, verdict="skip")
    problems = tuple(check_call(exp, o.outcome, o.result.timeline))
    return replace(o, qa=qa, verdict="fail" if problems else "pass", problems=problems)


def remarks(o: Outcome) -> str:
    """The call log's remarks (备注) of a replayed call: its verdict against its expectation,
    then what was odd about its recording."""
    verdict = {
        "pass": "expectation met",
        "fail": "expectation failed: " + "; ".join(o.problems),
        "skip": "expectation not judged: needs recognition",
    }.get(o.verdict, "")
    return "; ".join(n for n in (verdict, *(f"recording {n}" for n in o.notes)) if n)


def expectation_table(
    outcomes: list[Outcome], expectations: dict[str, Any], show_numbers: bool
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
            f"{o.qa['score']:.0f}" if o.qa else "-",
            verdict,
        )
    return table


def report_call(o: Outcome, expectations: dict[str, Any]) -> ReportCall:
    """The call as the report shows it."""
    name = Path(o.file).name
    if o.error:
        return ReportCall(name=name, error=o.error)
    exp = expectations.get(name)
    note = "not judged: needs recognition (--asr reference)" if o.verdict == "skip" else ""
    return report_view(
        o.result,
        o.qa or {},
        o.picture,
        "; ".join(n for n in (note, *(f"recording {n}" for n in o.notes), o.picture_error) if n),
        exp.outcome if exp is not None else None,
        {"pass": True, "fail": False}.get(o.verdict),
        o.problems,
    )
