"""A whole recording through the detectors: segments, noise floor, SNR and classification, and
the line's telephone keys, tones and answering-machine verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ivr.audio.format import frames_to_seconds
from ivr.audio.source import FileSource
from ivr.call_settings import CallSettings
from ivr.detect.classify import Situation, classify_window
from ivr.detect.frontend import Detectors
from ivr.detect.line_tones import NETWORK_TONES
from ivr.detect.noise import FloorSummary
from ivr.events import KeyPressed, LineEvent, MachineVerdict, Segment, SpeechEnded, ToneHeard

AMD_ASSUMES = "the recording starts when the line is answered"
"""What answering-machine detection takes a recording for: it times the greeting and the
silences from the answer, as Asterisk's AMD() does on a call."""


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
    `frames` the length in 20 ms frames; `line_events` the telephone keys, tones and the
    answering-machine verdict in decided order; `track` holds per-frame outputs if asked for.
    """

    name: str
    frames: int
    segments: list[Segment]
    floor_dbfs: float
    floor_max_dbfs: float
    classification: Situation
    settings: CallSettings
    track: FrameTrack | None = field(default=None, repr=False)
    line_events: tuple[LineEvent, ...] = ()

    @property
    def keys(self) -> str:
        """The telephone keys pressed, in order (e.g. `13#`)."""
        return "".join(e.key for e in self.line_events if isinstance(e, KeyPressed))

    @property
    def tones(self) -> list[ToneHeard]:
        """The line tones recognized, in order."""
        return [e for e in self.line_events if isinstance(e, ToneHeard)]

    @property
    def machine_verdict(self) -> MachineVerdict | None:
        """Answering-machine detection's verdict on the recording's start (None: shorter than
        its analysis)."""
        return next((e for e in self.line_events if isinstance(e, MachineVerdict)), None)

    @property
    def line_outcome(self) -> str | None:
        """How the line detectors end a call on this recording, as a call's engine takes their
        events in decided order: `network_tone` (ringback, busy or congestion tone),
        `carrier_announcement` (the special information tone) or `machine` (the
        answering-machine verdict), whichever comes first; None when the verdict is a person
        (or not sure) before any of them, or nothing is decided."""
        for event in self.line_events:
            if isinstance(event, ToneHeard) and event.kind in NETWORK_TONES:
                return "network_tone"
            if isinstance(event, ToneHeard) and event.kind == "sit":
                return "carrier_announcement"
            if isinstance(event, MachineVerdict):
                return "machine" if event.verdict == "machine" else None
        return None

    @property
    def tone_outcome(self) -> str | None:
        """How the line's tones alone end a call on this recording (answering-machine
        detection left out): `network_tone` or `carrier_announcement`, whichever comes first;
        None without either."""
        for tone in self.tones:
            if tone.kind in NETWORK_TONES:
                return "network_tone"
            if tone.kind == "sit":
                return "carrier_announcement"
        return None

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

    def to_dict(self, amd: bool = True) -> dict[str, Any]:
        """A JSON-ready summary; without `amd`, no answering-machine verdict (`amd` None) and
        the line outcome from the tones alone."""
        return {
            "file": self.name,
            "duration_s": round(self.duration_s, 3),
            "classification": str(self.classification),
            "noise_floor_dbfs": round(self.floor_dbfs, 1),
            "noise_floor_max_dbfs": round(self.floor_max_dbfs, 1),
            "speech_s": round(self.speech_s, 3),
            "keys": [
                {
                    "key": e.key,
                    "start_s": round(frames_to_seconds(e.frame), 3),
                    "decided_s": round(frames_to_seconds(e.decided_frame), 3),
                }
                for e in self.line_events
                if isinstance(e, KeyPressed)
            ],
            "tones": [
                {
                    "tone": e.kind,
                    "start_s": round(frames_to_seconds(e.frame), 3),
                    "decided_s": round(frames_to_seconds(e.decided_frame), 3),
                    "frequency_hz": round(e.frequency_hz, 1),
                }
                for e in self.tones
            ],
            "line_outcome": self.line_outcome if amd else self.tone_outcome,
            "amd": (
                {
                    "verdict": v.verdict,
                    "cause": v.cause,
                    "decided_s": round(frames_to_seconds(v.decided_frame), 3),
                    "assumes": AMD_ASSUMES,
                }
                if amd and (v := self.machine_verdict) is not None
                else None
            ),
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
    line_events: list[LineEvent] = []
    parts: list[tuple[np.ndarray, ...]] = []
    for block in source.blocks():
        result = detectors.process(block)
        line_events += result.line_events
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
        line_events=tuple(line_events),
    )
