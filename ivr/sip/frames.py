"""A SIP call's audio, both ways, in 20 ms frames: what pjsua2's media clock hands us and takes
from us, and the call's clock (the frames received since the answer)."""

from __future__ import annotations

import collections
import threading
import time

import numpy as np

from ivr.audio.format import FRAME_SAMPLES

FRAME_BYTES = FRAME_SAMPLES * 2
"""Bytes of one 20 ms frame of 16 kHz int16 audio."""


class FramePort:
    """A call's audio, both ways, in 20 ms frames (fed by the media clock thread).

    `received` holds the callee's frames (int16) in order, a silent frame where none came;
    `keys` the telephone keys sent out of band, each with the frame count it came at;
    `handed` counts our frames given to the line so far. On the call's clock (frames received),
    `started_at` is the frame the prompt's first 20 ms went out in and `finished_at` the frame
    its last 20 ms ended at (or where it was cut); None until then. With `timing`, `arrivals`
    holds each received frame's arrival (s, `time.monotonic`) and `sent` each prompt's first
    frame on the call's clock with the time it was handed to the line (s, monotonic)."""

    def __init__(self, timing: bool = False) -> None:
        self.received: collections.deque[np.ndarray] = collections.deque()
        self.keys: collections.deque[tuple[str, int]] = collections.deque()
        self.frames_received = 0
        self.handed = 0
        self.finished_at: int | None = None
        self.started_at: int | None = None
        self.arrivals: list[float] | None = [] if timing else None
        self.sent: list[tuple[int, float]] = []
        self._lock = threading.Lock()
        self._news = threading.Condition(self._lock)
        self._samples = np.zeros(0, np.int16)
        self._pos = 0
        self._silence = bytes(FRAME_BYTES)

    def play(self, samples: np.ndarray) -> None:
        """Hand `samples` (int16, whole frames) to the line from the next frame on."""
        with self._lock:
            self._samples = np.ascontiguousarray(samples, dtype=np.int16)
            self._pos = 0
            self.started_at = self.finished_at = None

    def stop(self) -> None:
        """Stop handing over the prompt (barge-in)."""
        with self._lock:
            if self._pos < self._samples.size:
                self.finished_at = self.frames_received
            self._samples = np.zeros(0, np.int16)
            self._pos = 0

    def next_frame(self) -> bytes:
        """Our next 20 ms for the line (media thread)."""
        with self._lock:
            self.handed += 1
            if self._pos >= self._samples.size:
                return self._silence
            if self._pos == 0:
                self.started_at = self.frames_received
                if self.arrivals is not None:
                    self.sent.append((self.frames_received, time.monotonic()))
            chunk = self._samples[self._pos : self._pos + FRAME_SAMPLES]
            self._pos += FRAME_SAMPLES
            if self._pos >= self._samples.size:
                self.finished_at = self.frames_received + 1
            return chunk.tobytes()

    def take_frame(self, data: bytes | None) -> None:
        """The callee's next 20 ms (media thread); None: nothing came (silence)."""
        if data is None or len(data) != FRAME_BYTES:
            frame = np.zeros(FRAME_SAMPLES, np.int16)
        else:
            frame = np.frombuffer(data, dtype=np.int16)
        with self._lock:
            self.received.append(frame)
            self.frames_received += 1
            if self.arrivals is not None:
                self.arrivals.append(time.monotonic())
            self._news.notify_all()

    def key(self, digit: str) -> None:
        """The other side sent key `digit` out of band, now (SIP thread)."""
        with self._lock:
            self.keys.append((digit, self.frames_received))
            self._news.notify_all()

    def restart(self) -> None:
        """The call was answered: its clock starts at frame 0 now (keys sent while it rang
        are dropped)."""
        with self._lock:
            self.received.clear()
            self.keys.clear()
            self.frames_received = 0
            if self.arrivals is not None:
                self.arrivals.clear()

    def wait(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` (s) for a frame or `nudge` (a thread other than the agent's)."""
        with self._lock:
            if not self.received:
                self._news.wait(timeout_s)

    def nudge(self) -> None:
        """Wake whoever waits: the call's state changed."""
        with self._lock:
            self._news.notify_all()


class IdlePort(FramePort):
    """The frames of an audio port no call uses: silence out, and what comes in is dropped
    (so a port kept for the next call never piles up frames)."""

    def take_frame(self, data: bytes | None) -> None:
        return None
