"""A tuning sweep: every grid combination on every labelled call, from cached detector outputs.

Work is split by call (one call's detector outputs are computed once per distinct
detector-input setting, then every combination is evaluated on them), so calls run in
parallel with `jobs` processes. A call whose file cannot be read is reported and left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ivr.detect.settings import DetectorSettings
from ivr.errors import IvrError
from ivr.script.model import Script
from ivr.script.overrides import with_timings
from ivr.tune.cache import DetectorCache, file_hash
from ivr.tune.evaluate import CachedSession, call_frames
from ivr.tune.grid import split
from ivr.tune.metrics import CallLabel, CallMetrics, call_metrics, summarize


@dataclass(frozen=True)
class SweepJob:
    """Everything a worker needs (picklable)."""

    script: Script
    settings: DetectorSettings
    prompt_frames: dict[str, int]
    combos: list[dict[str, float]]
    cache_dir: Path
    channel: str = "mix"


@dataclass(frozen=True)
class CallOutcome:
    """One call's metrics for every combination, or why it was left out."""

    file: str
    metrics: tuple[CallMetrics, ...] = ()
    error: str = ""


def evaluate_call(job: SweepJob, path: Path, label: CallLabel) -> CallOutcome:
    """All combinations on one call."""
    cache = DetectorCache(job.cache_dir)
    scripts: dict[tuple, Script] = {}
    variants: dict[tuple, DetectorSettings] = {}
    detector_outputs: dict[tuple, Any] = {}
    metrics = []
    try:
        content = file_hash(path)
        for combo in job.combos:
            timings, inputs, thresholds = split(combo)
            key_t = tuple(sorted(timings.items()))
            if key_t not in scripts:
                scripts[key_t] = with_timings(job.script, timings)
            script = scripts[key_t]
            key_s = tuple(sorted({**inputs, **thresholds}.items()))
            if key_s not in variants:
                variants[key_s] = job.settings.with_overrides(dict(key_s))
            settings = variants[key_s]
            key_d = (tuple(sorted(inputs.items())), call_frames(script))
            if key_d not in detector_outputs:
                detector_outputs[key_d] = cache.get(
                    path, settings, call_frames(script), job.channel, content
                )
            run = CachedSession(
                detector_outputs[key_d], script, job.prompt_frames, settings, detector_notes=False
            )
            metrics.append(call_metrics(run.evaluate(), label))
    except (IvrError, OSError, ValueError) as exc:
        return CallOutcome(path.name, error=str(exc))
    return CallOutcome(path.name, tuple(metrics))


_JOB: dict[str, SweepJob] = {}


def _init(job: SweepJob) -> None:
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
        with ProcessPoolExecutor(jobs, initializer=_init, initargs=(job,)) as pool:
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
