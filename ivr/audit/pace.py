"""Speaking rate from the level envelope: syllable nuclei per second of speech.

The method (after de Jong & Wempe 2009, "Praat script to detect syllable nuclei", simplified):
1. the agent's audio, as the front end reads it (16 kHz), is band-passed to 300-3000 Hz (where
   vowels carry their energy) and its level taken every 10 ms (`ENVELOPE_HZ`, dB);
2. that envelope is band-passed to 2-12 Hz (`SYLLABLE_BAND_HZ`): syllables come at 2-10 a
   second, slower swells and faster flicker are taken out;
3. each peak of the filtered envelope standing `PEAK_PROMINENCE_DB` above its neighbours, at
   least `PEAK_MIN_GAP_S` after the previous one, on a frame webrtcvad calls voiced and inside
   a speech segment, is a syllable nucleus.
The rate of a stretch is its nuclei over its speech (s). Read English speech (the Debian
pocketsphinx librivox recordings, 2.5-6.5 s each) measures 4.9-5.8 syllables/s by it, the same
time-compressed 1.7x (pitch kept) 5.9-8.4; a single clip under 2 s can measure 6.6. So a
stretch of several seconds tells a hurried agent from a calm one, not one word from another.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from ivr.audit.envelope_filters import SYLLABLE_PAD, peaks, syllable_band, vowel_band
from ivr.events import Segment

ENVELOPE_HZ = 100
"""Level envelope rate (values per second): one per 10 ms, two per 20 ms frame."""
HOP = SAMPLE_RATE // ENVELOPE_HZ
"""Samples per envelope value (160 at 16 kHz)."""
PER_FRAME = FRAME_SAMPLES // HOP
"""Envelope values per 20 ms frame."""
VOWEL_BAND_HZ = (300.0, 3000.0)
"""The band the envelope's level is measured in (Hz)."""
SYLLABLE_BAND_HZ = (2.0, 12.0)
"""The band of the envelope's own changes kept (Hz): syllables come at 2-10 a second."""
PEAK_PROMINENCE_DB = 2.0
"""How far (dB) a nucleus stands above the dips on either side."""
PEAK_MIN_GAP_S = 0.07
"""Closest two nuclei may be (s): 14 syllables a second at most."""


class LevelEnvelope:
    """Builds the 10 ms level envelope (dB) of blocks of frames fed in order (streaming: the
    band-pass keeps its state across blocks)."""

    def __init__(self) -> None:
        self._band = vowel_band()
        self._parts: list[np.ndarray] = []

    def feed(self, frames: np.ndarray) -> None:
        """Add a block of (n, 320) int16 frames."""
        y = self._band.filter(frames)
        power = (y.reshape(-1, HOP) ** 2).mean(axis=1)
        self._parts.append(10 * np.log10(power + 1.0))

    def values(self) -> np.ndarray:
        """The envelope so far (dB, one value per 10 ms)."""
        return np.concatenate(self._parts) if self._parts else np.zeros(0)


def nuclei(envelope_db: np.ndarray, voiced: np.ndarray, segments: list[Segment]) -> np.ndarray:
    """Frames (20 ms) of the syllable nuclei in `segments`, by the module's method; `voiced`
    is webrtcvad's per-frame decision."""
    if envelope_db.size <= SYLLABLE_PAD or not segments:
        return np.zeros(0, dtype=np.int64)
    smooth = syllable_band(envelope_db)
    gap = max(1, round(PEAK_MIN_GAP_S * ENVELOPE_HZ))
    found: list[np.ndarray] = []
    for s in segments:
        part = smooth[s.start * PER_FRAME : s.end * PER_FRAME]
        frames = s.start + peaks(part, gap, PEAK_PROMINENCE_DB) // PER_FRAME
        frames = frames[frames < voiced.size]
        found.append(frames[voiced[frames]])
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def stretches(segments: list[Segment], window_frames: int) -> Iterator[list[Segment]]:
    """The segments grouped in order into stretches of at least `window_frames` frames of
    speech; a last stretch shorter than half of that joins the one before (or is left out
    when there is none)."""
    group: list[Segment] = []
    speech = 0
    previous: list[Segment] | None = None
    for s in segments:
        group.append(s)
        speech += s.end - s.start
        if speech >= window_frames:
            if previous is not None:
                yield previous
            previous, group, speech = group, [], 0
    if group and speech * 2 >= window_frames:
        if previous is not None:
            yield previous
        previous = group
    elif group and previous is not None:
        previous = previous + group
    if previous is not None:
        yield previous
