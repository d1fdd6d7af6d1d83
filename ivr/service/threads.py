"""Several SIP calls at once on one agent: each call's session runs on its own thread, while
the agent's thread handles SIP (`poll`) and hands out the work the calls ask of pjsua2.

An interrupted run (Ctrl-C on the agent's thread) interrupts every call, which then ends as
`aborted` and is saved like any other."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from ivr.sip.agent import SipAgent
from ivr.transports.sip import POLL_MS, SipCallee

T = TypeVar("T")
Tag = TypeVar("Tag")


class CallThreads(Generic[Tag, T]):
    """Up to `limit` calls of `agent` at once; `start` one, `poll` until they are done."""

    def __init__(self, agent: SipAgent, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"invalid concurrency {limit!r}: at least 1 call at a time")
        self.agent, self.limit = agent, limit
        self._pool = ThreadPoolExecutor(limit, thread_name_prefix="ivr-call")
        self._running: dict[Future[T], Tag] = {}
        self._callees: weakref.WeakSet[SipCallee] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.interrupted = False

    @property
    def running(self) -> int:
        """Calls under way."""
        return len(self._running)

    @property
    def free(self) -> int:
        """How many more calls may start now."""
        return self.limit - len(self._running)

    def watch(self, callee: SipCallee) -> None:
        """Interrupt `callee` with the others (a call's thread, as its callee port is made)."""
        with self._lock:
            self._callees.add(callee)
            if self.interrupted:
                callee.interrupt()

    def start(self, tag: Tag, job: Callable[[], T]) -> None:
        """Run `job` (one call, start to end) on a thread of its own; `tag` names it."""
        if self.free <= 0:
            raise RuntimeError("no free call thread")
        self._running[self._pool.submit(job)] = tag

    def poll(self, ms: int = POLL_MS) -> list[tuple[Tag, Future[T]]]:
        """Handle SIP for up to `ms` ms; the calls that have ended since, with their futures."""
        self.agent.poll(ms)
        done = [(tag, future) for future, tag in self._running.items() if future.done()]
        for _, future in done:
            del self._running[future]
        return done

    def interrupt(self) -> None:
        """End every call under way as interrupted (`aborted`), and any started from now on."""
        with self._lock:
            self.interrupted = True
            for callee in self._callees:
                callee.interrupt()

    def drain(self) -> list[tuple[Tag, Future[T]]]:
        """Poll until every call under way has ended; their tags and futures."""
        finished: list[tuple[Tag, Future[T]]] = []
        while self._running:
            finished += self.poll()
        return finished

    def close(self) -> None:
        """Interrupt what runs, wait for it, and stop the threads."""
        if self._running:
            self.interrupt()
            self.drain()
        self._pool.shutdown(wait=True)


def result_of(future: Future[Any]) -> Any:
    """A finished call's result, or the exception it raised (never raises)."""
    exception = future.exception()
    return exception if exception is not None else future.result()
