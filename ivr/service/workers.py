"""SIP calls in worker processes: more calls at once than one agent can hold.

One pjsua2 agent per process holds at most `SipAgent.max_calls` calls (4 with the wheel's
build), and is given fewer (CALLS_PER_PROCESS), so a command that wants more
at once (`ivr campaign --concurrency 10`) starts several worker processes, each with its own
agent on its own port and its calls on threads of its own (ivr.service.threads). The parent keeps
the plan, the call log and the screen; it hands each worker `CallJob`s and gets back
`JobDone`s. A worker sets up each call itself (the script with the job's placeholder values,
its prompts rendered) from the run's `CallRecipe`.

With IVR_PROFILE_DIR set (tools/bench_sip.py), each call's thread and each worker's main
thread write a cProfile of their work (in CPU time) there (`call-PID-JOB.prof`, `worker-PID.prof`).

Workers ignore Ctrl-C (the terminal sends it to the whole process group): the parent decides,
and `stop` interrupts their calls, which end as `aborted` and come back like any other. A
worker dies with its parent however early the parent dies (ivr.lifeline: the kernel's
`PR_SET_PDEATHSIG` once set, a check of its parent's process id for a parent gone before
that), so a parent killed with SIGKILL leaves no call running and no port held; the
multiprocessing resource tracker then exits too (it ends when the last holder of its pipe
does).
"""

from __future__ import annotations

import collections
import faulthandler
import math
import multiprocessing
import os
import queue
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.lifeline import die_with_parent

if TYPE_CHECKING:
    from ivr.service.perform import SipCallResult

CALLS_PER_WORKER = 4
"""Calls one worker can hold at most (the wheel's PJSUA_MAX_CALLS)."""

CALLS_PER_PROCESS = 2
"""Calls a worker is given by default: half its call slots, so that a call whose hang-up is not
yet confirmed (it keeps its slot until then) never holds up the next one. 4 per process also
keep their frames on time and cost a little less CPU and memory per call (tools/bench.py
--only sip --sip-per-worker 4: 2.4 % of a core and 34 MiB per call at 32 calls, against 2.8 %
and 56 MiB)."""

POLL_MS = 10

SIP_POLL_MS = 20
"""How long a worker's SIP thread handles SIP events before it looks after its calls (ms):
SIP events are handled as they come; a call's hang-up waits for the look (up to this long)."""

JOBS_EVERY_S = 0.05
"""How often a worker looks for new jobs and the stop message from its parent (s): reading
the job queue costs about 0.1 ms (a selector per look), 100 looks a second cost a call 0.5 %
of a core; a call placed 50 ms later is not noticed."""
"""How long each wait for SIP events or results lasts (ms)."""

_STOP = "stop"

PROFILE_DIR = "IVR_PROFILE_DIR"
"""An environment variable: a folder each call thread and worker writes its cProfile to."""


@dataclass(frozen=True)
class CallRecipe:
    """How the workers set up their agent and calls (sent to each, so plain values only)."""

    script: str
    config: Path | None
    overrides: tuple[str, ...]
    asr: str
    model: str | None
    cache_dir: Path | None
    host: str = "127.0.0.1"
    first_port: int = 0
    """Worker i listens on first_port + i (0: each on any free port)."""
    proxy: str | None = None
    show_numbers: bool = False
    answer_timeout_s: float = 30.0
    timing: bool = False
    """Measure each frame's arrival and each prompt's start (benchmarks)."""


@dataclass(frozen=True)
class CallJob:
    """One call for a worker: whom to call, the script's values, where its recording goes."""

    job_id: int
    uri: str
    values: dict[str, str] = field(hash=False)
    recording: Path


@dataclass(frozen=True)
class JobDone:
    """A job's end: the call's result, or why it could not run (`error`, one line)."""

    job_id: int
    worker: int
    result: SipCallResult | None
    error: str = ""


def _profiled(name: str, work: Any) -> Any:
    """`work()`, under cProfile written to $IVR_PROFILE_DIR/NAME.prof if that is set."""
    folder = os.environ.get(PROFILE_DIR)
    if not folder:
        return work()
    import cProfile

    profile = cProfile.Profile(time.thread_time)  # CPU time: waits and other threads left out
    try:
        return profile.runcall(work)
    finally:
        profile.dump_stats(Path(folder) / f"{name}.prof")


def _run_job(agent: Any, threads: Any, recipe: CallRecipe, setup: Any, job: CallJob) -> Any:
    return _profiled(
        f"call-{os.getpid()}-{job.job_id}",
        lambda: _perform_job(agent, threads, recipe, setup, job),
    )


def _perform_job(agent: Any, threads: Any, recipe: CallRecipe, setup: Any, job: CallJob) -> Any:
    from ivr.app.setup import CallSetup, load_call_script
    from ivr.service.perform import perform_call
    from ivr.sip.call import SipCall

    settings, prompts, recognition = setup
    script = load_call_script(recipe.script, dict(job.values), recipe.config)
    call_setup = CallSetup.rendered(script, settings, prompts, recognition)  # before dialing
    call = SipCall(agent, job.uri, timing=recipe.timing)
    try:
        return perform_call(
            agent, call, call_setup, job.recording, recipe.show_numbers,
            recipe.answer_timeout_s, on_callee=threads.watch,
        )  # fmt: skip
    finally:
        agent.forget(call)


def worker_main(
    parent_pid: int, index: int, capacity: int, recipe: CallRecipe, jobs: Any, results: Any
) -> None:
    """A worker process of the process `parent_pid`: its agent, up to `capacity` calls at
    once, until told to stop (or its parent is gone)."""
    die_with_parent(parent_pid)  # first: before pjsua2 is imported or a port is bound
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1: where each thread is
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        agent, setup = _start_agent(index, capacity, recipe)
    except Exception as exc:  # reported, not raised: the parent says which worker failed
        name = f"worker {index + 1}"
        if recipe.first_port:
            name += f" (--listen's port + {index})"
        results.put(("failed", index, f"{name}: {exc}"))
        return
    capacity = min(capacity, agent.max_calls)
    results.put(("ready", index, capacity, agent.address))
    _profiled(
        f"worker-{os.getpid()}",
        lambda: _serve(agent, index, capacity, recipe, setup, jobs, results),
    )


def _start_agent(index: int, capacity: int, recipe: CallRecipe) -> tuple[Any, Any]:
    """Worker `index`'s SIP agent and what its calls share: (settings, prompt cache,
    recognition); the front end's filter and learned detector loaded for its calls."""
    import ivr.app.setup
    import ivr.call.session
    import ivr.script.loader
    import ivr.service.perform
    import ivr.service.threads  # noqa: F401 (imported before any call: not during one)
    from ivr.app.config import call_settings
    from ivr.app.recognition import set_up_recognition
    from ivr.detect.frontend import warm_up
    from ivr.sip.agent import SipAgent
    from ivr.tts.prompt_cache import PromptCache

    settings = call_settings(recipe.config, list(recipe.overrides))
    setup = (
        settings,
        PromptCache(recipe.cache_dir),
        set_up_recognition(recipe.asr, recipe.model, None),
    )
    port = recipe.first_port + index if recipe.first_port else 0
    agent = SipAgent(recipe.host, port, proxy=recipe.proxy, answers=False)
    warm_up(settings.front_end, min(capacity, agent.max_calls))
    return agent, setup


def _serve(
    agent: Any, index: int, capacity: int, recipe: CallRecipe, setup: Any, jobs: Any, results: Any
) -> None:
    """Place the jobs as call slots free up and report each one's end, until told to stop and
    every call has ended; then close the agent and say so."""
    from ivr.service.threads import CallThreads

    threads: Any = CallThreads(agent, capacity)
    waiting: collections.deque[CallJob] = collections.deque()
    stopping = False
    look = 0.0  # when to look for jobs next (s, monotonic)
    try:
        while not (stopping and not threads.running):
            _report_ended(threads, index, results)
            if time.monotonic() >= look:
                look = time.monotonic() + JOBS_EVERY_S
                stopping = _take_jobs(jobs, waiting, threads, index, results) or stopping
            slots = agent.max_calls  # pjsua slots, held by our calls and the lingering ones
            while waiting and threads.free > 0 and threads.running + agent.lingering < slots:
                job = waiting.popleft()
                threads.start(
                    job.job_id, lambda job=job: _run_job(agent, threads, recipe, setup, job)
                )
    finally:
        threads.close()
        agent.close()
        results.put(("stopped", index))


def _report_ended(threads: Any, index: int, results: Any) -> None:
    """Wait up to SIP_POLL_MS for calls to end; a `JobDone` for each that did."""
    from ivr.service.threads import result_of

    for job_id, future in threads.poll(SIP_POLL_MS):
        done = result_of(future)
        if isinstance(done, BaseException):
            results.put(JobDone(job_id, index, None, _one_line(done)))
        else:
            results.put(JobDone(job_id, index, done))


def _take_jobs(
    jobs: Any, waiting: collections.deque[CallJob], threads: Any, index: int, results: Any
) -> bool:
    """Queue the jobs sent so far in `waiting`; whether one of the messages said stop (the
    calls then are interrupted and the jobs waiting end unplaced)."""
    stopping = False
    while True:
        try:
            message = jobs.get_nowait()
        except queue.Empty:
            return stopping
        if message == _STOP:
            stopping = True
            threads.interrupt()
            for job in waiting:
                results.put(JobDone(job.job_id, index, None, "stopped before it was placed"))
            waiting.clear()
        else:
            waiting.append(message)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


class WorkerPool:
    """Worker processes with `concurrency` call slots between them, at most `per_worker` calls
    each (ceil(concurrency / per_worker) processes)."""

    def __init__(
        self, recipe: CallRecipe, concurrency: int, per_worker: int = CALLS_PER_PROCESS
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"invalid concurrency {concurrency!r}: at least 1 call at a time")
        context = multiprocessing.get_context("spawn")
        count = math.ceil(concurrency / min(per_worker, CALLS_PER_WORKER))
        shares = [concurrency // count + (i < concurrency % count) for i in range(count)]
        self.results = context.Queue()
        self.jobs = [context.Queue() for _ in range(count)]
        self.processes = [
            context.Process(
                target=worker_main,
                args=(os.getpid(), i, share, recipe, self.jobs[i], self.results),
                name=f"ivr-sip-worker-{i + 1}",
                daemon=True,
            )
            for i, share in enumerate(shares)
        ]
        self.capacity = [0] * count
        self.addresses = [""] * count
        self._outstanding: list[dict[int, Any]] = [{} for _ in range(count)]
        self._next_id = 0
        self._stopped: set[int] = set()
        for process in self.processes:
            process.start()

    def start(self, timeout_s: float = 60.0) -> None:
        """Wait until every worker is up; RuntimeError naming the first that failed."""
        from ivr.errors import DeviceError

        ready: set[int] = set()
        while len(ready) < len(self.processes):
            try:
                message = self.results.get(timeout=timeout_s)
            except queue.Empty:
                self.close()
                raise DeviceError(f"SIP workers did not start in {timeout_s:g} s") from None
            kind, index = message[0], message[1]
            if kind == "failed":
                self.close()
                raise DeviceError(message[2])
            if kind == "ready":
                self.capacity[index], self.addresses[index] = message[2], message[3]
                ready.add(index)

    @property
    def running(self) -> int:
        """Calls handed out and not yet back."""
        return sum(len(o) for o in self._outstanding)

    @property
    def free(self) -> int:
        """How many more calls may be handed out now."""
        return sum(
            self.capacity[i] - len(self._outstanding[i])
            for i in range(len(self.processes))
            if i not in self._stopped
        )

    def submit(self, tag: Any, uri: str, values: dict[str, str], recording: Path) -> None:
        """Hand one call to the worker with the most free slots; `tag` comes back with it."""
        index = max(
            (i for i in range(len(self.processes)) if i not in self._stopped),
            key=lambda i: self.capacity[i] - len(self._outstanding[i]),
        )
        self._next_id += 1
        self._outstanding[index][self._next_id] = tag
        self.jobs[index].put(CallJob(self._next_id, uri, values, recording))

    def poll(self, ms: int = POLL_MS) -> list[tuple[Any, JobDone]]:
        """The calls that came back within `ms` ms, with their tags (a worker that died
        returns its calls as failed)."""
        finished: list[tuple[Any, JobDone]] = []
        timeout = ms / 1000
        while True:
            try:
                message = self.results.get(timeout=timeout)
            except queue.Empty:
                break
            timeout = 0
            if isinstance(message, JobDone):
                tag = self._outstanding[message.worker].pop(message.job_id, None)
                if tag is not None:
                    finished.append((tag, message))
            elif message[0] == "stopped":
                self._stopped.add(message[1])
        for index, process in enumerate(self.processes):
            if process.exitcode is not None and self._outstanding[index]:
                why = f"worker {index + 1} ended (exit status {process.exitcode})"
                for job_id, tag in self._outstanding[index].items():
                    finished.append((tag, JobDone(job_id, index, None, why)))
                self._outstanding[index].clear()
                self._stopped.add(index)
        return finished

    def stop(self) -> list[tuple[Any, JobDone]]:
        """Interrupt every call (they end as `aborted`); what came back, once all are back."""
        for index, jobs in enumerate(self.jobs):
            if self.processes[index].exitcode is None:
                jobs.put(_STOP)
        finished: list[tuple[Any, JobDone]] = []
        while self.running:
            finished += self.poll(100)
        return finished

    def close(self) -> None:
        """Stop the workers and wait for them to exit."""
        for index, jobs in enumerate(self.jobs):
            if self.processes[index].exitcode is None and index not in self._stopped:
                jobs.put(_STOP)
        for process in self.processes:
            process.join(timeout=10)
            if process.exitcode is None:
                process.kill()
                process.join()
