"""Reporting a tuning run: the Pareto front, the recommendation, a table, a CSV, a config
overlay and a picture.

A row is one setting: its parameter values (keys = parameter names) plus the fields of its
`Summary` (`dataclasses.asdict(summary)`). Higher accuracy is better, lower cost_s (s) is
better.
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
from ivr.detect.settings import DetectorSettings
from ivr.tune.metrics import Summary

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


def _param_key(value: Any) -> tuple[int, float, str]:
    """Orders parameter values: numbers by size, then anything else by its text."""
    value = _clean(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _rank_key(row: Mapping[str, Any], params: Sequence[str]) -> tuple:
    """Best first: most accurate, then cheapest, then smaller parameter values in order."""
    return (
        -round(float(row["accuracy"]), 9),
        round(float(row["cost_s"]), 9),
        *(_param_key(row.get(p)) for p in params),
    )


def pareto_front(
    rows: Sequence[Mapping], accuracy: str = "accuracy", cost: str = "cost_s"
) -> list[int]:
    """Indices of the rows no other row dominates, sorted by cost, then accuracy (best first).

    A row dominates another if it is at least as accurate and at most as costly, and strictly
    better in one of the two; rows with equal accuracy and cost are all kept. Values equal to
    9 decimals count as equal.
    """
    points = [(round(float(r[accuracy]), 9), round(float(r[cost]), 9)) for r in rows]
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
    """Index of the recommended row: the most accurate; among equals the lowest cost_s; then
    the smaller values of `params`, in order (less waiting); then the first. ValueError if
    there are no rows."""
    if not rows:
        raise ValueError("no settings to recommend from")
    return min(range(len(rows)), key=lambda i: (*_rank_key(rows[i], params), i))


def write_csv(path: str | Path, rows: Sequence[Mapping], params: Sequence[str]) -> None:
    """Write the rows as CSV, atomically: the parameter columns, then the Summary fields."""
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
            value = float(row[key])
            cells.append(f"{value:.2f}" if key.endswith("_s") else f"{100 * value:.1f}%")
        style = "bold green" if i == recommended else "cyan" if i in on_front else None
        table.add_row(*cells, style=style)
    calls = rows[recommended]["calls"] if 0 <= recommended < len(rows) else 0
    table.caption = (
        f"{len(shown)} of {len(rows)} settings, {calls} calls. best: recommended; front: no "
        "setting is as accurate and cheaper. cost = mean dead-line + mean response time"
    )
    return table


def _detector_value(name: str, value: Any) -> Any:
    """A detector setting as its own type (whole numbers for integer settings)."""
    value = _clean(value)
    current = DetectorSettings().as_dict().get(name)
    if isinstance(current, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def overlay_yaml(setting: Mapping[str, Any], script_params: Sequence[str]) -> str:
    """A config overlay for `--config` with one setting (a row).

    Script timings (the names in `script_params`, e.g. noinput, in s) go under `script:`;
    every other parameter is a detector setting under `detect:`, dotted names nested
    (vad.aggressiveness -> detect: {vad: {aggressiveness: 2}}). Summary fields in `setting`
    are not settings: they are given in the header comment.
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
        s = {f: float(setting[f]) for f in SUMMARY_FIELDS}
        header += [
            f"# On {int(s['calls'])} labelled calls: accuracy {100 * s['accuracy']:.1f}%, "
            f"cost {s['cost_s']:.2f} s (dead line {s['dead_line_s']:.2f} s + response "
            f"{s['response_s']:.2f} s);",
            f"# premature re-prompts {100 * s['premature_reprompt_rate']:.1f}% of calls, "
            f"premature hang-ups {100 * s['premature_hangup_rate']:.1f}%,",
            f"# missed quiet callees {100 * s['missed_quiet_rate']:.1f}%, noise taken as an answer "
            f"{100 * s['noise_as_answer_rate']:.1f}%.",
        ]
    document: dict[str, Any] = {}
    if detect:
        document["detect"] = detect
    if script:
        document["script"] = script
    body = yaml.safe_dump(document, sort_keys=False, default_flow_style=False) if document else ""
    return "\n".join(header) + "\n" + body


def _best_by(rows: Sequence[Mapping], params: Sequence[str], name: str) -> list[tuple[Any, int]]:
    """(value, index of its best row) for each value of parameter `name`, by value."""
    groups: dict[Any, list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(_clean(row[name]), []).append(i)
    best = [
        (value, min(indices, key=lambda i: (*_rank_key(rows[i], params), i)))
        for value, indices in groups.items()
    ]
    return sorted(best, key=lambda vi: _param_key(vi[0]))


def plot_png(
    path: str | Path,
    rows: Sequence[Mapping],
    params: Sequence[str],
    front: Sequence[int],
    noinput_param: str | None = "noinput",
) -> None:
    """Draw the tuning results as a PNG, atomically (matplotlib's Agg canvas, no display).

    Left: accuracy against cost_s (s) for every setting (faint dots), the Pareto front (line)
    and the recommended setting (star). Right, when `noinput_param` is one of `params`: for
    each no-input timeout (s), the premature hang-up and re-prompt rates (left axis, %) and
    the mean dead-line time (right axis, s) of its best setting (most accurate, then cheapest).
    """
    if not rows:
        raise ValueError("no settings to plot")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    best = recommend(rows, params)
    with_noinput = noinput_param is not None and noinput_param in params
    fig = Figure(figsize=(13 if with_noinput else 7, 5.8), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2 if with_noinput else 1, squeeze=False)[0]
    below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.13), "fontsize": "small"}

    ax, rec = axes[0], rows[best]
    cost, acc = [float(r["cost_s"]) for r in rows], [float(r["accuracy"]) for r in rows]
    ax.scatter(cost, acc, s=14, color="0.55", alpha=0.3, label="all settings")
    fx, fy = [cost[i] for i in front], [acc[i] for i in front]
    ax.plot(fx, fy, "o-", color="tab:blue", markersize=4, label="Pareto front")
    chosen = ", ".join(f"{p}={_format_param(rec.get(p))}" for p in params)
    star = {"s": 260, "marker": "*", "color": "tab:red", "zorder": 5}
    ax.scatter([cost[best]], [acc[best]], label=f"recommended: {chosen}", **star)
    ax.set_xlabel("cost (s): mean dead-line time + mean response time")
    ax.set_ylabel("accuracy (calls with the right outcome)")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.margins(0.06)
    ax.set_title(f"Accuracy against time cost, {len(rows)} settings on {rec['calls']} calls")
    ax.grid(True, alpha=0.3)
    ax.legend(ncols=2, **below)

    if with_noinput:
        assert noinput_param is not None
        per_value = _best_by(rows, params, noinput_param)
        xs = [float(v) for v, _ in per_value]
        ax, right = axes[1], axes[1].twinx()
        for key, label, color in (
            ("premature_hangup_rate", "premature hang-ups (% of calls)", "tab:red"),
            ("premature_reprompt_rate", "premature re-prompts (% of calls)", "tab:orange"),
        ):
            ys = [100 * float(rows[i][key]) for _, i in per_value]
            ax.plot(xs, ys, "o-", color=color, label=label)
        dead = [float(rows[i]["dead_line_s"]) for _, i in per_value]
        right.plot(xs, dead, "s--", color="tab:purple", label="mean dead-line time (s, right)")
        ax.set_xlabel(f"{noinput_param} (s)")
        ax.set_ylabel("calls (%)")
        right.set_ylabel("dead-line time (s)")
        ax.set_ylim(bottom=0, top=max(5.0, ax.get_ylim()[1]))
        right.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        (lines, labels), (more, more_labels) = (a.get_legend_handles_labels() for a in (ax, right))
        ax.legend(lines + more, labels + more_labels, ncols=2, **below)
        ax.set_title(f"Best setting (most accurate, then cheapest) for each {noinput_param}")

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


__all__ = [
    "SUMMARY_FIELDS",
    "overlay_yaml",
    "pareto_front",
    "plot_png",
    "recommend",
    "results_table",
    "write_csv",
]
