"""The front end's high-pass: DC and low rumble out before anything is measured.

A telephone front end removes DC and the rumble below the speech band before it measures a
line. Here each 20 ms frame is split into blocks of HIGHPASS_BLOCK_SAMPLES (5 ms) and every
block has its own mean taken out. That is one pass over the samples in C, keeps frames
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

from dataclasses import dataclass

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, FULL_SCALE, SILENCE_DBFS
from ivr.detect.compiled import kernels
from ivr.detect.level import power_to_dbfs
from ivr.detect.narrowband import NARROW_SAMPLES

HIGHPASS_BLOCK_SAMPLES = 80
"""Samples per block whose mean is removed (80 = 5 ms at 16 kHz): the -3 dB point is near
90 Hz, DC is removed exactly."""

_BLOCKS = FRAME_SAMPLES // HIGHPASS_BLOCK_SAMPLES


@dataclass(frozen=True)
class HighPassed:
    """A block of (n, 320) int16 frames high-passed, with what the front end measures on them
    in the same pass (ivr.detect.compiled).

    `filtered` (n, 320) float32 and `pcm` (n, 320) int16 (for webrtcvad: rounded half to even,
    clipped) are the high-passed frames; `narrow` (n, 160) float32 their 8 kHz band
    (ivr.detect.narrowband); `wide_power` (n,) float64 each filtered frame's mean square and
    `narrow_energy` (n,) float32 each narrow frame's (int16 units squared); `silent` (n,) bool
    the frames that were all zeros (digital silence)."""

    filtered: np.ndarray
    pcm: np.ndarray
    narrow: np.ndarray
    wide_power: np.ndarray
    narrow_energy: np.ndarray
    silent: np.ndarray

    @property
    def wide_levels(self) -> np.ndarray:
        """Each high-passed frame's level (dBFS, full band); digital silence at SILENCE_DBFS."""
        power = self.wide_power / (FULL_SCALE * FULL_SCALE)
        return np.where(self.silent, SILENCE_DBFS, power_to_dbfs(power))


def high_pass_frames(frames: np.ndarray) -> HighPassed:
    """High-pass (n, 320) int16 frames and measure them (HighPassed), in one compiled pass.

    The filtered samples are numpy's arithmetic bit for bit (`high_pass_numpy`: a block's sum of
    int16 samples is exact in float32), and so is the narrow band (`narrow_band`)."""
    frames = np.ascontiguousarray(frames, dtype=np.int16).reshape(-1, FRAME_SAMPLES)
    n = frames.shape[0]
    filtered = np.empty(frames.shape, dtype=np.float32)
    pcm = np.empty(frames.shape, dtype=np.int16)
    narrow = np.empty((n, NARROW_SAMPLES), dtype=np.float32)
    wide = np.empty(n, dtype=np.float64)
    low = np.empty(n, dtype=np.float64)
    silent = np.empty(n, dtype=bool)
    kernels().high_pass(frames, filtered, pcm, narrow, wide, low, silent)
    wide /= FRAME_SAMPLES
    energy = (low / NARROW_SAMPLES).astype(np.float32)
    return HighPassed(filtered, pcm, narrow, wide, energy, silent)


def high_pass(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """High-pass (n, 320) int16 frames: the filtered frames as float32 (for measuring levels)
    and as int16 (for webrtcvad, rounded half to even and clipped to the int16 range)."""
    passed = high_pass_frames(frames)
    return passed.filtered, passed.pcm


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
