"""A whole recording through the detectors: segments, noise floor, SNR and classification."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ivr.audio.format import frames_to_seconds
from ivr.audio.source import FileSource
from ivr.detect.classify import Situation, classify_window
from ivr.detect.frontend import Detectors
from ivr.detect.noise import FloorSummary
from ivr.detect.settings import CallSettings
from ivr.events import Segment, SpeechEnded


@dataclass(frozen=True)
class FrameTrack:
    """Per-frame detector outputs of a whole recording (kept only on request)."""

    voiced: np.ndarray
    speech: np.ndarray
    level_dbfs: np.ndarray
    floor_dbfs: np.ndarray


@dataclass(frozen=True)
class Analysis:
    """What the detectors saw in one recording.

    `floor_dbfs` is the median noise floor (dBFS), `floor_max_dbfs` its highest estimate,
    `frames` the length in 20 ms frames; `track` holds per-frame outputs if asked for.
    """

    name: str
    frames: int
    segments: list[Segment]
    floor_dbfs: float
    floor_max_dbfs: float
    classification: Situation
    settings: CallSettings
    track: FrameTrack | None = field(default=None, repr=False)

    @property
    def duration_s(self) -> float:
        """Length (s)."""
        return frames_to_seconds(self.frames)

    @property
    def speech_s(self) -> float:
        """Total speech (s)."""
        return frames_to_seconds(sum(s.end - s.start for s in self.segments))

    def speech_mask(self) -> np.ndarray:
        """Per-frame bool: inside a speech segment (start to end, as decided afterwards)."""
        mask = np.zeros(self.frames, dtype=bool)
        for s in self.segments:
            mask[s.start : s.end] = True
        return mask

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "file": self.name,
            "duration_s": round(self.duration_s, 3),
            "classification": str(self.classification),
            "noise_floor_dbfs": round(self.floor_dbfs, 1),
            "noise_floor_max_dbfs": round(self.floor_max_dbfs, 1),
            "speech_s": round(self.speech_s, 3),
            "segments": [
                {
                    "start_s": round(s.start_s, 3),
                    "end_s": round(s.end_s, 3),
                    "level_dbfs": s.level_dbfs,
                    "snr_db": s.snr_db,
                    "floor_dbfs": s.floor_dbfs,
                }
                for s in self.segments
            ],
        }


def analyze(
    source: FileSource, settings: CallSettings | None = None, keep_frames: bool = False
) -> Analysis:
    """Run the detectors over a whole source. Memory stays flat unless `keep_frames`."""
    settings = settings or CallSettings()
    detectors = Detectors(settings.front_end)
    summary = FloorSummary()
    segments: list[Segment] = []
    parts: list[tuple[np.ndarray, ...]] = []
    for block in source.blocks():
        result = detectors.process(block)
        summary.add(result.floor_estimates)
        segments.extend(e.segment for e in result.events if isinstance(e, SpeechEnded))
        if keep_frames:
            parts.append((result.voiced, result.speech, result.level_dbfs, result.floor_dbfs))
    segments.extend(e.segment for e in detectors.finish() if isinstance(e, SpeechEnded))
    if not summary.count:  # shorter than one hop: take the floor of what there was
        summary.add(np.array([detectors.floor_dbfs]))
    track = None
    if keep_frames:
        columns = [np.concatenate(c) if c else np.zeros(0) for c in zip(*parts, strict=True)]
        track = FrameTrack(*columns) if parts else None
    floor = summary.median()
    return Analysis(
        name=source.name,
        frames=detectors.frames_seen,
        segments=segments,
        floor_dbfs=floor,
        floor_max_dbfs=summary.maximum,
        classification=classify_window(segments, floor, settings.classify),
        settings=settings,
        track=track,
    )
