"""Worker processes for a batch: each item runs in one of them, each result comes back as soon
as its item ends, and a worker that dies fails its own item only.

`concurrent.futures.ProcessPoolExecutor` breaks for good when one worker dies (every item not
yet done fails with BrokenProcessPool), and its `map` hands results back in order, so one slow
item holds back every finished one. Here the parent hands each worker one item at a time over
the worker's own pipe, so it always knows which item a worker holds. When a worker dies
(killed, out of memory, crashed in C code) that item ends as `WorkerDied`, a new worker takes
the dead one's place, and the batch goes on.

Workers are started with `spawn` (a fresh interpreter: no locks or threads copied from the
parent, the same on every platform and Python version), die with the parent however it dies
(ivr.lifeline), and ignore Ctrl-C, which the parent handles. The work function, its set-up
and their arguments must be picklable (module-level functions, plain data).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from ivr.errors import IvrError
from ivr.lifeline import die_with_parent

STOP_TIMEOUT_S = 5.0
"""How long (s) a worker told to stop may take before it is killed."""

MAX_SETUP_DEATHS = 3
"""Workers that may die in their set-up, per worker asked for, before the batch gives up."""


_NOTHING = object()
"""What a worker that woke the parent without a message or an end said."""


@dataclass(frozen=True)
class WorkerDied:
    """What became of an item whose worker process ended while running it."""

    pid: int
    exitcode: int | None
    """The process's exit status; -N when signal N ended it (None if unknown)."""

    def __str__(self) -> str:
        code = self.exitcode
        if code is not None and code < 0:
            try:
                how = f"killed by signal {-code} ({signal.Signals(-code).name})"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exited with status {code}" if code is not None else "ended"
        return f"its worker process (pid {self.pid}) died, {how}"


@dataclass(frozen=True)
class WorkFailed:
    """An item whose work raised: the exception's type and message (the worker goes on)."""

    error: str

    def __str__(self) -> str:
        return self.error


@dataclass(frozen=True)
class Done:
    """One item's end: its place in the batch, the item, and what `work` returned, or how it
    failed (WorkerDied, WorkFailed)."""

    index: int
    item: Any
    result: Any


@dataclass(eq=False)
class _Worker:
    process: Any  # multiprocessing's SpawnProcess
    conn: Connection
    ready: bool = False
    holding: tuple[int, Any] | None = None


class BatchPool:
    """`jobs` worker processes, each set up once with `setup(*setup_args)`, then running
    `work(item)` for one item at a time (a context manager; `close` ends the workers)."""

    def __init__(
        self,
        jobs: int,
        setup: Callable[..., None],
        setup_args: tuple,
        work: Callable[[Any], Any],
    ) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be >= 1, got {jobs}")
        self.jobs = jobs
        self._target = (setup, setup_args, work)
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        self._stopping = False

    def __enter__(self) -> BatchPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def stop(self) -> None:
        """Hand out no more items: `run` ends once the items under way are done."""
        self._stopping = True

    def run(self, items: Sequence[Any]) -> Iterator[Done]:
        """Run every item (until `stop`), yielding each as it ends, in the order they end.

        IvrError if workers keep dying in their set-up (before taking any item)."""
        pending = deque(enumerate(items))
        for _ in range(min(self.jobs, len(pending)) - len(self._workers)):
            self._start()
        setup_deaths = 0
        while any(w.holding is not None for w in self._workers) or (pending and not self._stopping):
            for worker in self._workers:
                if worker.ready and worker.holding is None and pending and not self._stopping:
                    worker.holding = pending.popleft()
                    worker.conn.send(worker.holding)
            waiting = {w.conn: w for w in self._workers}
            waiting.update({w.process.sentinel: w for w in self._workers})
            for ready in wait(list(waiting)):
                worker = waiting[ready]
                if worker not in self._workers:
                    continue  # its pipe and its end both woke us: already handled
                message = self._receive(worker)
                if message is _NOTHING:
                    continue
                if message is None:
                    died = self._bury(worker)
                    if worker.holding is not None:
                        yield Done(*worker.holding, died)
                    elif not worker.ready:
                        setup_deaths += 1
                        if setup_deaths > MAX_SETUP_DEATHS * self.jobs:
                            raise IvrError(f"worker processes die while setting up: {died}")
                    if pending and not self._stopping:
                        self._start()
                    continue
                kind, payload = message
                if kind == "ready":
                    worker.ready = True
                elif kind == "setup_failed":
                    raise IvrError(f"a worker process could not be set up: {payload}")
                else:
                    index, item = worker.holding
                    worker.holding = None
                    yield Done(index, item, payload if kind == "done" else WorkFailed(payload))

    def _start(self) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(child, os.getpid(), *self._target), daemon=True
        )
        process.start()
        child.close()  # the worker's end lives in the worker only: its death closes it
        self._workers.append(_Worker(process, parent))

    def _receive(self, worker: _Worker) -> Any:
        """The worker's next message, None if it has died, _NOTHING if it has neither."""
        try:
            if worker.conn.poll():
                return worker.conn.recv()
        except (EOFError, OSError):
            return None
        return _NOTHING if worker.process.is_alive() else None

    def _bury(self, worker: _Worker) -> WorkerDied:
        worker.process.join(STOP_TIMEOUT_S)
        worker.conn.close()
        self._workers.remove(worker)
        return WorkerDied(worker.process.pid, worker.process.exitcode)

    def close(self) -> None:
        """Tell every worker to stop, and kill those that do not within STOP_TIMEOUT_S."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send(None)
        for worker in self._workers:
            worker.process.join(STOP_TIMEOUT_S)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self._workers.clear()


def _serve(
    conn: Connection,
    parent_pid: int,
    setup: Callable[..., None],
    setup_args: tuple,
    work: Callable[[Any], Any],
) -> None:
    """A worker's life: set up, then one item at a time until told to stop (None)."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        setup(*setup_args)
    except Exception as exc:
        conn.send(("setup_failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return  # the parent is gone
        if message is None:
            return
        _, item = message
        try:
            conn.send(("done", work(item)))
        except Exception as exc:
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
