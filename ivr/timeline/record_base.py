"""The base classes of timeline records: the frame every record has, a fixed kind, the state
the engine was in (see ivr.timeline.records)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ivr.audio.format import frames_to_seconds


@dataclass(frozen=True, slots=True)
class _Record:
    """What every record has: the frame it happened at."""

    frame: int
    """20 ms frames from the start of the call."""

    @property
    def t(self) -> float:
        """The record's time (s from the start of the call, rounded to the ms)."""
        return round(frames_to_seconds(self.frame), 3)

    is_dialog_event: ClassVar[bool] = False
    """Whether this is an event the script handles (a `DialogEventRecord`, which has a count): the
    one place that says so."""


@dataclass(frozen=True, slots=True)
class _Fixed(_Record):
    """A record whose `event` is its kind."""

    kind: ClassVar[str]
    """The record's `event` in the timeline file."""

    @property
    def event(self) -> str:
        """The record's kind, as the timeline file names it."""
        return self.kind


@dataclass(frozen=True, slots=True)
class _EngineRecord(_Fixed):
    """A record the engine writes: with the state the call was in."""

    state: str | None
    """The state the call was in (None before the first state is entered)."""
