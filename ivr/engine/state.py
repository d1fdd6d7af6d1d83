"""The engine's state as named objects: the phase of the call, the listening window, the
utterance being heard, the detectors' open segment and the hold under way.

Frames are 20 ms frame boundaries counted from the start of the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ivr.audio.format import duration_frames
from ivr.engine.recognized import RecognitionLike
from ivr.events import Segment
from ivr.script.model import Hold, Listen


class Phase(StrEnum):
    """What the call is doing now."""

    IDLE = "idle"
    """Between actions: the next queued action runs."""
    PLAYING = "playing"
    """A prompt is playing."""
    PAUSING = "pausing"
    """A pause (or a hold's wait) is under way: nothing counts."""
    LISTENING = "listening"
    """A listening window is open: the callee's speech counts."""
    SCREENING = "screening"
    """Waiting for answering-machine detection's verdict before the script starts."""
    AWAITING_BEEP = "awaiting_beep"
    """A machine's greeting: waiting for its beep before leaving a message."""
    DONE = "done"
    """The call has hung up."""


@dataclass
class ListenWindow:
    """A listening window: from `start`, no-input `deadline` (absolute frame)."""

    listen: Listen
    """The state's listen settings."""
    start: int
    """The frame the window opened; speech going on is heard from here."""
    deadline: int
    """The no-input deadline (frame); a re-armed window keeps it."""
    noise_heard: bool = False
    """An utterance of this window was noise, not speech."""
    speaking_at_deadline: bool = False
    """The callee was speaking to us at the deadline: the window stays open."""

    @property
    def max_speech_frames(self) -> int:
        """The window's max_speech_s in frames."""
        return duration_frames(self.listen.max_speech_s)

    @property
    def end_of_speech_frames(self) -> int:
        """The window's end_of_speech_s in frames."""
        return duration_frames(self.listen.end_of_speech_s)


@dataclass
class Utterance:
    """The utterance being heard: its closed pieces, the open one, what recognition heard."""

    pieces: list[Segment] = field(default_factory=list)
    """Closed speech segments of the utterance."""
    heard: list[RecognitionLike] = field(default_factory=list)
    """Recognitions of its segments."""
    open_start: int | None = None
    """Start frame of the open speech segment counted, or None."""
    heard_from: int = 0
    """The frame from which the open segment is heard."""
    start: int = 0
    """The frame the utterance is heard from."""
    end: int | None = None
    """The frame it ends unless speech resumes (None: speech open, or none yet)."""
    cue_said: bool = False
    """It got the still-listening prompt."""

    @property
    def started(self) -> bool:
        """Whether any of it was heard (a piece closed, or its end pending)."""
        return self.end is not None or bool(self.pieces)


@dataclass
class DetectorSpeech:
    """The detectors' open speech segment, counted or not."""

    start: int | None = None
    """Its start frame, or None when the detectors hear no speech."""
    measured: Segment | None = None
    """It as measured so far (SpeechProgress), or None."""


@dataclass
class HoldProgress:
    """A hold under way (ivr.script.model.Hold)."""

    hold: Hold
    end: int
    """The frame the hold's time is up."""
    callback_at: int | None
    """The frame the hold offers a call back, or None."""
    waited: bool = False
    """Its last step was a wait (not a prompt)."""
