"""The sound card as one duplex stream: the callee's audio in, our prompt out, in one callback.

One PortAudio stream (16 kHz mono int16, 10 ms blocks) both captures and plays, so input and
output share one clock: the callback's `inputBufferAdcTime` (when its first input sample was
captured) and `outputBufferDacTime` (when its first output sample will leave the speaker) are
times on the stream's clock (s). The call puts our playout on the microphone's frames through
them — no wall clock is read.

Callback rules (PortAudio calls it on its own real-time thread; see sounddevice's `Stream`
documentation): no file I/O, no logging, no waiting, no locks the main thread holds for long,
as little allocation as possible. It copies the captured block into a queue (`put_nowait`) with
its ADC time, copies the next samples of the prompt being played out of a buffer prepared
beforehand, and notes the DAC times of the prompt's first and last samples.

`sounddevice` is imported only when a real device is opened: it starts PortAudio at import.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ivr.audio.devices import resolve_device, sounddevice_module
from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from ivr.errors import DeviceError

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
    """What the callback shares with the main thread: captured blocks, the prompt playing.

    `started_s` and `finished_s` are the stream times (s) at which the prompt's first sample
    leaves the speaker and its last one has left (or it was cut); None until then."""

    def __init__(self) -> None:
        self.captured: queue.Queue[tuple[np.ndarray, float]] = queue.Queue()
        """Captured blocks (int16 samples) with the stream time of their first sample (s)."""
        self.counters = StreamCounters()
        self.failure: str | None = None
        """Why the stream stopped delivering, once it did."""
        self._lock = threading.Lock()
        self._samples = np.zeros(0, dtype=np.int16)
        self._pos = 0
        self.started_s: float | None = None
        self.finished_s: float | None = None

    def play(self, samples: np.ndarray) -> None:
        """Start playing `samples` (int16, mono) at the next callback."""
        with self._lock:
            self._samples = np.ascontiguousarray(samples, dtype=np.int16)
            self._pos = 0
            self.started_s = None
            self.finished_s = None

    def stop(self, now_s: float) -> None:
        """Cut the prompt (barge-in) at stream time `now_s` (s)."""
        with self._lock:
            if self._pos < self._samples.size and self.started_s is not None:
                self.finished_s = now_s
            self._samples = np.zeros(0, dtype=np.int16)
            self._pos = 0

    def callback(
        self, indata: np.ndarray, outdata: np.ndarray, frames: int, time: Any, status: Any
    ) -> None:
        """PortAudio duplex callback (rules above)."""
        if status.input_overflow:
            self.counters.overflows += 1
        if status.output_underflow:
            self.counters.underruns += 1
        self.captured.put_nowait((indata[:, 0].copy(), float(time.inputBufferAdcTime)))
        out = outdata[:, 0]
        dac = float(time.outputBufferDacTime)
        with self._lock:
            n = min(frames, max(self._samples.size - self._pos, 0))
            if n > 0:
                if self._pos == 0:
                    self.started_s = dac
                out[:n] = self._samples[self._pos : self._pos + n]
                self._pos += n
                if self._pos >= self._samples.size:
                    self.finished_s = dac + n / SAMPLE_RATE
            out[n:] = 0


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
