"""A prompt handed to the thread that plays it out: a sound card's callback or a SIP media clock
(ivr.transports.sounddevice, ivr.sip.frames): the one playout buffer every transport whose audio
goes out on another thread shares."""

from __future__ import annotations

import threading

import numpy as np


class PlayoutBuffer:
    """One prompt handed to the thread that plays it out (a sound card's callback, a SIP media
    clock), a block at a time, with the device's clock times of its first sample and of the
    end of its last one (stream seconds, or frames of the call: whatever `at` the device
    passes to `pull`).

    Thread rules: `pull` runs on the device's thread and only copies samples under the lock
    (no allocation, no waiting); `play`, `stop` and `marks` run on the call's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._samples = np.zeros(0, dtype=np.int16)
        self._pos = 0
        self._started: float | None = None
        self._finished: float | None = None

    def play(self, samples: np.ndarray) -> None:
        """Start playing `samples` (int16, mono) at the next `pull`."""
        with self._lock:
            self._samples = np.ascontiguousarray(samples, dtype=np.int16)
            self._pos = 0
            self._started = self._finished = None

    def stop(self, at: float) -> None:
        """Cut the prompt at clock time `at`: a prompt not wholly played out finishes there."""
        with self._lock:
            if self._pos < self._samples.size:
                self._finished = at
            self._samples = np.zeros(0, dtype=np.int16)
            self._pos = 0

    def pull(self, out: np.ndarray, at: float, sample_time: float) -> tuple[int, bool]:
        """Fill `out` (int16) with the next samples of the prompt, silence after it (device
        thread); `at` is the clock time `out[0]` plays at, `sample_time` one sample's length on
        that clock. How many prompt samples went out, and whether the first of them did now."""
        with self._lock:
            n = min(out.size, max(self._samples.size - self._pos, 0))
            first = n > 0 and self._pos == 0
            if n > 0:
                if first:
                    self._started = at
                out[:n] = self._samples[self._pos : self._pos + n]
                self._pos += n
                if self._pos >= self._samples.size:
                    self._finished = at + n * sample_time
        out[n:] = 0
        return n, first

    def marks(self) -> tuple[float | None, float | None]:
        """The clock times the prompt's first sample went out and its playout ended (at its
        last sample's end, or where it was cut); None until then."""
        with self._lock:
            return self._started, self._finished
