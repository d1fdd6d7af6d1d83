"""The field corpus's line filters and reverberation (ivr.synth.field_audio) compute what
scipy.signal's butter, sosfilt and fftconvolve compute, bit for bit, without importing it; the
noise's transform length is scipy's next fast length."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal
from scipy.fft import next_fast_len

from ivr.audio.format import SAMPLE_RATE
from ivr.synth.field_audio import (
    ANTI_ALIAS_HZ,
    ANTI_ALIAS_ORDER,
    ANTI_ALIAS_SOS,
    BAND_SOS,
    LINE_BAND_HZ,
    LINE_BAND_ORDER,
    reverberate,
    room_response,
    telephone_line,
)
from ivr.synth.noise import fast_fft_length

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)


def test_the_written_out_line_filters_are_scipys_designs():
    band = signal.butter(LINE_BAND_ORDER, LINE_BAND_HZ, "bandpass", fs=SAMPLE_RATE, output="sos")
    low = signal.butter(ANTI_ALIAS_ORDER, ANTI_ALIAS_HZ, "lowpass", fs=SAMPLE_RATE, output="sos")
    assert np.array_equal(BAND_SOS, band)
    assert np.array_equal(ANTI_ALIAS_SOS, low)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 40_000))
def test_the_telephone_line_is_scipys_sosfilt_bit_for_bit(seed, size):
    x = np.random.default_rng(seed).standard_normal(size) * 3000
    expected = signal.sosfilt(ANTI_ALIAS_SOS, signal.sosfilt(BAND_SOS, x))[::2]
    assert np.array_equal(telephone_line(x), expected)


@PROPERTY
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(1, 30_000),
    rt60_s=st.floats(0.05, 0.8),
)
def test_reverberation_is_scipys_fftconvolve_bit_for_bit(seed, size, rt60_s):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(size) * 3000
    response = room_response(rt60_s, 8.0, rng)
    assert np.array_equal(reverberate(x, response), signal.fftconvolve(x, response)[:size])


@PROPERTY
@given(n=st.one_of(st.integers(1, 5000), st.integers(5000, 3_000_000)))
def test_the_noise_transforms_length_is_scipys_next_fast_length(n):
    assert fast_fft_length(n) == next_fast_len(n, real=True)
