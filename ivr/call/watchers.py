"""What follows the inputs around the engine in a call runner: the detector readings on the
timeline, the echo check of barge-in, and recognition of the speech the engine counts.

Each is an `InputWatcher` (ivr.call.runner); a session picks the ones it needs, in this order:
notes, recognition, echo check.
"""

from __future__ import annotations

from ivr.call.echo import EchoGuard
from ivr.call.recognition import AsrBackend, AudioRing, Utterance
from ivr.engine import Engine
from ivr.events import InputEvent, SpeechEnded, SpeechStarted
from ivr.timeline import EchoIgnored, VadEnd, VadStart


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
    and its end with its levels (`vad_end`), at the frames they were decided."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def before(self, event: InputEvent) -> None:
        match event:
            case SpeechStarted():
                self.engine.note(VadStart(event.decided_frame, speech_start_s=event.start_s))
            case SpeechEnded():
                s = event.segment
                self.engine.note(
                    VadEnd(
                        event.decided_frame,
                        speech_start_s=s.start_s,
                        speech_end_s=s.end_s,
                        level_dbfs=s.level_dbfs,
                        snr_db=s.snr_db,
                        floor_dbfs=s.floor_dbfs,
                    )
                )
            case _:
                pass  # progress reports are the engine's own input; keys are on its records


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

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def admits(self, event: InputEvent) -> bool:
        if isinstance(event, SpeechStarted) and self.engine.barge_in_possible():
            self.engine.note(EchoIgnored(event.decided_frame, coupling_db=None))
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
