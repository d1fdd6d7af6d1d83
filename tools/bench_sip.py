"""The SIP benchmark of tools/bench.py: calls at once through the SIP stack on one machine.

For each number of calls at once, that many calls go out together through `ivr campaign`'s
worker processes (2 calls per process by default, `--sip-per-worker`; the stack's limit is 4)
to baresip callees on 127.0.0.1 that stay silent, so every later prompt is a timer's.
Measured, per run:
- frames late (ms, the worst call): stray, how far the callee's frames strayed behind their
  20 ms schedule as pjmedia's clock delivered them; wait, the longest a frame then waited
  before its call's session took it; late, the worst frame from its place on the schedule to
  its session taking it; target: none late by more than 20 ms;
- CPU per call: the workers' CPU time over the calls' total duration (% of one core);
- prompt start latency: from the moment the line had delivered the timer's frame to the
  prompt's first 20 ms handed to the RTP stream (median and max, ms); target: median < 50 ms.
"""

from __future__ import annotations

import contextlib
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "helpers"))  # the baresip callee the SIP tests use

CALLEES = 4
"""baresip processes answering the calls (round robin)."""

SCRIPT = """\
script: bench_sip
direction: outbound
start: ask
prompts:
  ask: "您好!您好!请问能听到吗?"
  bye: "对不起,电话一直没有声音,再见!"
defaults:
  listen: {noinput_timeout_s: 1.0, end_of_speech_s: 0.8, max_speech_s: 10.0}
states:
  ask:
    say: [ask]
    listen: {}
    "on":
      noinput:
        - {count: 1, do: [{say: ask}]}
        - {count: 2, do: [{say: ask}]}
        - {count: 3, do: [{say: ask}]}
        - {count: 4, do: [{say: bye}, {pause: 0.5}, {hangup: no_answer}]}
"""
"""A silent callee's call: four timer prompts after the first, about 15 s."""


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_calls(folder: Path, uris: list[str], count: int, per_worker: int) -> dict[str, float]:
    """`count` calls at once to `uris` (round robin); the measures of the run."""
    from ivr.service.workers import CallRecipe, WorkerPool

    script = folder / "bench_sip.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    recipe = CallRecipe(str(script), None, (), "none", None, folder / "cache", timing=True)
    before = _children_cpu_s()
    pool = WorkerPool(recipe, count, per_worker)
    try:
        pool.start()
        started = time.monotonic()
        for i in range(count):
            pool.submit(i, uris[i % len(uris)], {}, folder / f"call{count}-{i}.wav")
        done = []
        while len(done) < count:
            done += pool.poll(100)
        wall = time.monotonic() - started
    finally:
        pool.close()
    cpu = _children_cpu_s() - before
    results = [d.result for _, d in done]
    failed = [d.error for _, d in done if d.result is None]
    if failed:
        raise RuntimeError(f"calls failed: {failed[:3]}")
    call_s = sum(r.result.duration_s for r in results)
    latencies = [x for r in results for x in r.start_latencies_s]
    return {
        "wall_s": wall,
        "stray_ms": 1000 * max(r.arrival_late_s for r in results),
        "wait_ms": 1000 * max(r.late_s for r in results),
        "late_ms": 1000 * max(r.frame_late_s for r in results),
        "cpu_pct": 100 * cpu / call_s,
        "median_ms": 1000 * float(np.median(latencies)),
        "max_ms": 1000 * float(np.max(latencies)),
        "prompts": len(latencies),
        "outcomes": len({r.result.outcome for r in results}),
    }


def bench_sip(counts: list[int], per_worker: int = 2) -> None:
    """Print the SIP benchmark's table for each number of calls at once in `counts`."""
    from baresip_callee import RATE, baresip

    print(
        f"SIP calls at once to {CALLEES} silent baresip callees on 127.0.0.1, "
        f"{per_worker} per worker process"
    )
    print("  calls  frames: stray / wait / late (worst, ms)  CPU per call  start latency med / max")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        folder = Path(tmp)
        quiet = np.zeros(RATE * 60, np.int16)
        uris = [
            stack.enter_context(baresip(folder / f"callee{i}", quiet, max_calls=64)).uri
            for i in range(CALLEES)
        ]
        run_calls(folder, uris[:1], 1, 1)  # prompts rendered once
        for count in counts:
            m = run_calls(folder, uris, count, per_worker)
            late = "ok" if m["late_ms"] <= 20 else "LATE"
            print(
                f"  {count:5d}  {m['stray_ms']:6.1f} / {m['wait_ms']:5.1f} / {m['late_ms']:5.1f}"
                f" {late:>4s}"
                f"{m['cpu_pct']:17.1f} %   {m['median_ms']:8.1f} / {m['max_ms']:6.1f} ms"
                f"  ({m['prompts']} prompts)"
            )
    print("  targets: no frame late by more than 20 ms; median start latency under 50 ms")
