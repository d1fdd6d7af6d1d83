"""What a detector of the front end is: the block it is given, what it gives back, and how a
new one is added.

The front end (ivr.detect.frontend.Detectors) measures every block once: the speech band, the
frame levels, the noise floor, webrtcvad's voicing with the telephone tones taken out. A
`Detector` reads those measures (`Block`) and returns the events it decided in the block, by
decided frame; the front end hands them on with the line's other events (keys, tones, the
answering-machine verdict), and a call runner gives them to the engine.

A new detector is one module: the detector, its event (a small frozen dataclass with a
`decided_frame`, as those of ivr.events) and its settings group, a frozen dataclass with
`_ranges` like those of ivr.call_settings and a `detector` class attribute naming the
detector's class, built with the group. Adding the group as a field of FrontEndSettings
(`knock: KnockSettings = field(default_factory=KnockSettings)`) adds the detector: its settings
take the field's name (`--set knock.threshold_dbfs=-20`), key the tuning cache, and its events
are kept there and reach the engine and the timeline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np


@dataclass(frozen=True)
class Block:
    """The front end's measures of one block of frames starting at absolute frame `base`.

    `frames` is the audio as it came ((n, 320) int16), `band` the speech band (300-3400 Hz,
    float), `level_dbfs` each frame's level in it (dBFS), `floor_dbfs` the noise floor in force
    (dBFS), `voiced` webrtcvad's decision with the telephone tones taken out, `tone` the frames
    that hold a DTMF pair or a pure tone, `tones` the line tones recognized in the block."""

    base: int
    frames: np.ndarray
    band: np.ndarray
    level_dbfs: np.ndarray
    floor_dbfs: np.ndarray
    voiced: np.ndarray
    tone: np.ndarray
    tones: tuple[Any, ...] = ()


class Detector(Protocol):
    """One detector of the front end, fed every block in order."""

    events: ClassVar[tuple[type, ...]]
    """The classes of the events it returns (the tuning cache keeps them by these)."""

    def process(self, block: Block) -> Sequence[Any]:
        """The events decided in the block, each with its `decided_frame`."""
        ...

    @property
    def at_rest(self) -> bool:
        """Whether more of the same audio (digital silence after a call) can give no event."""
        ...

    def finish(self, frames_seen: int) -> Sequence[Any]:
        """End of audio after `frames_seen` frames: the events still open."""
        ...


def added_detectors(settings: Any) -> list[Any]:
    """The settings groups of `settings` (a FrontEndSettings) that name a detector to add (a
    `detector` class attribute), in field order."""
    groups = (getattr(settings, f.name) for f in dataclasses.fields(settings))
    return [g for g in groups if dataclasses.is_dataclass(g) and hasattr(type(g), "detector")]


def added_event_classes(settings: Any) -> tuple[type, ...]:
    """The event classes of the detectors `settings` adds."""
    return tuple(cls for g in added_detectors(settings) for cls in type(g).detector.events)
