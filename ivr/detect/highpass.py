"""The front end's high-pass: DC and low rumble out before anything is measured.

A telephone front end removes DC and the rumble below the speech band before it measures a
line. Here each 20 ms frame is split into blocks of HIGHPASS_BLOCK_SAMPLES (5 ms) and every
block has its own mean taken out. That costs two passes over the samples, keeps frames
independent of one another (results do not depend on how the audio is chunked, and there is
no delay), and its mean power response is 1 - sinc^2(f * block / rate):

| frequency | 0 (DC) | 50 Hz | 100 Hz | 150 Hz | 200 Hz and up |
|---|---|---|---|---|---|
| gain | removed | -7.2 dB | -2.3 dB | -0.4 dB | 0 dB (within 0.2 dB) |

A DC offset of any size (a cheap sound card, a clipped talker) is removed exactly, mains hum
at 50 Hz by 7 dB. The cut-off stays below the voice's own fundamental so that the measured
speech level stays within half a dB of the full-band active level (a low male voice loses
0.5 dB, a synthesized one 0.2 dB; a cut-off at 300 Hz, the telephone band's edge, costs low
voices 2 dB and would move every level threshold). Hum that webrtcvad still calls voiced cannot
start speech: onsets count only frames clearly above the floor (ivr.detect.vad). The VAD, the
frame levels and so the noise floor all see the filtered frames; recordings and recognition
keep the audio as it came.
"""

from __future__ import annotations

import functools
from types import ModuleType

import numpy as np

from ivr.audio.format import FRAME_SAMPLES

HIGHPASS_BLOCK_SAMPLES = 80
"""Samples per block whose mean is removed (80 = 5 ms at 16 kHz): the -3 dB point is near
90 Hz, DC is removed exactly."""

_BLOCKS = FRAME_SAMPLES // HIGHPASS_BLOCK_SAMPLES


def high_pass(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """High-pass (n, 320) int16 frames.

    Returns the filtered frames as float32 (for measuring levels) and as int16 (for webrtcvad,
    rounded half to even and clipped to the int16 range). Computed by the compiled kernel
    (ivr.detect._frame_filters, one pass); `high_pass_numpy` is the same arithmetic in numpy,
    bit for bit (a block's sum of int16 samples is exact in float32)."""
    frames = np.ascontiguousarray(frames, dtype=np.int16)
    filtered = np.empty(frames.shape, dtype=np.float32)
    pcm = np.empty(frames.shape, dtype=np.int16)
    frame_filters().high_pass(frames, filtered, pcm)
    return filtered, pcm


def high_pass_numpy(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`high_pass` in numpy: the reference the kernel is tested against."""
    n = frames.shape[0]
    filtered = frames.astype(np.float32)
    blocks = filtered.reshape(n, _BLOCKS, HIGHPASS_BLOCK_SAMPLES)
    means = np.einsum("ijk->ij", blocks) * np.float32(1.0 / HIGHPASS_BLOCK_SAMPLES)
    blocks -= means[:, :, None]
    pcm = np.rint(filtered)
    np.clip(pcm, -32768.0, 32767.0, out=pcm)
    return filtered, pcm.astype(np.int16)


@functools.cache
def frame_filters() -> ModuleType:
    """The front end's compiled filters (ivr/detect/_frame_filters.c), built by
    `pip install -e .`; ImportError saying so when they are not."""
    try:
        from ivr.detect import _frame_filters
    except ImportError as exc:
        raise ImportError(
            "ivr's compiled front-end filters (ivr/detect/_frame_filters.c) are not built: "
            "run `make setup` or `pip install -e .` (it needs a C compiler, gcc)"
        ) from exc
    return _frame_filters
