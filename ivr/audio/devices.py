"""Sound devices: listing and choosing them, and the two real-time streams of a live call.

Callback rules (PortAudio calls these on its own real-time thread; see sounddevice's
`Stream.__init__` documentation): no file I/O, no logging, no locks that the main thread may
hold for long, no waiting, and as little allocation as possible. The input callback only copies
the captured samples and hands them over through a queue (`put_nowait`), with the time they were
captured; the output callback only copies samples of the prompt being played out of a buffer
prepared beforehand, and counts what it has consumed. Everything else happens on the main thread.

`sounddevice` is imported only when a device is used: it starts PortAudio at import.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from ivr.errors import DeviceError

OUTPUT_BLOCK_SAMPLES = FRAME_SAMPLES // 2
"""Samples per output callback (10 ms): smaller blocks let a prompt start sooner, and the
output callback only copies samples, so it can run that often."""


def _sd() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # PortAudio library missing
        raise DeviceError(
            f"no audio system: {exc}; install libportaudio2, or replay recordings with ivr replay"
        ) from None
    return sounddevice


def list_devices() -> list[dict[str, Any]]:
    """Every device: index, name, host API, input and output channels, default rate (Hz)."""
    sd = _sd()
    apis = sd.query_hostapis()
    out = []
    for index, dev in enumerate(sd.query_devices()):
        out.append(
            {
                "index": index,
                "name": dev["name"],
                "hostapi": apis[dev["hostapi"]]["name"],
                "inputs": dev["max_input_channels"],
                "outputs": dev["max_output_channels"],
                "rate": dev["default_samplerate"],
            }
        )
    return out


def resolve_device(spec: str | None, kind: str) -> int | None:
    """A device by index or (part of its) name for `kind` "input"/"output"; None: the default.

    Raises DeviceError naming the problem and suggesting `--list-devices`."""
    sd = _sd()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot list audio devices: {exc}") from None
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    usable = [i for i, d in enumerate(devices) if d[key] > 0]
    if not usable:
        raise DeviceError(
            f"no audio {kind} device found: see `ivr call --list-devices`, "
            "or replay recordings with `ivr replay`"
        )
    if spec is None:
        return None
    if spec.isdigit():
        index = int(spec)
        if index not in usable:
            raise DeviceError(f"device {index} has no {kind}: see `ivr call --list-devices`")
        return index
    matches = [i for i in usable if spec.lower() in devices[i]["name"].lower()]
    if not matches:
        raise DeviceError(f"no {kind} device named {spec!r}: see `ivr call --list-devices`")
    return matches[0]


@dataclass
class StreamCounters:
    """What went wrong in the streams: input overflows and output underruns (callbacks)."""

    overflows: int = 0
    underruns: int = 0


class Player:
    """The output side: plays one prompt at a time and counts the samples consumed.

    `play` hands over a whole prompt (prepared int16 samples); the callback copies from it.
    `started` and `finished` report (the output callback's count of consumed samples and the
    monotonic time) when the first and last samples were taken by the stream.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples = np.zeros(0, dtype=np.int16)
        self._pos = 0
        self.consumed = 0
        """Samples the output stream has taken since it started."""
        self.started: tuple[int, float] | None = None
        self.finished: tuple[int, float] | None = None
        self.counters = StreamCounters()

    def play(self, samples: np.ndarray) -> None:
        """Start playing `samples` (int16, mono) at the next callback."""
        with self._lock:
            self._samples = np.ascontiguousarray(samples, dtype=np.int16)
            self._pos = 0
            self.started = None
            self.finished = None

    def stop(self) -> None:
        """Cut the prompt (barge-in)."""
        with self._lock:
            if self._pos < self._samples.size and self.started is not None:
                self.finished = (self.consumed, time.monotonic())
            self._samples = np.zeros(0, dtype=np.int16)
            self._pos = 0

    @property
    def busy(self) -> bool:
        """Whether a prompt is still being played out."""
        return self._pos < self._samples.size

    def callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio output callback: copy the next samples, zeros when idle (rules above)."""
        if status.output_underflow:
            self.counters.underruns += 1
        out = outdata[:, 0]
        with self._lock:
            left = self._samples.size - self._pos
            n = min(frames, max(left, 0))
            if n > 0:
                if self._pos == 0:
                    self.started = (self.consumed, time.monotonic())
                out[:n] = self._samples[self._pos : self._pos + n]
                self._pos += n
                if self._pos >= self._samples.size:
                    self.finished = (self.consumed + n, time.monotonic())
            out[n:] = 0
            self.consumed += frames


class Microphone:
    """The input side: 20 ms frames of 16 kHz mono int16, handed over through a queue."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[np.ndarray, float]] = queue.Queue()
        self.counters = StreamCounters()

    def callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio input callback: copy and hand over (rules above)."""
        if status.input_overflow:
            self.counters.overflows += 1
        self.queue.put_nowait((indata[:, 0].copy(), time.monotonic()))


class LiveStreams:
    """Opens the input and output streams of a call (16 kHz mono; 20 ms in, 10 ms out)."""

    def __init__(self, input_device: str | None = None, output_device: str | None = None) -> None:
        self.input_index = resolve_device(input_device, "input")
        self.output_index = resolve_device(output_device, "output")
        self.mic = Microphone()
        self.player = Player()
        self._streams: list[Any] = []

    def start(self) -> None:
        """Start both streams; DeviceError with the reason when a device refuses."""
        sd = _sd()
        try:
            out = sd.OutputStream(
                samplerate=SAMPLE_RATE,
                blocksize=OUTPUT_BLOCK_SAMPLES,
                channels=1,
                dtype="int16",
                device=self.output_index,
                callback=self.player.callback,
                latency="low",
            )
            inp = sd.InputStream(
                samplerate=SAMPLE_RATE,
                blocksize=FRAME_SAMPLES,
                channels=1,
                dtype="int16",
                device=self.input_index,
                callback=self.mic.callback,
                latency="low",
            )
            out.start()
            inp.start()
        except sd.PortAudioError as exc:
            self.close()
            raise DeviceError(f"cannot open the audio devices: {exc}") from None
        self._streams = [inp, out]

    @property
    def output_latency_s(self) -> float:
        """The output stream's reported latency (s)."""
        return float(self._streams[1].latency) if len(self._streams) > 1 else 0.0

    @property
    def active(self) -> bool:
        """Whether both streams still run."""
        return bool(self._streams) and all(s.active for s in self._streams)

    def close(self) -> None:
        """Stop and close the streams (safe to call twice, and after a device failure)."""
        for stream in self._streams:
            try:
                stream.abort()
                stream.close()
            except Exception:
                pass
        self._streams = []
