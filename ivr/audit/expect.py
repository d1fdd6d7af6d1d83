"""Judging scorecards against labels (`ivr audit --expect`, ivr.corpus.audit_labels): each
labelled item's expected verdict against the one measured, and for a labelled fail with
moments, each moment found within the labels' tolerance and no other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ivr.audit.run import Outcome
from ivr.audit.scorecard import NO_WORDS, Verdict
from ivr.corpus.audit_labels import AuditCallLabels, ItemLabel

ERROR = "error"
"""What a labelled item `got` when its recording could not be scored."""
NOT_JUDGED = "not judged"
"""What a labelled item that needs words `got` in an audit without words."""


@dataclass(frozen=True)
class ItemCheck:
    """One labelled item of one recording: expected and measured verdicts (`got` is ERROR for
    a recording that could not be scored), and what is wrong ('' when the label is met)."""

    file: str
    key: str
    expected: str
    got: str
    problem: str = ""
    skipped: bool = False
    """Not judged: the item needs the agent's words and the audit had none (--asr none)."""

    @property
    def met(self) -> bool:
        """Whether the measured result is the labelled one (a skipped item is not failed)."""
        return not self.problem


def moments_problem(expected: Sequence[float], got: Sequence[float], tolerance_s: float) -> str:
    """What is wrong with the moments `got` (s) against the labelled `expected` (s): each
    labelled moment needs a measured one within `tolerance_s` (s), each measured one a label;
    '' when they match."""
    left = sorted(got)
    missed = []
    for moment in sorted(expected):
        near = [g for g in left if abs(g - moment) <= tolerance_s + 1e-9]
        if not near:
            missed.append(moment)
            continue
        left.remove(min(near, key=lambda g: abs(g - moment)))
    problems = []
    if missed:
        problems.append(f"no fail within {tolerance_s:g} s of {_times(missed)} s")
    if left:
        problems.append(f"unlabelled fail at {_times(left)} s")
    return "; ".join(problems)


def _times(moments: Sequence[float]) -> str:
    return ", ".join(f"{m:.2f}" for m in moments)


def check_item(name: str, label: ItemLabel, outcome: Outcome, tolerance_s: float) -> ItemCheck:
    """One labelled item of the recording `name` against its outcome."""
    if outcome.scorecard is None:
        return ItemCheck(name, label.key, label.verdict, ERROR, outcome.error or "not scored")
    result = outcome.scorecard.result(label.key)
    got = str(result.verdict)
    if result.verdict is Verdict.NA and result.detail == NO_WORDS and label.verdict != "n/a":
        return ItemCheck(name, label.key, label.verdict, NOT_JUDGED, skipped=True)
    if got != label.verdict:
        return ItemCheck(
            name, label.key, label.verdict, got, f"got {got}, expected {label.verdict}"
        )
    problem = ""
    if label.moments_s is not None:
        problem = moments_problem(label.moments_s, result.moments, tolerance_s)
    return ItemCheck(name, label.key, label.verdict, got, problem)


def judge(outcome: Outcome, labels: AuditCallLabels, tolerance_s: float) -> list[ItemCheck]:
    """Every labelled item of a recording's outcome, in the labels' order."""
    return [check_item(outcome.name, label, outcome, tolerance_s) for label in labels.items]


def summary(checks: Sequence[ItemCheck], unlabelled: int) -> str:
    """One line: how many labelled items were met, in how many recordings the others were
    not, and how many recordings had no labels (`unlabelled`)."""
    skipped = sum(c.skipped for c in checks)
    checks = [c for c in checks if not c.skipped]
    failed = [c for c in checks if not c.met]
    files = {c.file for c in checks}
    line = f"expectations: {len(checks) - len(failed)} of {len(checks)} met in {len(files)} "
    line += "recording" + ("s" if len(files) != 1 else "")
    if failed:
        bad = len({c.file for c in failed})
        line += f"; {len(failed)} not met in {bad} recording" + ("s" if bad != 1 else "")
    if unlabelled:
        line += f"; {unlabelled} recording{'s' if unlabelled != 1 else ''} not labelled"
    if skipped:
        line += f"; {skipped} not judged (they need the agent's words: --asr reference)"
    return line
