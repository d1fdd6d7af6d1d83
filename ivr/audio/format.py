"""The one internal audio format: 16 kHz mono int16 in 20 ms frames, and time conversions.

All times inside ivr are counted in frames (integers) so that timing claims hold to the frame;
seconds appear only at the edges (settings, reports).
"""

from __future__ import annotations

import functools
import math

SAMPLE_RATE = 16_000
"""Samples per second of every frame ivr processes (Hz)."""

FRAME_MS = 20
"""Length of one frame (ms)."""

FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
"""Samples per frame (320)."""

FRAME_BYTES = FRAME_SAMPLES * 2
"""Bytes per frame of int16 samples (640)."""

FRAME_S = FRAME_MS / 1000
"""Length of one frame (s)."""

FULL_SCALE = 32768.0
"""int16 full scale: a square wave of this amplitude is 0 dBFS, a full-scale sine -3.01 dBFS."""

SILENCE_DBFS = -100.0
"""Level reported for digital silence (dBFS); every level is clamped at or above it."""


def frames_to_seconds(frames: int) -> float:
    """Frames to seconds (s)."""
    return frames * FRAME_MS / 1000


def ms_to_frames(ms: float) -> int:
    """Milliseconds to whole frames, rounding up so a duration is never shortened."""
    return max(0, math.ceil(round(ms / FRAME_MS, 9)))


@functools.lru_cache(maxsize=4096)
def duration_frames(seconds: float) -> int:
    """A duration in seconds as whole frames, rounded up (see ms_to_frames). Memoized: a
    script's few durations are converted again and again."""
    return ms_to_frames(seconds * 1000)


def seconds_to_frame(seconds: float) -> int:
    """The frame containing time `seconds` (s)."""
    return math.floor(round(seconds * 1000 / FRAME_MS, 9))
