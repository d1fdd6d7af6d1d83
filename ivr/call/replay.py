"""Replaying a recording as the callee side of a call, on a virtual clock.

The recording runs through the detectors block by block, as fast as the CPU allows; detector
events, the end of each prompt's playout and the engine's timers are handed to the engine in
frame order (at the same frame: playout, then detector events, then timers). After the
recording ends the callee's line is silent until the call hangs up. The call is written as a
stereo WAV (left: our prompts at their times, right: the callee, including what was ignored)
and a JSON-lines timeline, each atomically.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import soundfile as sf

from ivr.atomic import atomic_path
from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE, frames_to_seconds
from ivr.audio.source import FileSource
from ivr.call.echo import EchoGuard
from ivr.call.mixer import Mixer
from ivr.call.recognition import AsrBackend, AudioRing, Utterance
from ivr.detect.frontend import BlockResult, Detectors
from ivr.detect.settings import DetectorSettings
from ivr.engine import Engine, EngineAction, HangUp, PlayPrompt, StopPrompt
from ivr.events import DetectorEvent, SpeechEnded, SpeechProgress, SpeechStarted
from ivr.privacy import mask_value
from ivr.script.model import Script

SILENCE_BLOCK_FRAMES = 50
"""Frames of digital silence fed per step once the recording has ended (1 s)."""

BARGE_IN_BLOCK_FRAMES = 5
"""Frames per block when a script allows barge-in (100 ms), so that the echo check follows
the engine's state closely; otherwise files are read in large blocks."""


class PromptAudioLike(Protocol):
    """A rendered prompt: int16 samples padded to whole frames, and their count of frames."""

    samples: np.ndarray
    frames: int


class PromptSource(Protocol):
    """Where prompt audio comes from (the prompt cache)."""

    def get(self, text: str) -> PromptAudioLike: ...


@dataclass
class CallResult:
    """How one replayed call went."""

    name: str
    outcome: str
    reason: str
    frames: int
    prompts: list[str]
    timeline: list[dict[str, Any]] = field(repr=False)
    recording: Path | None = None
    timeline_path: Path | None = None

    @property
    def duration_s(self) -> float:
        """Length of the call up to the hang-up (s)."""
        return frames_to_seconds(self.frames)

    @property
    def heard(self) -> list[str]:
        """What recognition heard, each `text (intent, confidence)`."""
        return [
            f"{r['text'] or '-'} ({r['intent'] or 'no intent'}, {r['confidence']:.2f})"
            for r in self.timeline
            if r["event"] == "recognized"
        ]

    def summary(self) -> str:
        """One line: outcome, duration, prompts said, why it hung up, what was heard."""
        heard = f"; heard {' / '.join(self.heard)}" if self.heard else ""
        return (
            f"{self.name}: {self.outcome} after {self.duration_s:.2f} s; "
            f"prompts {', '.join(self.prompts) or '-'}; {self.reason}{heard}"
        )


def _blocks_then_silence(source: FileSource) -> Iterator[np.ndarray]:
    yield from source.blocks()
    silence = np.zeros((SILENCE_BLOCK_FRAMES, FRAME_SAMPLES), dtype=np.int16)
    while True:
        yield silence


class ReplaySession:
    """One recording replayed against one script."""

    def __init__(
        self,
        source: FileSource,
        script: Script,
        prompts: PromptSource,
        settings: DetectorSettings | None = None,
        asr: AsrBackend | None = None,
    ) -> None:
        self.source = source
        self.script = script
        self.prompts = prompts
        self.settings = settings or DetectorSettings()
        self.asr = asr
        self.engine = Engine(script, self.settings, recognizes=asr is not None)
        self._mixer = Mixer()
        self._playing_until: int | None = None
        self._ring = AudioRing()
        self._echo = EchoGuard(self._ring, self._mixer, self.settings)
        self._hearing: tuple[int, Utterance] | None = None  # (segment start, recognition)
        self._fed_until = 0
        self.frames = 0
        """Frames of the callee's audio processed so far."""
        self.last_result: BlockResult | None = None
        """What the detectors saw in the last block."""

    def _act(self, actions: list[EngineAction]) -> None:
        for action in actions:
            if isinstance(action, PlayPrompt):
                audio = self.prompts.get(action.text)
                self._playing_until = self._mixer.play(
                    action.frame, audio.samples, action.volume_db
                )
            elif isinstance(action, StopPrompt):
                self._mixer.stop(action.frame)
                self._playing_until = None

    def _note_detector(self, event: DetectorEvent) -> None:
        if isinstance(event, SpeechProgress):
            return  # the engine's own input; the timeline keeps the segment's edges
        if isinstance(event, SpeechStarted):
            self.engine.note(event.decided_frame, "vad_start", speech_start_s=event.start_s)
        else:
            s = event.segment
            self.engine.note(
                event.decided_frame,
                "vad_end",
                speech_start_s=s.start_s,
                speech_end_s=s.end_s,
                level_dbfs=s.level_dbfs,
                snr_db=s.snr_db,
                floor_dbfs=s.floor_dbfs,
            )

    def run(
        self,
        recording: Path | None = None,
        timeline: Path | None = None,
        show_numbers: bool = False,
    ) -> CallResult:
        """Replay the call; write the stereo recording and the timeline if paths are given (the
        timeline with phone numbers masked unless `show_numbers`)."""
        engine = self.engine
        detectors = Detectors(self.settings)
        writer = None
        target = atomic_path(recording) if recording is not None else nullcontext(None)
        with target as rec_path:
            if rec_path is not None:
                writer = sf.SoundFile(rec_path, "w", SAMPLE_RATE, 2, "PCM_16", format="WAV")
            try:
                self._loop(detectors, writer)
            finally:
                if writer is not None:
                    writer.close()
        assert engine.result is not None
        result = CallResult(
            name=self.name,
            outcome=engine.result.outcome,
            reason=engine.result.reason,
            frames=engine.result.frame,
            prompts=list(engine.prompts_said),
            timeline=engine.log,
            recording=recording,
            timeline_path=timeline,
        )
        if timeline is not None:
            write_timeline(timeline, engine.log, show_numbers)
        return result

    @property
    def name(self) -> str:
        """The call's name in summaries (the recording's file name)."""
        return self.source.name

    def _blocks(self) -> Iterator[np.ndarray]:
        """The callee's audio: the recording, then silence until the call ends."""
        return _blocks_then_silence(self.source)

    def _loop(self, detectors: Detectors, writer: sf.SoundFile | None) -> None:
        """The call: start, then block by block until the engine hangs up."""
        engine = self.engine
        self._act(engine.start(0))
        for block in self._blocks():
            self._process(detectors, writer, block)
            if engine.done:
                break

    def _process(
        self, detectors: Detectors, writer: sf.SoundFile | None, block: np.ndarray
    ) -> None:
        """One block through the detectors, the engine and the recording."""
        engine = self.engine
        speaking = detectors.in_speech
        result = detectors.process(block)
        self.last_result = result
        end = result.base + block.shape[0]
        self._ring.add(result.base, block)
        events = result.events
        if speaking:
            rises = self._echo.rises(result, detectors.onset_frames, self.engine)
            events = sorted(events + rises, key=lambda e: e.decided_frame) if rises else events
        self._step(result.base, end, events, result.floor_dbfs)
        self._feed(end)
        stop = end if not engine.done else min(end, engine.result.frame)
        if writer is not None and stop > result.base:
            self._write(writer, block, result.base, stop)
        self.frames = end

    def _step(self, base: int, end: int, events: list, floor_dbfs: np.ndarray) -> None:
        """Hand the engine everything that happens at frames base+1 .. end, in order."""
        engine = self.engine
        queue: list[tuple[int, int, int]] = [(e.decided_frame, 1, i) for i, e in enumerate(events)]
        heapq.heapify(queue)
        while not engine.done:
            candidates = []
            if queue:
                candidates.append(queue[0])
            if self._playing_until is not None:
                candidates.append((self._playing_until, 0, -1))
            deadline = engine.next_deadline()
            if deadline is not None:
                candidates.append((deadline, 2, -1))
            if not candidates:
                return
            frame, kind, index = min(candidates)
            if frame > end:
                return
            floor = float(floor_dbfs[min(max(frame - base - 1, 0), len(floor_dbfs) - 1)])
            if kind == 0:
                self._playing_until = None
                self._act(engine.on_playback_finished(frame))
                self._recognize_adopted(frame)
            elif kind == 1:
                heapq.heappop(queue)
                event = events[index]
                self._note_detector(event)
                engine.floor_dbfs = floor
                if isinstance(event, SpeechEnded):
                    self._recognize_end(event)
                if isinstance(event, SpeechStarted) and self._is_echo(event):
                    continue
                self._act(engine.on_detector_event(event))
                if isinstance(event, SpeechStarted):
                    self._recognize_start(event)
            else:
                self._act(engine.advance(frame, floor))
                self._recognize_adopted(frame)

    def _recognize_adopted(self, frame: int) -> None:
        """Recognize speech that was going on when the engine started listening (it is heard
        from that frame on, so recognition starts there, less the padding)."""
        if self.asr is None or self._hearing is not None:
            return
        heard = self.engine.hearing()
        if heard is None:
            return
        self._start_recognition(heard[0], heard[1], frame)

    def _is_echo(self, event: SpeechStarted) -> bool:
        """Speech starting while a barge-in prompt plays that is only our own echo."""
        return self._echo.is_echo(event, self.engine)

    def _recognize_start(self, event: SpeechStarted) -> None:
        """Start recognizing a segment the engine counts, from `padding` before its start."""
        if self.asr is None or not self.engine.is_hearing(event.frame):
            return
        self._start_recognition(event.frame, event.frame, event.decided_frame)

    def _start_recognition(self, start: int, heard_from: int, now: int) -> None:
        """Recognize the segment that started at `start` from `padding` before `heard_from`,
        fed the audio up to frame `now`."""
        assert self.asr is not None
        first = max(heard_from - self.asr.padding_frames, self._ring.start)
        self._hearing = (start, self.asr.start(first, self.engine.intents()))
        self._fed_until = first
        self._feed(now)

    def _feed(self, stop: int) -> None:
        """Give the recognition in progress the audio up to frame `stop`."""
        if self._hearing is None or stop <= self._fed_until:
            return
        self._hearing[1].accept(self._ring.get(self._fed_until, stop))
        self._fed_until = stop

    def _recognize_end(self, event: SpeechEnded) -> None:
        """Finish the segment's recognition with `padding` after its end; tell the engine."""
        segment = event.segment
        if self._hearing is None or not segment.start <= self._hearing[0] < segment.end + 1:
            return
        assert self.asr is not None
        self._feed(min(event.segment.end + self.asr.padding_frames, self._ring.end))
        result = self._hearing[1].finish()
        self._hearing = None
        self.engine.on_recognition(event.decided_frame, result)

    def _write(self, writer: sf.SoundFile, block: np.ndarray, base: int, stop: int) -> None:
        frames = stop - base
        left = self._mixer.render(base, frames)
        right = block[:frames].reshape(-1)
        writer.write(np.stack([left, right], axis=1))


def write_timeline(path: Path, records: list[dict[str, Any]], show_numbers: bool = False) -> None:
    """The timeline as JSON lines, atomically; byte-identical for the same call. Phone numbers
    in its texts (what recognition heard) are masked unless `show_numbers`."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            if not show_numbers:
                record = mask_value(record)
            f.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")


def replay_file(
    path: Path,
    script: Script,
    prompts: PromptSource,
    settings: DetectorSettings | None = None,
    out_dir: Path | None = None,
    channel: str = "mix",
    asr: AsrBackend | None = None,
    show_numbers: bool = False,
    out_stem: str | None = None,
) -> CallResult:
    """Replay one recording; with `out_dir`, write `<stem>.call.wav` and `<stem>.timeline.jsonl`
    (phone numbers masked in it unless `show_numbers`); `stem` is `out_stem`, else the
    recording's own.

    Without `asr` the call runs in detector-only mode: speech counts as an answer."""
    barge_in = any(s.listen is not None and s.listen.barge_in for s in script.states.values())
    if barge_in:
        source = FileSource(path, channel=channel, block_frames=BARGE_IN_BLOCK_FRAMES)
    else:
        source = FileSource(path, channel=channel)
    session = ReplaySession(source, script, prompts, settings, asr)
    recording = timeline = None
    if out_dir is not None:
        stem = out_stem or Path(path).stem
        recording = out_dir / f"{stem}.call.wav"
        timeline = out_dir / f"{stem}.timeline.jsonl"
    return session.run(recording, timeline, show_numbers)


__all__ = ["CallResult", "HangUp", "ReplaySession", "replay_file", "write_timeline"]
