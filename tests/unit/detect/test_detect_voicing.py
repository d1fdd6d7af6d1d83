"""Voicing on real and synthesized speech against breath-like and white noise.

Breathing close to the microphone and hiss are loud and webrtcvad calls them voiced; only a
voice is periodic. The frames of real human recordings (pocketsphinx-testdata, in the
telephone band too), synthesized Mandarin and office babble are at least half voiced; band-limited
and white noise never are.
"""

from __future__ import annotations

import numpy as np
import pytest
from realcall import CARDS, READER, read

from ivr.detect.highpass import high_pass
from ivr.detect.voicing import VOICED_MIN, periodicity, voiced
from ivr.synth.channel import band_pass
from ivr.synth.noise import make_noise
from ivr.synth.speech import load_phrase


def active_frames(audio: np.ndarray) -> np.ndarray:
    """The high-passed frames within 20 dB of the loudest one (float32, int16 units)."""
    x = np.clip(np.rint(np.asarray(audio, dtype=np.float64)), -32768, 32767).astype(np.int16)
    filtered, _ = high_pass(x[: x.size // 320 * 320].reshape(-1, 320))
    power = (filtered.astype(np.float64) ** 2).mean(axis=1)
    return filtered[power >= power.max() * 0.01]


def voiced_share(audio: np.ndarray) -> float:
    frames = active_frames(audio)
    return float(voiced(np.zeros(320, np.float32), frames).mean())


SPEECH = {
    "cards 001": lambda: read(CARDS[0]),
    "cards 005": lambda: read(CARDS[4]),
    "reader": lambda: read(READER[0]),
    "telephone band": lambda: band_pass(read(CARDS[2]), band_hz=(300.0, 3400.0)),
    "是的,我是": lambda: load_phrase("是的,我是").samples,
    "babble": lambda: make_noise("babble", 48000, -30.0, np.random.default_rng(0)),
}


@pytest.mark.parametrize("name", SPEECH)
def test_speech_is_mostly_voiced(name):
    assert voiced_share(SPEECH[name]()) >= 0.5


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("band", [(200.0, 2500.0), (100.0, 7000.0), (300.0, 3400.0)])
def test_breath_like_and_white_noise_is_never_voiced(seed, band):
    rng = np.random.default_rng(seed)
    noise = band_pass(rng.standard_normal(32000), band_hz=band) * 3000
    frames = active_frames(noise)
    assert periodicity(np.zeros(320, np.float32), frames).max() < VOICED_MIN
    assert not voiced(
        np.zeros(320, np.float32), active_frames(rng.standard_normal(32000) * 3000)
    ).any()
