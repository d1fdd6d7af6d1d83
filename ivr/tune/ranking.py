"""Which tuning setting is best: accuracy first, then the error rates, then the time cost.

A row is one setting (see ivr.tune.report): its parameter values plus its `Summary` fields.
The ranking is lexicographic: the most accurate; among those, the fewest errors, rate by rate
in `ERROR_RATES` order (the worst mistakes first); only then the lowest time cost; then the
smaller parameter values (less waiting). A setting never wins by a few milliseconds over one
that makes fewer mistakes. Rates closer than `RATE_TOLERANCE` count as equal (so float noise
does not decide), and a rate that is n/a (None: the labels cannot tell, the same for every
setting) counts as 0.

`faster_but_worse` names the settings a pure time ranking would have chosen: as accurate and
cheaper than the recommended one, but with a worse error rate, so that the trade is said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ivr.tune.metrics import cost_or_zero

ERROR_RATES = (
    ("premature_hangup_rate", "premature hang-ups"),
    ("premature_reprompt_rate", "premature re-prompts"),
    ("noise_as_answer_rate", "noise taken as an answer"),
    ("missed_quiet_rate", "missed quiet callees"),
)
"""The Summary rates that rank settings after accuracy, in order, with their names for people:
hanging up on a callee about to speak is worse than speaking over one."""

RATE_TOLERANCE = 0.001
"""Rates (shares in 0..1) that differ by less than this (0.1 percentage point) rank as equal."""


def _rate(row: Mapping[str, Any], name: str) -> float:
    value = row.get(name)
    return 0.0 if value is None else float(value)


def _rate_step(row: Mapping[str, Any], name: str) -> int:
    """The rate in steps of RATE_TOLERANCE, for ranking."""
    return round(_rate(row, name) / RATE_TOLERANCE)


def rank_key(row: Mapping[str, Any], param_key: Sequence[Any]) -> tuple:
    """Best first: most accurate, then fewest errors (ERROR_RATES in order, n/a as 0), then
    cheapest (cost_s, n/a as 0 s), then `param_key` (the parameter values' sort keys)."""
    return (
        -round(float(row["accuracy"]), 9),
        *(_rate_step(row, name) for name, _ in ERROR_RATES),
        round(cost_or_zero(row["cost_s"]), 9),
        *param_key,
    )


def faster_but_worse(
    rows: Sequence[Mapping[str, Any]], params: Sequence[str], best: int
) -> list[str]:
    """One line per setting as accurate as row `best` and cheaper (cost_s, s), passed over
    because one of its error rates is worse: what it would save and what it would cost, e.g.
    `end_of_speech=0.3 is 0.05 s faster but has premature re-prompts 16.7% (recommended 8.3%)`.
    Cheapest first, at most 3."""
    chosen = rows[best]
    accuracy, cost = round(float(chosen["accuracy"]), 9), cost_or_zero(chosen["cost_s"])
    lines = []
    cheaper = [
        i
        for i, row in enumerate(rows)
        if round(float(row["accuracy"]), 9) == accuracy
        and cost_or_zero(row["cost_s"]) < cost - 1e-9
    ]
    for i in sorted(cheaper, key=lambda i: cost_or_zero(rows[i]["cost_s"]))[:3]:
        row = rows[i]
        worse = [
            f"{label} {_rate(row, name):.1%} (recommended {_rate(chosen, name):.1%})"
            for name, label in ERROR_RATES
            if _rate_step(row, name) > _rate_step(chosen, name)
        ]
        if worse:
            setting = ", ".join(f"{p}={row[p]:g}" for p in params)
            saved = cost - cost_or_zero(row["cost_s"])
            lines.append(f"{setting} is {saved:.2f} s faster but has {'; '.join(worse)}")
    return lines


__all__ = ["ERROR_RATES", "RATE_TOLERANCE", "faster_but_worse", "rank_key"]
