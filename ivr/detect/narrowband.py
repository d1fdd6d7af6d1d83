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
    """(n, 320) float32 frames at 16 kHz -> (n, 160) float32 frames at 8 kHz. The front end
    gets the same bits from its high-pass pass (ivr.detect.highpass.HighPassed.narrow); this is
    the reference that pass is tested against."""
    pairs = filtered.reshape(filtered.shape[0], NARROW_SAMPLES, 2)
    return (pairs[:, :, 0] + pairs[:, :, 1]) * np.float32(0.5)


_GAIN = 2.0 / NARROW_SAMPLES**2
"""|DFT|^2 of a 160-sample frame -> the mean square of the tone it measures."""


def tone_bank(freqs_hz: np.ndarray) -> np.ndarray:
    """(160, 2k) float32: the cosines then the sines of the k frequencies (Hz) over a
    narrow-band frame, for `tone_powers`."""
    t = np.arange(NARROW_SAMPLES) / NARROW_RATE
    phase = 2 * np.pi * np.asarray(freqs_hz, dtype=np.float64)[None, :] * t[:, None]
    return np.concatenate([np.cos(phase), np.sin(phase)], axis=1).astype(np.float32)


def tone_powers(frames: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """(m, k): the mean square of the tone at each of `bank`'s k frequencies in each of the
    (m, 160) narrow-band frames (a DFT at exactly those frequencies: Goertzel's sums)."""
    sums = frames @ bank
    k = bank.shape[1] // 2
    return (sums[:, :k] ** 2 + sums[:, k:] ** 2) * _GAIN
