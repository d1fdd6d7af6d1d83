"""The two panels of the tuning picture (`ivr.tune.report.tuning_figure`).

Drawn on matplotlib axes the caller made; `ivr.tune.report` imports this module only when it
draws, as it does matplotlib.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ivr.tune.report import _clean, _format_param, _param_key, _rank_key

_BELOW = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.13), "fontsize": "small"}
"""Where the legends go: below their plot."""


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


def _known(value: Any) -> float:
    """A value to draw: NaN (a gap matplotlib leaves out) for None (n/a)."""
    return float("nan") if value is None else float(value)


def _cost_label(rows: Sequence[Mapping]) -> str:
    """The cost axis's label: which parts the cost holds (a part n/a for every row is not)."""
    dead = any(r.get("dead_line_s") is not None for r in rows)
    response = any(r.get("response_s") is not None for r in rows)
    if dead and response:
        return "cost (s): mean dead-line time + mean response time"
    if dead:
        return "cost (s): mean dead-line time (response time n/a: no labelled speech)"
    return "cost (s): mean response time (dead-line time n/a: no never_answers calls)"


def draw_cost(
    ax: Any, rows: Sequence[Mapping], params: Sequence[str], front: Sequence[int], best: int
) -> None:
    """`tuning_figure`'s left panel: accuracy against cost_s (s) of every setting, the Pareto
    `front` and the recommended setting (row `best`)."""
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    rec = rows[best]
    acc = [float(r["accuracy"]) for r in rows]
    unknown = sum(r["cost_s"] is None for r in rows)
    shown = "all settings"
    if unknown == len(rows):  # no cost at all: spread the settings out by their row
        cost = [float(i + 1) for i in range(len(rows))]
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("setting (row of results.csv); cost n/a: no dead lines, no labelled speech")
        ax.set_title(f"Accuracy of {len(rows)} settings on {rec['calls']} calls (cost n/a)")
    else:
        cost = [_known(r["cost_s"]) for r in rows]
        ax.set_xlabel(_cost_label(rows))
        ax.set_title(f"Accuracy against time cost, {len(rows)} settings on {rec['calls']} calls")
        shown += f" ({unknown} with cost n/a not drawn)" if unknown else ""
    ax.scatter(cost, acc, s=14, color="0.55", alpha=0.3, label=shown)
    fx, fy = [cost[i] for i in front], [acc[i] for i in front]
    ax.plot(fx, fy, "o-", color="tab:blue", markersize=4, label="Pareto front")
    chosen = ", ".join(f"{p}={_format_param(rec.get(p))}" for p in params)
    star = {"s": 260, "marker": "*", "color": "tab:red", "zorder": 5}
    if cost[best] != cost[best]:  # NaN: the recommended setting's cost is n/a
        chosen += " (cost n/a, not drawn)"
    ax.scatter([cost[best]], [acc[best]], label=f"recommended: {chosen}", **star)
    ax.set_ylabel("accuracy (calls with the right outcome)")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0))
    ax.margins(0.06)
    ax.grid(True, alpha=0.3)
    ax.legend(ncols=2, **_BELOW)


def draw_noinput(ax: Any, rows: Sequence[Mapping], params: Sequence[str], name: str) -> None:
    """`tuning_figure`'s right panel: per value of `name` (the no-input timeout, s), its best
    setting's premature rates and dead-line time."""
    per_value = _best_by(rows, params, name)
    xs = [float(v) for v, _ in per_value]
    right = ax.twinx()
    for key, label, color in (
        ("premature_hangup_rate", "premature hang-ups (% of calls)", "tab:red"),
        ("premature_reprompt_rate", "premature re-prompts (% of calls)", "tab:orange"),
    ):
        ys = [100 * _known(rows[i][key]) for _, i in per_value]
        if any(y == y for y in ys):  # NaN != NaN: at least one is known
            ax.plot(xs, ys, "o-", color=color, label=label)
    dead = [_known(rows[i]["dead_line_s"]) for _, i in per_value]
    if any(d == d for d in dead):  # NaN != NaN: at least one is known
        right.plot(xs, dead, "s--", color="tab:purple", label="mean dead-line time (s, right)")
        right.set_ylabel("dead-line time (s)")
        right.set_ylim(bottom=0)
    else:
        right.set_yticks([])
        right.set_ylabel("dead-line time: n/a (no never_answers calls labelled)")
    ax.set_xlabel(f"{name} (s)")
    if ax.lines:
        ax.set_ylabel("calls (%)")
        ax.set_ylim(bottom=0, top=max(5.0, ax.get_ylim()[1]))
    else:
        ax.set_yticks([])
        ax.set_ylabel("premature rates: n/a (no labelled speech)")
    ax.grid(True, alpha=0.3)
    (lines, labels), (more, more_labels) = (a.get_legend_handles_labels() for a in (ax, right))
    if lines or more:
        ax.legend(lines + more, labels + more_labels, ncols=2, **_BELOW)
    else:  # every curve n/a: say so over the grid's own noinput values
        ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
        note = "n/a: the labels give no speech and no never_answers calls"
        ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", color="0.4")
    ax.set_title(f"Best setting (most accurate, then cheapest) for each {name}")


__all__ = ["draw_cost", "draw_noinput"]
