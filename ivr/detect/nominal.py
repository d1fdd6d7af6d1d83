"""What the line detectors first look at in every narrow-band frame, computed once for both:
each frame's mean square and, for the frames loud enough for either, the power at the nominal
frequencies of DTMF (its eight) and of the line tones (450, 950, 1400, 1800 Hz).

A frame that carries little of its energy at these frequencies cannot hold a key or a bank
tone, and most speech is dismissed on this alone (ivr.detect.keys.SCREEN_SHARE,
ivr.detect.tone_frames.SCREEN_SHARE); only the few other frames get the detectors' full banks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ivr.detect.keys import HIGH_HZ, LOW_HZ
from ivr.detect.narrowband import tone_bank, tone_powers
from ivr.detect.tone_frames import BANK_HZ, MIN_TONE_DBFS

KEY_HZ = LOW_HZ + HIGH_HZ
"""DTMF's row then column frequencies (Hz, ITU-T Q.23)."""
TONE_HZ = tuple(hz for hz, _ in BANK_HZ)
"""The cadence tone and the special information tone's frequencies (Hz)."""
LOUD_DBFS = MIN_TONE_DBFS
"""Frames quieter than this (dBFS, the 16 kHz frame's level) are looked at by neither: the
quietest line tone heard (keys need more); ivr.detect.tone_frames relies on it."""

_BANK = tone_bank(np.array(KEY_HZ + TONE_HZ))


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
    def of(cls, narrow: np.ndarray, level_dbfs: np.ndarray, energy: np.ndarray) -> NominalPowers:
        """The block's (n, 160) narrow-band frames with their 16 kHz levels (dBFS) and their
        mean squares `energy` (measured in the high-pass pass: ivr.detect.highpass.HighPassed)."""
        loud = np.flatnonzero(level_dbfs >= LOUD_DBFS)
        return cls(energy, loud, tone_powers(narrow[loud], _BANK))
