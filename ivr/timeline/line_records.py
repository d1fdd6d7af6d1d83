"""The engine's timeline records of what a telephone line says besides speech (tones, the
answering-machine verdict) and of the etiquette around it (hold, the still-listening cue)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ivr.timeline.record_base import _EngineRecord


@dataclass(frozen=True, slots=True)
class LineTone(_EngineRecord):
    """A telephone-line tone was recognized (ringback, busy, congestion, sit, beep)."""

    kind: ClassVar[str] = "line_tone"
    tone: str
    """Which tone (ivr.events.TONE_KINDS)."""
    tone_start_s: float
    """Where it began (s)."""
    frequency_hz: float
    """Its measured frequency (Hz)."""


@dataclass(frozen=True, slots=True)
class MachineDetected(_EngineRecord):
    """Answering-machine detection's verdict: `human`, `machine` or `notsure`."""

    kind: ClassVar[str] = "amd"
    verdict: str
    cause: str
    """Asterisk AMD's cause, e.g. LONGGREETING-1500-1500 (ms figures)."""


@dataclass(frozen=True, slots=True)
class HoldStarted(_EngineRecord):
    """The callee was put on hold for `seconds` (s)."""

    kind: ClassVar[str] = "hold_started"
    seconds: float


@dataclass(frozen=True, slots=True)
class HoldEnded(_EngineRecord):
    """The hold ended: `how` is `returned` (its time was up) or `callback` (it reached the
    offer to call back)."""

    kind: ClassVar[str] = "hold_ended"
    how: str


@dataclass(frozen=True, slots=True)
class StillListening(_EngineRecord):
    """The callee stopped in the middle of what they were explaining: we say we are listening
    (the utterance goes on)."""

    kind: ClassVar[str] = "still_listening"
    pause_s: float
    """How long the callee had been silent (s)."""
