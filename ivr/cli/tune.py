"""`ivr tune`: choose silence timeouts and detector thresholds from labelled recorded calls."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ivr.app.config import call_settings, placeholder_values
from ivr.app.options import AgentIdOption, OrgOption, PromptCacheOption
from ivr.app.recordings import expand
from ivr.app.setup import load_call_script, set_up_call
from ivr.atomic import write_text_atomic
from ivr.cli.common import fail_line, make_console
from ivr.errors import IvrError
from ivr.script.overrides import SCRIPT_PARAMS


def _default_cache() -> Path:
    root = os.environ.get("IVR_CACHE_DIR")
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "ivr") / "detectors"


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
    from ivr.tune.grid import combinations, parse_axis
    from ivr.tune.metrics import labels_from_manifest, missing_details
    from ivr.tune.report import (
        format_seconds,
        overlay_yaml,
        pareto_front,
        plot_png,
        recommend,
        results_table,
        write_csv,
    )
    from ivr.tune.standard import noinput_warnings
    from ivr.tune.sweep import SweepJob, sweep

    console = make_console()
    if jobs < 1:
        fail_line(f"--jobs must be >= 1, got {jobs}")
    folder = corpus if corpus.is_dir() else corpus.parent
    labels_path = manifest or (corpus if corpus.is_file() else corpus / "manifest.yaml")
    try:
        axes = [parse_axis(g) for g in grid]
        combos = combinations(axes)
        labels = labels_from_manifest(labels_path)
        values = placeholder_values(config, org, agent_id, number)
        loaded = load_call_script(script, values, config)
        setup = set_up_call(loaded, call_settings(config, []), prompt_cache)
        job = SweepJob.plan(
            script=loaded,
            settings=setup.settings,
            prompt_frames=setup.prompt_frames(),
            combos=combos,
            cache_dir=cache_dir or _default_cache(),
            channel=channel,
        )
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    params = [name for name, _ in axes]
    files = expand([folder])
    calls = [(f, labels[f.name]) for f in files if f.name in labels]
    skipped = [f.name for f in files if f.name not in labels]
    for name in skipped:
        console.print(f"skipped {name}: no label in {labels_path}", style="yellow", markup=False)
    if not calls:
        fail_line(f"no labelled calls in {folder}")
    console.print(
        f"{len(calls)} calls x {len(combos)} combinations = {len(calls) * len(combos)} "
        f"evaluations, {jobs} process(es)",
        markup=False,
    )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} calls"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("tuning", total=len(calls))
        rows, outcomes = sweep(job, calls, jobs, lambda _: progress.advance(task))
    failed = [o for o in outcomes if o.error]
    for o in failed:
        console.print(f"error: {o.error} (left out)", style="red", markup=False)
    if len(failed) == len(outcomes):
        fail_line("every call failed: nothing to recommend", code=1)
    front = pareto_front(rows)
    best = recommend(rows, params)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "results.csv", rows, params)
    script_params = [p for p in params if p in SCRIPT_PARAMS]
    warnings = noinput_warnings(loaded, rows[best])
    overlay = overlay_yaml(rows[best], script_params, warnings)
    write_text_atomic(out / "recommended.yaml", overlay)
    plot_png(out / "tune.png", rows, params, front)
    console.print(results_table(rows, params, best, front))
    good = {o.file for o in outcomes if not o.error}
    for note in missing_details(label for path, label in calls if path.name in good):
        console.print(f"n/a: {note}", style="yellow", markup=False, soft_wrap=True)
    chosen = ", ".join(f"{p}={rows[best][p]:g}" for p in params)
    cost = format_seconds(rows[best]["cost_s"])
    console.print(
        f"recommended: {chosen} (accuracy {rows[best]['accuracy']:.1%}, "
        f"cost {cost}{'' if cost == 'n/a' else ' s'}) over {len(outcomes) - len(failed)} calls",
        markup=False,
    )
    for warning in warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False, soft_wrap=True)
    console.print(
        f"results {out / 'results.csv'}, overlay {out / 'recommended.yaml'} "
        f"(ivr replay/call --config), picture {out / 'tune.png'}",
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add `tune` to the CLI."""
    app.command("tune")(tune_command)
