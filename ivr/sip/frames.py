"""A SIP call's audio, both ways, in 20 ms frames: what pjsua2's media clock hands us and takes
from us, and the call's clock (the frames received since the answer).

Thread rules: `next_frame` and `take_frame` run on PJSIP's media clock thread every 20 ms and
only copy under the lock; everything the call's thread reads or takes of this shared state, it
reads or takes under the same lock (`take`, `timings`, the properties). A failure on the SIP or
media thread is kept with `fail` and ends the call (`media_error`) at its next block.

The call's thread is woken once a block of frames it asked for has come (`wait`'s `frames`),
not at every frame; and at once for news: a key sent out of band, a failure, a state change
(`nudge`), our prompt's playout ending.
"""

from __future__ import annotations

import collections
import threading
import time

import numpy as np

from ivr.audio.format import FRAME_SAMPLES
from ivr.audio.playout import PlayoutBuffer

FRAME_BYTES = FRAME_SAMPLES * 2
"""Bytes of one 20 ms frame of 16 kHz int16 audio."""


class FramePort:
    """A call's audio, both ways, in 20 ms frames (fed by the media clock thread).

    The callee's frames (int16) are kept in order, a silent frame where none came, with the
    telephone keys sent out of band, each at the frame count it came at (`take` hands them
    over); `handed` counts our frames given to the line so far. Our prompt goes out through
    `playout`, on the call's clock (frames received): `started_at` is the frame the prompt's
    first 20 ms went out in and `finished_at` the frame its last 20 ms ended at (or where it
    was cut); None until then. With `timing`, each received frame's arrival (s,
    `time.monotonic`) and each prompt's first frame on the call's clock with the time it was
    handed to the line (s, monotonic) are kept (`timings`)."""

    def __init__(self, timing: bool = False) -> None:
        self.received: collections.deque[np.ndarray] = collections.deque()
        self.keys: collections.deque[tuple[str, int]] = collections.deque()
        self.frames_received = 0
        self.handed = 0
        self.timing = timing
        self.failure: str | None = None
        """What failed on the SIP or media thread, once something did."""
        self.playout = PlayoutBuffer()
        self._arrivals: list[float] = []
        self._sent: list[tuple[int, float]] = []
        self._lock = threading.Lock()
        self._news = threading.Condition(self._lock)
        self._out = np.zeros(FRAME_SAMPLES, np.int16)  # the media thread's frame, reused
        self._silence = bytes(FRAME_BYTES)
        self._wanted = 1  # frames received before the waiting call's thread is woken
        self._news_flag = False  # news came that the waiting call's thread must see now
        self._was_playing = False  # the media thread's last frame held prompt samples

    def marks(self) -> tuple[int | None, int | None]:
        """(`started_at`, `finished_at`), read at once."""
        started, finished = self.playout.marks()
        return (
            None if started is None else round(started),
            None if finished is None else round(finished),
        )

    @property
    def started_at(self) -> int | None:
        return self.marks()[0]

    @property
    def finished_at(self) -> int | None:
        return self.marks()[1]

    def play(self, samples: np.ndarray) -> None:
        """Hand `samples` (int16, whole frames) to the line from the next frame on."""
        self.playout.play(samples)

    def stop(self) -> None:
        """Stop handing over the prompt (barge-in)."""
        with self._lock:
            now = self.frames_received
        self.playout.stop(now)

    def next_frame(self) -> bytes:
        """Our next 20 ms for the line (media thread)."""
        with self._lock:
            self.handed += 1
            now = self.frames_received
        n, first = self.playout.pull(self._out, now, 1 / FRAME_SAMPLES)
        if first and self.timing:
            with self._lock:
                self._sent.append((now, time.monotonic()))
        if self._was_playing and not n:  # the prompt's playout ended: its timers start
            self._tell()
        self._was_playing = n > 0
        return self._out.tobytes() if n else self._silence

    def take_frame(self, data: bytes | None) -> None:
        """The callee's next 20 ms (media thread); None: nothing came (silence)."""
        if data is None or len(data) != FRAME_BYTES:
            frame = np.zeros(FRAME_SAMPLES, np.int16)
        else:
            frame = np.frombuffer(data, dtype=np.int16)
        with self._lock:
            self.received.append(frame)
            self.frames_received += 1
            if self.timing:
                self._arrivals.append(time.monotonic())
            if len(self.received) >= self._wanted:
                self._news.notify_all()

    def key(self, digit: str) -> None:
        """The other side sent key `digit` out of band, now (SIP thread)."""
        with self._lock:
            self.keys.append((digit, self.frames_received))
        self._tell()

    def fail(self, reason: str) -> None:
        """Something failed on the SIP or media thread (`reason`): the call ends with it (the
        first failure is kept)."""
        with self._lock:
            self.failure = self.failure or reason
        self._tell()

    def _tell(self) -> None:
        """Wake the call's thread now: there is news it must see."""
        with self._lock:
            self._news_flag = True
            self._news.notify_all()

    def take(self) -> tuple[list[np.ndarray], float | None]:
        """The callee's frames received since last taken, and the arrival of the first of them
        (s, monotonic; None without timing or frames)."""
        with self._lock:
            frames = list(self.received)
            self.received.clear()
            self._news_flag = False
            first = len(self._arrivals) - len(frames) if frames else -1
            arrival = self._arrivals[first] if self.timing and first >= 0 else None
        return frames, arrival

    def take_keys(self, frames: int) -> list[tuple[str, int]]:
        """The out-of-band keys that came by frame count `frames`, taken out: (key, count)."""
        out = []
        with self._lock:
            while self.keys and self.keys[0][1] <= frames:
                out.append(self.keys.popleft())
        return out

    def timings(self) -> tuple[list[float], list[tuple[int, float]]]:
        """Copies of the arrivals of the frames received and of the prompts' first frames sent
        (with timing; empty without)."""
        with self._lock:
            return list(self._arrivals), list(self._sent)

    def restart(self) -> None:
        """The call was answered: its clock starts at frame 0 now (keys sent while it rang
        are dropped)."""
        with self._lock:
            self.received.clear()
            self.keys.clear()
            self.frames_received = 0
            self._arrivals.clear()
            self._news_flag = False

    def wait(self, timeout_s: float, frames: int = 1) -> None:
        """Wait up to `timeout_s` (s) for `frames` received frames not yet taken, or for news
        (a thread other than the agent's)."""
        with self._lock:
            if not self._ready(frames):
                self._wanted = max(frames, 1)
                self._news.wait(timeout_s)
                self._wanted = 1

    def ready(self, frames: int = 1) -> bool:
        """Whether `frames` received frames wait to be taken, or news came since last taken."""
        with self._lock:
            return self._ready(frames)

    def _ready(self, frames: int) -> bool:
        return len(self.received) >= frames or self._news_flag or self.failure is not None

    def nudge(self) -> None:
        """Wake whoever waits: the call's state changed."""
        self._tell()


class IdlePort(FramePort):
    """The frames of an audio port no call uses: silence out, and what comes in is dropped
    (so a port kept for the next call never piles up frames)."""

    def take_frame(self, data: bytes | None) -> None:
        return None
