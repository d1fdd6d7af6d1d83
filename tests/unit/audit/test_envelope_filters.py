"""The speaking rate's filters and peaks (ivr.audit.envelope_filters) are scipy.signal's, and
scoring the pace imports no scipy.signal.

Bit for bit where scipy's arithmetic is the same on every machine (the designs, sosfilt,
find_peaks). scipy's sosfilt_zi solves a linear system with LAPACK, whose last bits vary with
the CPU it picks kernels for (2 ulp seen on an AMD EPYC): the written-out steady state and the
forward-backward filter it starts are compared to 1e-12 of their scale."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal
from shared import in_pieces

from ivr.audio.format import SAMPLE_RATE
from ivr.audit.envelope_filters import (
    SYLLABLE_SOS,
    SYLLABLE_ZI,
    VOWEL_SOS,
    peaks,
    syllable_band,
    vowel_band,
)
from ivr.audit.pace import ENVELOPE_HZ, SYLLABLE_BAND_HZ, VOWEL_BAND_HZ

PROPERTY = settings(max_examples=40, deadline=None, derandomize=True)


def test_the_written_out_designs_are_scipys():
    vowel = signal.butter(4, VOWEL_BAND_HZ, btype="band", fs=SAMPLE_RATE, output="sos")
    syllable = signal.butter(2, SYLLABLE_BAND_HZ, btype="band", fs=ENVELOPE_HZ, output="sos")
    assert np.array_equal(VOWEL_SOS, vowel)
    assert np.array_equal(SYLLABLE_SOS, syllable)
    np.testing.assert_allclose(SYLLABLE_ZI, signal.sosfilt_zi(syllable), rtol=0, atol=1e-12)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(16, 3000))
def test_the_syllable_band_is_sosfiltfilt_to_rounding(seed, size):
    envelope = 40 + 20 * np.random.default_rng(seed).standard_normal(size)
    want = signal.sosfiltfilt(SYLLABLE_SOS, envelope)
    np.testing.assert_allclose(syllable_band(envelope), want, rtol=0, atol=1e-12 * 60)


@PROPERTY
@given(
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(1, 9999), max_size=6),
)
def test_the_vowel_band_in_blocks_is_sosfilt_bit_for_bit(seed, cuts):
    x = np.random.default_rng(seed).integers(-20000, 20000, 10_000).astype(np.float64)
    band = vowel_band()
    got = in_pieces(band.filter, x, cuts)
    assert np.array_equal(got, signal.sosfilt(VOWEL_SOS, x))


@PROPERTY
@given(
    values=st.lists(st.integers(-6, 6), min_size=0, max_size=400),
    distance=st.integers(1, 12),
    prominence=st.sampled_from([0.0, 0.5, 2.0, 3.5]),
)
def test_peaks_are_find_peaks_with_plateaus_ties_and_edges(values, distance, prominence):
    # small integers: flat tops, equal heights and peaks at the ends, where rules differ
    x = np.array(values, dtype=np.float64) / 2
    expected, _ = signal.find_peaks(x, distance=distance, prominence=prominence)
    assert np.array_equal(peaks(x, distance, prominence), expected)


SCORE_THE_PACE = """
import sys
import numpy as np
from ivr.audit.pace import LevelEnvelope, nuclei
from ivr.events import Segment
rng = np.random.default_rng(3)
envelope = LevelEnvelope()
envelope.feed(rng.integers(-3000, 3000, (250, 320)).astype(np.int16))
voiced = np.ones(250, dtype=bool)
nuclei(envelope.values(), voiced, [Segment(10, 240, -26.0, 30.0, -56.0, 230)])
print(sorted(m for m in sys.modules if m.startswith("scipy.signal")))
"""


def test_scoring_the_pace_imports_no_scipy_signal():
    done = subprocess.run(
        [sys.executable, "-c", SCORE_THE_PACE], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert eval(done.stdout) == ["scipy.signal._peak_finding_utils", "scipy.signal._sosfilt"]
