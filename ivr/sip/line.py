"""A SIP call as the two audio ports of a call session.

The call's clock is the callee's frames as the line delivers them, 20 ms each, counted from the
answer; a frame that did not come (lost RTP) counts as silence, so timers keep line time. Our
prompt's playout ends at the frame its last 20 ms was handed to the RTP stream. Before the
answer the call rings; a call that is refused, busy or not answered ends as `busy`,
`no_answer` or `call_failed` with its SIP status; a callee hanging up ends it as
`callee_hangup`. Whatever ends it, our side hangs up (BYE or CANCEL) when the session stops.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np

from ivr.call.mixer import Mixer
from ivr.call.ports import CalleeBlock, PromptSource, prompt_at_volume
from ivr.engine import PlayPrompt
from ivr.errors import LineEnded
from ivr.sip.agent import SipAgent
from ivr.sip.call import SipCall

ANSWER_TIMEOUT_S = 30.0
"""How long (s, wall clock) a call may ring before we give up (`no_answer`, SIP 487)."""

POLL_MS = 10
"""How long each wait for SIP events and audio lasts (ms)."""

BUSY_STATUSES = frozenset({486, 600})
NO_ANSWER_STATUSES = frozenset({408, 480, 487})


def failed_outcome(status: int | None) -> str:
    """The outcome of a call that did not get through, from its final SIP status."""
    if status in BUSY_STATUSES:
        return "busy"
    if status in NO_ANSWER_STATUSES:
        return "no_answer"
    return "call_failed"


class SipCallee:
    """The callee's port: rings until answered, then the frames the line delivers."""

    def __init__(
        self, agent: SipAgent, call: SipCall, name: str, answer_timeout_s: float = ANSWER_TIMEOUT_S
    ) -> None:
        self.agent, self.call, self.name = agent, call, name
        self.answer_timeout_s = answer_timeout_s

    def _wait_for_answer(self) -> None:
        call, give_up = self.call, time.monotonic() + self.answer_timeout_s
        while call.state in ("calling", "ringing"):
            if time.monotonic() > give_up:
                call.hang_up()
                while call.state != "ended":
                    self.agent.poll(POLL_MS)
                raise LineEnded("no_answer", f"not answered in {self.answer_timeout_s:g} s")
            self.agent.poll(POLL_MS)
        if call.state == "ended":
            reason = f"SIP {call.status} {call.reason}".strip()
            raise LineEnded(failed_outcome(call.status), reason)
        call.frames.restart()

    def blocks(self) -> Iterator[CalleeBlock]:
        try:
            self._wait_for_answer()
            received = self.call.frames.received
            while True:
                self.agent.poll(POLL_MS)
                frames = []
                while received:
                    frames.append(received.popleft())
                if frames:
                    yield CalleeBlock(np.stack(frames))
                elif self.call.state == "ended":
                    reason = f"the callee hung up (SIP {self.call.status} {self.call.reason})"
                    raise LineEnded("callee_hangup", reason.strip())
        finally:
            self.call.hang_up()


class SipSpeaker:
    """Our port: prompts handed to the call's RTP stream, 20 ms at a time."""

    def __init__(self, call: SipCall, prompts: PromptSource) -> None:
        self.frames, self.prompts = call.frames, prompts
        self.mixer = Mixer()
        self._samples: np.ndarray | None = None  # the prompt handed over, not yet started
        self._playing = False

    def play(self, prompt: PlayPrompt) -> None:
        samples = prompt_at_volume(self.prompts, prompt)
        self._samples, self._playing = samples, True
        self.frames.play(samples)

    def stop(self, frame: int) -> None:
        self.frames.stop()

    def finished(self) -> int | None:
        frames = self.frames
        if self._samples is not None and frames.started_at is not None:
            self.mixer.play(frames.started_at, self._samples, 0.0)
            self._samples = None
        if self._playing and frames.finished_at is not None:
            self._playing = False
            self.mixer.stop(frames.finished_at)
            return frames.finished_at
        return None
