"""webrtcvad over blocks of 20 ms frames: one voiced/unvoiced decision per frame."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from ivr.audio.format import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE
from ivr.detect.compiled import kernels


class VoiceActivity:
    """webrtcvad over blocks of frames: one voiced/unvoiced decision per 20 ms frame.

    `webrtcvad.Vad.is_speech` is a Python wrapper that checks the buffer's length and calls the
    C function `_webrtcvad.process(handle, rate, buffer, samples)`, which calls webrtcvad's
    `WebRtcVad_Process`. Frames here always hold 320 samples, so a block's frames are handed to
    `WebRtcVad_Process` in one C loop (ivr.detect.compiled, `webrtcvad_flags`) on the Vad's own
    instance: the same decisions (tested against `is_speech`), without a Python call and a
    buffer per frame, which cost about a third of the VAD's time. Where the function cannot be
    found in webrtcvad's module, `_webrtcvad.process` is called frame after frame instead.
    """

    def __init__(self, aggressiveness: int) -> None:
        import _webrtcvad
        import webrtcvad

        if aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"vad.aggressiveness must be in 0..3, got {aggressiveness!r}")
        self._vad = webrtcvad.Vad(aggressiveness)
        self._process = _webrtcvad.process
        self._flags = _bound_flags(_webrtcvad.__file__)

    def flags(self, frames: np.ndarray) -> np.ndarray:
        """Voiced decision of each frame of a (n, 320) int16 block, as a bool array."""
        frames = np.ascontiguousarray(frames, dtype=np.int16)
        if self._flags is None:
            return self.flags_one_by_one(frames)
        decisions = np.empty(frames.shape[0], dtype=bool)
        self._flags(self._vad._vad, frames, decisions)
        return decisions

    def flags_one_by_one(self, frames: np.ndarray) -> np.ndarray:
        """`flags` by `_webrtcvad.process` called from Python for each frame."""
        if not frames.shape[0]:
            return np.zeros(0, dtype=bool)
        raw = memoryview(np.ascontiguousarray(frames, dtype=np.int16)).cast("B")
        process, handle = self._process, self._vad._vad
        decisions = [
            process(handle, SAMPLE_RATE, raw[i : i + FRAME_BYTES], FRAME_SAMPLES)
            for i in range(0, len(raw), FRAME_BYTES)
        ]
        return np.array(decisions, dtype=bool)


@functools.cache
def _bound_flags(webrtcvad_path: str) -> Callable | None:
    """The compiled loop over a block's frames, bound to `WebRtcVad_Process` in webrtcvad's
    module; None when that module does not export it."""
    compiled = kernels()
    return compiled.webrtcvad_flags if compiled.bind_webrtcvad(webrtcvad_path) else None


def runs(flags: np.ndarray) -> tuple[list[int], list[int], list[bool]]:
    """Runs of equal values: (starts, ends, values), ends exclusive."""
    n = flags.shape[0]
    change = np.flatnonzero(flags[1:] != flags[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [n]))
    return starts.tolist(), ends.tolist(), flags[starts].tolist()
