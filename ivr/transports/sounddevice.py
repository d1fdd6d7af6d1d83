"""A sound card as a call's transport: one duplex stream, the callee's audio in and our prompt
out in one callback, and the two ports of a live call on it.

One PortAudio stream (16 kHz mono int16, 10 ms blocks) both captures and plays, so input and
output share one clock: the callback's `inputBufferAdcTime` (when its first input sample was
captured) and `outputBufferDacTime` (when its first output sample will leave the speaker) are
times on the stream's clock (s). The call's clock is the number of 20 ms frames the microphone
has delivered; a prompt's playout ends when its last sample has left the speaker — the DAC time
of that sample, put on the microphone's frames through the ADC time of the blocks captured
(`LineClock`). No wall clock is read.

Callback rules (PortAudio calls it on its own real-time thread; see sounddevice's `Stream`
documentation): no file I/O, no logging, no waiting, no locks the main thread holds for long,
as little allocation as possible. It copies the captured block into a queue (`put_nowait`) with
its ADC time, and pulls the next samples of the prompt being played out of its
`PlayoutBuffer`, which notes the DAC times of the prompt's first and last samples.

`sounddevice` is imported only when a real device is opened: it starts PortAudio at import.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ivr.audio.devices import resolve_device, sounddevice_module
from ivr.audio.format import FRAME_S, FRAME_SAMPLES, SAMPLE_RATE
from ivr.audio.playout import PlayoutBuffer
from ivr.engine.actions import PlayPrompt
from ivr.errors import DeviceError
from ivr.timeline import PromptOut, Timeline
from ivr.transports.base import CalleeBlock, PromptNews, PromptSource, prompt_at_volume

BLOCK_SAMPLES = FRAME_SAMPLES // 2
"""Samples per callback (10 ms): small blocks let a prompt start sooner; the callback only
copies samples, so it can run that often. The call assembles 20 ms frames from them."""


OUTPUT_LATENCY_S = 0.005
"""Output latency asked of the device (s): PortAudio gives the smallest it can above it. The
input side keeps the device's low-latency default."""


@dataclass
class StreamCounters:
    """What went wrong in the stream: input overflows and output underruns (callbacks)."""

    overflows: int = 0
    underruns: int = 0


class DuplexBuffers:
    """What the callback shares with the main thread: captured blocks, the prompt playing
    (`playout`, on the stream's clock: s)."""

    def __init__(self) -> None:
        self.captured: queue.Queue[tuple[np.ndarray, float]] = queue.Queue()
        """Captured blocks (int16 samples) with the stream time of their first sample (s)."""
        self.counters = StreamCounters()
        self.failure: str | None = None
        """Why the stream stopped delivering, once it did."""
        self.playout = PlayoutBuffer()

    def callback(
        self, indata: np.ndarray, outdata: np.ndarray, frames: int, time: Any, status: Any
    ) -> None:
        """PortAudio duplex callback (rules above)."""
        if status.input_overflow:
            self.counters.overflows += 1
        if status.output_underflow:
            self.counters.underruns += 1
        self.captured.put_nowait((indata[:, 0].copy(), float(time.inputBufferAdcTime)))
        self.playout.pull(outdata[:, 0], float(time.outputBufferDacTime), 1 / SAMPLE_RATE)


class DuplexLine(Protocol):
    """A started duplex stream as the call sees it."""

    buffers: DuplexBuffers

    def start(self) -> None:
        """Start the stream; DeviceError with the reason when the device refuses."""

    def read(self, timeout_s: float) -> tuple[np.ndarray, float]:
        """The next captured block and the stream time of its first sample (s); DeviceError
        when nothing came for `timeout_s` (s) or the stream failed."""

    def read_latest(self, timeout_s: float) -> tuple[np.ndarray, float]:
        """Like `read`, but skipping blocks already waiting: the newest captured block (a
        stream that has just started may hand over a backlog at once)."""

    def time(self) -> float:
        """The stream's time now (s)."""

    def close(self) -> None:
        """Stop and close the stream (safe to call twice, and after a failure)."""


class SoundCardLine:
    """A real sound card through sounddevice: one duplex stream, 10 ms blocks."""

    def __init__(self, input_device: str | None = None, output_device: str | None = None) -> None:
        self.input_index = resolve_device(input_device, "input")
        self.output_index = resolve_device(output_device, "output")
        self.buffers = DuplexBuffers()
        self._stream: Any = None

    def start(self) -> None:
        sd = sounddevice_module()
        try:
            stream = sd.Stream(
                samplerate=SAMPLE_RATE,
                blocksize=BLOCK_SAMPLES,
                channels=1,
                dtype="int16",
                device=(self.input_index, self.output_index),
                callback=self.buffers.callback,
                finished_callback=self._finished,
                latency=("low", OUTPUT_LATENCY_S),
            )
            stream.start()
        except sd.PortAudioError as exc:
            self.close()
            raise DeviceError(f"cannot open the audio devices: {exc}") from None
        self._stream = stream

    def _finished(self) -> None:
        self.buffers.failure = self.buffers.failure or "the audio stream stopped"

    def read(self, timeout_s: float) -> tuple[np.ndarray, float]:
        try:
            return self.buffers.captured.get(timeout=timeout_s)
        except queue.Empty:
            silent = f"the microphone delivered no audio for {timeout_s:g} s"
            raise DeviceError(self.buffers.failure or silent) from None

    def read_latest(self, timeout_s: float) -> tuple[np.ndarray, float]:
        block = self.read(timeout_s)
        while True:
            try:
                block = self.buffers.captured.get_nowait()
            except queue.Empty:
                return block

    def time(self) -> float:
        return float(self._stream.time) if self._stream is not None else 0.0

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort()
            stream.close()
        except Exception:
            pass


SILENT_DEVICE_S = 2.0
"""A microphone that delivers nothing for this long (s) has failed."""


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


class LineSpeaker(PromptNews):
    """Our port of a live line: prompts handed to the stream, their playout read back from
    the DAC times of their first and last samples (a prompt cut before it started finishes
    where it was cut)."""

    def __init__(
        self,
        line: DuplexLine,
        clock: LineClock,
        prompts: PromptSource,
        timeline: Timeline | None = None,
    ) -> None:
        self.line, self.clock, self.prompts = line, clock, prompts
        self.timeline = timeline
        """Where the `prompt_out` records go (None: not kept)."""
        self.latencies_ms: list[float] = []
        """Start latency of every prompt (ms)."""
        self.delays_ms: list[float] = []
        """Processing delay of every prompt (ms)."""
        self._playing: _Playing | None = None
        self._finished: int | None = None
        self._started: tuple[int, np.ndarray] | None = None
        self._cut: int | None = None

    def play(self, prompt: PlayPrompt) -> None:
        samples = prompt_at_volume(self.prompts, prompt)
        # due when its frame was captured, and not before the call began (the opening: a
        # stream that has just started hands over its first blocks late)
        due = max(self.clock.time_of(prompt.frame), self.clock.started_s)
        self._playing = _Playing(prompt, samples, self.line.time(), due)
        self._finished = None
        self.line.buffers.playout.play(samples)

    def stop(self, frame: int) -> None:
        if self._playing is not None:
            self._playing.cut = True
        self.line.buffers.playout.stop(self.line.time())

    def finished(self) -> int | None:
        self._poll()
        finished, self._finished = self._finished, None
        return finished

    def _poll(self) -> None:
        """Notice the current prompt's first and last samples leaving the speaker."""
        playing = self._playing
        if playing is None:
            return
        started_s, finished_s = self.line.buffers.playout.marks()
        if not playing.started and started_s is not None:
            playing.started = True
            start = max(self.clock.frame_at(started_s), playing.prompt.frame)
            self._started = (start, playing.samples)
            self._note_start(playing, started_s)
        if finished_s is not None:
            self._finished = self.clock.frame_at(finished_s)
            if playing.cut:
                self._cut = self._finished
            self._playing = None

    def _note_start(self, playing: _Playing, started_s: float) -> None:
        """The prompt's start latency and processing delay, kept and on the timeline."""
        start_ms = (started_s - playing.due_s) * 1000
        delay_ms = (playing.issued_s - playing.due_s) * 1000
        self.latencies_ms.append(start_ms)
        self.delays_ms.append(delay_ms)
        if self.timeline is not None:
            out = PromptOut(
                playing.prompt.frame,
                prompt=playing.prompt.prompt,
                start_latency_ms=round(start_ms, 1),
                processing_ms=round(delay_ms, 1),
            )
            self.timeline.add(out)
