"""What the line detectors first look at in every narrow-band frame, computed once for both:
each frame's mean square and, for the frames loud enough for either, the power at the nominal
frequencies of DTMF (its eight) and of the line tones (450, 950, 1400, 1800 Hz).

A frame that carries little of its energy at these frequencies cannot hold a key or a bank
tone, and most speech is dismissed on this alone (ivr.detect.keys.SCREEN_SHARE,
ivr.detect.line_tones.SCREEN_SHARE); only the few other frames get the detectors' full banks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ivr.detect.narrowband import NARROW_RATE, NARROW_SAMPLES

KEY_HZ = (697.0, 770.0, 852.0, 941.0, 1209.0, 1336.0, 1477.0, 1633.0)
"""DTMF's row then column frequencies (Hz, ITU-T Q.23)."""
TONE_HZ = (450.0, 950.0, 1400.0, 1800.0)
"""The cadence tone and the special information tone's frequencies (Hz)."""
LOUD_DBFS = -45.0
"""Frames quieter than this (dBFS, the 16 kHz frame's level) are looked at by neither: the
quietest line tone heard (keys need more)."""

_FREQS = np.array(KEY_HZ + TONE_HZ)
_t = np.arange(NARROW_SAMPLES) / NARROW_RATE
_phase = 2 * np.pi * _FREQS[None, :] * _t[:, None]
_BANK = np.concatenate([np.cos(_phase), np.sin(_phase)], axis=1).astype(np.float32)
_GAIN = 2.0 / NARROW_SAMPLES**2  # |DFT|^2 -> the tone's mean square


@dataclass(frozen=True)
class NominalPowers:
    """A block's narrow-band frames as the line detectors first see them.

    `energy` is each frame's mean square (int16 units squared), `loud` the frames at or above
    LOUD_DBFS, and `power` (len(loud), 12) the mean square of the tone at each of KEY_HZ then
    TONE_HZ in each of them."""

    energy: np.ndarray
    loud: np.ndarray
    power: np.ndarray

    @classmethod
    def of(cls, narrow: np.ndarray, level_dbfs: np.ndarray) -> NominalPowers:
        energy = np.einsum("ij,ij->i", narrow, narrow) / np.float32(NARROW_SAMPLES)
        loud = np.flatnonzero(level_dbfs >= LOUD_DBFS)
        sums = narrow[loud] @ _BANK if loud.size else np.zeros((0, 2 * _FREQS.size), np.float32)
        half = _FREQS.size
        power = (sums[:, :half] ** 2 + sums[:, half:] ** 2) * np.float32(_GAIN)
        return cls(energy, loud, power)
