"""A live call: the same session and runner as replay, on a duplex sound-card line.

The audio clock is the number of 20 ms frames the microphone has delivered: timers run in
that time, as in replay. A prompt's playout ends when its last sample has left the speaker —
the stream's DAC time of that sample, put on the microphone's frames through the ADC time of
the blocks captured (the sound card's transport: ivr.transports.sounddevice). Half-duplex by
default: while a prompt plays the microphone does not count as the callee (the laptop hears
itself).

Ctrl-C ends the call with outcome `aborted`, a device that stops or fails with `device_error`;
either way the stereo recording and the timeline are written. Per prompt, the timeline records
the start latency (from the capture of the frame its timer fired at — for the opening, from the
moment the call began — to its first sample leaving the speaker) and the processing delay (from
that moment to the prompt being handed to the stream), both in ms; input overflows and output
underruns are counted.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ivr.call.recognition import AsrBackend
from ivr.call.replay import CallResult, keep_call
from ivr.call.session import CallSession
from ivr.call_settings import CallSettings
from ivr.detect.frontend import BlockResult
from ivr.engine import Engine
from ivr.script.model import Script
from ivr.timeline import Streams, Timeline
from ivr.transports.base import PromptSource
from ivr.transports.sounddevice import (
    DuplexLine,
    LineCallee,
    LineClock,
    LineSpeaker,
    StreamCounters,
)

Observer = Callable[["LiveCall"], None]
"""Called on the main thread after every block, for a live view."""


class LiveCall:
    """One live call of `script` on `line`; `observer` sees it after every block."""

    def __init__(
        self,
        line: DuplexLine,
        script: Script,
        prompts: PromptSource,
        settings: CallSettings | None = None,
        asr: AsrBackend | None = None,
        observer: Observer | None = None,
        name: str = "live call",
    ) -> None:
        self.line = line
        self.script = script
        self.observer = observer
        clock = LineClock()
        timeline = Timeline()
        self.speaker = LineSpeaker(line, clock, prompts, timeline)
        callee = LineCallee(line, clock, name)
        self.session = CallSession(
            callee, self.speaker, script, settings, asr, observers=[self], timeline=timeline
        )
        self.level_dbfs = -100.0
        """Level of the last frame heard (dBFS), for the live view."""

    @property
    def engine(self) -> Engine:
        """The call's dialog engine."""
        return self.session.engine

    @property
    def frames(self) -> int:
        """Frames of the callee's audio heard so far."""
        return self.session.frames

    @property
    def last_result(self) -> BlockResult | None:
        """What the detectors saw in the last block."""
        return self.session.last_result

    @property
    def stream_counters(self) -> StreamCounters:
        """The sound card's input overflows and output underruns so far (callbacks)."""
        return self.line.buffers.counters

    @property
    def latencies_ms(self) -> list[float]:
        """Start latency of every prompt (ms)."""
        return self.speaker.latencies_ms

    def on_block(self, session: CallSession, samples: np.ndarray, base: int, stop: int) -> None:
        last = samples[-1].astype(np.float32)
        self.level_dbfs = float(10 * np.log10(max(np.mean(last * last) / 32768.0**2, 1e-10)))
        if self.observer is not None:
            self.observer(self)

    def run(
        self, recording: Path | None, timeline: Path | None, show_numbers: bool = False
    ) -> CallResult:
        """The call, until the script hangs up, the line fails or Ctrl-C; the recording and the
        timeline are written whatever ended it."""
        try:
            self.session.record(recording, line_can_fail=True)
        finally:
            counters = self.line.buffers.counters
            streams = Streams(
                self.frames,
                input_overflows=counters.overflows,
                output_underruns=counters.underruns,
            )
            self.session.timeline.add(streams)
        return keep_call(self.session, recording, timeline, show_numbers)
