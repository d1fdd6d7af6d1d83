"""Evaluating a script on cached detector outputs: the replay session, without the audio.

A `CachedSession` is a replay session whose detector outputs come from the cache: the engine,
the frame-ordered hand-over of events, playouts and timers (`ReplaySession._step`) are the
very ones `ivr replay` runs, so a call comes out the same, event for event, as plain replay
with the same settings (tested). Prompts take their rendered length; no recording is written.
Barge-in needs the audio to tell the callee from our echo, so here barge-in states stay
half-duplex.
"""

from __future__ import annotations

from collections.abc import Mapping

from ivr.audio.format import ms_to_frames
from ivr.call.replay import ReplaySession
from ivr.detect.settings import DetectorSettings
from ivr.engine import EngineAction, PlayPrompt
from ivr.script.model import Script
from ivr.tune.cache import CachedCall
from ivr.tune.metrics import CallRun


def call_frames(script: Script) -> int:
    """Frames of audio a call of `script` can last (its max_call_s, plus one frame)."""
    return ms_to_frames(script.max_call_s * 1000) + 1


class CachedSession(ReplaySession):
    """One call replayed from cached detector outputs."""

    def __init__(
        self,
        cached: CachedCall,
        script: Script,
        prompt_frames: Mapping[str, int],
        settings: DetectorSettings | None = None,
        detector_notes: bool = True,
    ) -> None:
        super().__init__(None, script, None, settings)  # type: ignore[arg-type]
        self.cached = cached
        self.prompt_frames = prompt_frames
        self.detector_notes = detector_notes
        """Whether the timeline gets the detector readings (`vad_*` records) as in replay;
        a sweep leaves them out: the dialog is the same without them."""

    def _note_detector(self, event) -> None:
        if self.detector_notes:
            super()._note_detector(event)

    @property
    def name(self) -> str:
        return self.cached.file

    def _act(self, actions: list[EngineAction]) -> None:
        for action in actions:
            if isinstance(action, PlayPrompt):
                self._playing_until = action.frame + self.prompt_frames[action.text]

    def evaluate(self) -> CallRun:
        """Run the call on the cached outputs."""
        engine = self.engine
        self._act(engine.start(0))
        cached = self.cached
        self._step(0, cached.frames, list(cached.events), cached.floor_dbfs)
        if not engine.done:  # the cache ends before the script's max_call_s: end it there
            engine.end(cached.frames, "max_duration", "end of cached audio")
        assert engine.result is not None
        return CallRun(cached.file, engine.result.outcome, engine.result.frame, tuple(engine.log))
