"""`ivr tune`: choose silence timeouts and detector thresholds from labelled recorded calls."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ivr.app.options import AgentIdOption, OrgOption, PromptCacheOption
from ivr.cli.common import fail_line, make_console
from ivr.errors import IvrError

if TYPE_CHECKING:
    from rich.console import Console

    from ivr.app.tuning import TuningPlan, TuningResult
    from ivr.tune.metrics import CallLabel


_PROGRESS_COLUMNS = (
    TextColumn("{task.description}"),
    BarColumn(),
    TextColumn("{task.completed}/{task.total} calls"),
    TimeRemainingColumn(),
)


def tune_command(
    corpus: Annotated[Path, typer.Argument(help="Folder of labelled calls (with manifest.yaml).")],
    grid: Annotated[
        list[str],
        typer.Option(help="An axis: NAME=FROM:TO:STEP or NAME=V1,V2 (repeat for more axes)."),
    ],
    script: Annotated[str, typer.Option(help="Script name or path.")] = "outbound",
    manifest: Annotated[
        Path | None, typer.Option(help="Labels (default: CORPUS/manifest.yaml).")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Calls evaluated in parallel.")] = 1,
    out: Annotated[Path, typer.Option(help="Folder for results, overlay and picture.")] = Path(
        "out/tune"
    ),
    org: OrgOption = None,
    agent_id: AgentIdOption = None,
    number: Annotated[str | None, typer.Option(help="Value of {number}.")] = None,
    config: Annotated[Path | None, typer.Option(help="Base config (values, detect, script).")] = (
        None
    ),
    channel: Annotated[str, typer.Option(help="Stereo files: the callee's side.")] = "mix",
    cache_dir: Annotated[Path | None, typer.Option(help="Detector output cache folder.")] = None,
    prompt_cache: PromptCacheOption = None,
) -> None:
    """Evaluate every grid combination on every labelled call; recommend the best setting."""
    from ivr.app.tuning import labelled_calls, plan_tuning, save_results
    from ivr.tune.sweep import sweep

    console = make_console()
    if jobs < 1:
        fail_line(f"--jobs must be >= 1, got {jobs}")
    try:
        plan = plan_tuning(
            corpus,
            grid,
            script=script,
            manifest=manifest,
            config=config,
            values_from=(org, agent_id, number),
            channel=channel,
            cache_dir=cache_dir,
            prompt_cache=prompt_cache,
        )
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    calls, skipped = labelled_calls(plan)
    for name in skipped:
        console.print(
            f"skipped {name}: no label in {plan.labels_path}", style="yellow", markup=False
        )
    if not calls:
        fail_line(f"no labelled calls in {plan.folder}")
    console.print(
        f"{len(calls)} calls x {len(plan.combos)} combinations = {len(calls) * len(plan.combos)} "
        f"evaluations, {jobs} process(es)",
        markup=False,
    )
    with Progress(*_PROGRESS_COLUMNS, console=console, transient=True) as progress:
        task = progress.add_task("tuning", total=len(calls))
        rows, outcomes = sweep(plan.job, calls, jobs, lambda _: progress.advance(task))
    failed = [o for o in outcomes if o.error]
    for o in failed:
        console.print(f"error: {o.error} (left out)", style="red", markup=False)
    if len(failed) == len(outcomes):
        fail_line("every call failed: nothing to recommend", code=1)
    result = save_results(out, rows, plan)
    good = {o.file for o in outcomes if not o.error}
    _print_results(
        console,
        rows,
        plan,
        result,
        [label for path, label in calls if path.name in good],
        len(outcomes) - len(failed),
    )
    console.print(
        f"results {out / 'results.csv'}, overlay {out / 'recommended.yaml'} "
        f"(ivr replay/call --config), picture {out / 'tune.png'}",
        markup=False,
    )


def _print_results(
    console: Console,
    rows: list[dict[str, Any]],
    plan: TuningPlan,
    result: TuningResult,
    good_labels: list[CallLabel],
    evaluated: int,
) -> None:
    """The results table, what the labels cannot tell (of the `good_labels` calls), the
    recommendation (over `evaluated` calls) and its warnings."""
    from ivr.tune.metrics import missing_details
    from ivr.tune.report import format_seconds, results_table

    params, best = plan.params, result.best
    console.print(results_table(rows, params, best, result.front))
    for note in missing_details(good_labels):
        console.print(f"n/a: {note}", style="yellow", markup=False, soft_wrap=True)
    chosen = ", ".join(f"{p}={rows[best][p]:g}" for p in params)
    cost = format_seconds(rows[best]["cost_s"])
    console.print(
        f"recommended: {chosen} (accuracy {rows[best]['accuracy']:.1%}, "
        f"cost {cost}{'' if cost == 'n/a' else ' s'}) over {evaluated} calls",
        markup=False,
    )
    for warning in result.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add `tune` to the CLI."""
    app.command("tune")(tune_command)
