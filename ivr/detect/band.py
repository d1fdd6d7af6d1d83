"""The speech band: levels, the noise floor and SNR are measured on 300-3400 Hz.

A telephone channel carries 300-3400 Hz (ITU-T G.712), and so does every call the scripts are
for. What lies below it (mains hum at 50 Hz and its harmonics up to 250 Hz, handling rumble,
a fan) or above it (the hiss of a wideband microphone) is not the callee's speech: measured
full band, hum raised the noise floor under a talker by 10 dB and a talker over it measured
14 dB of SNR although the hum lies outside what the callee can say. Measured in the band, hum
neither raises the floor nor passes as speech.

The filter is an elliptic band-pass (scipy.signal.iirdesign: pass 300-3400 Hz within 0.5 dB,
stop below 200 Hz and above 4000 Hz by at least 50 dB at the band's edges; 12th order in 6
second-order sections), run causally with its state carried from frame to frame, so every
frame's output depends on the audio before it alone: the same bits whatever the block size,
live and in replay. It runs in C (ivr/detect/_kernels.c), eight frames side by side:
run sample after sample, one section's recurrence waits about 4 ns a sample for the last, and
the band cost more than webrtcvad itself (1.2 of its time a frame; now about 0.4).

Its transition bands are as wide as hum allows: a sharper design rings longer after an abrupt
stop; this one is 16, 37 and 49 dB down in the three 20 ms frames after one (ivr.detect.dropouts
judges the fall itself on the high-passed signal, which does not ring).

| frequency | 50 Hz | 100 Hz | 150 Hz | 200 Hz | 250 Hz | 300-3400 Hz | 4000 Hz and up |
|---|---|---|---|---|---|---|---|
| gain | -54 dB | -60 dB | -50 dB | -88 dB | -46 dB | 0 to -0.5 dB | -50 dB or less |

A talker's level measured in the band is lower than full band by the voice's power below
300 Hz and above 3400 Hz: 0.5-2 dB for the voices in tests (a low male voice loses most). A
telephone call (G.711, GSM) already holds nothing else. webrtcvad and the tone and key
detectors keep the 5 ms high-pass (ivr.detect.highpass): webrtcvad's decisions on wideband
speech hold fricatives above 3.4 kHz, and a band-limited input leaves it unvoiced stretches
inside words.
"""

from __future__ import annotations

import functools

import numpy as np

from ivr.audio.format import FRAME_SAMPLES, FULL_SCALE
from ivr.detect.compiled import kernels

BAND_HZ = (300.0, 3400.0)
"""The speech band measured (Hz): the telephone channel's pass band."""

STOP_HZ = (200.0, 4000.0)
"""Where the filter reaches its stop-band attenuation (Hz)."""

PASS_RIPPLE_DB = 0.5
"""Largest loss inside BAND_HZ (dB)."""

STOP_DB = 50.0
"""Least attenuation outside STOP_HZ (dB)."""


SECTIONS = np.array(
    [
        (0.024783788, 0.03839367, 0.024783788, 1.0, -1.0472981, 0.4835013),
        (1.0, 0.33048266, 1.0, 1.0, -0.6157356, 0.7294996),
        (1.0, -1.9989021, 1.0, 1.0, -1.7591791, 0.8038599),
        (1.0, -0.05782149, 1.0, 1.0, -0.43759656, 0.9295457),
        (1.0, -1.993816, 1.0, 1.0, -1.9383044, 0.9560283),
        (1.0, -1.9908606, 1.0, 1.0, -1.9776758, 0.99128646),
    ],
    dtype=np.float32,
)
"""The filter's second-order sections (b0 b1 b2 a0 a1 a2 each; float32: the samples are int16):
scipy.signal.iirdesign's elliptic design for BAND_HZ, STOP_HZ, PASS_RIPPLE_DB and STOP_DB at
16 kHz, written out so that a command does not import scipy.signal to design it
(test_speech_stage.py designs it again and compares)."""


class SpeechBand:
    """The causal 300-3400 Hz band-pass over a call's frames, block after block.

    Computed by the compiled kernel (ivr.detect.compiled) a frame at a time: each frame's
    response from a zero state (eight frames side by side in one vector), plus the response to
    the state carried in from the frames before (`carried_response`). Each frame's arithmetic
    is the same whatever the block it comes in, so the output does not depend on how the audio
    is cut; it agrees with scipy.signal.sosfilt over the whole call in float64 as closely as a
    float32 filter run sample after sample does (within 0.5 of an int16 step on speech at full
    scale, 0.001 dB on frame levels; tests/unit/detect/test_kernels.py)."""

    def __init__(self) -> None:
        self._zir, self._carry = carried_response()
        self._kernel = kernels().filter_frames
        self.state = np.zeros(2 * SECTIONS.shape[0], dtype=np.float64)
        """The sections' state (z1, z2 of each section in turn) carried between frames."""
        self.sums = np.zeros(0, dtype=np.float64)
        """Each frame's sum of squares (int16 units squared) in the last block filtered."""

    def filter(self, frames: np.ndarray) -> np.ndarray:
        """The (n, 320) int16 frames band-passed, as (n, 320) float32 (int16 scale)."""
        frames = np.ascontiguousarray(frames, dtype=np.int16).reshape(-1, FRAME_SAMPLES)
        out = np.empty(frames.shape, dtype=np.float32)
        self.sums = np.empty(frames.shape[0], dtype=np.float64)
        self._kernel(SECTIONS, self._zir, self._carry, self.state, frames, out, self.sums)
        return out

    def powers(self) -> np.ndarray:
        """The last block's frame powers (mean square relative to full scale squared, as
        ivr.detect.level.frame_powers), float64."""
        return self.sums / (FRAME_SAMPLES * FULL_SCALE * FULL_SCALE)


@functools.cache
def carried_response() -> tuple[np.ndarray, np.ndarray]:
    """How the sections' state carried into a frame acts, in float64 from SECTIONS: the
    response over the frame's 320 samples to each state variable at 1 with no input (12, 320)
    float32, and the state it leaves at the frame's end (12, 12) float64 (column j: from
    state variable j)."""
    sos = SECTIONS.astype(np.float64)
    states = 2 * sos.shape[0]
    z = np.eye(states).reshape(states, sos.shape[0], 2)  # each column of state alone
    response = np.empty((states, FRAME_SAMPLES))
    for t in range(FRAME_SAMPLES):
        v = np.zeros(states)
        for s, (b0, b1, b2, _a0, a1, a2) in enumerate(sos):
            y = b0 * v + z[:, s, 0]
            z[:, s, 0] = (b1 * v - a1 * y) + z[:, s, 1]
            z[:, s, 1] = b2 * v - a2 * y
            v = y
        response[:, t] = v
    carry = z.reshape(states, states).T.copy()
    return response.astype(np.float32), carry
