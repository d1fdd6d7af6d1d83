"""A duplex sound-card line on a scripted clock, for live-call tests without an audio server.

It drives the real callback (`ivr.transports.sounddevice.DuplexBuffers.callback`) as PortAudio
would: one call per 20 ms block, with the stream times PortAudio reports (`inputBufferAdcTime`,
`outputBufferDacTime`) worked out from the scripted latencies, and status flags for underruns.
What the speaker played can come back into the microphone (`echo_gain`), as a laptop hears
itself. Only the PortAudio stream is replaced: the callback, the ports, the session and the
engine under test are the real ones. Nothing waits: `read` runs the next callback at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from ivr.audio.format import FRAME_S, FRAME_SAMPLES, SAMPLE_RATE
from ivr.errors import DeviceError
from ivr.transports.sounddevice import DuplexBuffers


@dataclass
class ScriptedLine:
    """The callee's audio `callee` (int16; silence after it) on a line whose input reaches us
    `input_latency_s` after capture and whose output leaves the speaker `output_latency_s`
    after its callback (s); the main thread takes `processing_s` (s) after each callback.
    `interrupt_at`/`lose_at`: the callback index at which Ctrl-C comes, or the device stops
    delivering; `underruns`: callback indices flagged as output underflow."""

    callee: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    input_latency_s: float = 0.01
    output_latency_s: float = 0.03
    processing_s: float = 0.002
    echo_gain: float = 0.0
    interrupt_at: int | None = None
    lose_at: int | None = None
    underruns: tuple[int, ...] = ()
    max_blocks: int = 10_000
    buffers: DuplexBuffers = field(default_factory=DuplexBuffers)
    played: list[np.ndarray] = field(default_factory=list)
    """What each callback put out to the speaker, in order."""
    started: bool = False
    closed: bool = False
    _index: int = 0

    def start(self) -> None:
        self.started = True

    def _callback_time(self, index: int) -> float:
        """Stream time of callback `index`: its input block has just been captured (s)."""
        return (index + 1) * FRAME_S + self.input_latency_s

    def adc_time(self, index: int) -> float:
        """Stream time block `index`'s first sample was captured (s)."""
        return index * FRAME_S

    def dac_time(self, index: int) -> float:
        """Stream time callback `index`'s first output sample leaves the speaker (s)."""
        return self._callback_time(index) + self.output_latency_s

    def _heard(self, index: int) -> np.ndarray:
        """Block `index` at the microphone: the callee, plus our echo."""
        a = index * FRAME_SAMPLES
        block = np.zeros(FRAME_SAMPLES, np.float64)
        part = self.callee[a : a + FRAME_SAMPLES]
        block[: part.size] = part
        # our output is heard in the block being captured when it left the speaker
        j = index - 1 - round((self.input_latency_s + self.output_latency_s) / FRAME_S)
        if self.echo_gain and 0 <= j < len(self.played):
            block += self.played[j] * self.echo_gain
        return np.clip(np.rint(block), -32768, 32767).astype(np.int16)

    def read(self, timeout_s: float) -> tuple[np.ndarray, float]:
        index = self._index
        if self.interrupt_at is not None and index >= self.interrupt_at:
            raise KeyboardInterrupt
        if (self.lose_at is not None and index >= self.lose_at) or index >= self.max_blocks:
            raise DeviceError(f"the microphone delivered no audio for {timeout_s:g} s")
        indata = self._heard(index).reshape(-1, 1)
        outdata = np.zeros((FRAME_SAMPLES, 1), np.int16)
        times = SimpleNamespace(
            inputBufferAdcTime=self.adc_time(index),
            outputBufferDacTime=self.dac_time(index),
            currentTime=self._callback_time(index),
        )
        status = SimpleNamespace(input_overflow=False, output_underflow=index in self.underruns)
        self.buffers.callback(indata, outdata, FRAME_SAMPLES, times, status)
        self.played.append(outdata[:, 0].copy())
        self._index += 1
        return self.buffers.captured.get_nowait()

    def read_latest(self, timeout_s: float) -> tuple[np.ndarray, float]:
        return self.read(timeout_s)  # no backlog on a scripted line

    def time(self) -> float:
        return self._callback_time(self._index - 1) + self.processing_s

    def close(self) -> None:
        self.closed = True

    def speaker_audio(self) -> np.ndarray:
        """Everything the speaker played, on the stream's clock from time 0 (int16)."""
        return np.concatenate(self.played) if self.played else np.zeros(0, np.int16)

    def output_index_at(self, sample_time_s: float) -> int:
        """The callback whose output covered stream time `sample_time_s` (s)."""
        first = self.dac_time(0)
        return int((sample_time_s - first) * SAMPLE_RATE) // FRAME_SAMPLES
