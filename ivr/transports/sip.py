"""A SIP call as a call's transport: the two audio ports of a session on a call of our SIP
user agent (ivr.sip).

The call's clock is the callee's frames as the line delivers them, 20 ms each, counted from the
answer; a frame that did not come (lost RTP) counts as silence, so timers keep line time. Our
prompt's playout ends at the frame its last 20 ms was handed to the RTP stream. Before the
answer the call rings; a call that is refused, busy or not answered ends as `busy`,
`no_answer`, `unreachable` (no response at all, or an address that cannot be reached) or
`call_failed` with its SIP status; a callee hanging up ends it as `callee_hangup`. An incoming
call ends before it starts as `no_answer` when its caller hangs up (CANCEL) before we answer,
and as `call_failed` ("no ACK") when we answered and its caller never confirmed. Keys the
callee sends out of band (RFC 4733 telephone-events, SIP INFO) come with the block of frames
they arrived during, at the frame they arrived at. What the network plays before the answer
(early media) is listened to for the tones that say the call will not get through
(`EarlyMedia`). A failure on the SIP or media thread (a pjsua2 callback that raised) ends it as
`media_error` with the reason, and so does an answered call on which no RTP packet at all has
come by NO_RTP_S. Whatever ends it, our side hangs up (BYE or CANCEL) when the session stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from ivr.audio.format import FRAME_MS
from ivr.call_settings import LineSettings
from ivr.engine.actions import PlayPrompt
from ivr.errors import LineEnded
from ivr.events import KeyPressed, ToneHeard
from ivr.sip.limits import TRANSACTION_TIMEOUT_S
from ivr.sip.states import WAITING, CallState
from ivr.transports.base import CalleeBlock, PromptNews, PromptSource, prompt_at_volume

if TYPE_CHECKING:
    from ivr.sip.agent import SipAgent
    from ivr.sip.call import SipCall
    from ivr.sip.frames import FramePort

ANSWER_TIMEOUT_S = 30.0
"""How long (s, wall clock) a call may ring before we give up (`no_answer`, SIP 487)."""

NO_RESPONSE_S = TRANSACTION_TIMEOUT_S + 1.0
"""How long (s, wall clock) a call may go without any response to its INVITE, not even 100
Trying, before it counts as `unreachable`, should pjsip's own timeout not have ended it first
(ivr.sip.limits: 4 s where it could be set, else pjsip's 32 s)."""

POLL_MS = 10
"""How long each wait for SIP events and audio lasts (ms)."""

BLOCK_FRAMES = 5
"""Frames of an answered call's audio the session takes at once (5 = 100 ms, as replay reads a
script that allows barge-in): its thread wakes once per block, not every 20 ms, and the
session costs a quarter of what it cost one frame at a time. It wakes earlier for what must
not wait: the frame a timer falls due at (the session says which: `due_at`), our prompt's
playout ending, a key sent out of band, the call's end. So a timer's prompt starts as soon as
its frame has come, and only what speech decides (a barge-in's cut) is heard up to 80 ms later
than frame by frame."""

NO_RTP_S = LineSettings.no_rtp_s
"""How long an answered call may go without a single RTP packet from the other side before it
ends `media_error` (s of the call's clock from the answer; 0: not checked): the setting
`no_rtp_s` (ivr.call_settings.LineSettings says why)."""

BUSY_STATUSES = frozenset({486, 600})
NO_ANSWER_STATUSES = frozenset({408, 480, 487})


def failed_outcome(status: int | None) -> str:
    """The outcome of a call that did not get through, from its final SIP status (None: the
    call could not be sent at all, e.g. an unknown host)."""
    if status is None:
        return "unreachable"
    if status in BUSY_STATUSES:
        return "busy"
    if status in NO_ANSWER_STATUSES:
        return "no_answer"
    return "call_failed"


def incoming_ended(call: SipCall, how: str) -> LineEnded:
    """How an incoming call that ended before its caller confirmed our answer ends: a call
    we answered (200) whose ACK never came is `call_failed` ("no ACK"); one whose caller hung
    up (CANCEL) before we answered is `no_answer`. `how`: the SIP status, or the time waited."""
    if call.accepted:
        return LineEnded("call_failed", f"no ACK: the caller never confirmed our answer {how}")
    return LineEnded("no_answer", f"the caller hung up before the answer {how}")


def _keys_until(port: FramePort, frames: int) -> tuple[KeyPressed, ...]:
    """The out-of-band keys that came by frame `frames` (the end of the block taken), taken out
    of `port`: each at the frame count it came at, decided then."""
    return tuple(KeyPressed(digit, max(at - 1, 0), at) for digit, at in port.take_keys(frames))


def media_failed(port: FramePort) -> LineEnded | None:
    """How a call whose SIP or media thread failed ends (`media_error`, the reason), if it did."""
    if port.failure is None:
        return None
    return LineEnded("media_error", f"the SIP media failed: {port.failure}")


class EarlyMedia:
    """What the network plays before the answer (early media, SIP 183): a busy or congestion
    tone, or the special information tone before an announcement, means the call will not get
    through, and it ends at once (`network_tone`, `carrier_announcement`) instead of ringing
    until the answer timeout; ringback is what ringing sounds like and goes on."""

    def __init__(self) -> None:
        from ivr.call_settings import FrontEndSettings, LearnedSettings
        from ivr.detect.frontend import Detectors

        # only its tones are listened to: no learned stage to load for it
        self.detectors = Detectors(FrontEndSettings(learned=LearnedSettings(enabled=0)))

    def hear(self, port: FramePort) -> LineEnded | None:
        """Take the frames received so far (the call's clock starts again at the answer): the
        end the network announced in them, if any."""
        frames, _ = port.take()
        if not frames:
            return None
        for event in self.detectors.process(np.stack(frames)).line_events:
            if isinstance(event, ToneHeard) and event.kind in ("busy", "congestion"):
                return LineEnded("network_tone", f"{event.kind} tone before the answer")
            if isinstance(event, ToneHeard) and event.kind == "sit":
                return LineEnded(
                    "carrier_announcement", "special information tone before the answer"
                )
        return None


class SipCallee:
    """The callee's (or, on an incoming call, the caller's) port: rings until answered, then
    the frames the line delivers. It runs on the agent's thread or on a call's own thread;
    `interrupt` (from any thread) ends the call as Ctrl-C does."""

    def __init__(
        self,
        agent: SipAgent,
        call: SipCall,
        name: str,
        answer_timeout_s: float = ANSWER_TIMEOUT_S,
        on_ring: Callable[[SipCall], None] | None = None,
        no_rtp_s: float = NO_RTP_S,
    ) -> None:
        self.agent, self.call, self.name = agent, call, name
        self.answer_timeout_s = answer_timeout_s
        self.no_rtp_s = no_rtp_s
        """See NO_RTP_S (s; 0: not checked)."""
        self._rtp_due = round(no_rtp_s * 1000 / FRAME_MS) if no_rtp_s > 0 else None
        """The frame at which the first RTP packet must have come (None: not watched, or it
        came)."""
        self.interrupted = False
        self.late_s = 0.0
        """The longest a received frame waited before the session took it (s; with timing)."""
        self.taken: list[tuple[int, float]] = []
        """With timing: (frames taken so far, when: s, monotonic) for each block taken."""
        self.on_ring = on_ring
        """Sees the call every POLL_MS while it rings (state `calling` or `ringing`), on the
        thread that waits for the answer: a live view's hook; it must return at once."""
        self.block_frames = BLOCK_FRAMES
        """Frames taken at once while nothing falls due sooner (see BLOCK_FRAMES)."""
        self._due: int | None = 1  # the call starts at its first frame: a block of its own

    def due_at(self, frame: int | None) -> None:
        """The session's next timer falls due once `frame` frames are heard (None: no timer):
        the block that holds that frame is taken as soon as it has come."""
        self._due = frame

    def interrupt(self) -> None:
        """End the call from our side as an interrupted one (`aborted`)."""
        self.interrupted = True
        self.call.frames.nudge()

    def _wait(self, frames: int = 1) -> None:
        self.agent.wait(self.call.frames, POLL_MS, frames)
        if self.interrupted:
            raise KeyboardInterrupt

    def _wanted(self, taken: int) -> int:
        """Frames to wait for when `taken` are taken: a block, or fewer when a timer falls due
        sooner."""
        due = self._due
        if self._rtp_due is not None:
            due = self._rtp_due if due is None else min(due, self._rtp_due)
        if due is None or due - taken >= self.block_frames:
            return self.block_frames
        return max(due - taken, 1)

    def _wait_for_answer(self) -> None:
        call, now = self.call, time.monotonic()
        give_up, unreachable = now + self.answer_timeout_s, now + NO_RESPONSE_S
        early = EarlyMedia()
        while call.state in WAITING:
            ended = media_failed(call.frames) or early.hear(call.frames)
            if ended is not None:
                call.hang_up()  # CANCEL: the network told us the call will not get through
                raise ended
            if (
                call.state == CallState.CALLING
                and not call.responded
                and time.monotonic() > unreachable
            ):
                call.hang_up()  # pjsip ends it once its own timer runs out
                raise LineEnded("unreachable", f"no response to the call in {NO_RESPONSE_S:g} s")
            if time.monotonic() > give_up:
                call.hang_up()  # CANCEL: 487 ends it, unless the other side never confirms
                confirm_by = time.monotonic() + TRANSACTION_TIMEOUT_S
                while call.state != CallState.ENDED and time.monotonic() < confirm_by:
                    self._wait()
                if call.uri is None:
                    raise incoming_ended(call, f"in {self.answer_timeout_s:g} s")
                raise LineEnded("no_answer", f"not answered in {self.answer_timeout_s:g} s")
            if self.on_ring is not None:
                self.on_ring(call)
            self._wait()
        if call.state == CallState.ENDED and not call.answered:  # answered: it ended right after
            if call.uri is None:
                raise incoming_ended(call, f"(SIP {call.status} {call.reason})".strip())
            if call.status is None:
                raise LineEnded("unreachable", f"cannot call: {call.reason}")
            if call.status in (408, 503) and not call.responded:  # pjsip gave up
                raise LineEnded("unreachable", f"no response to the call (SIP {call.status})")
            reason = f"SIP {call.status} {call.reason}".strip()
            raise LineEnded(failed_outcome(call.status), reason)
        call.frames.restart()

    def blocks(self) -> Iterator[CalleeBlock]:
        try:
            self._wait_for_answer()
            port = self.call.frames
            taken = 0
            while True:
                wanted = self._wanted(taken)
                self._wait(wanted)
                ended = self.call.state == CallState.ENDED  # before taking: no frame is left
                if not (ended or port.ready(wanted)):
                    continue
                failed = media_failed(port)
                frames, arrival = port.take()
                if frames:  # what came before the end or the failure, too
                    taken += len(frames)
                    if arrival is not None:
                        now = time.monotonic()
                        self.late_s = max(self.late_s, now - arrival)
                        self.taken.append((taken, now))
                    yield CalleeBlock(np.stack(frames), _keys_until(port, taken))
                if failed is not None:
                    raise failed
                if ended:
                    reason = f"the callee hung up (SIP {self.call.status} {self.call.reason})"
                    raise LineEnded("callee_hangup", reason.strip())
                deaf = self._no_rtp(taken)
                if deaf is not None:
                    raise deaf
        finally:
            self.call.hang_up()

    def _no_rtp(self, taken: int) -> LineEnded | None:
        """Once `taken` frames reach NO_RTP_S: the end of a call no RTP packet has come on
        (`media_error`); None before, and once packets came (or there is no stream to ask:
        nothing more is watched then)."""
        if self._rtp_due is None or taken < self._rtp_due:
            return None
        packets = self.call.packets_received()
        if packets != 0:  # some came, or no stream to ask
            self._rtp_due = None
            return None
        return LineEnded(
            "media_error",
            f"no audio from the line: not one RTP packet in {self.no_rtp_s:g} s after the "
            "answer (one-way audio: the other side's RTP does not reach us)",
        )


class SipSpeaker(PromptNews):
    """Our port: prompts handed to the call's RTP stream, 20 ms at a time."""

    def __init__(self, call: SipCall, prompts: PromptSource) -> None:
        self.frames, self.prompts = call.frames, prompts
        self._samples: np.ndarray | None = None  # the prompt handed over, not yet started
        self._playing = False
        self._stopped = False
        self._started: tuple[int, np.ndarray] | None = None
        self._cut: int | None = None

    def play(self, prompt: PlayPrompt) -> None:
        samples = prompt_at_volume(self.prompts, prompt)
        self._samples, self._playing, self._stopped = samples, True, False
        self.frames.play(samples)

    def stop(self, frame: int) -> None:
        self._stopped = True
        self.frames.stop()

    def finished(self) -> int | None:
        frames = self.frames
        started_at, finished_at = frames.marks()
        if self._samples is not None and started_at is not None:
            self._started = (started_at, self._samples)
            self._samples = None
        if self._playing and finished_at is not None:
            self._playing = False
            if self._stopped:
                self._cut = finished_at
            return finished_at
        return None
