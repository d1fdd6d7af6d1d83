"""`ivr tune`: choose silence timeouts and detector thresholds from labelled recorded calls."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ivr.app.options import (
    IN_FILE,
    OUT_DIR,
    AgentIdOption,
    CalleeChannel,
    OrgOption,
    PromptCacheOption,
    channel_option,
)
from ivr.cli.common import fail_line, make_console
from ivr.cli.tables import print_table
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
    corpus: Annotated[
        Path,
        typer.Argument(
            help="Folder of labelled calls (with manifest.yaml).", exists=True, file_okay=False
        ),
    ],
    grid: Annotated[
        list[str],
        typer.Option(help="An axis: NAME=FROM:TO:STEP or NAME=V1,V2 (repeat for more axes)."),
    ],
    script: Annotated[str, typer.Option(help="Script name or path.")] = "outbound",
    manifest: Annotated[
        Path | None, typer.Option(help="Labels (default: CORPUS/manifest.yaml).", **IN_FILE)
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Calls evaluated in parallel.")] = 1,
    out: Annotated[
        Path, typer.Option(help="Folder for results, overlay and picture.", **OUT_DIR)
    ] = Path("out/tune"),
    org: OrgOption = None,
    agent_id: AgentIdOption = None,
    number: Annotated[str | None, typer.Option(help="Value of {number}.")] = None,
    config: Annotated[
        Path | None, typer.Option(help="Base config (values, detect, script).", **IN_FILE)
    ] = None,
    channel: Annotated[
        CalleeChannel, channel_option("Stereo files: the callee's side (left, right, mix).")
    ] = "mix",
    cache_dir: Annotated[
        Path | None, typer.Option(help="Detector output cache folder.", **OUT_DIR)
    ] = None,
    prompt_cache: PromptCacheOption = None,
    asr: Annotated[
        str, typer.Option(help="Recognition: none (default), reference (the labels' texts).")
    ] = "none",
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
            asr=asr,
        )
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    found = labelled_calls(plan)
    calls = found.scored
    for name in found.unlabelled:
        console.print(
            f"skipped {name}: no label in {plan.labels_path}", style="yellow", markup=False
        )
    _print_unscored(console, found.need_recognition)
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
    print_table(console, results_table(rows, params, best, result.front))
    for note in missing_details(good_labels):
        console.print(f"n/a: {note}", style="yellow", markup=False, soft_wrap=True)
    chosen = ", ".join(f"{p}={rows[best][p]:g}" for p in params)
    cost = format_seconds(rows[best]["cost_s"])
    console.print(
        f"recommended: {chosen} (accuracy {rows[best]['accuracy']:.1%}, "
        f"cost {cost}{'' if cost == 'n/a' else ' s'}) over {evaluated} calls",
        markup=False,
    )
    for line in result.passed_over:
        console.print(f"not chosen: {line}", style="yellow", markup=False, soft_wrap=True)
    for warning in result.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False, soft_wrap=True)


def _print_unscored(console: Console, names: list[str]) -> None:
    """Say which calls need recognition and are left out of the score."""
    if not names:
        return
    stems = ", ".join(_short_name(name) for name in names)
    verb = "needs" if len(names) == 1 else "need"
    console.print(
        f"{len(names)} call{'' if len(names) == 1 else 's'} {verb} recognition and "
        f"{'is' if len(names) == 1 else 'are'} not scored: {stems} "
        "(use --asr reference to score them)",
        style="yellow",
        markup=False,
        soft_wrap=True,
    )


def _short_name(name: str) -> str:
    """A generated call's situation from its file name (outbound_20_deny.wav -> deny); any
    other name as it is."""
    parts = Path(name).stem.split("_", 2)
    return parts[2] if len(parts) == 3 and parts[1].isdigit() else name


def register(app: typer.Typer) -> None:
    """Add `tune` to the CLI."""
    app.command("tune", short_help="Choose detector settings from labelled calls.")(tune_command)
