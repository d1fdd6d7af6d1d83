"""How the callee's speech is heard in a listening window: the engine's detector inputs.

A segment counts from the frame it is heard from (its start, or the start of the window when it
was already going on); the heard part must be a word; pieces make an utterance that ends after
end_of_speech_s, or at max_speech_s; at the no-input deadline sound going on is judged. The
state is named objects (ivr.engine.state): the `ListenWindow`, the `Utterance`, the detectors'
open segment (`DetectorSpeech`); the script's state and phase are the `ScriptRunner`'s it is
given. What it judges it hands back as a `Judged` dialog event for the engine to dispatch.
"""

from __future__ import annotations

from ivr.audio.format import SILENCE_DBFS, duration_frames, frames_to_seconds
from ivr.call_settings import ClassifySettings
from ivr.engine.dialog import CARRIER_INTENT, Judged, ScriptRunner
from ivr.engine.recognized import RecognitionLike, recognized_record, understood_event
from ivr.engine.state import DetectorSpeech, ListenWindow, Phase, Utterance
from ivr.engine.utterance import (
    deadline_verdict,
    max_speech_event,
    piece_levels,
    timed_out_event,
    utterance_event,
)
from ivr.events import Segment, SpeechEnded, SpeechProgress, SpeechStarted
from ivr.timeline import (
    InputIgnored,
    ListenStarted,
    MaxSpeech,
    SpeakingAtDeadline,
    SpeechContinues,
    SpeechIgnored,
    UtteranceIgnored,
)
from ivr.timeline import SpeechEnded as SpeechEndedRecord
from ivr.timeline import SpeechStarted as SpeechStartedRecord
from ivr.vocabulary import DialogEvent


class Hearing:
    """The callee's speech in the listening windows of `runner`'s script, judged by
    `settings`; `recognizes`: recognition results come in; `min_speech`: the voiced frames that
    make a word."""

    def __init__(
        self, runner: ScriptRunner, settings: ClassifySettings, recognizes: bool, min_speech: int
    ) -> None:
        self.runner = runner
        self.settings = settings
        self.recognizes = recognizes
        self.min_speech = min_speech
        self.floor_dbfs = SILENCE_DBFS
        """The callee's noise floor (dBFS) as last reported by the session."""
        self.window: ListenWindow | None = None
        """The listening window, from the first one on (a re-armed window keeps its deadline)."""
        self.utterance = Utterance()
        self.detected = DetectorSpeech()

    @property
    def listening(self) -> bool:
        """Whether the callee's speech counts now."""
        return self.runner.phase is Phase.LISTENING

    @property
    def current_window(self) -> ListenWindow:
        """The listening window (there is one once the call has listened)."""
        assert self.window is not None
        return self.window

    def on_recognition(self, frame: int, result: RecognitionLike) -> None:
        """The recognizer's result for the speech segment ending now (before its SpeechEnded)."""
        if not self.listening or self.utterance.open_start is None:
            return
        self.utterance.heard.append(result)
        self.runner.add(recognized_record(frame, self.runner.state_name, result))

    def take_input(self, name: str, frame: int, key: str | None) -> Judged | None:
        """A non-speech input `name` at `frame`: the dialog event while we listen (the
        utterance is dropped), else None (ignored, on the record)."""
        if not self.listening:
            self.runner.add(InputIgnored(frame, self.runner.state_name, input=name, key=key))
            return None
        self.utterance = Utterance()
        return Judged(name)

    def start_listening(self, now: int, keep_deadline: bool = False) -> None:
        """Open the state's listening window at `now` (`keep_deadline`: re-armed, keeping the
        deadline of the window before); speech going on is heard from now."""
        state = self.runner.state
        assert state is not None and state.listen is not None
        listen = state.listen
        self.runner.phase = Phase.LISTENING
        self.utterance = self._utterance_left()
        if not keep_deadline or self.window is None:
            deadline = now + duration_frames(listen.noinput_timeout_s)
            self.window = ListenWindow(listen, now, deadline)
            deadline_s = frames_to_seconds(deadline)
            self.runner.add(ListenStarted(now, self.runner.state_name, deadline_s=deadline_s))
        else:
            self.window.listen = listen
            if now >= self.window.deadline:
                self.window.deadline = now  # the window is over: time out at once
        began = self.detected.start
        if began is not None:  # the callee is speaking as we start to listen
            self._hear(began, now, now, began_s=round(frames_to_seconds(began), 3))

    def _utterance_left(self) -> Utterance:
        """A new utterance, heard from where the last one was."""
        return Utterance(start=self.utterance.start, heard_from=self.utterance.heard_from)

    def speech_detected(self, event: SpeechStarted) -> None:
        """The detectors hear speech from `event.frame` (counted or not)."""
        self.detected.start, self.detected.measured = event.frame, None

    def speech_measured(self, event: SpeechProgress, now: int) -> Judged | None:
        """The detectors' open segment as measured so far; past the deadline, first judged."""
        detected = self.detected
        if detected.start == event.segment.start:
            detected.measured = event.segment
            if self._past_deadline(now):
                return self.judge_at_deadline(now)  # first measured after it
        return None

    def _past_deadline(self, now: int) -> bool:
        """Whether speech heard in the window goes on past its deadline, not yet judged."""
        window = self.window
        if not self.listening or window is None:
            return False
        speaking = self.utterance.open_start is not None and now > window.deadline
        return speaking and not window.speaking_at_deadline

    def max_speech(self, due: int) -> Judged:
        """The utterance has lasted max_speech_s: it ends now, judged by what was heard."""
        self.utterance.open_start = None
        self.runner.add(MaxSpeech(due, self.runner.state_name))
        pieces, heard = self._pieces_so_far(), self.utterance.heard
        self.utterance = self._utterance_left()
        event: str = max_speech_event(pieces, self.floor_dbfs, self.runner.gain_db, self.settings)
        if event == DialogEvent.SPEECH:
            event = self.understood(heard)
        return Judged(event, piece_levels(pieces) if pieces else None)

    def understood(self, heard: list[RecognitionLike]) -> str:
        """The event for speech heard clearly: an intent, `unmatched`, `nomatch` or `speech`."""
        state = self.runner.state
        assert state is not None
        return understood_event(state, self.recognizes, heard, CARRIER_INTENT)

    def timed_out(self) -> str:
        """The event for a window that reached its deadline with nothing heard."""
        state = self.runner.state
        assert state is not None
        noise = self.current_window.noise_heard
        return timed_out_event(self.floor_dbfs, noise, state.handlers, self.settings)

    def _pieces_so_far(self) -> list[Segment]:
        """The utterance's closed pieces, and the open one as last measured."""
        measured = self.detected.measured
        return [*self.utterance.pieces, *([measured] if measured is not None else [])]

    def judge_at_deadline(self, now: int) -> Judged | None:
        """The no-input deadline while sound goes on: speech to us (clear, or too quiet, or
        choppy) keeps the window open until the utterance ends (None); noise, or sound too
        faint to count, ends the window now as `noise` or `noinput`."""
        pieces, window = self._pieces_so_far(), self.current_window
        gain_db = self.runner.gain_db
        verdict = deadline_verdict(
            pieces, self.floor_dbfs, gain_db, window.noise_heard, self.settings
        )
        levels = piece_levels(pieces)
        if verdict is None:
            window.speaking_at_deadline = True
            self.runner.add(
                SpeakingAtDeadline(
                    now,
                    self.runner.state_name,
                    pieces=levels.pieces,
                    level_dbfs=levels.level_dbfs,
                    snr_db=levels.snr_db,
                )
            )
            return None
        self.utterance = self._utterance_left()
        return Judged(verdict, levels)

    def speech_started(self, event: SpeechStarted, now: int) -> None:
        """A segment started (after any barge-in): heard if we listen, else ignored."""
        if not self.listening:
            self.runner.add(SpeechIgnored(now, self.runner.state_name, round(event.start_s, 3)))
            return
        self._hear(event.frame, max(event.frame, self.current_window.start), now)

    def _hear(self, start: int, heard_from: int, now: int, began_s: float | None = None) -> None:
        """Count the speech segment that started at `start` from frame `heard_from` on: a new
        segment (`speech_started`), or one going on as we start to listen (`speech_continues`,
        with `began_s` where it began)."""
        utt = self.utterance
        if not utt.started:
            utt.start = heard_from
            utt.cue_said = False
        utt.open_start, utt.heard_from, utt.end = start, heard_from, None
        start_s = round(frames_to_seconds(heard_from), 3)
        state = self.runner.state_name
        if heard_from > start:
            self.runner.add(SpeechContinues(now, state, speech_start_s=start_s, began_s=began_s))
        else:
            self.runner.add(SpeechStartedRecord(now, state, speech_start_s=start_s))

    def speech_ended(self, event: SpeechEnded, now: int) -> Judged | None:
        """A segment ended: a piece of the utterance if it was counted and is a word."""
        segment, utt = event.segment, self.utterance
        if self.detected.start == segment.start:
            self.detected.start, self.detected.measured = None, None
        open_start = utt.open_start
        if not self.listening or open_start is None:
            return None
        if not segment.start <= open_start < max(segment.end, segment.start + 1):
            return None  # not the segment the open speech is part of
        window = self.current_window
        utt.open_start = None
        if segment.end - utt.heard_from < self.min_speech:
            # what was heard of speech begun under our prompt is shorter than a word
            heard_s = round(frames_to_seconds(max(0, segment.end - utt.heard_from)), 3)
            self.runner.add(
                SpeechIgnored(
                    now,
                    self.runner.state_name,
                    speech_start_s=round(segment.start_s, 3),
                    speech_end_s=round(segment.end_s, 3),
                    heard_s=heard_s,
                )
            )
            if not utt.pieces and now >= window.deadline:
                return Judged(DialogEvent.NOINPUT)
            return None
        utt.pieces.append(segment)
        utt.end = max(segment.end + window.end_of_speech_frames, now)
        self.runner.add(
            SpeechEndedRecord(
                now,
                self.runner.state_name,
                speech_end_s=round(segment.end_s, 3),
                level_dbfs=segment.level_dbfs,
                snr_db=segment.snr_db,
            )
        )
        return None

    def resolve_utterance(self, now: int) -> Judged | None:
        """The utterance's end of speech passed: its dialog event, or None when it is not an
        answer (too faint, or noise) and the window goes on."""
        utt, window = self.utterance, self.current_window
        self.utterance = self._utterance_left()
        segments, gain_db = utt.pieces, self.runner.gain_db
        event: str | None = utterance_event(segments, self.floor_dbfs, gain_db, self.settings)
        if event == DialogEvent.SPEECH:
            event = self.understood(utt.heard)
        levels = piece_levels(segments)
        if event is None or event == DialogEvent.NOISE:
            # Too faint to count, or not clear of the noise: not an answer. The window goes on
            # to its deadline (the callee may still speak up); noise heard in it makes the
            # window's verdict `noise` (the standard's 杂音太大 is judged on the window).
            window.noise_heard = window.noise_heard or event == DialogEvent.NOISE
            self.runner.add(
                UtteranceIgnored(
                    now,
                    self.runner.state_name,
                    heard=event or "too faint",
                    pieces=levels.pieces,
                    level_dbfs=levels.level_dbfs,
                    snr_db=levels.snr_db,
                )
            )
            if now >= window.deadline:
                return Judged(DialogEvent.NOISE if window.noise_heard else DialogEvent.NOINPUT)
            return None
        return Judged(event, levels)
