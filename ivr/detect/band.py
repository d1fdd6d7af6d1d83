"""The speech band: levels, the noise floor and SNR are measured on 300-3400 Hz.

A telephone channel carries 300-3400 Hz (ITU-T G.712), and so does every call the scripts are
for. What lies below it (mains hum at 50 Hz and its harmonics up to 250 Hz, handling rumble,
a fan) or above it (the hiss of a wideband microphone) is not the callee's speech: measured
full band, hum raised the noise floor under a talker by 10 dB and a talker over it measured
14 dB of SNR although the hum lies outside what the callee can say. Measured in the band, hum
neither raises the floor nor passes as speech.

The filter is an elliptic band-pass (scipy.signal.iirdesign: pass 300-3400 Hz within 0.5 dB,
stop below 200 Hz and above 4000 Hz by at least 50 dB at the band's edges; 12th order in 6
second-order sections), run causally with its state carried from block to block, so every
frame's output depends on the audio before it alone: the same whatever the block size, live
and in replay. Its transition bands are as wide as hum allows: a sharper design rings longer
after an abrupt stop; this one is 16, 37 and 49 dB down in the three 20 ms frames after one
(ivr.detect.dropouts judges the fall itself on the high-passed signal, which does not ring).

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

import numpy as np

from ivr.audio.format import FRAME_SAMPLES
from ivr.detect.sections import SectionFilter

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
    """The causal 300-3400 Hz band-pass over a call's frames, block after block."""

    def __init__(self) -> None:
        self._filter = SectionFilter(SECTIONS, np.float32)

    def filter(self, frames: np.ndarray) -> np.ndarray:
        """The (n, 320) int16 frames band-passed, as (n, 320) float32 (int16 scale)."""
        return self._filter.filter(frames).reshape(-1, FRAME_SAMPLES)
