"""Our side of a call: prompts placed at the frames they played, mixed for the recording and
the echo check. The session places each prompt once, as its transport reports it played out:
the samples as played (int16, at the prompt's volume), from the frame its first sample went
out, cut where the transport says it stopped."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ivr.audio.format import FRAME_SAMPLES


@dataclass
class _Placement:
    start: int
    samples: np.ndarray  # int16, as played
    end: int


class Mixer:
    """Our side of the call: prompts placed at the frames they played out."""

    def __init__(self) -> None:
        self.placements: list[_Placement] = []

    def play(self, start: int, samples: np.ndarray) -> int:
        """Place `samples` (int16 as played, whole frames) from frame `start`; the frame their
        playout ends at."""
        frames = samples.shape[0] // FRAME_SAMPLES
        self.placements.append(_Placement(start, samples, start + frames))
        return start + frames

    def last_start(self) -> int:
        """Start frame of the latest prompt placed (0 when none)."""
        return self.placements[-1].start if self.placements else 0

    def stop(self, frame: int) -> None:
        for p in self.placements:
            p.end = min(p.end, max(frame, p.start))

    def mix(self, base: int, frames: int) -> np.ndarray:
        """Our side over frames [base, base + frames), float samples."""
        out = np.zeros(frames * FRAME_SAMPLES, dtype=np.float32)
        end = base + frames
        for p in self.placements:
            a, b = max(base, p.start), min(end, p.end)
            if a < b:
                src = p.samples[(a - p.start) * FRAME_SAMPLES : (b - p.start) * FRAME_SAMPLES]
                out[(a - base) * FRAME_SAMPLES : (b - base) * FRAME_SAMPLES] += src
        return out

    def render(self, base: int, frames: int) -> np.ndarray:
        """Our side as int16 for the recording; forgets prompts that are over."""
        out = self.mix(base, frames)
        self.placements = [p for p in self.placements if p.end > base + frames]
        return np.clip(np.rint(out), -32768, 32767).astype(np.int16)
