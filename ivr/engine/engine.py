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

The engine composes its parts, each given the state it works on: the `ScriptRunner` (the
script's state, queue, counts and `Phase`: ivr.engine.dialog), the `Hearing` (the listening
window, the utterance, the detectors' open segment), the `LineInputs` (tones, the machine
verdict), the `Etiquette` (holds, the still-listening cue) and the `EngineViews`. Its records
go to the `Timeline` it is given (ivr.timeline.recorder).
"""

from __future__ import annotations

from typing import assert_never

from ivr.audio.format import ms_to_frames
from ivr.call_settings import ClassifySettings, VadSettings
from ivr.codec import kind_of
from ivr.engine.actions import EngineAction, HangUp, StopPrompt
from ivr.engine.dialog import HoldStep, Judged, ScriptRunner, StartListening
from ivr.engine.etiquette import Etiquette
from ivr.engine.hearing import Hearing
from ivr.engine.line import LineInputs
from ivr.engine.recognized import RecognitionLike
from ivr.engine.state import DetectorSpeech, HoldProgress, ListenWindow, Phase, Utterance
from ivr.engine.timers import max_speech_frame, next_due
from ivr.engine.views import EngineViews
from ivr.events import (
    InputEvent,
    KeyPressed,
    MachineVerdict,
    SpeechEnded,
    SpeechProgress,
    SpeechStarted,
    ToneHeard,
)
from ivr.script.model import Hold, Script
from ivr.timeline import (
    BargeIn,
    CallStarted,
    InputIgnored,
    PauseFinished,
    PromptFinished,
    Timeline,
    TimelineRecord,
)
from ivr.vocabulary import DialogEvent, Outcome


class Engine:
    """Performs one call of `script`. Feed it in frame order; its records go to `timeline`.

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
        timeline: Timeline | None = None,
    ) -> None:
        self.timeline = timeline if timeline is not None else Timeline()
        """Where the engine's records go (the session adds its own to the same)."""
        self.runner = ScriptRunner(script, self.timeline)
        min_speech = max(1, ms_to_frames(onset_ms))  # voiced frames that make a word
        settings = settings or ClassifySettings()
        self.hearing_part = Hearing(self.runner, settings, recognizes, min_speech)
        self.line = LineInputs(self.runner)
        self.etiquette = Etiquette(self.runner, self.hearing_part)
        self.views = EngineViews(self.runner, self.hearing_part, self.etiquette)

    # --- the parts' state, read by the call layer and the tests -----------------------------

    @property
    def script(self) -> Script:
        return self.runner.script

    @property
    def settings(self) -> ClassifySettings:
        """The thresholds speech, quiet and noise are judged by."""
        return self.hearing_part.settings

    @property
    def recognizes(self) -> bool:
        """Whether recognition results come in; without, speech is just `speech`."""
        return self.hearing_part.recognizes

    @property
    def result(self) -> HangUp | None:
        """The hang-up, once the call is over."""
        return self.runner.result

    @property
    def prompts_said(self) -> list[str]:
        return self.runner.prompts_said

    @property
    def gain_db(self) -> float:
        """Input gain (dB) applied to the callee's measured levels."""
        return self.runner.gain_db

    @property
    def volume_db(self) -> float:
        """Output volume of our prompts (dB)."""
        return self.runner.volume_db

    @property
    def floor_dbfs(self) -> float:
        """The callee's noise floor (dBFS) as last reported by the session."""
        return self.hearing_part.floor_dbfs

    @floor_dbfs.setter
    def floor_dbfs(self, value: float) -> None:
        self.hearing_part.floor_dbfs = value

    @property
    def phase(self) -> Phase:
        return self.runner.phase

    @property
    def window(self) -> ListenWindow | None:
        return self.hearing_part.window

    @property
    def utterance(self) -> Utterance:
        return self.hearing_part.utterance

    @property
    def detected(self) -> DetectorSpeech:
        return self.hearing_part.detected

    @property
    def hold(self) -> HoldProgress | None:
        return self.etiquette.hold

    @property
    def log(self) -> list[TimelineRecord]:
        """The timeline's records so far, in the order they happened (ivr.timeline)."""
        return self.timeline.records

    @property
    def done(self) -> bool:
        """Whether the call has hung up."""
        return self.runner.phase is Phase.DONE

    @property
    def listening(self) -> bool:
        """Whether the callee's speech counts now."""
        return self.hearing_part.listening

    # --- questions between inputs (ivr.engine.views) ----------------------------------------

    def hangs_up_by(self, playout_end: int | None) -> int:
        """A frame by which the call hangs up whatever the callee does (EngineViews)."""
        return self.views.hangs_up_by(playout_end)

    def barge_in_possible(self) -> bool:
        """Whether speech starting now would interrupt the prompt playing (barge-in)."""
        return self.views.barge_in_possible()

    def hearing(self) -> tuple[int, int] | None:
        """The speech segment being counted now: (its start frame, the frame it is heard
        from), or None."""
        return self.views.hearing()

    def is_hearing(self, start_frame: int) -> bool:
        """Whether the speech segment that started at `start_frame` is being counted."""
        return self.views.is_hearing(start_frame)

    def intents(self) -> dict[str, tuple[str, ...]]:
        """The intents the current state listens for, with the carrier phrases (EngineViews)."""
        return self.views.intents()

    def next_deadline(self) -> int | None:
        """The next frame at which a timer fires, or None when only inputs can move the call."""
        runner, hearing = self.runner, self.hearing_part
        phase = runner.phase
        waits = self.line.beep_until if phase is Phase.AWAITING_BEEP else runner.pause_until
        return next_due(
            phase, hearing.window, hearing.utterance, hearing.detected, waits, runner.max_frame
        )

    # --- inputs ---------------------------------------------------------------------------

    def start(self, frame: int = 0) -> list[EngineAction]:
        """Begin the call at `frame`: enter the start state."""
        out: list[EngineAction] = []
        runner = self.runner
        runner.add(CallStarted(frame, runner.state_name, script=runner.script.name))
        if runner.script.amd is not None:
            runner.phase = Phase.SCREENING  # the script starts on the verdict (ivr.engine.line)
            return out
        runner.enter(runner.script.start, frame)
        self._run(frame, out)
        return out

    def advance(self, now: int, floor_dbfs: float | None = None) -> list[EngineAction]:
        """Let time pass up to frame `now`: fire every timer due by then, in order."""
        out: list[EngineAction] = []
        if floor_dbfs is not None:
            self.hearing_part.floor_dbfs = floor_dbfs
        while True:
            due = self.next_deadline()
            if due is None or due > now:
                return out
            self._fire(due, out)

    def end(self, frame: int, outcome: str, reason: str) -> list[EngineAction]:
        """End the call from outside (Ctrl-C, a failed device) at `frame`, if still on."""
        out: list[EngineAction] = []
        if self.runner.phase is not Phase.DONE:
            self.runner.hang_up(frame, outcome, reason, out)
        return out

    def on_playback_finished(self, frame: int) -> list[EngineAction]:
        """The prompt's last sample was played out at `frame`."""
        out: list[EngineAction] = []
        runner = self.runner
        if runner.phase is not Phase.PLAYING:
            return out
        runner.add(PromptFinished(frame, runner.state_name))
        if self.etiquette.cue_playing:
            self.etiquette.cue_finished(frame)
            return out
        runner.phase = Phase.IDLE
        self._run(frame, out)
        return out

    def on_input(self, event: InputEvent) -> list[EngineAction]:
        """An input from the callee's side, at its decided frame (advance to that frame
        first)."""
        match event:
            case SpeechStarted() | SpeechEnded() | SpeechProgress():
                return self.on_speech(event)
            case KeyPressed():
                return self.on_input_event(DialogEvent.DTMF, event.decided_frame, event.key)
            case ToneHeard():
                return self._ran(event.decided_frame, self.line.on_tone(event))
            case MachineVerdict():
                return self._ran(event.decided_frame, self.line.on_machine_verdict(event))
            case _:  # an added detector's event (ivr.detect.detector): on the timeline only
                kind = kind_of(type(event))
                runner = self.runner
                runner.add(InputIgnored(event.decided_frame, runner.state_name, input=kind))
                return []

    def on_tone(self, event: ToneHeard) -> list[EngineAction]:
        """A line tone, at its decided frame (ivr.engine.line)."""
        return self._ran(event.decided_frame, self.line.on_tone(event))

    def on_machine_verdict(self, event: MachineVerdict) -> list[EngineAction]:
        """Answering-machine detection's verdict, at its decided frame (ivr.engine.line)."""
        return self._ran(event.decided_frame, self.line.on_machine_verdict(event))

    def on_recognition(self, frame: int, result: RecognitionLike) -> None:
        """The recognizer's result for the speech segment ending now (before its SpeechEnded)."""
        self.hearing_part.on_recognition(frame, result)

    def on_input_event(self, name: str, frame: int, key: str | None = None) -> list[EngineAction]:
        """A non-speech input at `frame` that the script handles as dialog event `name` (a
        key: `dtmf`, with `key`): an answer at once while we listen; it interrupts a barge-in
        prompt as speech does; while we speak otherwise, or pause, it is ignored."""
        out: list[EngineAction] = []
        self._barge_in(frame, out)
        self._dispatch(self.hearing_part.take_input(name, frame, key), frame, out, key=key)
        return out

    def on_speech(self, event: SpeechStarted | SpeechEnded | SpeechProgress) -> list[EngineAction]:
        """A speech detector's event, at its decided frame (advance to that frame first)."""
        out: list[EngineAction] = []
        now, hearing = event.decided_frame, self.hearing_part
        judged: Judged | None = None
        match event:
            case SpeechStarted():
                hearing.speech_detected(event)
                self._barge_in(now, out)
                hearing.speech_started(event, now)
            case SpeechEnded():
                judged = hearing.speech_ended(event, now)
            case SpeechProgress():
                judged = hearing.speech_measured(event, now)
            case _:
                assert_never(event)
        self._dispatch(judged, now, out)
        return out

    def _barge_in(self, now: int, out: list[EngineAction]) -> None:
        """If the prompt playing allows barge-in, cut it at `now` and listen from there."""
        runner = self.runner
        if self.etiquette.cue_playing:  # the still-listening prompt: the utterance goes on
            out.append(StopPrompt(now))
            runner.add(BargeIn(now, runner.state_name))
            self.etiquette.cue_finished(now)
        elif self.views.barge_in_possible():
            out.append(StopPrompt(now))
            runner.add(BargeIn(now, runner.state_name))
            runner.queue.clear()
            self.hearing_part.start_listening(now)

    # --- timers ---------------------------------------------------------------------------

    def _fire(self, due: int, out: list[EngineAction]) -> None:
        runner, hearing = self.runner, self.hearing_part
        utt = hearing.utterance
        if due >= runner.max_frame:
            runner.hang_up(due, Outcome.MAX_DURATION, runner.max_call_reason, out)
        elif runner.phase is Phase.PAUSING:
            runner.add(PauseFinished(due, runner.state_name))
            runner.phase = Phase.IDLE
            self._run(due, out)
        elif runner.phase is Phase.AWAITING_BEEP:
            self.line.beep_timed_out(due, out)
        elif utt.open_start is not None and due < max_speech_frame(hearing.current_window, utt):
            self._dispatch(hearing.judge_at_deadline(due), due, out)
        elif utt.open_start is not None:  # speaking for max_speech_s: the utterance ends
            self._dispatch(hearing.max_speech(due), due, out)
        elif utt.end is not None and due < utt.end:
            self.etiquette.say_still_listening(due, out)
        elif utt.end is not None:
            self._dispatch(hearing.resolve_utterance(due), due, out)
        else:
            floor_dbfs = round(hearing.floor_dbfs, 1)
            self._dispatch(Judged(hearing.timed_out()), due, out, floor_dbfs=floor_dbfs)

    # --- script ---------------------------------------------------------------------------

    def _dispatch(
        self,
        judged: Judged | None,
        now: int,
        out: list[EngineAction],
        floor_dbfs: float | None = None,
        key: str | None = None,
    ) -> None:
        """Dialog event `judged` at `now`, if any: its handler's actions, or, with no handler
        in the state, listening on to the same deadline."""
        if judged is None:
            return
        if self.runner.handle(judged, now, out, floor_dbfs=floor_dbfs, key=key):
            self._run(now, out)
        else:
            self.hearing_part.start_listening(now, keep_deadline=True)

    def _ran(self, now: int, out: list[EngineAction]) -> list[EngineAction]:
        """`out`, and the actions of a state a line input entered (ivr.engine.line)."""
        self._run(now, out)
        return out

    def _run(self, now: int, out: list[EngineAction]) -> None:
        """Carry out queued actions until one takes time or the call ends."""
        while (step := self.runner.run(now, out)) is not None:
            match step:
                case StartListening():
                    self.hearing_part.start_listening(now)
                case HoldStep():
                    self.etiquette.hold_step(now)
                case Hold():
                    self.etiquette.start_hold(step, now)
                case _:
                    assert_never(step)
