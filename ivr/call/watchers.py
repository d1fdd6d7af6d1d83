"""What follows the inputs around the engine in a call runner: the detector readings on the
timeline, the echo check of barge-in, and recognition of the speech the engine counts.

Each is an `InputWatcher` (ivr.call.runner); a session picks the ones it needs, in this order:
notes, recognition, echo check.
"""

from __future__ import annotations

from ivr.call.echo import EchoGuard
from ivr.call.recognition import AsrBackend, AudioRing, Utterance
from ivr.detect.classify import classify_window
from ivr.engine import Engine
from ivr.engine.utterance import with_gain
from ivr.events import InputEvent, Segment, SpeechEnded, SpeechProgress, SpeechStarted
from ivr.timeline import EchoIgnored, Timeline, VadEnd, VadOpen, VadStart


class Watcher:
    """An input watcher that does nothing; the watchers below override what they need."""

    def before(self, event: InputEvent) -> None:
        """Before the engine hears `event`."""

    def admits(self, event: InputEvent) -> bool:
        """Whether the engine hears `event` at all."""
        return True

    def after(self, event: InputEvent) -> None:
        """After the engine heard `event`."""

    def after_time(self, frame: int) -> None:
        """After our playout ended or a timer fired at `frame`."""


class DetectorNotes(Watcher):
    """Puts the detectors' readings on the timeline: each speech segment's start (`vad_start`)
    and its end with its levels (`vad_end`), at the frames they were decided; and, when the call
    hangs up with a segment still open, that segment as last measured (`vad_open`, at the
    hang-up's frame; none when it was never measured: QA then takes it for speech).

    Each segment carries `heard_as`: how the engine classifies that segment alone
    (classify_window with the call's ClassifySettings, at the engine's noise floor and input
    gain of the moment), so that QA tells the callee's speech from a noisy line's babble by the
    engine's own judgement."""

    def __init__(self, engine: Engine, timeline: Timeline) -> None:
        self.engine = engine
        self.timeline = timeline
        self._open: int | None = None  # start frame of the detectors' open segment
        self._measured: Segment | None = None  # that segment as last measured (SpeechProgress)
        self._hangup_noted = False

    def before(self, event: InputEvent) -> None:
        match event:
            case SpeechStarted():
                self._open, self._measured = event.frame, None
                self.timeline.add(VadStart(event.decided_frame, speech_start_s=event.start_s))
            case SpeechEnded():
                s = event.segment
                if self._open == s.start:
                    self._open, self._measured = None, None
                self.timeline.add(
                    VadEnd(
                        event.decided_frame,
                        speech_start_s=s.start_s,
                        speech_end_s=s.end_s,
                        level_dbfs=s.level_dbfs,
                        snr_db=s.snr_db,
                        floor_dbfs=s.floor_dbfs,
                        peak_snr_db=s.peak_snr_db,
                        heard_as=self.heard_as(s),
                    )
                )
            case SpeechProgress():
                if self._open == event.segment.start:
                    self._measured = event.segment
            case _:
                pass  # keys and line tones are on the engine's records

    def heard_as(self, segment: Segment) -> str:
        """The engine's classification of `segment` alone (a Situation's value), as the engine
        hears now: through its input gain (dB), against its noise floor (dBFS)."""
        engine = self.engine
        gain = engine.gain_db
        heard = classify_window(
            with_gain([segment], gain), engine.floor_dbfs + gain, engine.settings
        )
        return str(heard)

    def after(self, event: InputEvent) -> None:
        self._note_open_at_hangup()

    def after_time(self, frame: int) -> None:
        self._note_open_at_hangup()

    def _note_open_at_hangup(self) -> None:
        """Once the engine hung up: the segment still open, as last measured (`vad_open`)."""
        engine = self.engine
        if self._hangup_noted or engine.result is None:
            return
        self._hangup_noted = True
        s = self._measured
        if self._open is None or s is None:
            return
        self.timeline.add(
            VadOpen(
                engine.result.frame,
                speech_start_s=s.start_s,
                measured_to_s=s.end_s,
                level_dbfs=s.level_dbfs,
                snr_db=s.snr_db,
                floor_dbfs=s.floor_dbfs,
                heard_as=self.heard_as(s),
                peak_snr_db=s.peak_snr_db,
            )
        )


class EchoCheck(Watcher):
    """Speech starting while a barge-in prompt plays counts only if it is not our own echo."""

    def __init__(self, engine: Engine, guard: EchoGuard) -> None:
        self.engine = engine
        self.guard = guard

    def admits(self, event: InputEvent) -> bool:
        if isinstance(event, SpeechStarted):
            return not self.guard.is_echo(event, self.engine)
        return True


class NoEchoReference(Watcher):
    """Barge-in without the audio to tell the callee from our echo (the tuner): speech starting
    while a barge-in prompt plays is taken for echo, so barge-in states stay half-duplex."""

    def __init__(self, engine: Engine, timeline: Timeline) -> None:
        self.engine = engine
        self.timeline = timeline

    def admits(self, event: InputEvent) -> bool:
        if isinstance(event, SpeechStarted) and self.engine.barge_in_possible():
            self.timeline.add(EchoIgnored(event.decided_frame, coupling_db=None))
            return False
        return True


class RecognitionFeed(Watcher):
    """Recognizes each speech segment the engine counts, with `padding` of audio on either side,
    from the audio ring; the result goes to the engine just before the segment's end."""

    def __init__(self, engine: Engine, ring: AudioRing, asr: AsrBackend) -> None:
        self.engine = engine
        self.ring = ring
        self.asr = asr
        self._hearing: tuple[int, Utterance] | None = None  # (segment start, recognition)
        self._fed_until = 0

    def before(self, event: InputEvent) -> None:
        """Finish the segment's recognition with `padding` after its end; tell the engine."""
        if not isinstance(event, SpeechEnded) or self._hearing is None:
            return
        segment = event.segment
        if not segment.start <= self._hearing[0] < segment.end + 1:
            return
        self.feed(min(segment.end + self.asr.padding_frames, self.ring.end))
        result = self._hearing[1].finish()
        self._hearing = None
        self.engine.on_recognition(event.decided_frame, result)

    def after(self, event: InputEvent) -> None:
        """Start recognizing a segment the engine counts, from `padding` before its start."""
        if isinstance(event, SpeechStarted) and self.engine.is_hearing(event.frame):
            self._start(event.frame, event.frame, event.decided_frame)

    def after_time(self, frame: int) -> None:
        """Recognize speech that was going on when the engine started listening (it is heard
        from that frame on, so recognition starts there, less the padding)."""
        if self._hearing is not None:
            return
        heard = self.engine.hearing()
        if heard is not None:
            self._start(heard[0], heard[1], frame)

    def _start(self, start: int, heard_from: int, now: int) -> None:
        """Recognize the segment that started at `start` from `padding` before `heard_from`,
        fed the audio up to frame `now`."""
        first = max(heard_from - self.asr.padding_frames, self.ring.start)
        self._hearing = (start, self.asr.start(first, self.engine.intents()))
        self._fed_until = first
        self.feed(now)

    def feed(self, stop: int) -> None:
        """Give the recognition in progress the audio up to frame `stop`."""
        if self._hearing is None or stop <= self._fed_until:
            return
        self._hearing[1].accept(self.ring.get(self._fed_until, stop))
        self._fed_until = stop
