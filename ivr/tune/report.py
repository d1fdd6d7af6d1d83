"""Reporting a tuning run: the Pareto front, the recommendation, a table, a CSV, a config
overlay and a picture.

A row is one setting: its parameter values (keys = parameter names) plus the fields of its
`Summary` (`dataclasses.asdict(summary)`). Higher accuracy is better, lower cost_s (s) is
better.

A time or rate the labels cannot give (None, see `Summary`: no never_answers call for
dead_line_s, no labelled speech for response_s and the premature rates, no too-quiet call for
missed_quiet_rate, no noisy line for noise_as_answer_rate) is shown as "n/a" in the table and
the overlay's header, left empty in the CSV, and not drawn in the picture. The cost adds only
the parts that are known; a cost that is n/a (neither part known) ranks as 0 s, so settings
then compete on accuracy, error rates and the parameter order alone. The recommendation ranks
accuracy, then the error rates, then the cost (ivr.tune.ranking); a rate that is n/a ranks as
0. The Pareto front is over accuracy and cost only.
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from rich.table import Table

from ivr.atomic import atomic_path
from ivr.call_settings import CallSettings
from ivr.tune.metrics import Summary, cost_or_zero
from ivr.tune.ranking import rank_key

SUMMARY_FIELDS = tuple(f.name for f in dataclasses.fields(Summary))
"""The Summary fields, in the order the CSV and the table give them."""

_EPS = 1e-9


def _clean(value: Any) -> Any:
    """Plain Python numbers without float noise (3.5000000000000004 -> 3.5)."""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        rounded = round(value, 9)
        return rounded if abs(rounded - value) < _EPS else value
    return value


def format_seconds(value: Any, digits: int = 2) -> str:
    """A time (s) for people: `digits` decimals, or "n/a" for None (the labels cannot tell)."""
    return "n/a" if value is None else f"{float(value):.{digits}f}"


def format_share(value: Any) -> str:
    """A rate (share in 0..1) for people as a percentage, or "n/a" for None."""
    return "n/a" if value is None else f"{100 * float(value):.1f}%"


def _param_key(value: Any) -> tuple[int, float, str]:
    """Orders parameter values: numbers by size, then anything else by its text."""
    value = _clean(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _rank_key(row: Mapping[str, Any], params: Sequence[str]) -> tuple:
    """Best first (ivr.tune.ranking): most accurate, then fewest errors, then cheapest, then
    smaller parameter values in order."""
    return rank_key(row, [_param_key(row.get(p)) for p in params])


def pareto_front(
    rows: Sequence[Mapping], accuracy: str = "accuracy", cost: str = "cost_s"
) -> list[int]:
    """Indices of the rows no other row dominates, sorted by cost, then accuracy (best first).

    A row dominates another if it is at least as accurate and at most as costly, and strictly
    better in one of the two; rows with equal accuracy and cost are all kept. Values equal to
    9 decimals count as equal; a cost of None (n/a) counts as 0 s.
    """
    points = [(round(float(r[accuracy]), 9), round(cost_or_zero(r[cost]), 9)) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: (points[i][1], -points[i][0], i))
    front: list[int] = []
    best_cheaper = float("-inf")  # best accuracy at a strictly lower cost
    k = 0
    while k < len(order):
        cost_here = points[order[k]][1]
        top = points[order[k]][0]  # the best accuracy at this cost
        while k < len(order) and points[order[k]][1] == cost_here:
            a = points[order[k]][0]
            if a == top and a > best_cheaper:
                front.append(order[k])
            k += 1
        best_cheaper = max(best_cheaper, top)
    return front


def recommend(rows: Sequence[Mapping], params: Sequence[str]) -> int:
    """Index of the recommended row: the most accurate; among equals the fewest errors (the
    rates of ivr.tune.ranking.ERROR_RATES, in order, within RATE_TOLERANCE); then the lowest
    cost_s; then the smaller values of `params`, in order (less waiting); then the first.
    ValueError if there are no rows."""
    if not rows:
        raise ValueError("no settings to recommend from")
    return min(range(len(rows)), key=lambda i: (*_rank_key(rows[i], params), i))


def write_csv(path: str | Path, rows: Sequence[Mapping], params: Sequence[str]) -> None:
    """Write the rows as CSV, atomically: the parameter columns, then the Summary fields.

    A value that is None (a time or rate the labels cannot give: n/a) is an empty cell, which
    spreadsheets and CSV readers take as missing rather than as text in a number column."""
    columns = [*params, *SUMMARY_FIELDS]
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else _clean(row.get(c)) for c in columns])


def _format_param(value: Any) -> str:
    value = _clean(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def results_table(
    rows: Sequence[Mapping],
    params: Sequence[str],
    recommended: int,
    front: Sequence[int],
    limit: int = 30,
) -> Table:
    """The settings, best first (accuracy descending, then cost), at most `limit` of them plus
    the recommended one; the mark column says `best` (recommended) or `front` (on the
    accuracy/cost Pareto front)."""
    on_front = set(front)
    order = sorted(range(len(rows)), key=lambda i: (*_rank_key(rows[i], params), i))
    shown = order[:limit]
    if recommended not in shown and 0 <= recommended < len(rows):
        shown.append(recommended)
    table = Table(title="Settings, most accurate first", title_justify="left")
    table.add_column("", no_wrap=True)
    for name in params:
        table.add_column(name.replace(".", ".\n"), justify="right")
    headings = (
        ("accuracy", "accuracy"),
        ("cost_s", "cost\ns"),
        ("dead_line_s", "dead\nline s"),
        ("response_s", "response\ns"),
        ("premature_reprompt_rate", "early\nre-prompt"),
        ("premature_hangup_rate", "early\nhang-up"),
        ("missed_quiet_rate", "missed\nquiet"),
        ("noise_as_answer_rate", "noise as\nanswer"),
    )
    for _, heading in headings:
        table.add_column(heading, justify="right")
    for i in shown:
        row = rows[i]
        mark = "best" if i == recommended else "front" if i in on_front else ""
        cells = [mark, *(_format_param(row.get(p)) for p in params)]
        for key, _ in headings:
            value = row[key]
            cells.append(format_seconds(value) if key.endswith("_s") else format_share(value))
        style = "bold green" if i == recommended else "cyan" if i in on_front else None
        table.add_row(*cells, style=style)
    calls = rows[recommended]["calls"] if 0 <= recommended < len(rows) else 0
    table.caption = (
        f"{len(shown)} of {len(rows)} settings, {calls} calls. best: recommended; front: no "
        "setting is as accurate and cheaper. cost = mean dead-line + mean response time; "
        "n/a: the labels cannot tell (a time n/a adds 0 to the cost)"
    )
    return table


def _detector_value(name: str, value: Any) -> Any:
    """A detector setting as its own type (whole numbers for integer settings)."""
    value = _clean(value)
    current = CallSettings().as_dict().get(name)
    if isinstance(current, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def overlay_yaml(
    setting: Mapping[str, Any], script_params: Sequence[str], warnings: Sequence[str] = ()
) -> str:
    """A config overlay for `--config` with one setting (a row).

    Script timings (the names in `script_params`, e.g. noinput, in s) go under `script:`;
    every other parameter is a detector setting under `detect:`, dotted names nested
    (vad.aggressiveness -> detect: {vad: {aggressiveness: 2}}). Summary fields in `setting`
    are not settings: they are given in the header comment (times n/a when None), followed
    by each of `warnings` as a `# warning: ...` comment line.
    """
    detect: dict[str, Any] = {}
    script: dict[str, Any] = {}
    for name, value in setting.items():
        if name in SUMMARY_FIELDS:
            continue
        if name in script_params:
            script[name] = _clean(value)
            continue
        *groups, key = name.split(".")
        target = detect
        for group in groups:
            target = target.setdefault(group, {})
        target[key] = _detector_value(name, value)
    header = ["# Settings recommended by `ivr tune`; use with --config (ivr replay, ivr call)."]
    if all(f in setting for f in SUMMARY_FIELDS):
        s = {f: setting[f] for f in SUMMARY_FIELDS}
        cost, dead, response = (
            _seconds_text(s[f]) for f in ("cost_s", "dead_line_s", "response_s")
        )
        share = {f: format_share(s[f]) for f in SUMMARY_FIELDS if f.endswith("_rate")}
        header += [
            f"# On {int(s['calls'])} labelled calls: accuracy {format_share(s['accuracy'])}, "
            f"cost {cost} (dead line {dead} + response {response});",
            f"# premature re-prompts {share['premature_reprompt_rate']}, premature hang-ups "
            f"{share['premature_hangup_rate']} (of calls with labelled speech),",
            f"# missed quiet callees {share['missed_quiet_rate']}, noise taken as an answer "
            f"{share['noise_as_answer_rate']}.",
        ]
    header += [f"# warning: {' '.join(w.split())}" for w in warnings]
    document: dict[str, Any] = {}
    if detect:
        document["detect"] = detect
    if script:
        document["script"] = script
    body = yaml.safe_dump(document, sort_keys=False, default_flow_style=False) if document else ""
    return "\n".join(header) + "\n" + body


def _seconds_text(value: Any) -> str:
    """`format_seconds` with its unit: "3.25 s", or "n/a"."""
    return "n/a" if value is None else f"{format_seconds(value)} s"


def tuning_figure(
    rows: Sequence[Mapping],
    params: Sequence[str],
    front: Sequence[int],
    noinput_param: str | None = "noinput",
) -> Any:
    """The picture of `plot_png` as a matplotlib Figure (Agg canvas, no display).

    Left: accuracy against cost_s (s) for every setting (faint dots), the Pareto front (line)
    and the recommended setting (star). A setting whose cost is n/a is not drawn (the legend
    counts them); when every cost is n/a the x axis is the setting's row in results.csv
    instead. Right, when `noinput_param` is one of `params`: for each no-input timeout (s),
    the premature hang-up and re-prompt rates (left axis, %) and the mean dead-line time
    (right axis, s) of its best setting (most accurate, then cheapest); each curve leaves out
    values that are n/a, and one whose values all are is not drawn: its axis's label says so
    (and a note, when no curve is left).
    """
    if not rows:
        raise ValueError("no settings to plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from ivr.tune.figure import draw_cost, draw_noinput

    best = recommend(rows, params)
    with_noinput = noinput_param is not None and noinput_param in params
    fig = Figure(figsize=(13 if with_noinput else 7, 5.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2 if with_noinput else 1, squeeze=False)[0]
    draw_cost(axes[0], rows, params, front, best)
    if with_noinput:
        assert noinput_param is not None
        draw_noinput(axes[1], rows, params, noinput_param)
    return fig


def plot_png(
    path: str | Path,
    rows: Sequence[Mapping],
    params: Sequence[str],
    front: Sequence[int],
    noinput_param: str | None = "noinput",
) -> None:
    """Draw the tuning results (`tuning_figure`) as a PNG, atomically."""
    fig = tuning_figure(rows, params, front, noinput_param)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


__all__ = [
    "SUMMARY_FIELDS",
    "format_seconds",
    "format_share",
    "overlay_yaml",
    "pareto_front",
    "plot_png",
    "recommend",
    "results_table",
    "tuning_figure",
    "write_csv",
]
