"""How the callee's speech is heard in a listening window: the engine's detector inputs.

A segment counts from the frame it is heard from (its start, or the start of the window when it
was already going on); the heard part must be a word; pieces make an utterance that ends after
end_of_speech_s, or at max_speech_s; at the no-input deadline sound going on is judged. The
state lives in the Engine (ivr.engine.engine), which this class is a part of.
"""

from __future__ import annotations

from typing import Any, assert_never

from ivr.audio.format import duration_frames, frames_to_seconds
from ivr.engine.actions import EngineAction, StopPrompt
from ivr.engine.utterance import deadline_verdict, max_speech_event, piece_details, utterance_event
from ivr.events import DetectorEvent, SpeechEnded, SpeechProgress, SpeechStarted
from ivr.timeline import (
    BargeIn,
    MaxSpeech,
    SpeakingAtDeadline,
    SpeechContinues,
    SpeechIgnored,
    UtteranceIgnored,
)
from ivr.timeline import SpeechEnded as SpeechEndedRecord
from ivr.timeline import SpeechStarted as SpeechStartedRecord


class Hearing:
    """The Engine's handling of detector events and of the utterance they make.

    A part of `Engine`, which holds the state (the phase, the listening window, the open
    segment) and provides `_record`, `_dispatch`, `_start_listening`, `_understood` and
    `barge_in_possible`.
    """

    def on_speech(self, event: DetectorEvent) -> list[EngineAction]:
        """A speech detector's event, at its decided frame (advance to that frame first)."""
        out: list[EngineAction] = []
        now = event.decided_frame
        match event:
            case SpeechStarted():
                self._vad_open, self._progress = event.frame, None
                self._speech_started(event, now, out)
            case SpeechEnded():
                if self._vad_open == event.segment.start:
                    self._vad_open, self._progress = None, None
                self._speech_ended(event, now, out)
            case SpeechProgress():
                if self._vad_open == event.segment.start:
                    self._progress = event.segment
                    late = self._open_start is not None and now > self._deadline
                    if late and not self._speaking_at_deadline and self._phase == "listening":
                        self._judge_at_deadline(now, out)  # first measured after it
            case _:
                assert_never(event)
        return out

    def _max_speech(self, due: int, out: list[EngineAction]) -> None:
        """The utterance has lasted max_speech_s: it ends now, judged by what was heard."""
        self._open_start = None
        self._record(MaxSpeech, due)
        pieces, self._utterance, self._utt_end = self._pieces_so_far(), [], None
        event = max_speech_event(pieces, self.floor_dbfs, self.gain_db, self.settings)
        heard, self._heard = self._heard, []
        if event == "speech":
            event = self._understood(heard)
        self._dispatch(event, due, out, **(piece_details(pieces) if pieces else {}))

    def _pieces_so_far(self) -> list:
        """The utterance's closed pieces, and the open one as last measured."""
        return [*self._utterance, *([self._progress] if self._progress is not None else [])]

    def _judge_at_deadline(self, now: int, out: list[EngineAction]) -> None:
        """The no-input deadline while sound goes on: speech to us (clear, or too quiet, or
        choppy) keeps the window open until the utterance ends; noise, or sound too faint to
        count, ends the window now as `noise` or `noinput`."""
        pieces = self._pieces_so_far()
        verdict = deadline_verdict(
            pieces, self.floor_dbfs, self.gain_db, self._noise_heard, self.settings
        )
        if verdict is None:
            self._speaking_at_deadline = True
            self._record(SpeakingAtDeadline, now, **piece_details(pieces))
            return
        self._open_start, self._utterance, self._utt_end, self._heard = None, [], None, []
        self._dispatch(verdict, now, out, **piece_details(pieces))

    def _barge_in(self, now: int, out: list[EngineAction]) -> None:
        """If the prompt playing allows barge-in, cut it at `now` and listen from there."""
        if self._cue_playing:  # the still-listening prompt: the utterance goes on
            out.append(StopPrompt(now))
            self._record(BargeIn, now)
            self._cue_finished(now)
        elif self.barge_in_possible():
            out.append(StopPrompt(now))
            self._record(BargeIn, now)
            self._queue.clear()
            self._start_listening(now)

    def _speech_started(self, event: SpeechStarted, now: int, out: list[EngineAction]) -> None:
        self._barge_in(now, out)
        if self._phase != "listening":
            self._record(SpeechIgnored, now, speech_start_s=round(event.start_s, 3))
            return
        self._hear(event.frame, max(event.frame, self._listen_start), now)

    def _hear(self, start: int, heard_from: int, now: int, **details: Any) -> None:
        """Count the speech segment that started at `start` from frame `heard_from` on: a new
        segment (`speech_started`), or one going on as we start to listen (`speech_continues`,
        with `began_s` where it began)."""
        if self._utt_end is None and not self._utterance:
            self._utt_start = heard_from
            self._cue_said = False
        self._open_start = start
        self._heard_from = heard_from
        self._utt_end = None
        kind = SpeechContinues if heard_from > start else SpeechStartedRecord
        self._record(kind, now, speech_start_s=round(frames_to_seconds(heard_from), 3), **details)

    def _speech_ended(self, event: SpeechEnded, now: int, out: list[EngineAction]) -> None:
        segment = event.segment
        open_start = self._open_start
        if self._phase != "listening" or open_start is None:
            return
        if not segment.start <= open_start < max(segment.end, segment.start + 1):
            return  # not the segment the open speech is part of
        assert self._listen is not None
        self._open_start = None
        if segment.end - self._heard_from < self._min_speech:
            # what was heard of speech begun under our prompt is shorter than a word
            self._record(
                SpeechIgnored,
                now,
                speech_start_s=round(segment.start_s, 3),
                speech_end_s=round(segment.end_s, 3),
                heard_s=round(frames_to_seconds(max(0, segment.end - self._heard_from)), 3),
            )
            if not self._utterance and now >= self._deadline:
                self._dispatch("noinput", now, out)
            return
        self._utterance.append(segment)
        self._utt_end = max(segment.end + duration_frames(self._listen.end_of_speech_s), now)
        self._record(
            SpeechEndedRecord,
            now,
            speech_end_s=round(segment.end_s, 3),
            level_dbfs=segment.level_dbfs,
            snr_db=segment.snr_db,
        )

    def _resolve_utterance(self, now: int, out: list[EngineAction]) -> None:
        segments, self._utterance, self._utt_end = self._utterance, [], None
        heard, self._heard = self._heard, []
        event = utterance_event(segments, self.floor_dbfs, self.gain_db, self.settings)
        if event == "speech":
            event = self._understood(heard)
        details = piece_details(segments)
        if event is None or event == "noise":
            # Too faint to count, or not clear of the noise: not an answer. The window goes on
            # to its deadline (the callee may still speak up); noise heard in it makes the
            # window's verdict `noise` (the standard's 杂音太大 is judged on the window).
            self._noise_heard = self._noise_heard or event == "noise"
            self._record(UtteranceIgnored, now, heard=event or "too faint", **details)
            if now >= self._deadline:
                self._dispatch("noise" if self._noise_heard else "noinput", now, out)
            return
        self._dispatch(event, now, out, **details)
