"""The records of a call's timeline: one small frozen class per kind of record.

Every record has `frame` (20 ms frames from the start of the call), `t` (s, derived from it,
rounded to the ms) and `event`: the kind of record, or for a dialog event the event's name
(`noinput`, `speech`, an intent, ...). The engine's records carry the `state` the call was in
(None before the first state is entered); the session's records (`vad_*`, `prompt_out`,
`streams`) carry none. The other fields are named as in the JSON-lines file
(ivr.timeline.files) and appear there in the order they are declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ivr.timeline.line_records import (
    HoldEnded,
    HoldStarted,
    LineTone,
    MachineDetected,
    StillListening,
)
from ivr.timeline.record_base import _EngineRecord, _Fixed, _Record

# --- the engine's records -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallStarted(_EngineRecord):
    """The call began with `script`."""

    kind: ClassVar[str] = "call_started"
    script: str


@dataclass(frozen=True, slots=True)
class StateEntered(_EngineRecord):
    """The call entered `state`."""

    kind: ClassVar[str] = "state_entered"


@dataclass(frozen=True, slots=True)
class PromptStarted(_EngineRecord):
    """A prompt began to play (its first sample is due at `frame`)."""

    kind: ClassVar[str] = "prompt_started"
    prompt: str
    """The prompt's id in the script."""


@dataclass(frozen=True, slots=True)
class PromptFinished(_EngineRecord):
    """The prompt's last sample was played out."""

    kind: ClassVar[str] = "prompt_finished"


@dataclass(frozen=True, slots=True)
class PauseStarted(_EngineRecord):
    """A pause of `seconds` began."""

    kind: ClassVar[str] = "pause_started"
    seconds: float
    """The pause's length (s)."""


@dataclass(frozen=True, slots=True)
class PauseFinished(_EngineRecord):
    """The pause is over."""

    kind: ClassVar[str] = "pause_finished"


@dataclass(frozen=True, slots=True)
class InputGain(_EngineRecord):
    """The callee's input gain was set."""

    kind: ClassVar[str] = "input_gain"
    db: float
    """The gain (dB) applied to the callee's measured levels from now on."""


@dataclass(frozen=True, slots=True)
class OutputVolume(_EngineRecord):
    """The volume of our prompts was set."""

    kind: ClassVar[str] = "output_volume"
    db: float
    """The volume (dB) of our prompts from now on."""


@dataclass(frozen=True, slots=True)
class ListenStarted(_EngineRecord):
    """A listening window opened, its no-input timer armed."""

    kind: ClassVar[str] = "listen_started"
    deadline_s: float
    """The no-input deadline (s from the start of the call)."""


@dataclass(frozen=True, slots=True)
class HungUp(_EngineRecord):
    """The call hung up: the record of the engine's `HangUp` action (ivr.engine.actions), which
    carries out the script's `HangupAction` or ends the call from outside."""

    kind: ClassVar[str] = "hangup"
    outcome: str
    reason: str


@dataclass(frozen=True, slots=True)
class Recognized(_EngineRecord):
    """What recognition made of a speech segment."""

    kind: ClassVar[str] = "recognized"
    text: str
    """The grammar's result ("" when it found nothing)."""
    intent: str | None
    confidence: float
    """0..1."""
    rejected: bool
    reason: str
    """Why the result was rejected (or where it came from)."""
    words: list
    """[word, start_s, end_s, confidence] per word, times in s from the start of the call."""
    free_text: str
    """The free transcription of the same speech."""


@dataclass(frozen=True, slots=True)
class MaxSpeech(_EngineRecord):
    """The utterance reached the state's max_speech_s and ends now."""

    kind: ClassVar[str] = "max_speech"


@dataclass(frozen=True, slots=True)
class SpeakingAtDeadline(_EngineRecord):
    """At the no-input deadline the callee was speaking to us: the window stays open."""

    kind: ClassVar[str] = "speaking_at_deadline"
    pieces: int
    """Pieces of the utterance so far."""
    level_dbfs: float
    """The loudest piece's level (dBFS)."""
    snr_db: float
    """The best piece's signal-to-noise ratio (dB)."""


@dataclass(frozen=True, slots=True)
class BargeIn(_EngineRecord):
    """The callee's speech stopped our prompt."""

    kind: ClassVar[str] = "barge_in"


@dataclass(frozen=True, slots=True)
class SpeechIgnored(_EngineRecord):
    """Speech that did not count: begun while we spoke (`speech_start_s` only), or heard for
    less than a word after our prompt ended (with its end and `heard_s`)."""

    kind: ClassVar[str] = "speech_ignored"
    speech_start_s: float
    """Where the speech began (s)."""
    speech_end_s: float | None = None
    """Where it ended (s), when it was heard for less than a word."""
    heard_s: float | None = None
    """How much of it was heard (s), when it was heard for less than a word."""


@dataclass(frozen=True, slots=True)
class SpeechStarted(_EngineRecord):
    """Speech that counts began."""

    kind: ClassVar[str] = "speech_started"
    speech_start_s: float
    """Where it began (s)."""


@dataclass(frozen=True, slots=True)
class SpeechContinues(_EngineRecord):
    """Speech going on as the window opened is heard from `speech_start_s`."""

    kind: ClassVar[str] = "speech_continues"
    speech_start_s: float
    """Where it is heard from (s): the start of the window."""
    began_s: float | None = None
    """Where it began (s), under our prompt; None when it began before the window opened
    but while we listened (the window restarted with the speech going on)."""


@dataclass(frozen=True, slots=True)
class SpeechEnded(_EngineRecord):
    """A counted speech segment ended."""

    kind: ClassVar[str] = "speech_ended"
    speech_end_s: float
    """Where it ended (s)."""
    level_dbfs: float
    """Its active level (dBFS)."""
    snr_db: float
    """Its signal-to-noise ratio (dB)."""


@dataclass(frozen=True, slots=True)
class UtteranceIgnored(_EngineRecord):
    """An utterance that is not an answer: too faint, or not clear of the noise."""

    kind: ClassVar[str] = "utterance_ignored"
    heard: str
    """What it was taken for: `noise` or `too faint`."""
    pieces: int
    level_dbfs: float
    """The loudest piece's level (dBFS)."""
    snr_db: float
    """The best piece's signal-to-noise ratio (dB)."""


@dataclass(frozen=True, slots=True)
class InputIgnored(_EngineRecord):
    """A non-speech input (a telephone key: `dtmf`) that came while we spoke (and barge-in was
    off), or while we paused: not counted; or the event of a detector the engine has no use for
    (ivr.detect.detector), at any time."""

    kind: ClassVar[str] = "input_ignored"
    input: str
    """The dialog event it would have been (`dtmf`), or the detector event's kind (its class
    name in snake case, ivr.codec.kind_of)."""
    key: str | None = None
    """For a key: which (0-9, *, #, A-D)."""


@dataclass(frozen=True, slots=True)
class DialogEventRecord(_Record):
    """The record of a dialog event (ivr.vocabulary.DialogEvent, or an intent): an event the
    script handles (`noinput`, `noise`, `speech`, `low_volume`, `choppy`,
    `nomatch`, `unmatched`, `dtmf` or an intent of the state), with its count in the state."""

    kind: ClassVar[str] = "dialog"
    is_dialog_event: ClassVar[bool] = True
    state: str | None
    """The state that handles it."""
    event: str
    """The event's name."""
    count: int
    """How many times it has happened in this state, this one included."""
    floor_dbfs: float | None = None
    """For a timed-out window: the noise floor (dBFS) it was judged on."""
    pieces: int | None = None
    """For an utterance: its pieces."""
    level_dbfs: float | None = None
    """For an utterance: its loudest piece's level (dBFS)."""
    snr_db: float | None = None
    """For an utterance: its best piece's signal-to-noise ratio (dB)."""
    key: str | None = None
    """For `dtmf`: the telephone key pressed (0-9, *, #, A-D)."""


# --- the session's records ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VadStart(_Fixed):
    """The detectors decided a speech segment began (heard or not)."""

    kind: ClassVar[str] = "vad_start"
    speech_start_s: float
    """Where it began (s)."""


@dataclass(frozen=True, slots=True)
class VadEnd(_Fixed):
    """The detectors decided a speech segment ended (heard or not)."""

    kind: ClassVar[str] = "vad_end"
    speech_start_s: float
    """Where it began (s)."""
    speech_end_s: float
    """Where it ended (s)."""
    level_dbfs: float
    """Its active level (dBFS)."""
    snr_db: float
    """Its signal-to-noise ratio (dB)."""
    floor_dbfs: float
    """The noise floor under it (dBFS)."""
    peak_snr_db: float | None = None
    """Signal-to-noise ratio of its loudest 500 ms (dB); None: not measured."""
    heard_as: str | None = None
    """How the engine classifies this segment alone (ivr.detect.classify.Situation: `speech`,
    `low_volume`, `noise` or `silence`); only `speech` and `low_volume` are the callee speaking
    (CALLEE_SPEECH). None: not judged (older timelines), taken for the callee's speech."""


@dataclass(frozen=True, slots=True)
class VadOpen(_Fixed):
    """At the hang-up (`frame`), a speech segment the detectors had not ended, as last measured
    while it lasted."""

    kind: ClassVar[str] = "vad_open"
    speech_start_s: float
    """Where it began (s)."""
    measured_to_s: float
    """Where it was last measured up to (s)."""
    level_dbfs: float
    """Its active level so far (dBFS)."""
    snr_db: float
    """Its signal-to-noise ratio so far (dB)."""
    floor_dbfs: float
    """The noise floor under it (dBFS)."""
    heard_as: str
    """How the engine classifies it alone, as measured so far (see VadEnd.heard_as)."""
    peak_snr_db: float | None = None
    """Signal-to-noise ratio of its loudest 500 ms so far (dB); None: not measured."""


CALLEE_SPEECH = frozenset({"speech", "low_volume"})
"""The classifications (`heard_as`) of a detector segment that are the callee speaking: clear of
the noise, loud enough or too quiet. A `noise` or `silence` segment is the line, not the callee."""


@dataclass(frozen=True, slots=True)
class PromptOut(_Fixed):
    """On a live call: the prompt started at `frame` left the speaker."""

    kind: ClassVar[str] = "prompt_out"
    prompt: str
    start_latency_ms: float
    """From the frame its timer fired to its first sample leaving the speaker (ms)."""
    processing_ms: float
    """From that frame's arrival to the engine's decision (ms)."""


@dataclass(frozen=True, slots=True)
class Streams(_Fixed):
    """On a live call, at its end: the audio streams' trouble counts."""

    kind: ClassVar[str] = "streams"
    input_overflows: int
    output_underruns: int


@dataclass(frozen=True, slots=True)
class EchoIgnored(_Fixed):
    """Speech starting while a barge-in prompt played, taken for our own echo."""

    kind: ClassVar[str] = "echo_ignored"
    coupling_db: float | None
    """The measured echo coupling (dB, heard minus played); None when it could not be
    measured (no audio of our side, or too little of it)."""


EngineRecord = (
    CallStarted
    | StateEntered
    | PromptStarted
    | PromptFinished
    | PauseStarted
    | PauseFinished
    | InputGain
    | OutputVolume
    | ListenStarted
    | HungUp
    | Recognized
    | MaxSpeech
    | SpeakingAtDeadline
    | BargeIn
    | SpeechIgnored
    | SpeechStarted
    | SpeechContinues
    | SpeechEnded
    | UtteranceIgnored
    | InputIgnored
    | DialogEventRecord
    | LineTone
    | MachineDetected
    | HoldStarted
    | HoldEnded
    | StillListening
)
"""A record the engine writes."""

SessionRecord = VadStart | VadEnd | VadOpen | PromptOut | Streams | EchoIgnored
"""A record the session (replay or live) adds to the engine's timeline."""

TimelineRecord = EngineRecord | SessionRecord
"""Any record of a timeline."""

RECORD_CLASSES: tuple[type, ...] = (*EngineRecord.__args__, *SessionRecord.__args__)
"""Every record class, DialogEventRecord included."""

KINDS: dict[str, type] = {cls.kind: cls for cls in RECORD_CLASSES if cls is not DialogEventRecord}
"""The record class of each fixed kind (`event` in the file); dialog events are told by their
`count`."""
