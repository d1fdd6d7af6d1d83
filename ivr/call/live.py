"""A live call: the same session and runner as replay, on a duplex sound-card line.

The audio clock is the number of 20 ms frames the microphone has delivered: timers run in
that time, as in replay. A prompt's playout ends when its last sample has left the speaker —
the stream's DAC time of that sample (ivr.audio.duplex), put on the microphone's frames through
the ADC time of the blocks captured (`LineClock`). Half-duplex by default: while a prompt plays
the microphone does not count as the callee (the laptop hears itself).

Ctrl-C ends the call with outcome `aborted`, a device that stops or fails with `device_error`;
either way the stereo recording and the timeline are written. Per prompt, the timeline records
the start latency (from the capture of the frame its timer fired at — for the opening, from the
moment the call began — to its first sample leaving the speaker) and the processing delay (from
that moment to the prompt being handed to the stream), both in ms; input overflows and output
underruns are counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ivr.audio.duplex import DuplexLine
from ivr.audio.format import FRAME_S, FRAME_SAMPLES, SAMPLE_RATE
from ivr.call.mixer import Mixer
from ivr.call.ports import CalleeBlock, PromptSource, prompt_at_volume
from ivr.call.recognition import AsrBackend
from ivr.call.replay import CallResult, keep_call
from ivr.call.session import CallSession
from ivr.detect.frontend import BlockResult
from ivr.detect.settings import CallSettings
from ivr.engine import Engine, PlayPrompt
from ivr.script.model import Script
from ivr.timeline import PromptOut, Streams

SILENT_DEVICE_S = 2.0
"""A microphone that delivers nothing for this long (s) has failed."""

Observer = Callable[["LiveCall"], None]
"""Called on the main thread after every block, for a live view."""


class LineClock:
    """The microphone's frames on the stream's clock: the latest block's first frame and the
    stream time its first sample was captured (s)."""

    def __init__(self) -> None:
        self.frames = 0
        self.adc_s = 0.0
        self.started_s = 0.0
        """Stream time the call began: its first block was handed over (s)."""

    def arrived(self, frames: int, adc_s: float, now_s: float) -> None:
        """A block starting at frame `frames` was captured from stream time `adc_s` (s) and
        handed over at `now_s` (s)."""
        if frames == 0:
            self.started_s = now_s
        self.frames, self.adc_s = frames, adc_s

    def frame_at(self, time_s: float) -> int:
        """The microphone frame being captured at stream time `time_s` (s)."""
        return max(0, self.frames + round((time_s - self.adc_s) / FRAME_S))

    def time_of(self, frame: int) -> float:
        """The stream time (s) microphone frame `frame` was (or will be) captured at."""
        return self.adc_s + (frame - self.frames) * FRAME_S


class LineCallee:
    """The callee's port of a live line: the blocks the stream captures, from its start."""

    def __init__(self, line: DuplexLine, clock: LineClock, name: str) -> None:
        self.line, self.clock, self.name = line, clock, name

    def blocks(self) -> Iterator[CalleeBlock]:
        self.line.start()
        try:
            frames = 0
            pending = np.zeros(0, np.int16)  # captured samples not yet a whole frame
            pending_adc_s = 0.0  # stream time of pending[0] (s)
            read = self.line.read_latest  # the call starts on the newest block
            while True:
                samples, adc_s = read(SILENT_DEVICE_S)
                read = self.line.read
                if pending.size == 0:
                    pending, pending_adc_s = samples, adc_s
                else:
                    pending = np.concatenate([pending, samples])
                usable = pending.size // FRAME_SAMPLES * FRAME_SAMPLES
                if usable == 0:
                    continue
                block = pending[:usable].reshape(-1, FRAME_SAMPLES)
                self.clock.arrived(frames, pending_adc_s, self.line.time())
                frames += block.shape[0]
                pending = pending[usable:]
                pending_adc_s += usable / SAMPLE_RATE
                yield CalleeBlock(block)
        finally:
            self.line.close()


@dataclass
class _Playing:
    """The prompt being played out: asked for at `prompt.frame`, handed over at stream time
    `issued_s`, due (its frame captured) at `due_s` (s)."""

    prompt: PlayPrompt
    samples: np.ndarray
    issued_s: float
    due_s: float
    started: bool = False
    cut: bool = False


class LineSpeaker:
    """Our port of a live line: prompts handed to the stream, their playout read back from
    the DAC times of their first and last samples."""

    def __init__(self, line: DuplexLine, clock: LineClock, prompts: PromptSource) -> None:
        self.line, self.clock, self.prompts = line, clock, prompts
        self.mixer = Mixer()
        self.engine: Engine | None = None
        """Where the `prompt_out` records go."""
        self.latencies_ms: list[float] = []
        """Start latency of every prompt (ms)."""
        self.delays_ms: list[float] = []
        """Processing delay of every prompt (ms)."""
        self._playing: _Playing | None = None
        self._finished: int | None = None

    def play(self, prompt: PlayPrompt) -> None:
        samples = prompt_at_volume(self.prompts, prompt)
        # due when its frame was captured, and not before the call began (the opening: a
        # stream that has just started hands over its first blocks late)
        due = max(self.clock.time_of(prompt.frame), self.clock.started_s)
        self._playing = _Playing(prompt, samples, self.line.time(), due)
        self._finished = None
        self.line.buffers.play(samples)

    def stop(self, frame: int) -> None:
        if self._playing is not None:
            self._playing.cut = True
        self.line.buffers.stop(self.line.time())

    def finished(self) -> int | None:
        self._poll()
        finished, self._finished = self._finished, None
        return finished

    def _poll(self) -> None:
        """Notice the current prompt's first and last samples leaving the speaker."""
        playing, buffers = self._playing, self.line.buffers
        if playing is None:
            return
        if not playing.started and buffers.started_s is not None:
            playing.started = True
            start = max(self.clock.frame_at(buffers.started_s), playing.prompt.frame)
            self.mixer.play(start, playing.samples, 0.0)
            start_ms = (buffers.started_s - playing.due_s) * 1000
            delay_ms = (playing.issued_s - playing.due_s) * 1000
            self.latencies_ms.append(start_ms)
            self.delays_ms.append(delay_ms)
            if self.engine is not None:
                out = PromptOut(
                    playing.prompt.frame,
                    prompt=playing.prompt.prompt,
                    start_latency_ms=round(start_ms, 1),
                    processing_ms=round(delay_ms, 1),
                )
                self.engine.note(out)
        if buffers.finished_s is not None:
            self._finished = self.clock.frame_at(buffers.finished_s)
            if playing.cut:
                self.mixer.stop(self._finished)
            self._playing = None


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
        self.speaker = LineSpeaker(line, clock, prompts)
        callee = LineCallee(line, clock, name)
        self.session = CallSession(callee, self.speaker, script, settings, asr, observers=[self])
        self.speaker.engine = self.session.engine
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
            self.engine.note(streams)
        return keep_call(self.session, recording, timeline, show_numbers)
