"""Voicing: whether a frame holds a periodic sound (a voice) or a noise-like one.

Speech is voiced for most of its length: the vocal folds make it periodic at the pitch (50-500
Hz). Breathing, hiss and the rush of a handset rubbed against a cheek are noise-like, yet
webrtcvad calls them voiced and they stand above the floor. The measure is the normalized
autocorrelation of 40 ms (the frame and the one before it) at its strongest lag between 2 ms
and 20 ms, corrected for the overlap shrinking with the lag: 0.6-0.8 on vowels of real and
synthesized speech (telephone band and office babble included), 0.1-0.3 on breath and white
noise (tests/unit/detect/test_detect_voicing.py). It is computed only for the frames of an onset
candidate, so it costs nothing while speech goes on.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE

VOICED_MIN = 0.45
"""Periodicity at or above which a frame is voiced speech (0-1)."""

RATE = SAMPLE_RATE // 2
"""The measure works at 8 kHz (pairs of samples averaged): a voice's pitch is far below 4 kHz,
and it costs a quarter."""

MIN_LAG = RATE // 500
"""Shortest pitch period searched (samples at RATE): 2 ms, 500 Hz."""

MAX_LAG = RATE // 50
"""Longest pitch period searched (samples at RATE): 20 ms, 50 Hz."""

_WINDOW = FRAME_SAMPLES  # 40 ms at RATE
_FFT = 512  # >= _WINDOW + MAX_LAG: no wrap-around
_LAGS = np.arange(MIN_LAG, MAX_LAG + 1)
_OVERLAP = _WINDOW / (_WINDOW - _LAGS)


def periodicity(previous: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Periodicity (0-1) of each of (n, 320) `frames`, each taken with the frame before it
    (`previous`: the frame before the first, 320 samples)."""
    x = np.concatenate((previous.reshape(1, -1), frames)).astype(np.float32, copy=False)
    x = x[:, 0::2] + x[:, 1::2]  # 8 kHz (doubled: the scale cancels out)
    pairs = np.concatenate((x[:-1], x[1:]), axis=1)  # the frames are high-passed: mean ~0
    spectrum = np.fft.rfft(pairs, _FFT, axis=1)
    r = np.fft.irfft((spectrum * spectrum.conj()).real, _FFT, axis=1)
    ratio = r[:, MIN_LAG : MAX_LAG + 1] * (_OVERLAP / np.maximum(r[:, :1], 1e-9))
    return np.clip(ratio.max(axis=1), 0.0, 1.0)


def voiced(previous: np.ndarray, frames: np.ndarray) -> np.ndarray:
    """Whether each frame is voiced speech (periodicity >= VOICED_MIN)."""
    return periodicity(previous, frames) >= VOICED_MIN
