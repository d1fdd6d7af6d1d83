"""The answering loop of `ivr serve`: incoming SIP calls taken up to the concurrency (beyond
it refused busy), each performed on a call thread and kept like any other call."""

from __future__ import annotations

import collections
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.app.keeping import CallKeeper, EndedCall
from ivr.app.line import StopRequest
from ivr.app.recordings import time_stamp
from ivr.errors import IvrError
from ivr.privacy import mask_number
from ivr.sip.guard import BAD_REQUEST

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ivr.app.setup import CallSetup
    from ivr.service.perform import SipCallResult
    from ivr.sip.agent import SipAgent
    from ivr.sip.call import SipCall

BUSY = 486
"""The SIP status a call gets when every call thread is taken (486 Busy Here)."""


class Server:
    """The answering loop of `ivr serve` on the agent's thread."""

    def __init__(
        self,
        agent: SipAgent,
        setup: CallSetup,
        values: dict[str, str],
        keeper: CallKeeper,
        out: Path,
        concurrency: int,
        max_calls: int | None,
        say: Callable[[str], None] = print,
    ) -> None:
        import ivr.service.perform  # noqa: F401 (imported before any call: not during one)
        from ivr.service.threads import CallThreads

        self.agent, self.setup, self.values, self.keeper = agent, setup, values, keeper
        self.out, self.max_calls = out, max_calls
        self.threads = CallThreads(agent, concurrency)
        self.answered = 0
        """Calls taken (answered 200)."""
        self.missed = 0
        """Calls whose caller hung up before we could answer (logged as `no_answer`)."""
        self.outcomes: collections.Counter[str] = collections.Counter()
        """The outcomes of the calls taken."""
        self._stamp = time_stamp()
        self.say = say
        """Where the loop says what it does, a line at a time."""

    def summary(self) -> str:
        """One line: the calls answered by outcome, those missed, those refused, those that
        failed as they came in."""
        outcomes = ", ".join(f"{n} {o}" for o, n in sorted(self.outcomes.items())) or "none"
        parts = [f"{self.answered} calls answered ({outcomes})"]
        if self.missed:
            parts.append(f"{self.missed} hung up before the answer")
        refused = self.agent.refused  # 486: no call thread free, 400: a malformed INVITE
        if refused:
            what = {BUSY: "busy", BAD_REQUEST: "malformed"}
            counts = ", ".join(f"{n} {what.get(s, 'other')} ({s})" for s, n in refused.items())
            parts.append(f"refused {counts}")
        failed = list(self.agent.failed_incoming)  # taking the call in failed in pjsua2
        if failed:
            parts.append(f"{len(failed)} failed before the call began (first: {failed[0]})")
        return "; ".join(parts)

    def _full(self) -> bool:
        return self.max_calls is not None and self.answered >= self.max_calls

    def run(self, stop: StopRequest) -> bool:
        """Serve until --max-calls or `stop`; whether it was stopped."""
        try:
            while not (self._full() and self.threads.running == 0) and not stop:
                self._take_calls()
                self._keep(self.threads.poll())
            if stop:
                self.threads.interrupt()
                self._keep(self.threads.drain())
            return bool(stop)
        finally:
            self.threads.close()
            self.agent.close()

    def _take_calls(self) -> None:
        from ivr.service.perform import perform_call

        agent, threads = self.agent, self.threads
        while agent.incoming:
            call = agent.incoming.popleft()
            if self._full() or threads.free <= 0:
                agent.refuse(call, BUSY)
                continue
            taken = call.answer(180) and call.answer(200)  # no: its caller hung up first
            if taken:
                self.answered += 1
            else:
                self.missed += 1
            count = self.answered + self.missed
            recording = self.out / f"serve-{self._stamp}-{count:03d}.wav"
            started = datetime.now().astimezone()
            caller = call.remote_user or "an unknown caller"
            shown = caller if self.keeper.options.show_numbers else mask_number(caller)
            verb = "answered" if taken else "missed (hung up before the answer)"
            self.say(f"{verb} {shown} ({recording.name})")

            def job(call: SipCall = call, recording: Path = recording) -> SipCallResult:
                show = self.keeper.options.show_numbers
                watch = threads.watch
                return perform_call(agent, call, self.setup, recording, show, on_callee=watch)

            threads.start((call, started), job)

    def _keep(self, finished: list[tuple[tuple[SipCall, datetime], Future]]) -> None:
        from ivr.service.threads import result_of

        for (call, started), future in finished:
            done = result_of(future)
            self.agent.forget(call)
            if isinstance(done, BaseException):
                failure = mask_number(f"call failed: {done!r}")
                self.say(failure)
                self.outcomes["error"] += 1
                continue
            if call.accepted:
                self.outcomes[done.result.outcome] += 1
            values = {**self.values, "number": call.remote_user}
            ended = EndedCall(
                done.result,
                self.setup.script,
                values,
                started,
                "sip",
                done.answered,
                done.status,
                rtp=done.rtp,
            )
            try:
                self.keeper.keep(ended, self.setup.settings)
            except (IvrError, ValueError) as exc:
                self.say(f"error: {mask_number(str(exc))}")
