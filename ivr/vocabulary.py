"""The words a call is told in: the dialog events a script handles, and the outcomes a call ends
with when the program, not the script, decides them.

Both are `StrEnum`s: a member is its string (`DialogEvent.NOINPUT == "noinput"`), so YAML
scripts, timeline files and call logs keep the strings they always had.
"""

from __future__ import annotations

from enum import StrEnum


class DialogEvent(StrEnum):
    """The fixed dialog events a listening state can handle (besides its intents)."""

    NOINPUT = "noinput"
    """The no-input timeout passed with nothing heard."""
    SPEECH = "speech"
    """The callee said something clear enough to answer."""
    LOW_VOLUME = "low_volume"
    """The callee spoke, but too quietly (below the detector's low_volume_dbfs)."""
    NOISE = "noise"
    """The line is too noisy to hear (high floor, or speech too close to the noise)."""
    CHOPPY = "choppy"
    """The callee's speech cut in and out (many short pieces with gaps)."""
    NOMATCH = "nomatch"
    """Speech was heard but not understood by recognition."""
    DTMF = "dtmf"
    """The callee pressed a telephone key (the key is on the event's timeline record; a handler
    with `key:` answers that key only)."""


NO_PROGRESS_EVENTS: tuple[DialogEvent, ...] = (
    DialogEvent.NOINPUT,
    DialogEvent.LOW_VOLUME,
    DialogEvent.NOISE,
    DialogEvent.CHOPPY,
    DialogEvent.NOMATCH,
)
"""Events a line can produce forever without the callee ever answering (not an answer): an
escalation chain of these must end in a hang-up."""


class Outcome(StrEnum):
    """The outcomes the program decides; a script's hang-up gives its own labels (`answered`,
    `wrong_person`, ...), which are plain strings."""

    MAX_DURATION = "max_duration"
    """The call reached the script's max_call_s (or the end of cached audio, in the tuner)."""
    NETWORK_TONE = "network_tone"
    """Ringback, busy or congestion tone on an answered call: it reached no one."""
    CARRIER_ANNOUNCEMENT = "carrier_announcement"
    """A carrier's recorded announcement (special information tone, or its phrases)."""
    MACHINE = "machine"
    """An answering machine."""
    ABORTED = "aborted"
    """The user interrupted the call (Ctrl-C)."""
    DEVICE_ERROR = "device_error"
    """The audio device stopped or failed."""
    MEDIA_ERROR = "media_error"
    """Our SIP stack failed inside a call (a pjsua2 callback raised): the reason says where."""
    BUSY = "busy"
    """The line was busy (SIP 486/600)."""
    NO_ANSWER = "no_answer"
    """Nobody answered."""
    UNREACHABLE = "unreachable"
    """The call could not be placed, or nothing answered the request."""
    CALL_FAILED = "call_failed"
    """The call failed with a SIP status, or our answer was never confirmed."""


LINE_OUTCOMES: tuple[Outcome, ...] = (
    Outcome.NETWORK_TONE,
    Outcome.CARRIER_ANNOUNCEMENT,
    Outcome.MACHINE,
)
"""Outcomes of answered calls that never reached a person (the engine's line inputs)."""

NOBODY_REACHED: frozenset[str] = frozenset(
    {*LINE_OUTCOMES, Outcome.BUSY, Outcome.NO_ANSWER, Outcome.UNREACHABLE, Outcome.CALL_FAILED}
)
"""Outcomes of a call that reached no one, when nothing was said in it: it owes no closing."""
