"""The dialog engine: a pure state machine that performs a call script in audio time.

It is driven by three inputs — detector events (speech started / ended, with the frame they
were decided at), playback-finished reports from the audio sink, and the passing of time
(`advance(now)`) — and answers with actions (play a prompt, stop it, hang up). It never reads a
clock: every time is a 20 ms frame boundary counted from the start of the call, so the same
engine runs live and in replay, and timing holds to the frame.

Rules (see the bugs list in ANCHORS.md): the no-input timer starts at the frame the last prompt
finished playing out and never runs while we speak; it is an absolute deadline that a blip
shorter than a word (no SpeechStarted) or a too-faint utterance does not move; an utterance
ends after `end_of_speech_s` of silence or at `max_speech_s`, so every listening state ends by
a timer whatever the detectors say; the whole call ends at the script's `max_call_s`. While a
prompt plays the callee's speech is not counted, unless the state allows barge-in.

Speech across the end of our prompt is heard from the frame a listening window starts, if the
heard part is itself a word; at the no-input deadline sound going on is judged (speech to us
keeps the window open, noise or faint sound ends it); an utterance cut off at max_speech is
judged by its own level and SNR so far (SpeechProgress). README: "What counts as speech, quiet,
noise".
"""

from __future__ import annotations

from collections import deque
from typing import Any, assert_never

from ivr.audio.format import SILENCE_DBFS, duration_frames, frames_to_seconds, ms_to_frames
from ivr.detect.settings import ClassifySettings, VadSettings
from ivr.engine.actions import EngineAction, HangUp, PlayPrompt
from ivr.engine.etiquette import Etiquette, HoldStep
from ivr.engine.hearing import Hearing
from ivr.engine.line import CARRIER_INTENT, LineInputs
from ivr.engine.recognized import RecognitionLike, recognition_details, understood_event
from ivr.engine.utterance import window_event
from ivr.engine.views import EngineViews
from ivr.events import (
    InputEvent,
    KeyPressed,
    MachineVerdict,
    Segment,
    SpeechEnded,
    SpeechProgress,
    SpeechStarted,
    ToneHeard,
)
from ivr.script.model import (
    Action,
    Goto,
    Hangup,
    Hold,
    Listen,
    Pause,
    Say,
    Script,
    SetInputGain,
    SetOutputVolume,
    State,
)
from ivr.timeline import (
    CallStarted,
    DialogEvent,
    EngineRecord,
    InputGain,
    InputIgnored,
    ListenStarted,
    OutputVolume,
    PauseFinished,
    PauseStarted,
    PromptFinished,
    PromptStarted,
    Recognized,
    SessionRecord,
    StateEntered,
    TimelineRecord,
)
from ivr.timeline import Hangup as HangupRecord


class _StartListening:
    """Queue marker: listen in the current state once the actions before it are done."""


_LISTEN = _StartListening()


class Engine(Hearing, LineInputs, Etiquette, EngineViews):
    """Performs one call of `script`. Feed it in frame order; read `log` for the timeline.

    `settings` are the classification thresholds; `onset_ms` is the voiced audio (ms) that
    makes a word, the detectors' `vad.onset_ms` (a blip shorter than that does not move the
    no-input deadline).
    """

    def __init__(
        self,
        script: Script,
        settings: ClassifySettings | None = None,
        recognizes: bool = False,
        onset_ms: int = VadSettings.onset_ms,
    ) -> None:
        self.script = script
        self.settings = settings or ClassifySettings()
        """The thresholds speech, quiet and noise are judged by."""
        self.recognizes = recognizes
        """Whether recognition results come in; without, speech is just `speech`."""
        self.log: list[TimelineRecord] = []
        """Timeline records in the order they happened (ivr.timeline)."""
        self.result: HangUp | None = None
        """The hang-up, once the call is over."""
        self.prompts_said: list[str] = []
        self.gain_db = 0.0
        """Input gain (dB) applied to the callee's measured levels."""
        self.volume_db = 0.0
        """Output volume of our prompts (dB)."""
        self.floor_dbfs = SILENCE_DBFS
        """The callee's noise floor (dBFS) as last reported by the session."""
        self._max_frame = duration_frames(script.max_call_s)
        self._state: State | None = None
        self._counters: dict[str, int] = {}
        self._queue: deque[Action | _StartListening | HoldStep] = deque()
        # idle | playing | pausing | listening | screening (answering-machine detection) |
        # awaiting_beep (a machine's greeting, before leaving a message) | done
        self._phase = "idle"
        self._pause_until = 0
        self._listen: Listen | None = None
        self._listen_start = 0
        self._deadline = 0  # absolute no-input deadline
        self._max_speech_frames = 0  # the listening window's max_speech_s in frames
        self._utterance: list = []  # closed segments of the utterance in progress
        self._heard: list[RecognitionLike] = []  # recognitions of the utterance in progress
        self._open_start: int | None = None  # start frame of the open speech segment
        self._heard_from = 0  # frame from which the open segment is heard
        self._utt_start = 0
        self._utt_end: int | None = None  # frame the utterance ends unless speech resumes
        self._vad_open: int | None = None  # start of the detectors' open segment, heard or not
        self._progress: Segment | None = None  # that segment as measured so far
        self._min_speech = max(1, ms_to_frames(onset_ms))  # voiced frames that make a word
        self._noise_heard = False  # an utterance of this window was noise, not speech
        self._speaking_at_deadline = False  # the callee was speaking to us at the deadline
        self._reason = "start"
        self._beep_until = 0  # awaiting_beep: the frame we stop waiting for the beep
        self._hold: Hold | None = None  # the hold under way
        self._hold_end = 0  # the frame the hold's time is up
        self._hold_callback_at: int | None = None  # the frame the hold offers a call back
        self._hold_waited = False  # the hold's last step was a wait (not a prompt)
        self._cue_said = False  # the utterance in progress got the still-listening prompt
        self._cue_playing = False  # the prompt playing is the still-listening prompt

    # --- inputs ---------------------------------------------------------------------------

    def start(self, frame: int = 0) -> list[EngineAction]:
        """Begin the call at `frame`: enter the start state."""
        out: list[EngineAction] = []
        self._record(CallStarted, frame, script=self.script.name)
        if self.script.amd is not None:
            self._phase = "screening"  # the script starts on the verdict (ivr.engine.line)
            return out
        self._enter(self.script.start, frame)
        self._run(frame, out)
        return out

    @property
    def done(self) -> bool:
        """Whether the call has hung up."""
        return self._phase == "done"

    @property
    def listening(self) -> bool:
        """Whether the callee's speech counts now."""
        return self._phase == "listening"

    def next_deadline(self) -> int | None:
        """The next frame at which a timer fires, or None when only inputs can move the call."""
        phase = self._phase
        if phase == "listening":
            if self._open_start is not None:
                due = self._max_speech_frame()
                if not self._speaking_at_deadline and self._progress is not None:
                    due = min(due, self._deadline)  # is what goes on speech to us?
            elif self._utt_end is not None:
                due = self._utt_end
                cue = self._cue_frame()
                if cue is not None and cue < due:
                    due = cue
            else:
                due = self._deadline
        elif phase == "pausing":
            due = self._pause_until
        elif phase == "awaiting_beep":
            due = self._beep_until
        elif phase == "done":
            return None
        else:
            return self._max_frame
        return due if due < self._max_frame else self._max_frame

    def _max_speech_frame(self) -> int:
        """The frame the utterance in progress reaches max_speech_s."""
        return self._utt_start + self._max_speech_frames

    def advance(self, now: int, floor_dbfs: float | None = None) -> list[EngineAction]:
        """Let time pass up to frame `now`: fire every timer due by then, in order."""
        out: list[EngineAction] = []
        if floor_dbfs is not None:
            self.floor_dbfs = floor_dbfs
        while True:
            due = self.next_deadline()
            if due is None or due > now:
                return out
            self._fire(due, out)

    def end(self, frame: int, outcome: str, reason: str) -> list[EngineAction]:
        """End the call from outside (Ctrl-C, a failed device) at `frame`, if still on."""
        out: list[EngineAction] = []
        if self._phase != "done":
            self._hang_up(frame, outcome, reason, out)
        return out

    def on_playback_finished(self, frame: int) -> list[EngineAction]:
        """The prompt's last sample was played out at `frame`."""
        out: list[EngineAction] = []
        if self._phase != "playing":
            return out
        self._record(PromptFinished, frame)
        if self._cue_playing:
            self._cue_finished(frame)
            return out
        self._phase = "idle"
        self._run(frame, out)
        return out

    def on_recognition(self, frame: int, result: RecognitionLike) -> None:
        """The recognizer's result for the speech segment ending now (before its SpeechEnded)."""
        if self._phase != "listening" or self._open_start is None:
            return
        self._heard.append(result)
        self._record(Recognized, frame, **recognition_details(result))

    def on_input(self, event: InputEvent) -> list[EngineAction]:
        """An input from the callee's side, at its decided frame (advance to that frame
        first)."""
        match event:
            case SpeechStarted() | SpeechEnded() | SpeechProgress():
                return self.on_speech(event)
            case KeyPressed():
                return self.on_input_event("dtmf", event.decided_frame, key=event.key)
            case ToneHeard():
                return self.on_tone(event)
            case MachineVerdict():
                return self.on_machine_verdict(event)
            case _:
                assert_never(event)

    def on_input_event(self, name: str, frame: int, **details: Any) -> list[EngineAction]:
        """A non-speech input at `frame` that the script handles as dialog event `name` (a
        key: `dtmf`, with `key`): an answer at once while we listen; it interrupts a barge-in
        prompt as speech does; while we speak otherwise, or pause, it is ignored."""
        out: list[EngineAction] = []
        self._barge_in(frame, out)
        if self._phase != "listening":
            self._record(InputIgnored, frame, input=name, **details)
            return out
        self._open_start, self._utterance, self._utt_end, self._heard = None, [], None, []
        self._dispatch(name, frame, out, **details)
        return out

    # --- timers ---------------------------------------------------------------------------

    def _fire(self, due: int, out: list[EngineAction]) -> None:
        if due >= self._max_frame:
            self._hang_up(due, "max_duration", f"call reached {self.script.max_call_s:g} s", out)
            return
        if self._phase == "pausing":
            self._record(PauseFinished, due)
            self._phase = "idle"
            self._run(due, out)
        elif self._phase == "awaiting_beep":
            self._beep_timed_out(due, out)
        elif self._open_start is not None and due < self._max_speech_frame():
            self._judge_at_deadline(due, out)
        elif self._open_start is not None:  # speaking for max_speech_s: the utterance ends
            self._max_speech(due, out)
        elif self._utt_end is not None and due < self._utt_end:
            self._say_still_listening(due, out)
        elif self._utt_end is not None:
            self._resolve_utterance(due, out)
        else:
            event = window_event(self.floor_dbfs, self.settings)
            if self._noise_heard:
                event = "noise"
            assert self._state is not None
            if event not in self._state.handlers:  # a state without noise handlers: the
                event = "noinput"  # window ended with no answer it takes (else it re-fires)
            self._dispatch(event, due, out, floor_dbfs=round(self.floor_dbfs, 1))

    def _understood(self, heard: list[RecognitionLike]) -> str:
        """The event for speech heard clearly: an intent, `unmatched`, `nomatch` or `speech`."""
        assert self._state is not None
        return understood_event(self._state, self.recognizes, heard, CARRIER_INTENT)

    # --- script ---------------------------------------------------------------------------

    def _dispatch(self, event: str, now: int, out: list[EngineAction], **details: Any) -> None:
        assert self._state is not None
        if event == CARRIER_INTENT:  # a carrier's recorded announcement, not the callee
            self._hang_up(now, event, "carrier announcement recognized", out)
            return
        count = self._counters.get(event, 0) + 1
        self._counters[event] = count
        handler = self._state.handler_for(event, count, details.get("key"))
        self._record(DialogEvent, now, event=event, count=count, **details)
        self._phase = "idle"
        self._reason = f"{event} #{count} in {self._state.name}"
        if handler is None:  # not handled here: keep listening to the same deadline
            self._start_listening(now, keep_deadline=True)
            return
        self._queue.clear()
        self._queue.extend(handler.actions)
        if not handler.actions or not isinstance(handler.actions[-1], Goto | Hangup):
            self._queue.append(_LISTEN)
        self._run(now, out)

    def _enter(self, name: str, now: int) -> None:
        state = self.script.states[name]
        self._state = state
        self._counters = {}
        self._queue.clear()
        self._queue.extend(Say(p) for p in state.say)
        if state.listen is not None:
            self._queue.append(_LISTEN)
        else:
            self._queue.extend(state.actions)
        self._record(StateEntered, now)

    def _run(self, now: int, out: list[EngineAction]) -> None:
        """Carry out queued actions until one takes time or the call ends."""
        while self._queue and self._phase == "idle":
            if now >= self._max_frame:
                self._hang_up(
                    now, "max_duration", f"call reached {self.script.max_call_s:g} s", out
                )
                return
            action = self._queue.popleft()
            match action:
                case _StartListening():
                    self._start_listening(now)
                case HoldStep():
                    self._hold_step(now)
                case Hold():
                    self._start_hold(action, now)
                case Say():
                    text = self.script.prompts[action.prompt]
                    out.append(PlayPrompt(action.prompt, text, now, self.volume_db))
                    self.prompts_said.append(action.prompt)
                    self._phase = "playing"
                    self._record(PromptStarted, now, prompt=action.prompt)
                case Pause():
                    self._pause_until = now + duration_frames(action.seconds)
                    self._phase = "pausing"
                    self._record(PauseStarted, now, seconds=action.seconds)
                case SetInputGain():
                    self.gain_db = action.db
                    self._record(InputGain, now, db=action.db)
                case SetOutputVolume():
                    self.volume_db = action.db
                    self._record(OutputVolume, now, db=action.db)
                case Goto():
                    self._enter(action.state, now)
                case Hangup():
                    self._hang_up(now, action.outcome, self._reason, out)
                case _:
                    assert_never(action)

    def _start_listening(self, now: int, keep_deadline: bool = False) -> None:
        assert self._state is not None and self._state.listen is not None
        self._listen = self._state.listen
        self._max_speech_frames = duration_frames(self._listen.max_speech_s)
        self._phase = "listening"
        self._utterance, self._utt_end, self._open_start = [], None, None
        self._heard = []
        if not keep_deadline:
            self._listen_start = now
            self._deadline = now + duration_frames(self._listen.noinput_timeout_s)
            self._noise_heard, self._speaking_at_deadline = False, False
            self._record(ListenStarted, now, deadline_s=frames_to_seconds(self._deadline))
        elif now >= self._deadline:
            self._deadline = now  # the window is over: time out at once
        if self._vad_open is not None:  # the callee is speaking as we start to listen
            self._hear(
                self._vad_open,
                now,
                now,
                began_s=round(frames_to_seconds(self._vad_open), 3),
            )

    def _hang_up(self, now: int, outcome: str, reason: str, out: list[EngineAction]) -> None:
        self._phase = "done"
        self._queue.clear()
        self.result = HangUp(now, outcome, reason)
        self._record(HangupRecord, now, outcome=outcome, reason=reason)
        out.append(self.result)

    def note(self, record: SessionRecord) -> None:
        """Add a record of the session's (e.g. a detector reading) to the timeline."""
        self.log.append(record)

    def _record(self, kind: type[EngineRecord], frame: int, **details: Any) -> None:
        """Add the engine's record of `kind` at `frame`, in the current state."""
        state = self._state.name if self._state is not None else None
        self.log.append(kind(frame=frame, state=state, **details))
