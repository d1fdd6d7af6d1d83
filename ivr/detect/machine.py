"""Answering-machine detection as a detector of the front end (ivr.detect.detector): Asterisk
AMD's rules (ivr.detect.amd) over the front end's voice frames, its verdict held until no tone
pattern is pending."""

from __future__ import annotations

import numpy as np

from ivr.call_settings import AmdSettings
from ivr.detect.amd import AnsweringMachineDetector
from ivr.detect.detector import Block
from ivr.detect.line_tones import ToneDetector
from ivr.events import MachineVerdict


class MachineStage:
    """The answering-machine verdict of a call, given once and only once no tone pattern is
    pending on the line (`tones`, the front end's tone detector)."""

    events = (MachineVerdict,)

    def __init__(self, settings: AmdSettings, margin_db: float, tones: ToneDetector) -> None:
        self._amd = AnsweringMachineDetector(settings)
        self._threshold = settings.silence_threshold_dbfs
        self._margin_db = margin_db
        self._tones = tones
        self._held: list[MachineVerdict] = []  # the verdict, until no tone pattern is pending

    def process(self, block: Block) -> list[MachineVerdict]:
        """The verdict, in the block it is given in."""
        if not self._amd.done:
            self._held += self._amd.process(self._voice(block))
        return self._verdict_after_tones(block.tones) if self._held else []

    @property
    def at_rest(self) -> bool:
        """Whether the verdict is given out."""
        return self._amd.done and not self._held

    def finish(self, frames_seen: int) -> list[MachineVerdict]:
        """End of audio: a verdict not given by then is not given."""
        return []

    def _voice(self, block: Block) -> np.ndarray:
        """Answering-machine detection's voice frames: voiced (no tone), above the silence
        threshold and clear of the noise floor by the VAD's edge margin (dB)."""
        level, floor = block.level_dbfs, block.floor_dbfs
        return block.voiced & (level >= self._threshold) & (level >= floor + self._margin_db)

    def _verdict_after_tones(self, tones: tuple) -> list[MachineVerdict]:
        """The answering-machine verdict, given once no tone pattern is pending: a line that
        "answers" into ringback is silent to the detector between the rings, and its verdict
        (INITIALSILENCE) must not come before the ringback is known. It is given at the first
        tone recognized or the first frame the tone detector is at rest, if after its own."""
        (verdict,) = self._held
        at = self._tones.quiet_from(verdict.decided_frame)
        if tones:
            at = tones[0].decided_frame if at is None else min(at, tones[0].decided_frame)
        if at is None:
            return []
        self._held = []
        decided = max(at, verdict.decided_frame)
        return [MachineVerdict(verdict.verdict, verdict.cause, decided)]
