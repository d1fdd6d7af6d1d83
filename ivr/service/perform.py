"""Performing a script on one SIP call, placed or taken: the call's session with its recording
and timeline, on whichever thread runs it (see ivr.service.threads for several at once)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ivr.call.replay import CallResult, keep_call
from ivr.call.session import BlockObserver, CallSession
from ivr.sip.frames import FramePort
from ivr.transports.sip import ANSWER_TIMEOUT_S, SipCallee, SipSpeaker

if TYPE_CHECKING:
    from ivr.app.setup import CallSetup
    from ivr.sip.agent import SipAgent
    from ivr.sip.call import RtpReceived, SipCall


@dataclass(frozen=True)
class SipCallResult:
    """A SIP call performed: the call's result, its last SIP status, how it went on the line."""

    result: CallResult
    status: int | None
    answered: bool
    """Whether the call got through (its other side answered)."""
    late_s: float
    """The longest a received frame waited before the session took it (s; 0 without timing)."""
    arrival_late_s: float = 0.0
    """How far the callee's frames strayed from their 20 ms schedule as they came in (s, with
    timing): the latest against the earliest, around the media clock's own pace (a line fit
    through their arrivals, so a clock a little slower or faster than ours does not count)."""
    frame_late_s: float = 0.0
    """The worst frame's lateness (s, with timing): from the moment its block was complete on
    that schedule (the pace of the earliest frames; a block: the frame and the
    `block_frames` - 1 after it, which the session waits for by design) to the moment the
    call's session took it."""
    start_latencies_s: tuple[float, ...] = ()
    """For each prompt after the first (with timing): from the arrival of the frame it was
    asked for at to the moment its first 20 ms went to the RTP stream (s)."""
    rtp: RtpReceived | None = None
    """What the call's RTP stream received (lost: gaps in its sequence numbers), once it has
    ended; None if the call had no audio stream, or its counts did not come within
    ivr.sip.call.COUNTS_WAIT_S of the call's end."""
    frame_lates_ms: tuple[float, ...] = ()
    """Each received frame's lateness (ms, with timing), as `frame_late_s` measures the
    worst: from its block's completion on the media clock's schedule to its session taking
    it."""
    block_frames: int = 1
    """Frames the session takes at once when nothing falls due sooner (ivr.transports.sip):
    a frame waits up to `block_frames` - 1 frames for its block by design, not late."""


def perform_call(
    agent: SipAgent,
    call: SipCall,
    setup: CallSetup,
    recording: Path,
    show_numbers: bool = False,
    answer_timeout_s: float = ANSWER_TIMEOUT_S,
    on_callee: Callable[[SipCallee], None] | None = None,
    observers: Sequence[BlockObserver] = (),
    on_ring: Callable[[SipCall], None] | None = None,
) -> SipCallResult:
    """Perform `setup`'s script on `call` until either side hangs up; the stereo recording at
    `recording`, its timeline beside it (numbers masked unless `show_numbers`). `on_callee`
    sees the callee's port first (to `interrupt` it from another thread); `on_ring` sees the
    call while it rings and `observers` every block of the answered call (a live view)."""
    no_rtp_s = setup.settings.line.no_rtp_s
    callee = SipCallee(agent, call, recording.name, answer_timeout_s, on_ring, no_rtp_s)
    if on_callee is not None:
        on_callee(callee)
    speaker = SipSpeaker(call, setup.prompts)
    session = CallSession(
        callee, speaker, setup.script, setup.settings, setup.recognition.vosk,
        observers=observers,
    )  # fmt: skip
    session.record(recording, line_can_fail=True)
    timeline = recording.with_suffix(".timeline.jsonl")
    result = keep_call(session, recording, timeline, show_numbers)
    latencies = start_latencies(result, call.frames)
    arrivals, _ = call.frames.timings()
    stray, lates = frame_lateness(arrivals, list(callee.taken), callee.block_frames)
    late = float(lates.max()) if lates.size else 0.0
    return SipCallResult(
        result, call.status, call.answered, callee.late_s, stray, late, latencies,
        call.await_counts(),
        tuple(np.round(lates * 1000, 2).tolist()), callee.block_frames,
    )  # fmt: skip


def frame_lateness(
    arrivals: list[float], taken: list[tuple[int, float]], block_frames: int = 1
) -> tuple[float, np.ndarray]:
    """(arrival stray in s, each frame's lateness in s): see SipCallResult.arrival_late_s and
    .frame_lates_s. `arrivals`: each frame's arrival (s); `taken`: (frames taken so far,
    when, s) per block; `block_frames`: frames the session waits for by design."""
    times = np.array(arrivals[: len(arrivals)])  # a copy: the line may still be delivering
    if times.size < 3:
        return 0.0, np.zeros(0)
    index = np.arange(times.size)
    slope, start = np.polyfit(index, times, 1)  # the media clock's own pace
    on_time = start + slope * index + np.min(times - (start + slope * index))
    stray = float(np.max(times - on_time))
    when_taken = np.full(times.size, np.nan)
    first = 0
    for count, when in taken:
        when_taken[first : min(count, times.size)] = when
        first = max(first, count)
    complete = on_time[np.minimum(index + block_frames - 1, times.size - 1)]
    lates = when_taken - complete
    return stray, lates[~np.isnan(lates)]


def start_latencies(result: CallResult, frames: FramePort) -> tuple[float, ...]:
    """Each later prompt's start latency (s): from the moment the line had delivered the
    frames up to the one the engine asked for it at (the arrival of frame F-1, F the prompt's
    frame: a timer due at F is due once F frames are heard) to its first frame handed to the
    line (needs `FramePort(timing=True)`)."""
    arrivals, sent = frames.timings()
    if not arrivals:
        return ()
    asked = [r.frame for r in result.timeline if r.event == "prompt_started" and r.frame > 0]
    sent.sort()
    latencies = []
    for frame in asked:
        first = next((t for at, t in sent if at >= frame), None)
        if first is not None and frame <= len(arrivals):
            latencies.append(first - arrivals[frame - 1])
    return tuple(latencies)
