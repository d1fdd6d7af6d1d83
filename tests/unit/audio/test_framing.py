"""Framing: whole 20 ms frames whatever the chunking, nothing lost, nothing invented."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ivr.audio.format import FRAME_SAMPLES, ms_to_frames, seconds_to_frame
from ivr.audio.framing import Framer, to_int16

samples = arrays(np.int16, st.integers(0, 3000), elements=st.integers(-32768, 32767))


@given(data=samples, cuts=st.lists(st.integers(0, 3000), max_size=8))
def test_frames_do_not_depend_on_chunking(data, cuts):
    framer = Framer()
    bounds = sorted({0, len(data), *[c for c in cuts if c <= len(data)]})
    out = [framer.push(data[a:b]) for a, b in itertools.pairwise(bounds)]
    out.append(framer.flush())
    frames = np.concatenate(out) if out else np.zeros((0, FRAME_SAMPLES), np.int16)
    whole = -(-len(data) // FRAME_SAMPLES)
    assert frames.shape == (whole, FRAME_SAMPLES)
    flat = frames.ravel()
    assert np.array_equal(flat[: len(data)], data)
    assert not flat[len(data) :].any()  # padding is digital silence


def test_flush_twice_gives_nothing_more():
    framer = Framer()
    framer.push(np.ones(100, np.int16))
    assert framer.flush().shape == (1, FRAME_SAMPLES)
    assert framer.flush().shape == (0, FRAME_SAMPLES)


def test_framer_rejects_wrong_dtype():
    with pytest.raises(TypeError, match="int16"):
        Framer().push(np.zeros(10, np.float32))


@given(arrays(np.float64, st.integers(0, 200), elements=st.floats(-4, 4)))
def test_to_int16_rounds_and_clips(x):
    y = to_int16(x)
    assert y.dtype == np.int16
    expected = np.clip(np.rint(x * 32768), -32768, 32767)
    assert np.array_equal(y, expected)


def test_time_conversions_hold_to_the_frame():
    assert ms_to_frames(100) == 5
    assert ms_to_frames(101) == 6  # rounded up: never shorter than asked
    assert ms_to_frames(0) == 0
    assert seconds_to_frame(3.0) == 150
    assert seconds_to_frame(0.019) == 0
