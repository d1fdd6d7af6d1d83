"""Tuning from labelled recorded calls, for `ivr tune`: the plan (grid, labels, the sweep job),
which calls have labels, and the results written to the output folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.app.config import call_settings, placeholder_values
from ivr.app.recordings import expand
from ivr.app.setup import load_call_script, set_up_call
from ivr.atomic import write_text_atomic
from ivr.audio.source import CHANNELS
from ivr.call.recognition import reference_transcripts
from ivr.script.overrides import SCRIPT_PARAMS
from ivr.tune.grid import combinations, parse_axis
from ivr.tune.metrics import CallLabel, labels_from_manifest
from ivr.tune.ranking import faster_but_worse
from ivr.tune.report import overlay_yaml, pareto_front, plot_png, recommend, write_csv
from ivr.tune.standard import noinput_warnings
from ivr.tune.sweep import SweepJob

if TYPE_CHECKING:
    from ivr.script.model import Script


TUNE_ASR_MODES = ("none", "reference")
"""`ivr tune --asr`: detector-only calls, or reference transcripts from the labels."""


def default_cache() -> Path:
    """The detector output cache folder: $IVR_CACHE_DIR/detectors or ~/.cache/ivr/detectors."""
    root = os.environ.get("IVR_CACHE_DIR")
    return (Path(root).expanduser() if root else Path.home() / ".cache" / "ivr") / "detectors"


@dataclass(frozen=True)
class TuningPlan:
    """What a tuning run evaluates: the grid's parameters and combinations, the labels (read
    from `labels_path`) of the calls in `folder`, the script and the sweep job."""

    folder: Path
    labels_path: Path
    params: list[str]
    combos: list[dict[str, float]]
    labels: dict[str, CallLabel]
    script: Script
    job: SweepJob


def plan_tuning(
    corpus: Path,
    grid: list[str],
    *,
    script: str,
    manifest: Path | None,
    config: Path | None,
    values_from: tuple[str | None, str | None, str | None],
    channel: str,
    cache_dir: Path | None,
    prompt_cache: Path | None,
    asr: str = "none",
) -> TuningPlan:
    """Read the grid axes, the labels, the script and its prompts; IvrError or ValueError when
    one of them is wrong. `values_from` is (org, agent_id, number) for the placeholders.
    `asr`: "none" (detector-only calls) or "reference" (the labels' speech `text:` recognized,
    so that calls whose outcome depends on what the callee said can be scored)."""
    if asr not in TUNE_ASR_MODES:
        raise ValueError(f"--asr: expected one of {', '.join(TUNE_ASR_MODES)}, got {asr!r}")
    if channel not in CHANNELS:  # once, before any call (not once per call)
        raise ValueError(f"invalid --channel {channel!r}: use {', '.join(CHANNELS)}")
    folder = corpus if corpus.is_dir() else corpus.parent
    labels_path = manifest or (corpus if corpus.is_file() else corpus / "manifest.yaml")
    axes = [parse_axis(g) for g in grid]
    combos = combinations(axes)
    labels = labels_from_manifest(labels_path)
    reference = reference_transcripts(labels_path) if asr == "reference" else None
    values = placeholder_values(config, *values_from)
    loaded = load_call_script(script, values, config)
    setup = set_up_call(loaded, call_settings(config, []), prompt_cache)
    job = SweepJob.plan(
        script=loaded,
        settings=setup.settings,
        prompt_frames=setup.prompt_frames(),
        combos=combos,
        cache_dir=cache_dir or default_cache(),
        channel=channel,
        reference=reference,
    )
    params = [name for name, _ in axes]
    return TuningPlan(folder, labels_path, params, combos, labels, loaded, job)


@dataclass(frozen=True)
class TuningCalls:
    """The recordings of a plan's folder, by what the sweep can do with them."""

    scored: list[tuple[Path, CallLabel]]
    """Labelled calls the sweep scores, as (file, label)."""
    unlabelled: list[str]
    """Names of the recordings without a label (left out)."""
    need_recognition: list[str]
    """Names of labelled calls whose outcome depends on what the callee said, left out
    because the sweep runs without recognition (as replay marks them "skip")."""


def labelled_calls(plan: TuningPlan) -> TuningCalls:
    """The recordings in the plan's folder: those scored, those without a label, and those
    that need recognition the plan does not run."""
    files = expand([plan.folder])
    recognizes = plan.job.reference is not None
    calls = [(f, plan.labels[f.name]) for f in files if f.name in plan.labels]
    return TuningCalls(
        [(f, label) for f, label in calls if recognizes or not label.needs_recognition],
        [f.name for f in files if f.name not in plan.labels],
        [f.name for f, label in calls if label.needs_recognition and not recognizes],
    )


@dataclass(frozen=True)
class TuningResult:
    """The Pareto front (row indices), the recommended row, its no-input warnings and the
    faster settings passed over for a worse error rate (ivr.tune.ranking.faster_but_worse)."""

    front: list[int]
    best: int
    warnings: list[str]
    passed_over: list[str]


def save_results(out: Path, rows: list[dict[str, Any]], plan: TuningPlan) -> TuningResult:
    """Write results.csv, recommended.yaml (the config overlay) and tune.png into `out`."""
    params = plan.params
    front = pareto_front(rows)
    best = recommend(rows, params)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "results.csv", rows, params)
    script_params = [p for p in params if p in SCRIPT_PARAMS]
    warnings = noinput_warnings(plan.script, rows[best])
    overlay = overlay_yaml(rows[best], script_params, warnings)
    write_text_atomic(out / "recommended.yaml", overlay)
    plot_png(out / "tune.png", rows, params, front)
    return TuningResult(front, best, warnings, faster_but_worse(rows, params, best))


__all__ = [
    "TUNE_ASR_MODES",
    "TuningCalls",
    "TuningPlan",
    "TuningResult",
    "default_cache",
    "labelled_calls",
    "plan_tuning",
    "save_results",
]
