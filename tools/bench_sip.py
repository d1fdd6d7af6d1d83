"""The SIP benchmark of tools/bench.py: calls at once through the SIP stack on one machine, with
SIPp as the far end (tools/sipp_far_end.py; one SIPp process carries all the calls of a run).

Calls at once: for each number of calls, that many calls go out together through `ivr
campaign`'s worker processes (2 calls per process by default, `--sip-per-worker`; the stack's
limit is 4) to one SIPp callee (tests/line/sipp/uas_answer.xml) on 127.0.0.1 that answers,
says "hello" during our first prompt (real speech, tools/sipp_audio.py's callee_hello.pcap)
and is then silent, so every later prompt is a timer's. Measured, per run:
- frame lateness (ms): each received frame from the moment its block was complete on the
  media clock's 20 ms schedule (a call's session takes 5 frames at once by design, fewer when a
  timer falls due sooner: ivr.transports.sip.BLOCK_FRAMES) to its call's session taking it, the
  worst and the 99th percentile over every frame of every call; target: none later than 20 ms;
- frames lost: RTP packets the calls' streams never received (gaps in the sequence numbers) or
  threw away (late or jitter buffer full), by pjmedia's counts at each stream's end, against
  the packets received; target: none;
- CPU per call: our workers' CPU time (/proc/PID/stat) while the calls were up, over that
  time and the calls (% of one core per call); SIPp's the same way (all its calls, % of a
  core); target: ours at most 2 %;
- memory per call: the workers' proportional set size (PSS, /proc/PID/smaps_rollup; shared
  libraries counted once between them) at its peak during the calls, over the calls;
- prompt start latency: from the moment the line had delivered the timer's frame to the
  prompt's first 20 ms handed to the RTP stream (median and 95th percentile, ms); target:
  p95 under 50 ms.

Call rate: `ivr serve` is called by one SIPp caller (uac_short.xml: says one word, hangs up
1.5 s after the answer) at 2, 5, 10 and 20 calls per second, a bounded number of calls at each
rate; the highest rate at which every call was answered (200) and kept is reported, with the
answer time (INVITE to 200 OK, from SIPp's message trace). Twice: one `ivr serve` process
(it holds 4 calls at once, the wheel's PJSUA_MAX_CALLS), then SERVE_WORKERS processes behind
Kamailio's dispatcher (tools/kamailio), as the README deploys more calls. Target: >= 10.
A breakdown of where a call's CPU goes (per thread of the first worker) follows the table.

Soak (`--soak SECONDS`, a benchmark, not a test): 32 calls at once, each ended call replaced
by a new one, for SECONDS; the workers' memory at the end against the start (after the first
minute), and the frames lost. Target: memory ratio at most 1.1, no frame lost.

Profile (`IVR_PROFILE_DIR=DIR`): each worker process writes a cProfile of its whole run to
DIR/worker-PID.prof (ivr.service.workers), e.g. to read with `python -m pstats`.
"""

from __future__ import annotations

import os
import platform
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import ivr  # noqa: F401  (first: it sets numpy's OpenBLAS threads, ivr.BLAS_THREADS)

# isort: split
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import sipp_far_end  # noqa: E402
from bench_sip_rate import SERVE_WORKERS, bench_serve_rate  # noqa: E402

SCRIPT = """\
script: bench_sip
direction: outbound
start: ask
prompts:
  ask: "您好!您好!请问能听到吗?"
  bye: "对不起,电话一直没有声音,再见!"
defaults:
  listen: {noinput_timeout_s: 1.0, end_of_speech_s: 0.8, max_speech_s: 10.0, barge_in: false}
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
      speech:
        - {count: 1, do: [{say: ask}]}
        - {count: 2, do: [{say: bye}, {pause: 0.5}, {hangup: answered}]}
"""
"""A callee who said hello during the first prompt, then nothing: four timer prompts after
the first, about 15 s."""

SAMPLE_S = 1.0
"""How often the workers' memory is read while calls run (s)."""


def machine() -> str:
    """The machine: CPU model, cores, memory, kernel."""
    model = platform.processor() or "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {cores} cores, {memory:.0f} GiB, Linux {platform.release()}"


def pss_kib(pid: int) -> int:
    """The proportional set size of process `pid` (KiB; its RSS where PSS cannot be read)."""
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1])
        except OSError:
            continue
    return 0


def thread_cpu(pid: int) -> list[tuple[int, str, float]]:
    """Each thread of process `pid`: (thread id, name, CPU time so far in s), by thread id."""
    threads = []
    for task in sorted(Path(f"/proc/{pid}/task").iterdir(), key=lambda p: int(p.name)):
        try:
            name = (task / "comm").read_text().strip()
            threads.append((int(task.name), name, sipp_far_end.cpu_s(pid, int(task.name))))
        except (OSError, IndexError):
            continue
    return threads


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += sipp_far_end.cpu_s(pid)
        except (OSError, IndexError):
            continue
    return total


@dataclass
class Run:
    """The measures of one run of calls at once."""

    calls: int
    results: list = field(default_factory=list)
    wall_s: float = 0.0
    our_cpu_s: float = 0.0
    sipp_cpu_s: float = 0.0
    memory_kib: list[tuple[float, int]] = field(default_factory=list)
    """(s since the calls began, the workers' PSS) per sample."""
    threads: list[tuple[int, str, float]] = field(default_factory=list)
    """The first worker's threads: (thread id, name, CPU s while the calls were up), its
    main thread first (its id is the worker's process id)."""

    def frames_late(self) -> tuple[float, float]:
        lates = np.concatenate([np.array(r.frame_lates_ms) for r in self.results] or [[0.0]])
        return float(np.max(lates)), float(np.percentile(lates, 99))

    def lost(self) -> tuple[int, int, int]:
        """(packets lost, packets discarded, packets received) over the calls."""
        rtp = [r.rtp for r in self.results if r.rtp is not None]
        if len(rtp) < len(self.results):
            raise RuntimeError(f"{len(self.results) - len(rtp)} calls without RTP counts")
        return sum(r.lost for r in rtp), sum(r.discarded for r in rtp), sum(r.packets for r in rtp)

    def latencies(self) -> tuple[float, float, int]:
        ms = [1000 * x for r in self.results for x in r.start_latencies_s]
        return float(np.median(ms)), float(np.percentile(ms, 95)), len(ms)


def run_calls(folder: Path, count: int, per_worker: int, soak_s: float | None = None) -> Run:
    """`count` calls at once to one SIPp callee (with `soak_s`: kept at `count`, each ended
    call replaced, for that long); its measures."""
    from ivr.service.workers import CallRecipe, WorkerPool

    script = folder / "bench_sip.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    recipe = CallRecipe(str(script), None, (), "none", None, folder / "cache", timing=True)
    run = Run(count)
    sipp = sipp_far_end.start(
        "uas_answer", folder / f"sipp{count}", "callee_hello.pcap",
        calls=10**6 if soak_s else count, cache=folder / "pcaps",
    )  # fmt: skip
    pool = WorkerPool(recipe, count, per_worker)
    try:
        pool.start()
        workers = [p.pid for p in pool.processes]
        cpu, sipp_cpu = cpu_of(workers), sipp_far_end.cpu_s(sipp.process.pid)
        threads = {tid: used for tid, _, used in thread_cpu(workers[0])}
        started = time.monotonic()
        placed = 0
        for _ in range(count):
            pool.submit(placed, sipp.uri, {}, folder / f"call{count}-{placed}.wav")
            placed += 1
        sample = started
        while pool.running:
            for tag, done in pool.poll(100):
                if done.result is None:
                    raise RuntimeError(f"a call failed: {done.error}")
                run.results.append(done.result)
                if soak_s:  # the recordings of a long soak would fill the disk
                    (folder / f"call{count}-{tag}.wav").unlink(missing_ok=True)
                    if time.monotonic() - started < soak_s:
                        pool.submit(placed, sipp.uri, {}, folder / f"call{count}-{placed}.wav")
                        placed += 1
            now = time.monotonic()
            if now - sample >= SAMPLE_S:
                sample = now
                run.memory_kib.append((now - started, sum(pss_kib(p) for p in workers)))
        run.wall_s = time.monotonic() - started
        run.our_cpu_s = cpu_of(workers) - cpu
        run.threads = [(t, n, c - threads.get(t, 0.0)) for t, n, c in thread_cpu(workers[0])]
        run.sipp_cpu_s = sipp_far_end.cpu_s(sipp.process.pid) - sipp_cpu
    finally:
        pool.close()
        if soak_s:
            sipp.process.send_signal(signal.SIGUSR1)  # SIPp's "quit after the calls": none left
        sipp.wait(30)
    return run


def print_runs(runs: list[Run], per_worker: int) -> None:
    print(
        f"SIP calls at once to one SIPp callee on 127.0.0.1 (answers, says hello, then silence), "
        f"{per_worker} calls per worker process"
    )
    print(
        "  calls  frame late worst / p99 ms  lost / discarded of RTP rx   our CPU/call"
        "  SIPp CPU  memory/call  start latency med / p95 ms"
    )
    for run in runs:
        worst, p99 = run.frames_late()
        lost, discarded, received = run.lost()
        median, p95, prompts = run.latencies()
        our = 100 * run.our_cpu_s / run.wall_s / run.calls
        sipp = 100 * run.sipp_cpu_s / run.wall_s
        memory = max((m for _, m in run.memory_kib), default=0) / 1024 / run.calls
        late = "ok" if worst <= 20 else "LATE"
        print(
            f"  {run.calls:5d}  {worst:8.1f} / {p99:6.1f} {late:>4s}"
            f"  {lost:6d} / {discarded:4d} of {received:7d}"
            f"  {our:9.1f} %  {sipp:6.1f} %  {memory:7.1f} MiB"
            f"  {median:9.1f} / {p95:6.1f}  ({prompts} prompts)"
        )
    print(
        "  targets: no frame later than 20 ms, none lost, our CPU at most 2 % of a core per call,"
        " start latency p95 under 50 ms"
    )
    print("  (our CPU/call: % of one core per call; SIPp CPU: its % of one core for all the calls)")
    block = max((r.block_frames for run in runs for r in run.results), default=1)
    print(
        f"  (frame late: after its block of {block} frames ({20 * block} ms) was complete, the "
        "session waits for a block by design; a timer's frame is taken as it comes)"
    )
    print_threads(runs[-1], per_worker)


THREAD_ROLES = {
    "main": "SIP events, the worker's jobs",
    "clock": "pjmedia's media clock: jitter buffer, G.711, resampling, our port's callbacks",
    "media": "RTP received (pjmedia's I/O thread)",
    "call": "the calls' sessions: detectors, engine, recording",
}


def print_threads(run: Run, per_worker: int) -> None:
    """Where a call's CPU goes: the first worker's threads by role, % of a core per call."""
    if not run.threads or run.wall_s <= 0:
        return
    calls = min(per_worker, run.calls)
    main_id = run.threads[0][0]
    roles: dict[str, float] = dict.fromkeys(THREAD_ROLES, 0.0)
    for tid, name, cpu in run.threads:
        role = "main" if tid == main_id else name if name in roles else "call"
        roles[role] += cpu
    print(f"  where a call's CPU goes, {run.calls} calls (the first worker, {calls} calls):")
    for role, cpu in roles.items():
        share = 100 * cpu / run.wall_s / calls
        print(f"    {share:5.2f} %  {role:6s} {THREAD_ROLES[role]}")


def bench_soak(folder: Path, seconds: float, per_worker: int, count: int = 32) -> None:
    run = run_calls(folder, count, per_worker, soak_s=seconds)
    lost, discarded, received = run.lost()
    samples = run.memory_kib
    start_at = 60.0 if seconds > 120 else samples[0][0] if samples else 0.0
    start = next((m for t, m in samples if t >= start_at), 0)
    end = samples[-1][1] if samples else 0
    worst, p99 = run.frames_late()
    print(
        f"soak: {count} calls at once for {seconds:g} s ({len(run.results)} calls): workers' "
        f"PSS {start / 1024:.0f} MiB after {start_at:.0f} s, {end / 1024:.0f} MiB at the end, "
        f"ratio {end / max(start, 1):.2f} (target: at most 1.1); lost {lost}, discarded "
        f"{discarded} of {received} RTP packets (target: none); frame late worst {worst:.1f} ms,"
        f" p99 {p99:.1f} ms"
    )


def bench_sip(
    counts: list[int],
    per_worker: int = 2,
    soak_s: float | None = None,
    rates: bool = True,
) -> None:
    """Print the SIP benchmark: calls at once for each of `counts`, `ivr serve`'s call rate,
    and with `soak_s` the soak."""
    sipp_far_end.require_sipp()
    print(f"machine: {machine()}; SIPp on the same machine")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_calls(folder, 1, 1)  # prompts rendered once
        if counts:
            print_runs([run_calls(folder, n, per_worker) for n in counts], per_worker)
        if rates:
            bench_serve_rate(folder, concurrency=4)
            bench_serve_rate(folder, concurrency=4, workers=SERVE_WORKERS)
        if soak_s:
            bench_soak(folder, soak_s, per_worker)
