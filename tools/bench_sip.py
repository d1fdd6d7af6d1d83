"""The SIP benchmark of tools/bench.py: calls at once through the SIP stack on one machine, with
SIPp as the far end (tools/sipp_far_end.py; one SIPp process carries all the calls of a run).

Calls at once: for each number of calls, that many calls go out together through `ivr
campaign`'s worker processes (2 calls per process by default, `--sip-per-worker`; the stack's
limit is 4) to one SIPp callee (tests/line/sipp/uas_answer.xml) on 127.0.0.1 that answers,
says "hello" during our first prompt (real speech, tools/sipp_audio.py's callee_hello.pcap)
and is then silent, so every later prompt is a timer's. Measured, per run:
- frame lateness (ms): each received frame from its place on the media clock's 20 ms schedule
  to its call's session taking it, the worst and the 99th percentile over every frame of every
  call; target: none later than 20 ms;
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

Call rate: `ivr serve` (one process) is called by one SIPp caller (uac_short.xml: says one
word, hangs up 1.5 s after the answer) at 2, 5, 10 and 20 calls per second, a bounded number
of calls at each rate; the highest rate at which every call was answered (200) and kept is
reported, with the answer time (INVITE to 200 OK, from SIPp's message trace). Target: >= 10.

Soak (`--soak SECONDS`, a benchmark, not a test): 32 calls at once, each ended call replaced
by a new one, for SECONDS; the workers' memory at the end against the start (after the first
minute), and the frames lost. Target: memory ratio at most 1.1, no frame lost.

Profile (`IVR_PROFILE_DIR=DIR`): each worker process writes a cProfile of its whole run to
DIR/worker-PID.prof (ivr.service.workers), e.g. to read with `python -m pstats`.
"""

from __future__ import annotations

import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import sipp_far_end  # noqa: E402

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

RATES = (2, 5, 10, 20)
"""Call rates (calls per second) `ivr serve` is called at."""

RATE_SECONDS = 4
"""How long each call rate is kept up (s): rate x this many calls."""

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


def answer_times(trace: Path) -> list[float]:
    """From SIPp's message trace: each answered call's INVITE-to-200 time (s)."""
    sent: dict[str, float] = {}
    times = []
    blocks = re.split(r"^-{20,} (\S+ \S+)\n", trace.read_text(errors="replace"), flags=re.M)
    for stamp, message in zip(blocks[1::2], blocks[2::2], strict=True):
        at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
        call_id = re.search(r"^Call-ID:\s*(\S+)", message, re.M | re.I)
        if call_id is None:
            continue
        if re.search(r"^INVITE ", message, re.M) and call_id.group(1) not in sent:
            sent[call_id.group(1)] = at
        elif re.search(r"^SIP/2\.0 200", message, re.M) and re.search(
            r"^CSeq:\s*\d+ INVITE", message, re.M | re.I
        ):
            first = sent.pop(call_id.group(1), None)
            if first is not None:
                times.append(at - first)
    return times


def serve_rate(folder: Path, rate: float, concurrency: int) -> tuple[int, int, list[float]]:
    """`ivr serve` called by SIPp at `rate` calls per second for RATE_SECONDS: (calls placed,
    calls answered and ended as SIPp expected, answer times in s)."""
    calls = max(4, round(rate * RATE_SECONDS))
    command = [sys.executable, "-m", "ivr", "serve", "--listen", "127.0.0.1:0", "--asr", "none"]
    command += ["--concurrency", str(concurrency), "--out", str(folder / "calls")]
    command += ["--db", str(folder / "calls.db"), "--cache-dir", str(folder / "cache")]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        address = None
        for line in server.stdout:
            found = re.search(r"answering sip:(\S+) ", line)
            if found:
                address = found.group(1)
                break
        if address is None:
            raise RuntimeError(f"ivr serve did not start: {server.stderr.read()[-500:]}")
        callers = sipp_far_end.start(
            "uac_short", folder / f"rate{rate:g}", "caller_short.pcap", calls=calls,
            target=address, rate=rate, cache=folder / "pcaps",
        )  # fmt: skip
        callers.wait(calls / rate + 60)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    got = callers.statuses()
    answered = sum(1 for s in got.values() if s and max(s) == 200)
    ok = answered if callers.returncode == 0 else min(answered, calls - 1)
    return calls, ok, answer_times(callers.folder / "messages.log")


def bench_serve_rate(folder: Path, concurrency: int) -> None:
    print(
        f"ivr serve (one process, --concurrency {concurrency}) called by SIPp: each caller says "
        "one word and hangs up 1.5 s after the answer"
    )
    best = 0.0
    for rate in RATES:
        calls, ok, times = serve_rate(folder, rate, concurrency)
        ms = 1000 * np.array(times or [np.nan])
        verdict = "ok" if ok == calls else "FAILED CALLS"
        print(
            f"  {rate:4g} calls/s: {ok:3d} of {calls:3d} answered; answer time median "
            f"{np.median(ms):6.1f} ms, max {np.max(ms):6.1f} ms  {verdict}"
        )
        if ok < calls:
            break
        best = rate
    print(f"  highest call rate without a failed call: {best:g} calls/s (target: at least 10)")


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
        if soak_s:
            bench_soak(folder, soak_s, per_worker)
