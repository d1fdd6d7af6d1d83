"""webrtcvad over blocks of 20 ms frames: one voiced/unvoiced decision per frame."""

from __future__ import annotations

import numpy as np

from ivr.audio.format import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE


class VoiceActivity:
    """webrtcvad over blocks of frames: one voiced/unvoiced decision per 20 ms frame.

    `webrtcvad.Vad.is_speech` is a Python wrapper that checks the buffer's length and calls the
    C function `_webrtcvad.process(handle, rate, buffer, samples)`; frames here always hold 320
    samples, so the C function is called directly (the same decisions, tested, without the
    wrapper's cost of about a quarter of the VAD's own).
    """

    def __init__(self, aggressiveness: int) -> None:
        import _webrtcvad
        import webrtcvad

        if aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"vad.aggressiveness must be in 0..3, got {aggressiveness!r}")
        self._vad = webrtcvad.Vad(aggressiveness)
        self._process = _webrtcvad.process

    def flags(self, frames: np.ndarray) -> np.ndarray:
        """Voiced decision of each frame of a (n, 320) int16 block, as a bool array."""
        raw = memoryview(np.ascontiguousarray(frames, dtype=np.int16)).cast("B")
        process, handle = self._process, self._vad._vad
        decisions = [
            process(handle, SAMPLE_RATE, raw[i : i + FRAME_BYTES], FRAME_SAMPLES)
            for i in range(0, len(raw), FRAME_BYTES)
        ]
        return np.array(decisions, dtype=bool)


def runs(flags: np.ndarray) -> tuple[list[int], list[int], list[bool]]:
    """Runs of equal values: (starts, ends, values), ends exclusive."""
    n = flags.shape[0]
    change = np.flatnonzero(flags[1:] != flags[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n]))
    return starts.tolist(), ends.tolist(), flags[starts].tolist()
