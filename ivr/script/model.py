"""Call scripts as typed data: prompts, states, listen settings, count handlers and actions.

A state says its prompts, then either listens (with a no-input timeout counted from the end of
the last prompt's playout, an end-of-speech silence and a maximum speech length) and answers
dialog events with VoiceXML-style count handlers, or runs its actions directly. Within a state
each event has a counter (reset when the state is entered); the handler with the highest count
not above the counter runs. A handler that neither goes to another state nor hangs up makes
the state listen again (without saying the state's own prompts again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ivr.vocabulary import DialogEvent

EVENTS: tuple[DialogEvent, ...] = tuple(DialogEvent)
"""Dialog events a listening state can handle besides its intents (ivr.vocabulary.DialogEvent:
noinput, speech, low_volume, noise, choppy, nomatch, dtmf)."""

DTMF_KEYS = "0123456789*#ABCD"
"""The keys of a telephone keypad (A-D: the fourth column some keypads have)."""

HOLD_PROMPTS = ("hold_start", "hold_progress", "hold_return")
"""Prompts a script that puts callers on hold must have: said when the hold starts (seed 000
三、8 01 请您稍等片刻), every `every_s` while it lasts (三、8 03 我正在帮您查询,请您再稍等一会)
and when it ends (三、9 01 非常感谢您的耐心等待)."""

STILL_LISTENING_PROMPT = "still_listening"
"""The prompt a listening state with `still_listening_after_s` says when the callee stops in
the middle of what they are explaining (seed 000 三、6 01 我在听,您尽管说!)."""

DIRECTIONS = ("outbound", "inbound")
"""Who placed the call: we did (outbound) or the customer did (inbound)."""

QA_LIMITS = {"max_reprompts": (0, 20), "answer_within_ms": (1, 60_000)}
"""A script's `qa:` limits and the range each may take (re-prompts; ms)."""

QA_NOINPUT_MAX_S = 60.0
"""Largest bound `qa: noinput_s` may give (s): the longest noinput_timeout_s a state may have."""


@dataclass(frozen=True)
class SecondsRange:
    """A range of times the standard allows, bounds included (s)."""

    low_s: float
    high_s: float
    line: int = 0
    """Line of the range in the script file (for messages)."""

    def __contains__(self, seconds: float) -> bool:
        """Whether `seconds` (s) lies in the range (to 1 µs: 3.5000000001 is 3.5)."""
        return self.low_s - 1e-6 <= seconds <= self.high_s + 1e-6

    def __str__(self) -> str:
        return f"{self.low_s:g}-{self.high_s:g} s"


@dataclass(frozen=True)
class Say:
    """Play a prompt (by id)."""

    prompt: str


@dataclass(frozen=True)
class Pause:
    """Stay silent and do not listen for `seconds` (s)."""

    seconds: float


@dataclass(frozen=True)
class SetInputGain:
    """Set the input gain (dB, absolute): it applies to the callee's measured levels (speech
    and noise floor), not to the audio the detectors hear (ivr.engine.utterance)."""

    db: float


@dataclass(frozen=True)
class SetOutputVolume:
    """Set the level of our prompts relative to their rendering (dB, absolute)."""

    db: float


@dataclass(frozen=True)
class Goto:
    """Enter another state (its counters start again at zero)."""

    state: str


@dataclass(frozen=True)
class HangupAction:
    """The script's `hangup:` action: end the call with an outcome label (e.g. answered,
    no_answer, low_volume). The engine carries it out as its `HangUp` action
    (ivr.engine.actions); the timeline records it as `HungUp` (ivr.timeline)."""

    outcome: str


@dataclass(frozen=True)
class Hold:
    """Put the callee on hold for `seconds` (s), as seed 000 三、8/三、9 prescribe: say
    `hold_start`; then, each time `every_s` (s) of silence have passed since a hold prompt
    finished playing out, say `hold_progress`; when `seconds` have passed since the hold began,
    say `hold_return` and go on with the next action. With `callback` (a state), a hold that
    reaches `callback_after_s` (s) goes to that state instead (三、8 04: past 2 minutes, offer
    to call back), which says the offer. The callee's speech does not count while on hold."""

    seconds: float
    every_s: float = 30.0
    callback_after_s: float = 120.0
    callback: str | None = None


Action = Say | Pause | SetInputGain | SetOutputVolume | Goto | HangupAction | Hold


@dataclass(frozen=True)
class Listen:
    """How a state listens. Times in seconds."""

    noinput_timeout_s: float
    """Silence (s) after the end of our last prompt's playout before `noinput`."""
    end_of_speech_s: float
    """Silence (s) after the callee's last speech that ends an utterance."""
    max_speech_s: float
    """Longest utterance (s): at this length it ends whatever the detectors say."""
    barge_in: bool = False
    """Whether the callee's speech counts while a prompt plays (off: half-duplex)."""
    still_listening_after_s: float | None = None
    """A pause (s) inside an utterance that has lasted `still_listening_min_speech_s` which gets
    the `still_listening` prompt (seed 000 三、6: 我在听,您尽管说!) instead of waiting out
    end_of_speech_s; must be shorter than end_of_speech_s. The callee's speech cuts the prompt
    short, and the utterance goes on: it ends end_of_speech_s after the prompt's playout, or
    after the callee's next pause. None: off."""
    still_listening_min_speech_s: float = 2.0
    """How long (s, from the utterance's first speech to the pause) the callee must have been
    explaining for a pause to get the still-listening prompt: a short answer ("是的") is
    waited out as usual."""


@dataclass(frozen=True)
class Handler:
    """What to do on the `count`-th (or later) occurrence of `event` in a state."""

    event: str
    count: int
    actions: tuple[Action, ...]
    line: int = 0
    """Line of the handler in the script file (for messages)."""
    key: str | None = None
    """For `dtmf`: the telephone key this handler answers (None: any key)."""


@dataclass(frozen=True)
class State:
    """One step of a script."""

    name: str
    say: tuple[str, ...] = ()
    """Prompts said on entering the state, in order."""
    listen: Listen | None = None
    """How to listen afterwards; None for a state that only runs `actions`."""
    handlers: dict[str, tuple[Handler, ...]] = field(default_factory=dict)
    """Event -> its handlers, sorted by count."""
    actions: tuple[Action, ...] = ()
    """For a state that does not listen: what to do after its prompts (ends in goto/hangup)."""
    intents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Intent name -> the phrases that express it (words separated by spaces, as the speech
    model spells them). A recognized intent is raised as an event of that name; speech that
    matches none is `unmatched`; without a recognizer, speech is `speech`."""
    unmatched: str = "nomatch"
    """The event for recognized speech that matches no intent: `nomatch` (ask again) or
    `speech` (take it as an answer, e.g. a caller's free request)."""
    line: int = 0

    def handler_for(self, event: str, counter: int, key: str | None = None) -> Handler | None:
        """The handler with the highest count <= `counter`, or None; for a `dtmf` event of
        telephone key `key`, among the handlers of that key, else those of any key."""
        chosen = None
        handlers = self.handlers.get(event, ())
        if key is not None and any(h.key == key for h in handlers):
            handlers = tuple(h for h in handlers if h.key == key)
        else:
            handlers = tuple(h for h in handlers if h.key is None)
        for handler in handlers:
            if handler.count <= counter:
                chosen = handler
        return chosen


@dataclass(frozen=True)
class MachineDetection:
    """A script's `amd:`: answering-machine detection at the start of the call.

    Until the detector's verdict (at most `amd.total_analysis_time_ms` after the answer) the
    script does not start; a human (or a verdict of not sure) starts it; a machine hangs up
    with outcome `machine`, or, with `leave_message`, waits up to `beep_timeout_s` for the
    greeting's beep and then enters that state (which says the message)."""

    settings: dict[str, float] = field(default_factory=dict)
    """The script's values of the detector's `amd.*` settings (ms, a count, dBFS), by name
    without the `amd.` prefix; the rest keep Asterisk's defaults (ivr.detect.amd)."""
    leave_message: str | None = None
    """The state to enter once the beep has been heard; None: hang up as `machine`."""
    beep_timeout_s: float = 20.0
    """How long (s) after the verdict to wait for the beep before hanging up as `machine`."""


@dataclass(frozen=True)
class Script:
    """A loaded, validated call script with its prompt texts filled in."""

    name: str
    path: str
    start: str
    prompts: dict[str, str]
    """Prompt id -> text with every placeholder filled."""
    states: dict[str, State]
    max_call_s: float = 300.0
    """Hard limit on a call's length (s): the call hangs up with outcome `max_duration`."""
    description: str = ""
    direction: str = "outbound"
    """`outbound` (we call the customer) or `inbound` (the customer calls us)."""
    templates: dict[str, str] = field(default_factory=dict)
    """Prompt id -> text as written, `{placeholders}` unfilled (empty: the same as `prompts`)."""
    qa: dict[str, int] = field(default_factory=dict)
    """The standard's QA limits for calls of this script, by name (`max_reprompts`: re-prompts
    after silence; `answer_within_ms`: ms from the end of the callee's speech to our answer);
    see ivr.qa.score.QaSettings."""
    qa_noinput_s: SecondsRange | None = None
    """The no-input wait (s) the standard allows before a re-prompt (`qa: noinput_s: [low,
    high]`), or None if the script gives none. No QA item scores it: `ivr tune` warns when a
    setting it recommends (or the script's own noinput_timeout_s) lies outside it."""
    amd: MachineDetection | None = None
    """Answering-machine detection before the script starts; None: the script starts at once."""
    carrier_phrases: tuple[str, ...] = ()
    """Phrases of carriers' recorded announcements (您拨打的电话已关机, words separated by
    spaces as the speech model spells them): recognized speech that contains one ends the call
    as `carrier_announcement`, in any state."""

    @cached_property
    def allows_barge_in(self) -> bool:
        """Whether any listening state lets the callee's speech cut our prompt short."""
        return any(s.listen is not None and s.listen.barge_in for s in self.states.values())
