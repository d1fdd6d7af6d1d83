"""One call as a composition: the callee's port, the detectors, the call runner, our port, and
observers that see every block (the stereo recorder, a live view).

Block by block the callee's audio runs through the detectors (and, while a barge-in prompt
plays, the echo check for speech rising over our echo); the runner hands the engine what
happened in frame order; the recognizer is fed the audio up to the block's end; observers see
the block. The session ends when the engine hangs up, or — for a live line — when the line
fails (`device_error`) or the user interrupts (`aborted`); the recording and timeline are kept
either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Protocol

import numpy as np
import soundfile as sf

from ivr.atomic import atomic_path
from ivr.audio.format import SAMPLE_RATE
from ivr.call.echo import EchoGuard
from ivr.call.mixer import Mixer
from ivr.call.one_press import OnePress
from ivr.call.recognition import AsrBackend, AudioRing
from ivr.call.runner import CallRunner, InputWatcher
from ivr.call.watchers import DetectorNotes, EchoCheck, RecognitionFeed
from ivr.call_settings import CallSettings
from ivr.detect.frontend import BlockResult, Detectors
from ivr.engine import Engine
from ivr.engine.actions import PlayPrompt
from ivr.errors import DeviceError, LineEnded
from ivr.events import InputEvent
from ivr.script.model import Script
from ivr.timeline import Timeline
from ivr.transports.base import CalleeAudio, CalleeBlock, Speaker
from ivr.vocabulary import Outcome


class PlacedSpeaker:
    """Our port as the runner drives it, placing in `mixer` what it played out, as it reports
    it: the prompt from the frame it started at, cut where it stopped. The one place a prompt
    meets the mixer, whatever the transport."""

    def __init__(self, speaker: Speaker, mixer: Mixer) -> None:
        self.speaker, self.mixer = speaker, mixer

    def play(self, prompt: PlayPrompt) -> None:
        self.speaker.play(prompt)
        self._place()

    def stop(self, frame: int) -> None:
        self.speaker.stop(frame)
        self._place()

    def finished(self) -> int | None:
        finished = self.speaker.finished()
        self._place()
        return finished

    def _place(self) -> None:
        started = self.speaker.started()
        if started is not None:
            self.mixer.play(*started)
        cut = self.speaker.cut()
        if cut is not None:
            self.mixer.stop(cut)


class BlockObserver(Protocol):
    """Sees each block of the call once the engine has handled it: callee frames
    [base, base + len(samples)), of which those before `stop` are still inside the call."""

    def on_block(self, session: CallSession, samples: np.ndarray, base: int, stop: int) -> None: ...


class StereoRecorder:
    """Writes the call as a stereo WAV: left our prompts at their frames, right the callee
    (including what was ignored), up to the hang-up."""

    def __init__(self, writer: sf.SoundFile, mixer: Mixer) -> None:
        self.writer = writer
        self.mixer = mixer

    def on_block(self, session: CallSession, samples: np.ndarray, base: int, stop: int) -> None:
        frames = stop - base
        if frames <= 0:
            return
        left = self.mixer.render(base, frames)
        right = samples[:frames].reshape(-1)
        self.writer.write(np.stack([left, right], axis=1))


class CallSession:
    """One call of `script` between `callee` and `speaker`."""

    def __init__(
        self,
        callee: CalleeAudio,
        speaker: Speaker,
        script: Script,
        settings: CallSettings | None = None,
        asr: AsrBackend | None = None,
        observers: Sequence[BlockObserver] = (),
        engine: Engine | None = None,
        timeline: Timeline | None = None,
    ) -> None:
        self.callee = callee
        self.speaker = speaker
        self.mixer = Mixer()
        """What we played, at the frames it played out (the recording, the echo check)."""
        settings = settings or CallSettings()
        if script.amd is not None:
            settings = settings.with_script_amd(script.amd.settings)
        self.settings = settings
        if engine is not None:
            timeline = engine.timeline
        self.timeline = timeline if timeline is not None else Timeline()
        """Where the engine and the session's parts write the call's records."""
        self.engine = engine or Engine(
            script,
            settings.classify,
            recognizes=asr is not None,
            onset_ms=settings.front_end.vad.onset_ms,
            timeline=self.timeline,
        )
        self.detectors = Detectors(settings.front_end)
        self.observers = list(observers)
        self._ring = AudioRing()
        self._echo = EchoGuard(self._ring, self.mixer, settings.echo, self.timeline)
        self._one_press = OnePress()
        self.recognition = RecognitionFeed(self.engine, self._ring, asr) if asr else None
        watchers: list[InputWatcher] = [DetectorNotes(self.engine, self.timeline)]
        if self.recognition is not None:
            watchers.append(self.recognition)
        watchers.append(EchoCheck(self.engine, self._echo))
        self.runner = CallRunner(self.engine, PlacedSpeaker(speaker, self.mixer), watchers)
        self.frames = 0
        """Frames of the callee's audio processed so far."""
        self.last_result: BlockResult | None = None
        """What the detectors saw in the last block."""

    @property
    def name(self) -> str:
        """The call's name in summaries."""
        return self.callee.name

    def run(self, line_can_fail: bool = False) -> None:
        """The call, from its first block to the hang-up. With `line_can_fail` (a live line),
        Ctrl-C ends it as `aborted` and a failed device as `device_error`; otherwise both
        propagate. A line that ends the call (LineEnded) ends it with the line's outcome."""
        blocks = iter(self.callee.blocks())
        due_at = getattr(self.callee, "due_at", None)  # a line that takes frames in blocks
        try:
            first = next(blocks)  # the call starts once audio flows
            self.runner.start(0)
            self._hear(first)
            while not self.runner.done:
                if due_at is not None:
                    due_at(self.engine.next_deadline())
                self._hear(next(blocks))
        except KeyboardInterrupt:
            if not line_can_fail:
                raise
            self.runner.end(self.frames, Outcome.ABORTED, "interrupted (Ctrl-C)")
        except DeviceError as exc:
            if not line_can_fail:
                raise
            self.runner.end(self.frames, Outcome.DEVICE_ERROR, str(exc))
        except LineEnded as exc:
            self.runner.end(self.frames, exc.outcome, str(exc))
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()

    def record(self, path: Path | None, line_can_fail: bool = False) -> None:
        """Run the call, writing the stereo recording atomically to `path` if given (also when
        the call is interrupted)."""
        target = atomic_path(path) if path is not None else nullcontext(None)
        with target as tmp:
            if tmp is None:
                self.run(line_can_fail)
                return
            with sf.SoundFile(tmp, "w", SAMPLE_RATE, 2, "PCM_16", format="WAV") as writer:
                recorder = StereoRecorder(writer, self.mixer)
                self.observers.insert(0, recorder)
                try:
                    self.run(line_can_fail)
                finally:
                    self.observers.remove(recorder)

    def _hear(self, block: CalleeBlock) -> None:
        """One block through the detectors, the runner, the recognizer and the observers; only
        up to a hang-up that is certain to come (the rest, should the call go on after all, right
        after)."""
        samples, inputs = block.samples, block.inputs
        while True:
            last = self.runner.hangs_up_by() - self.frames  # frames of it still in the call
            if not 0 < last < samples.shape[0]:
                self._hear_frames(samples, inputs)
                return
            end = self.frames + last
            now = tuple(e for e in inputs if e.decided_frame <= end)
            self._hear_frames(samples[:last], now)
            if self.runner.done:
                return
            samples, inputs = samples[last:], tuple(e for e in inputs if e.decided_frame > end)

    def _hear_frames(self, samples: np.ndarray, inputs: tuple[InputEvent, ...]) -> None:
        speaking = self.detectors.in_speech
        result = self.detectors.process(samples)
        self.last_result = result
        base = result.base
        end = base + samples.shape[0]
        self._ring.add(base, samples)
        events: list[InputEvent] = list(result.events)
        if speaking:
            events += self._echo.rises(result, self.detectors.onset_frames, self.engine)
        line_events, inputs = self._one_press.keep(list(result.line_events), inputs)
        events += line_events
        events += inputs
        self.runner.step(base, end, events, result.floor_dbfs)  # in decided order
        if self.recognition is not None:
            self.recognition.feed(end)
        engine = self.engine
        stop = end if engine.result is None else min(end, engine.result.frame)
        self.frames = end
        for observer in self.observers:
            observer.on_block(self, samples, base, stop)
