"""What a listening window holds: silence, speech, speech too quiet, or a line too noisy.

These are exactly the situations the service standard handles (seed 000, section 二): no sound,
the callee too quiet (声音太小), and noise too loud to hear (杂音太大).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from ivr.detect.level import dbfs_to_power, power_to_dbfs
from ivr.detect.settings import DetectorSettings
from ivr.events import Segment


class Situation(StrEnum):
    """Classification of a listening window."""

    SILENCE = "silence"
    """No speech and a quiet line."""
    SPEECH = "speech"
    """Speech loud enough and clear enough to answer."""
    LOW_VOLUME = "low_volume"
    """Speech was heard, clear of the noise, but its level is below `low_volume_dbfs`."""
    NOISE = "noise"
    """A noisy line: the floor is high, or what sounded like speech is too close to the noise."""


def segment_total_dbfs(segment: Segment) -> float:
    """Level of a segment with its noise put back (dBFS)."""
    total = dbfs_to_power(segment.level_dbfs) + dbfs_to_power(segment.floor_dbfs)
    return float(power_to_dbfs(total))


def classify_window(
    segments: Iterable[Segment], floor_dbfs: float, settings: DetectorSettings
) -> Situation:
    """Classify a window from its speech segments and its noise floor (dBFS).

    Speech that is clear of the noise (SNR >= min_snr_db) wins: loud enough is `speech`, too
    quiet is `low_volume`. Otherwise a floor at or above `noisy_floor_dbfs`, or segments too
    close to the noise yet loud, make `noise`; anything else is `silence`.
    """
    segments = list(segments)
    clear = [s for s in segments if s.snr_db >= settings.min_snr_db]
    if any(s.level_dbfs >= settings.low_volume_dbfs for s in clear):
        return Situation.SPEECH
    if clear:
        return Situation.LOW_VOLUME
    if floor_dbfs >= settings.noisy_floor_dbfs:
        return Situation.NOISE
    if any(segment_total_dbfs(s) >= settings.noisy_floor_dbfs for s in segments):
        return Situation.NOISE
    return Situation.SILENCE
