"""Evaluating a script on cached detector outputs: a call runner without the audio.

A `CachedSession` runs the very call runner `ivr replay` runs (ivr.call.runner: the engine and
the frame-ordered hand-over of inputs, playouts and timers) on detector outputs from the cache,
so a call comes out the same, event for event, as plain replay with the same settings
(tested). Prompts take their rendered length (the `PromptLengths` port); no recording is
written. Barge-in needs the audio to tell the callee from our echo, so here barge-in states
stay half-duplex.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, ms_to_frames
from ivr.call.recognition import AsrBackend, AudioRing
from ivr.call.runner import CallRunner, InputWatcher
from ivr.call.watchers import DetectorNotes, NoEchoReference, RecognitionFeed
from ivr.call_settings import CallSettings
from ivr.engine import Engine
from ivr.script.model import Script
from ivr.timeline import Timeline
from ivr.transports.replay import PromptLengths
from ivr.tune.cache import CachedCall
from ivr.tune.metrics import CallRun
from ivr.vocabulary import Outcome


def call_frames(script: Script) -> int:
    """Frames of audio a call of `script` can last (its max_call_s, plus one frame)."""
    return ms_to_frames(script.max_call_s * 1000) + 1


class SilentRing(AudioRing):
    """An audio ring for recognition without the audio: `frames` frames of silence, all held.
    Reference transcripts (ivr.call.recognition.ReferenceBackend) need only the frame numbers
    of what they are fed, so the tuner can run them on cached detector outputs."""

    def __init__(self, frames: int) -> None:
        super().__init__()
        self.frames = frames

    @property
    def start(self) -> int:
        return 0

    @property
    def end(self) -> int:
        return self.frames

    def get(self, first: int, stop: int) -> np.ndarray:
        first, stop = max(first, 0), min(stop, self.frames)
        return np.zeros((max(stop - first, 0), FRAME_SAMPLES), dtype=np.int16)


class CachedSession:
    """One call replayed from cached detector outputs."""

    def __init__(
        self,
        cached: CachedCall,
        script: Script,
        prompt_frames: Mapping[str, int],
        settings: CallSettings | None = None,
        detector_notes: bool = True,
        asr: AsrBackend | None = None,
    ) -> None:
        """`prompt_frames`: prompt text -> rendered length (frames). `detector_notes`: whether
        the timeline gets the detector readings (`vad_*` records) as in replay; a sweep leaves
        them out: the dialog is the same without them. `asr`: a recognition that needs no
        audio (reference transcripts), or None for detector-only calls."""
        settings = settings or CallSettings()
        self.cached = cached
        timeline = Timeline()
        self.engine = Engine(
            script,
            settings.classify,
            recognizes=asr is not None,
            onset_ms=settings.front_end.vad.onset_ms,
            timeline=timeline,
        )
        watchers: list[InputWatcher] = []
        if detector_notes:
            watchers.append(DetectorNotes(self.engine, timeline))
        if asr is not None:
            watchers.append(RecognitionFeed(self.engine, SilentRing(cached.frames), asr))
        if script.allows_barge_in:
            watchers.append(NoEchoReference(self.engine, timeline))
        self.runner = CallRunner(self.engine, PromptLengths(prompt_frames), watchers)

    @property
    def name(self) -> str:
        """The cached call's file name."""
        return self.cached.file

    def evaluate(self) -> CallRun:
        """Run the call on the cached outputs."""
        engine, cached = self.engine, self.cached
        self.runner.start(0)
        self.runner.step(0, cached.frames, cached.ordered_events, cached.floor_dbfs, ordered=True)
        if not engine.done:  # the cache ends before the script's max_call_s: end it there
            self.runner.end(cached.frames, Outcome.MAX_DURATION, "end of cached audio")
        assert engine.result is not None
        return CallRun(cached.file, engine.result.outcome, engine.result.frame, tuple(engine.log))
