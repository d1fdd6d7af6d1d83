"""What a listening window holds: silence, speech, speech too quiet, or a line too noisy.

These are exactly the situations the service standard handles (seed 000, section 二): no sound,
the callee too quiet (声音太小), and noise too loud to hear (杂音太大).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from ivr.call_settings import ClassifySettings
from ivr.detect.level import dbfs_to_power, power_to_dbfs
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


def is_clear(segment: Segment, floor_dbfs: float, settings: ClassifySettings) -> bool:
    """Whether a segment's speech stands clear of the noise (see classify_window)."""
    if max(floor_dbfs, segment.floor_dbfs) < settings.noisy_floor_dbfs:
        return segment.snr_db >= settings.min_snr_db
    peak = segment.snr_db if segment.peak_snr_db is None else segment.peak_snr_db
    return peak >= settings.noisy_min_snr_db


def classify_window(
    segments: Iterable[Segment], floor_dbfs: float, settings: ClassifySettings
) -> Situation:
    """Classify a window from its speech segments and its noise floor (dBFS).

    Speech that is clear of the noise wins: loud enough is `speech`, too quiet is
    `low_volume`. Clear means SNR >= min_snr_db on a quiet line; on a noisy line (the
    window's or the segment's floor at or above `noisy_floor_dbfs`) it means its loudest
    500 ms at least noisy_min_snr_db above the floor: intelligible (听得清) whatever the
    absolute floor. On a noisy line webrtcvad hears one long segment of babble with the
    callee's words inside it; the mean SNR of that segment is the babble's, its loudest part
    is the callee's. Otherwise a floor at or above `noisy_floor_dbfs`, or segments too close
    to the noise yet loud, make `noise`; anything else is `silence`.
    """
    segments = list(segments)
    clear = [s for s in segments if is_clear(s, floor_dbfs, settings)]
    if any(s.level_dbfs >= settings.low_volume_dbfs for s in clear):
        return Situation.SPEECH
    if clear:
        return Situation.LOW_VOLUME
    if floor_dbfs >= settings.noisy_floor_dbfs:
        return Situation.NOISE
    if any(segment_total_dbfs(s) >= settings.noisy_floor_dbfs for s in segments):
        return Situation.NOISE
    return Situation.SILENCE
