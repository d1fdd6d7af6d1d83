"""Turning what was heard in a listening window into one dialog event.

The input gain is applied to measured levels, not to the audio: a segment's level and the
noise floor move by the gain, its signal-to-noise ratio does not. The detectors therefore see
the call exactly as recorded, whatever the dialog does, so their outputs can be computed once
per call and reused (replay, tuning). webrtcvad's own decisions barely depend on level above
its small energy threshold, which is what makes this a fair model of a gain stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ivr.detect.classify import Situation, classify_window
from ivr.detect.settings import DetectorSettings
from ivr.events import Segment


def with_gain(segments: Sequence[Segment], gain_db: float) -> list[Segment]:
    """Segments as heard through an input gain of `gain_db` (dB): levels move, SNR does not."""
    if not gain_db:
        return list(segments)
    return [
        replace(s, level_dbfs=s.level_dbfs + gain_db, floor_dbfs=s.floor_dbfs + gain_db)
        for s in segments
    ]


def is_choppy(segments: Sequence[Segment], settings: DetectorSettings) -> bool:
    """Speech cutting in and out: dropouts inside its segments and between its pieces, enough
    of them and often enough (DetectorSettings.choppy_min_gaps, choppy_min_rate_hz)."""
    if not segments:
        return False
    dropouts = sum(s.gaps for s in segments) + len(segments) - 1
    speech_s = sum(s.duration_s for s in segments)
    return dropouts >= settings.choppy_min_gaps and (
        dropouts / max(speech_s, 1e-9) >= settings.choppy_min_rate_hz
    )


def utterance_event(
    segments: Sequence[Segment], floor_dbfs: float, gain_db: float, settings: DetectorSettings
) -> str | None:
    """The dialog event for an utterance (speech, low_volume, noise, choppy), or None when
    it was too faint to count (a blip on a quiet line: keep waiting)."""
    heard = with_gain(segments, gain_db)
    situation = classify_window(heard, floor_dbfs + gain_db, settings)
    if situation is Situation.SILENCE:
        return None
    if situation is Situation.SPEECH and is_choppy(segments, settings):
        return "choppy"
    return str(situation)


def window_event(floor_dbfs: float, gain_db: float, settings: DetectorSettings) -> str:
    """The event when a listening window times out with no utterance: noise or noinput."""
    situation = classify_window([], floor_dbfs + gain_db, settings)
    return "noise" if situation is Situation.NOISE else "noinput"
