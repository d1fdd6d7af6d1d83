#!/usr/bin/env python3
"""Benchmarks: speed and memory of the audio front end, as ratios measured in one run.

    python tools/bench.py [--minutes 10] [--only frontend|memory|...|outcomes|audit]

frontend: frames per second of (a) bare `webrtcvad.Vad.is_speech` over pre-cut 20 ms frames and
(b) the webrtcvad stage of the front end (decode, resample, frame, high-pass, speech band, VAD,
level, noise floor, dropouts, segments, telephone keys, line tones, answering-machine
detection; the learned stage off) on the same audio, stored as 16 kHz PCM WAV and as 8 kHz
G.711 mu-law WAV, (b+) the whole front end with the learned stage (Silero) and what that stage
costs, as a share of (b) and of a core in a live call, (c) the high-pass alone, (c2) the speech
band-pass alone and (d) reading the mu-law file alone (decode, resample, frame), each as its
share of (a)'s time per frame. Targets: (b)/(a) >= 0.5, the learned stage <= 2 % of a core.
memory: peak memory of the front end over a 1-minute and a 60-minute recording, each in a fresh
process. Target: flat in file length.
replay: the generated test calls of the outbound script (at least 50) replayed without
recognition, on one core: times real time, and frames per second against the front end alone
on the same files, with the learned stage on (the default). Targets: >= 1,000x real time,
ratio >= 0.4.
records: the same calls, what keeping each costs beside replaying it (writing outputs): its
QA score, its call-log row (one transaction), its timeline picture, and the report page, in ms
per call and as ratios to the replay. Targets: QA score and call log under 0.1 of replay, a
picture under 0.5 s.
live: 10 live calls (`ivr call`) through a private PulseAudio null sink: the median and maximum
prompt start latency (from the frame a timer fired to the prompt's first sample leaving the
speaker) and timer jitter (from that frame's arrival to the engine's decision), in ms.
Target: median start latency under 50 ms.
tune: a sweep of 200 generated calls x 500 combinations (noinput x end_of_speech x
low_volume_dbfs) with `-j 2`: the time, evaluations per second, and the ratio to re-running the
full replay for each combination (a sample of the naive path, measured and extrapolated).
Targets: under 30 s, at least 100x faster than naive.
sip: calls at once through the SIP stack with SIPp as the far end (tools/bench_sip.py), for
1, 4, 8, 16, 32 and 48 calls (`--only sip --calls 1,4,8` for fewer): frame lateness (worst,
p99), RTP frames lost, our CPU and SIPp's, memory per call, the prompt start latency to the
first RTP packet; `ivr serve`'s highest call rate without a failed call; `--soak SECONDS`: 32
calls at once for that long, memory end / start. Targets: no frame later than 20 ms, none lost,
our CPU at most 2 % of a core per call, start latency p95 under 50 ms, >= 10 calls/s, soak
memory ratio at most 1.1.
outcomes: the realistic and field corpora of both scripts replayed without recognition
(tools/bench_outcomes.py): the share of right outcomes per script and corpus part, a
confusion table, with the learned speech stage on and off, and each way's replay speed.
Targets: >= 97 % right outcomes on both scripts with the learned stage on; the realistic
corpus (continuous talkers) replayed at >= 300x real time.
audit: `ivr synth --audit`'s labelled corpus (60 calls, `--calls N`) scored by `ivr audit`
without recognition (tools/bench_audit.py): per-item precision and recall of the failing
moments on the held-out part and the tuning part, and the speed per core. Targets: >= 0.95
each for items 1-5 and 7 on the held-out part; >= 1,000x real time per core.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import ivr  # noqa: F401  (first: it sets numpy's OpenBLAS threads, ivr.BLAS_THREADS)

# isort: split
import numpy as np

ROOT = Path(__file__).resolve().parent.parent

ROUNDS = 5
"""Rounds of the replay benchmark: replay and the front end alone take turns, best of each."""
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from bench_frontend import bench_frontend, write_long_wav  # noqa: E402

from ivr.audio import open_source  # noqa: E402
from ivr.call_settings import CallSettings  # noqa: E402
from ivr.detect import analyze  # noqa: E402


def _peak_child(path: str) -> None:
    """Run in a fresh process: analyse `path`, print peak memory as JSON."""
    tracemalloc.start()
    result = analyze(open_source(path))
    _, traced_peak = tracemalloc.get_traced_memory()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"frames": result.frames, "traced_peak": traced_peak, "max_rss_kib": rss_kib}))


def bench_memory() -> None:
    print("peak memory of the front end, each file in a fresh process")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in (1, 60):
            path = Path(tmp) / f"call_{minutes}min.wav"
            write_long_wav(path, minutes * 60)
            out = subprocess.run(
                [sys.executable, __file__, "--peak-child", str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            stats = json.loads(out.stdout)
            rows.append(stats)
            print(
                f"  {minutes:3d} min: {stats['frames']:7d} frames, "
                f"traced Python/numpy peak {stats['traced_peak'] / 2**20:6.2f} MiB, "
                f"process max RSS {stats['max_rss_kib'] / 1024:6.1f} MiB"
            )
            path.unlink()
    traced = rows[1]["traced_peak"] / rows[0]["traced_peak"]
    rss = rows[1]["max_rss_kib"] / rows[0]["max_rss_kib"]
    print(
        f"  ratio 60 min / 1 min: traced peak {traced:.2f}, max RSS {rss:.2f} "
        "(target: flat, about 1.0, for 60x the audio)"
    )


def outbound_calls(tmp: str, calls: int):
    """`calls` generated calls of the outbound script in `tmp`: (script, prompt cache, files)."""
    from ivr.script import load_script
    from ivr.synth.corpus import write_corpus
    from ivr.synth.script_calls import script_call_specs
    from ivr.tts.prompt_cache import PromptCache

    values = {"agent_id": "1001", "number": "13812345678"}
    script = load_script("outbound", values)
    cache = PromptCache(Path(tmp) / "prompts")
    audio = cache.render_all(script.prompts)
    specs = []
    seed = 0
    while len(specs) < calls:
        seed += 1
        for spec, _ in script_call_specs(script, lambda p: audio[p].frames, seed=seed):
            specs.append(spec.__class__(**{**spec.__dict__, "name": f"{spec.name}_{seed}"}))
    folder = Path(tmp) / "calls"
    write_corpus(specs[:calls], folder, seed=0)
    return script, cache, sorted(folder.glob("*.wav"))


def bench_replay(calls: int) -> None:
    from ivr.call.replay import replay_file

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as tmp:
        script, cache, files = outbound_calls(tmp, calls)
        out = Path(tmp) / "out"
        labels = {"replay, no output files": None, "replay, writing outputs": out}
        best = {label: (0.0, 0) for label in labels}
        front = 0.0
        for _ in range(ROUNDS):  # the three take turns, so that load changes hit them alike
            start = time.perf_counter()
            frames = sum(analyze(open_source(f)).frames for f in files)
            front = max(front, frames / (time.perf_counter() - start))
            for label, target in labels.items():
                start = time.perf_counter()
                frames = sum(replay_file(f, script, cache, None, target).frames for f in files)
                elapsed = time.perf_counter() - start
                best[label] = max(best[label], (frames / elapsed, frames))
    print(
        f"replay of {len(files)} generated outbound calls, without recognition, "
        f"taking turns with the front end, best of {ROUNDS}"
    )
    print(f"  front end alone on the same files:   {front:12,.0f} frames/s ({front / 50:,.0f}x rt)")
    for label, (fps, frames) in best.items():
        print(
            f"  {label:36s} {fps:12,.0f} frames/s ({fps / 50:,.0f}x real time over "
            f"{frames / 50 / 60:.1f} min of calls)  ratio to front end {fps / front:.2f}"
        )
    print("  targets: >= 1,000x real time; ratio >= 0.8 without output files, >= 0.4 writing them")


def bench_records(calls: int) -> None:
    """What keeping a call costs beside replaying it: QA score, call-log row, picture, page."""
    from ivr.app.records import call_record, draw_picture, qa_of, report_view
    from ivr.call.replay import replay_file
    from ivr.qa.phrases import load_forbidden
    from ivr.records.calllog import CallLog
    from ivr.report.html import write_report

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as tmp:
        script, cache, files = outbound_calls(tmp, calls)
        out, settings, forbidden = Path(tmp) / "out", CallSettings(), load_forbidden()
        timed: dict[str, float] = {}

        def timer(label: str, work, *args):
            start = time.perf_counter()
            value = work(*args)
            timed[label] = timed.get(label, 0.0) + time.perf_counter() - start
            return value

        views, started = [], "2026-12-01T09:00:00+08:00"
        with CallLog(Path(tmp) / "calls.db") as log:
            for path in files:
                result = timer("replay, writing outputs", replay_file, path, script, cache,
                               None, out)  # fmt: skip
                qa = timer("QA score", qa_of, result, script, forbidden)
                values = {"number": "13812345678", "agent_id": "1001"}
                record = call_record(result, script, values, "replay", qa, started)
                timer("call log (one transaction)", log.add, record)
                picture, _ = timer("timeline picture", draw_picture, result, out / "pictures",
                                   settings, False)  # fmt: skip
                views.append(report_view(result, qa, picture))
        timer("report page", write_report, Path(tmp) / "report", views)
    base = timed["replay, writing outputs"]
    print(f"keeping {len(files)} replayed outbound calls, one core, seconds per call")
    for label, seconds in timed.items():
        print(
            f"  {label:28s} {seconds / len(files) * 1000:9.2f} ms/call"
            f"  ratio to replay {seconds / base:6.3f}"
        )
    print("  targets: QA score and call log together under 0.1 of replay; a picture per call")
    print("  under 0.5 s")


LIVE_SCRIPT = """\
script: bench
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
        - {count: 3, do: [{say: bye}, {pause: 0.5}, {hangup: no_answer}]}
"""


def bench_live(calls: int) -> None:
    from null_sink import null_sink

    latencies, jitters = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        script = folder / "bench.yaml"
        script.write_text(LIVE_SCRIPT, encoding="utf-8")
        with null_sink(folder) as env:
            env["IVR_CACHE_DIR"] = str(folder / "cache")
            for i in range(calls):
                record = folder / f"call{i}.wav"
                subprocess.run(
                    [sys.executable, "-m", "ivr", "call", "--script", str(script), "--asr", "none",
                     "--record", str(record)],
                    env=env, capture_output=True, text=True, check=True, timeout=120,
                )  # fmt: skip
                for line in record.with_suffix(".timeline.jsonl").read_text().splitlines():
                    entry = json.loads(line)
                    if entry["event"] == "prompt_out" and entry["frame"] > 0:
                        latencies.append(entry["start_latency_ms"])
                        jitters.append(abs(entry["processing_ms"]))
    print(
        f"live calls through a PulseAudio null sink: {calls} calls, {len(latencies)} timed prompts"
    )
    for label, values in (("prompt start latency", latencies), ("timer jitter", jitters)):
        print(f"  {label:22s} median {np.median(values):6.1f} ms, max {np.max(values):6.1f} ms")
    print("  target: median start latency under 50 ms")


def bench_tune(calls: int) -> None:
    import random

    from ivr.call.replay import replay_file
    from ivr.script import load_script
    from ivr.script.overrides import with_timings
    from ivr.synth.corpus import write_corpus
    from ivr.synth.script_calls import script_call_specs
    from ivr.tts.prompt_cache import PromptCache
    from ivr.tune.grid import combinations, parse_axis, split
    from ivr.tune.metrics import labels_from_manifest
    from ivr.tune.sweep import SweepJob, sweep

    values = {"agent_id": "1001", "number": "13812345678"}
    script = load_script("outbound", values)
    axes = [
        parse_axis("noinput=2:6.5:0.5"),
        parse_axis("end_of_speech=0.4:1.3:0.1"),
        parse_axis("low_volume_dbfs=-50:-38:3"),
    ]
    combos = combinations(axes)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cache = PromptCache(folder / "prompts")
        audio = cache.render_all(script.prompts)
        specs, seed = [], 0
        while len(specs) < calls:
            seed += 1
            for spec, _ in script_call_specs(script, lambda p: audio[p].frames, seed=seed):
                specs.append(spec.__class__(**{**spec.__dict__, "name": f"{spec.name}_{seed}"}))
        manifest = write_corpus(specs[:calls], folder / "calls", seed=0)
        labels = labels_from_manifest(manifest)
        items = [(folder / "calls" / name, label) for name, label in sorted(labels.items())]
        job = SweepJob.plan(
            script=script,
            settings=CallSettings(),
            prompt_frames={script.prompts[p]: a.frames for p, a in audio.items()},
            combos=combos,
            cache_dir=folder / "detectors",
        )
        start = time.perf_counter()
        sweep(job, items, jobs=2)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        sweep(job, items, jobs=2)
        warm = time.perf_counter() - start
        rng = random.Random(1)
        sample = [(rng.choice(items)[0], rng.choice(combos)) for _ in range(40)]
        start = time.perf_counter()
        for path, combo in sample:
            timings, inputs, thresholds = split(combo)
            settings = CallSettings().with_overrides({**inputs, **thresholds})
            replay_file(path, with_timings(script, timings), cache, settings)
        naive_each = (time.perf_counter() - start) / len(sample)
    evaluations = len(items) * len(combos)
    naive = naive_each * evaluations
    print(
        f"tune sweep: {len(items)} calls x {len(combos)} combinations = {evaluations} evaluations"
    )
    print(
        f"  first run (detectors run once per call, cached): {cold:6.1f} s, "
        f"{evaluations / cold:9,.0f} evaluations/s"
    )
    print(
        f"  again (detector outputs from the disk cache):    {warm:6.1f} s, "
        f"{evaluations / warm:9,.0f} evaluations/s"
    )
    print(
        f"  naive: a full replay per combination, {naive_each * 1000:.1f} ms each over a sample "
        f"of {len(sample)}, extrapolated: {naive:,.0f} s"
    )
    print(f"  ratio naive / sweep: {naive / cold:,.0f}x (first run), {naive / warm:,.0f}x (cached)")
    print("  targets: under 30 s, at least 100x faster than naive")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="audio for the speed test")
    parser.add_argument(
        "--only",
        choices=[
            "frontend",
            "memory",
            "replay",
            "records",
            "live",
            "tune",
            "sip",
            "outcomes",
            "audit",
        ],
        help="one benchmark",
    )
    parser.add_argument("--tune-calls", type=int, default=200, help="calls for the tune benchmark")
    parser.add_argument("--live-calls", type=int, default=10, help="calls for the live benchmark")
    parser.add_argument(
        "--calls",
        help="calls for the replay benchmark (default 54); with --only sip, the calls at once "
        "for the SIP benchmark, a list (default 1,4,8,16,32,48; 0: none)",
    )
    parser.add_argument("--sip-calls", help="calls at once for the SIP benchmark (a list)")
    parser.add_argument("--sip-per-worker", type=int, default=2, help="SIP calls per process")
    parser.add_argument(
        "--soak", type=float, metavar="SECONDS", help="SIP: 32 calls at once for this long"
    )
    parser.add_argument(
        "--no-serve-rate", action="store_true", help="SIP: skip `ivr serve`'s call rate"
    )
    parser.add_argument("--peak-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peak_child:
        _peak_child(args.peak_child)
        return
    if args.only in (None, "frontend"):
        bench_frontend(args.minutes)
    if args.only in (None, "memory"):
        bench_memory()
    calls = 54 if args.calls is None or args.only == "sip" else int(args.calls)
    if args.only in (None, "replay"):
        bench_replay(calls)
    if args.only in (None, "records"):
        bench_records(calls)
    if args.only in (None, "live"):
        bench_live(args.live_calls)
    if args.only in (None, "tune"):
        bench_tune(args.tune_calls)
    if args.only in (None, "sip"):
        from bench_sip import bench_sip

        sip_calls = args.sip_calls or (args.calls if args.only == "sip" else None)
        counts = [int(n) for n in (sip_calls or "1,4,8,16,32,48").split(",") if int(n) > 0]
        bench_sip(counts, args.sip_per_worker, args.soak, not args.no_serve_rate)
    if args.only in (None, "outcomes"):
        from bench_outcomes import bench_outcomes

        bench_outcomes()
    if args.only in (None, "audit"):
        # In a fresh process, pinned to one core before numpy and soxr start their thread
        # pools: threads started for two cores and then pinned to one spin on it and double
        # the CPU time measured.
        audit_calls = "60" if args.calls is None or args.only != "audit" else args.calls
        script = str(ROOT / "tools" / "bench_audit.py")
        subprocess.run([sys.executable, script, "--calls", audit_calls], check=True)


if __name__ == "__main__":
    main()
