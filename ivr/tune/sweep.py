"""A tuning sweep: every grid combination on every labelled call, from cached detector outputs.

The combinations are built once (`plan_variants`: a script and a CallSettings each) and
shipped to the workers as they are. Work is split by call (one call's detector outputs are
computed once per distinct front-end setting, then every combination is evaluated on them), so
calls run in parallel with `jobs` processes, started with `spawn` (no locks or threads copied
from the parent) and ending with the parent however it ends (ivr.lifeline). A call whose file
cannot be read is reported and left out.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ivr.call.recognition import ReferenceBackend
from ivr.call_settings import CallSettings, FrontEndSettings
from ivr.errors import IvrError
from ivr.lifeline import die_with_parent
from ivr.script.model import Script
from ivr.script.overrides import with_timings
from ivr.tune.cache import CachedCall, DetectorCache, file_hash
from ivr.tune.evaluate import CachedSession, call_frames
from ivr.tune.grid import split
from ivr.tune.metrics import CallLabel, CallMetrics, call_metrics, summarize


@dataclass(frozen=True)
class Variant:
    """One grid combination, ready to run: the script with its timings and the settings."""

    script: Script
    settings: CallSettings


def plan_variants(
    script: Script, settings: CallSettings, combos: Sequence[Mapping[str, float]]
) -> tuple[Variant, ...]:
    """Each combination's script and settings (`combos` by their dotted names over `script`
    and `settings`); combinations with the same timings share one script object, those with
    the same detector settings one settings object. ValueError naming a bad value
    (`--grid: low_volume_dbfs must be in -90.0..0.0, got 5.0`)."""
    scripts: dict[tuple, Script] = {}
    variants: dict[tuple, CallSettings] = {}
    planned = []
    for combo in combos:
        timings, inputs, thresholds = split(combo)
        key_t = tuple(sorted(timings.items()))
        key_s = tuple(sorted({**inputs, **thresholds}.items()))
        try:
            if key_t not in scripts:
                scripts[key_t] = with_timings(script, timings)
            if key_s not in variants:
                variant = settings.with_overrides(dict(key_s))
                if script.amd is not None:
                    variant = variant.with_script_amd(script.amd.settings)
                variants[key_s] = variant
        except ValueError as exc:
            raise ValueError(f"--grid: {exc}") from None
        planned.append(Variant(scripts[key_t], variants[key_s]))
    return tuple(planned)


@dataclass(frozen=True)
class SweepJob:
    """Everything a worker needs (picklable): the combinations as given, for the results,
    and the same combinations built (`variants`, see plan_variants)."""

    combos: list[dict[str, float]]
    variants: tuple[Variant, ...]
    prompt_frames: dict[str, int]
    cache_dir: Path
    channel: str = "mix"
    reference: Mapping[str, Sequence[tuple[float, float, str]]] | None = None
    """Reference transcripts by file name (start_s, end_s, text) to recognize the callee's
    speech with (`--asr reference`); None: detector-only calls, as replay without a model."""

    @classmethod
    def plan(
        cls,
        script: Script,
        settings: CallSettings,
        prompt_frames: dict[str, int],
        combos: list[dict[str, float]],
        cache_dir: Path,
        channel: str = "mix",
        reference: Mapping[str, Sequence[tuple[float, float, str]]] | None = None,
    ) -> SweepJob:
        """The job of every combination over `script` and `settings`."""
        variants = plan_variants(script, settings, combos)
        return cls(combos, variants, prompt_frames, cache_dir, channel, reference)


@dataclass(frozen=True)
class CallOutcome:
    """One call's metrics for every combination, or why it was left out."""

    file: str
    metrics: tuple[CallMetrics, ...] = ()
    error: str = ""


def evaluate_call(job: SweepJob, path: Path, label: CallLabel) -> CallOutcome:
    """All combinations on one call; the detectors run once per distinct front-end setting
    and call length."""
    cache = DetectorCache(job.cache_dir)
    detector_outputs: dict[tuple[FrontEndSettings, int], CachedCall] = {}
    metrics = []
    transcripts = None if job.reference is None else job.reference.get(path.name, [])
    try:
        content = file_hash(path)
        for variant in job.variants:
            front_end, frames = variant.settings.front_end, call_frames(variant.script)
            if (front_end, frames) not in detector_outputs:
                detector_outputs[front_end, frames] = cache.get(
                    path, front_end, frames, job.channel, content
                )
            run = CachedSession(
                detector_outputs[front_end, frames],
                variant.script,
                job.prompt_frames,
                variant.settings,
                detector_notes=False,
                asr=None if transcripts is None else ReferenceBackend(transcripts),
            )
            metrics.append(call_metrics(run.evaluate(), label))
    except (IvrError, OSError, ValueError) as exc:
        return CallOutcome(path.name, error=str(exc))
    return CallOutcome(path.name, tuple(metrics))


_JOB: dict[str, SweepJob] = {}


def _init(job: SweepJob, parent_pid: int | None = None) -> None:
    """Set up a process for `job`; in a worker (`parent_pid` given), first tie its life to the
    parent's, so that a parent killed outright leaves no worker behind."""
    if parent_pid is not None:
        die_with_parent(parent_pid)
    _JOB["job"] = job


def _work(item: tuple[Path, CallLabel]) -> CallOutcome:
    return evaluate_call(_JOB["job"], *item)


def sweep(
    job: SweepJob,
    calls: Sequence[tuple[Path, CallLabel]],
    jobs: int = 1,
    progress: Callable[[CallOutcome], None] | None = None,
) -> tuple[list[dict[str, Any]], list[CallOutcome]]:
    """Rows (the combination's values plus its Summary fields) and every call's outcome."""
    outcomes: list[CallOutcome] = []
    if jobs <= 1:
        _init(job)
        results = map(_work, calls)
        for outcome in results:
            outcomes.append(outcome)
            if progress:
                progress(outcome)
    else:
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            jobs, mp_context=spawn, initializer=_init, initargs=(job, os.getpid())
        ) as pool:
            for outcome in pool.map(_work, calls, chunksize=max(1, len(calls) // (jobs * 8))):
                outcomes.append(outcome)
                if progress:
                    progress(outcome)
    good = [o for o in outcomes if not o.error]
    rows = []
    for i, combo in enumerate(job.combos):
        summary = summarize([o.metrics[i] for o in good])
        rows.append({**combo, **asdict(summary)})
    return rows, outcomes
