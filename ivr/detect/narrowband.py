"""The telephone band of the front end's frames: each 20 ms frame at 8 kHz (160 samples), the
rate tone detectors are specified at (ITU-T Q.24 for DTMF, E.180 for call-progress tones).

Pairs of high-passed 16 kHz samples are averaged: a two-tap low-pass whose gain is
cos(pi f / 16 kHz) (-0.7 dB at 2 kHz, -3 dB at 4 kHz) before every other sample is kept. Speech
and line noise put little above 4 kHz, and tones nothing, so what folds back is small; every
frame stays independent of the others (no filter state), as the high-pass keeps them.
"""

from __future__ import annotations

import numpy as np

NARROW_RATE = 8000
"""Sample rate of the narrow-band frames (Hz)."""

NARROW_SAMPLES = 160
"""Samples per 20 ms narrow-band frame."""


def narrow_band(filtered: np.ndarray) -> np.ndarray:
    """(n, 320) float32 frames at 16 kHz -> (n, 160) float32 frames at 8 kHz."""
    pairs = filtered.reshape(filtered.shape[0], NARROW_SAMPLES, 2)
    return (pairs[:, :, 0] + pairs[:, :, 1]) * np.float32(0.5)
