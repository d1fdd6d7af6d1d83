"""All detectors together over blocks of frames: VAD, level, noise floor, speech segments,
telephone keys (DTMF), the line's tones and answering-machine detection.

Every frame is high-passed first (ivr.detect.highpass: DC and rumble out) for webrtcvad and the
DTMF and tone detectors; the frame levels, the noise floor, the voicing of onsets and so every
SNR are measured in the speech band, 300-3400 Hz (ivr.detect.band: hum and rumble below it
neither raise the floor nor pass as speech). Onsets are confirmed by the learned stage
(ivr.detect.learned) when it is on. A frame that holds a DTMF tone pair or a pure single tone
(ringback, busy tone, a beep) never counts as speech: it is unvoiced for the speech segmenter
and for answering-machine detection, and so is webrtcvad's hangover after it
(VAD_OVERHANG_FRAMES).

After these measures, the detectors that read them (ivr.detect.detector.Detector: the
answering-machine detection, and any a settings group adds) are run in order on each block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, ms_to_frames
from ivr.call_settings import FrontEndSettings
from ivr.detect.band import SpeechBand
from ivr.detect.detector import Block, Detector, added_detectors
from ivr.detect.dropouts import DropoutDetector
from ivr.detect.highpass import high_pass_frames
from ivr.detect.keys import DtmfDetector
from ivr.detect.learned import LearnedSpeech, preload
from ivr.detect.level import power_to_dbfs
from ivr.detect.line_tones import ToneDetector
from ivr.detect.machine import MachineStage
from ivr.detect.noise import NoiseFloor
from ivr.detect.nominal import NominalPowers
from ivr.detect.vad import SpeechSegmenter
from ivr.detect.voice_activity import VoiceActivity
from ivr.events import DetectorEvent, LineEvent

VAD_OVERHANG_FRAMES = 8
"""Frames webrtcvad goes on calling voiced after a loud sound ends (its hangover: measured
4-6 frames at aggressiveness 2-3 and 8 at 0-1 after a key or a tone of 60 ms to 1 s at -10
and -25 dBFS); after a tone they are not speech either."""


@dataclass(frozen=True)
class BlockResult:
    """What the detectors saw in one block of frames starting at absolute frame `base`.

    Per-frame arrays: `voiced` (webrtcvad), `level_dbfs` (frame RMS, dBFS), `floor_dbfs` (noise
    floor in force, dBFS), `speech` (the smoothed decision as known at that frame), `tone` (a
    DTMF pair or a pure single tone: not speech); `voiced` has the tone frames taken out.
    `floor_estimates` are the floor re-estimates made in the block (dBFS), `events` the speech
    events decided in it, `line_events` the keys, tones and answering-machine verdict decided
    in it, by decided frame.
    """

    base: int
    voiced: np.ndarray
    level_dbfs: np.ndarray
    floor_dbfs: np.ndarray
    speech: np.ndarray
    floor_estimates: np.ndarray
    events: list[DetectorEvent]
    tone: np.ndarray | None = None
    line_events: tuple[LineEvent, ...] = ()


class Detectors:
    """The detector front end, fed blocks of (n, 320) int16 frames in order."""

    def __init__(self, settings: FrontEndSettings | None = None) -> None:
        self.settings = settings or FrontEndSettings()
        self._vad = VoiceActivity(self.settings.vad.aggressiveness)
        self._floor = NoiseFloor(self.settings.noise)
        self._band = SpeechBand()
        learned = self.settings.learned
        self.learned = LearnedSpeech(learned.threshold) if learned.enabled else None
        """The learned stage confirming onsets (ivr.detect.learned), None when it is off."""
        self._dropouts = DropoutDetector(ms_to_frames(self.settings.choppy_gap_ms))
        self._segmenter = SpeechSegmenter(
            self.settings.vad,
            warmup_frames=self._floor.hop - 1,
            learned=self.learned,
        )
        self._dtmf = DtmfDetector()
        self._tones = ToneDetector()
        machine = MachineStage(self.settings.amd, self.settings.vad.edge_margin_db, self._tones)
        self.detectors: tuple[Detector, ...] = (
            machine,
            *(type(group).detector(group) for group in added_detectors(self.settings)),
        )
        """The detectors reading the front end's measures, in the order they are run."""
        self._overhang = 0  # voiced frames still to take out after the last tone frame
        self.frames_seen = 0
        """Frames processed so far."""

    def process(self, frames: np.ndarray) -> BlockResult:
        """Run every detector over a block of frames."""
        if frames.ndim != 2 or frames.shape[1] != FRAME_SAMPLES or frames.dtype != np.int16:
            raise TypeError(f"expected (n, {FRAME_SAMPLES}) int16 frames, got {frames.shape}")
        base = self.frames_seen
        passed = high_pass_frames(frames)
        voiced = self._vad.flags(passed.pcm)
        band = self._band.filter(frames)
        powers = self._band.powers()
        level = power_to_dbfs(powers).astype(np.float32)
        narrow = passed.narrow
        nominal = NominalPowers.of(narrow, level, passed.narrow_energy)
        keyed, keys = self._dtmf.process(base, narrow, nominal)
        toned, tones = self._tones.process(base, narrow, level, nominal)
        tone = keyed | toned
        line_events: list[LineEvent] = [*keys, *tones]
        if tone.any() or self._overhang:
            voiced = self._untoned(voiced, tone)
        floor, estimates = self._floor.update(level)
        if self.learned is not None:
            self.learned.push(base, band)
        dropouts = self._dropouts.feed(base, level, floor, passed.silent, passed.wide_levels)
        events, speech = self._segmenter.feed(base, voiced, powers, level, floor, band, dropouts)
        block = Block(base, frames, band, level, floor, voiced, tone, tuple(tones))
        for detector in self.detectors:
            line_events += detector.process(block)
        self.frames_seen += frames.shape[0]
        if len(line_events) > 1:
            line_events.sort(key=_decided)
        return BlockResult(
            base, voiced, level, floor, speech, estimates, events, tone, tuple(line_events)
        )

    def _untoned(self, voiced: np.ndarray, tone: np.ndarray) -> np.ndarray:
        """`voiced` without the tone frames and without the VAD's overhang after them: up to
        VAD_OVERHANG_FRAMES voiced frames right after a tone (speech that begins there is
        heard that much later)."""
        voiced = voiced & ~tone
        left = self._overhang
        for i in range(tone.size):
            if tone[i]:
                left = VAD_OVERHANG_FRAMES
            elif left and voiced[i]:
                voiced[i] = False
                left -= 1
            else:
                left = 0
        self._overhang = left
        return voiced

    def finish(self) -> list[DetectorEvent]:
        """End of audio: events for a segment still open, then the detectors' (by decided
        frame)."""
        events: list = self._segmenter.finish(self.frames_seen)
        line_events = [e for d in self.detectors for e in d.finish(self.frames_seen)]
        return events + sorted(line_events, key=_decided)

    @property
    def line_at_rest(self) -> bool:
        """Whether the line detectors have nothing left to decide on more of the same: the
        answering-machine verdict is given out, no tone pattern is pending and every other
        detector is at rest."""
        return self._tones.at_rest and all(d.at_rest for d in self.detectors)

    @property
    def in_speech(self) -> bool:
        """Whether a speech segment is open (decided and not yet ended)."""
        return self._segmenter.in_speech

    @property
    def floor_window_frames(self) -> int:
        """Frames the noise floor is estimated over (noise.window_ms in frames)."""
        return self._floor.window

    @property
    def floor_hop_frames(self) -> int:
        """Frames between the noise floor's estimates (noise.hop_ms in frames)."""
        return self._floor.hop

    @property
    def onset_frames(self) -> int:
        """Voiced frames that make speech (vad.onset_ms in frames)."""
        return self._segmenter.onset

    @property
    def floor_dbfs(self) -> float:
        """The current noise floor estimate (dBFS)."""
        return self._floor.current


def warm_up(settings: FrontEndSettings, calls: int) -> None:
    """Load what a call's front end needs before any call begins: the speech band's filter
    (ivr.detect.band: its kernel and carried response) and the learned stage's models for
    `calls` calls at once (ivr.detect.learned.preload). A call on a telephone line builds its
    front end as it rings or is answered: loading them then would hold every call of the
    process up."""
    SpeechBand()
    preload(settings.learned.enabled, calls)


def _decided(event: LineEvent) -> int:
    return event.decided_frame
