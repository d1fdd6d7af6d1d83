"""The front end's compiled loops (ivr/detect/_kernels.c): the speech band computed a frame at
a time (zero-state response plus the carried state's response) agrees with
scipy.signal.sosfilt over the whole call in float64 and gives the same bits whatever the
blocks; the high-pass is numpy's arithmetic bit for bit; webrtcvad called from C gives
`webrtcvad.Vad.is_speech`'s decisions. Real talkers, hypothesis over levels, offsets, modes and
block cuts."""

from __future__ import annotations

import subprocess
import sys

import _webrtcvad
import numpy as np
import pytest
import webrtcvad
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal
from shared import ASTERISK_VOICES, HUMAN_WAVS, asterisk_voice, human_speech, in_pieces

from ivr.audio.format import FRAME_SAMPLES, SILENCE_DBFS
from ivr.detect.band import SECTIONS, SpeechBand, carried_response
from ivr.detect.compiled import kernels
from ivr.detect.highpass import (
    HIGHPASS_BLOCK_SAMPLES,
    high_pass,
    high_pass_frames,
    high_pass_numpy,
)
from ivr.detect.level import frame_powers, power_to_dbfs
from ivr.detect.narrowband import NARROW_SAMPLES, narrow_band
from ivr.detect.voice_activity import VoiceActivity

PROPERTY = settings(max_examples=10, deadline=None, derandomize=True)


def _talker(index: int, gain_db: float, offset: int = 0) -> np.ndarray:
    """A real talker at `gain_db`, plus a DC `offset`, as (n, 320) int16 frames (clipped)."""
    x = human_speech(index).astype(np.float64) * 10 ** (gain_db / 20) + offset
    n = x.size // FRAME_SAMPLES * FRAME_SAMPLES
    return np.rint(np.clip(x[:n], -32768, 32767)).astype(np.int16).reshape(-1, FRAME_SAMPLES)


def _reference(frames: np.ndarray) -> np.ndarray:
    """The band-pass over the whole call at once, sample after sample, in float64."""
    flat = frames.reshape(-1).astype(np.float64)
    return signal.sosfilt(SECTIONS.astype(np.float64), flat).reshape(frames.shape)


@PROPERTY
@given(index=st.integers(0, len(HUMAN_WAVS) - 1), gain_db=st.floats(-40.0, 12.0))
def test_the_band_agrees_with_sosfilt_in_float64_as_a_float32_filter_does(index, gain_db):
    frames = _talker(index, gain_db)
    want = _reference(frames)
    got = SpeechBand().filter(frames)
    assert got.dtype == np.float32 and got.shape == frames.shape
    # a float32 filter run sample after sample (scipy's, in float32) as the yardstick
    serial = signal.sosfilt(SECTIONS, frames.reshape(-1).astype(np.float32)).reshape(got.shape)
    yardstick = np.abs(serial - want).max()
    assert np.abs(got - want).max() <= max(2 * yardstick, 1e-3)
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max() + 1e-3
    loud = frame_powers(want) > 1e-6  # above -60 dBFS
    levels = power_to_dbfs(frame_powers(got)[loud]) - power_to_dbfs(frame_powers(want)[loud])
    assert np.abs(levels).max() < 0.001


@PROPERTY
@given(
    index=st.integers(0, len(HUMAN_WAVS) - 1),
    gain_db=st.floats(-30.0, 6.0),
    cuts=st.lists(st.integers(1, 299), max_size=6),
)
def test_the_band_gives_the_same_bits_whatever_the_blocks(index, gain_db, cuts):
    frames = _talker(index, gain_db)[:300]
    whole_band = SpeechBand()
    whole = whole_band.filter(frames)
    band = SpeechBand()
    sums = []

    def piece(block: np.ndarray) -> np.ndarray:
        out = band.filter(block)
        sums.append(band.sums)
        return out

    got = in_pieces(piece, frames, cuts)
    assert np.array_equal(got.view(np.int32), whole.view(np.int32))
    assert np.array_equal(np.concatenate(sums), whole_band.sums)
    assert np.array_equal(band.state, whole_band.state)


def test_the_state_carried_over_a_frame_edge_rings_on_as_the_filter_does():
    # an impulse at the last sample of frame 0: everything after it comes from the carry
    frames = np.zeros((6, FRAME_SAMPLES), dtype=np.int16)
    frames[0, -1] = 20000
    got = SpeechBand().filter(frames)
    want = _reference(frames)
    assert np.abs(want[1:]).max() > 100  # it rings into the next frames
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-3)  # float32's rounding
    assert not SpeechBand().filter(np.zeros((3, FRAME_SAMPLES), np.int16)).any()


def test_the_frame_powers_are_the_bands_mean_squares():
    frames = _talker(0, 0.0)
    band = SpeechBand()
    out = band.filter(frames)
    np.testing.assert_allclose(band.powers(), frame_powers(out), rtol=1e-5, atol=1e-15)


def test_the_carried_response_is_the_filters_own():
    zir, carry = carried_response()
    assert zir.shape == (12, FRAME_SAMPLES) and zir.dtype == np.float32
    assert carry.shape == (12, 12) and carry.dtype == np.float64
    # the state after one frame of silence from a state s is carry @ s, and the samples are
    # zir.T @ s: checked against scipy's filter run from that state (its zi layout is the same)
    rng = np.random.default_rng(1)
    s = rng.standard_normal(12) * 100
    y, zf = signal.sosfilt(SECTIONS.astype(np.float64), np.zeros(FRAME_SAMPLES), zi=s.reshape(6, 2))
    np.testing.assert_allclose(zir.T.astype(np.float64) @ s, y, rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(carry @ s, zf.reshape(-1), rtol=1e-9, atol=1e-9)


@PROPERTY
@given(
    scale=st.sampled_from([1.0, 50.0, 3000.0, 40000.0]),
    offset=st.integers(-32768, 32767),
    frames=st.integers(0, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_the_high_pass_is_numpys_arithmetic_bit_for_bit(scale, offset, frames, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((frames, FRAME_SAMPLES)) * scale + offset
    x = np.rint(np.clip(x, -32768, 32767)).astype(np.int16)
    if frames:
        x[rng.integers(frames)] = 0  # a frame of digital silence
    passed = high_pass_frames(x)
    want_filtered, want_pcm = high_pass_numpy(x)
    assert passed.filtered.dtype == np.float32 and passed.pcm.dtype == np.int16
    assert np.array_equal(passed.filtered.view(np.int32), want_filtered.view(np.int32))
    assert np.array_equal(passed.pcm, want_pcm)
    # and what is measured in the same pass
    narrow = narrow_band(want_filtered)
    assert np.array_equal(passed.narrow.view(np.int32), narrow.view(np.int32))
    assert np.array_equal(passed.silent, ~x.any(axis=1))
    wide = want_filtered.astype(np.float64)
    np.testing.assert_allclose(passed.wide_power, (wide**2).mean(axis=1), rtol=1e-12)
    low = narrow.astype(np.float64)
    np.testing.assert_allclose(passed.narrow_energy, (low**2).mean(axis=1), rtol=1e-6)
    levels = passed.wide_levels
    assert np.all(levels[passed.silent] == SILENCE_DBFS)
    loud = ~passed.silent
    want_levels = power_to_dbfs((wide[loud] ** 2).mean(axis=1) / 32768.0**2)
    np.testing.assert_allclose(levels[loud], want_levels, rtol=0, atol=1e-9)


def test_the_high_pass_of_a_real_talker_with_a_dc_offset_is_numpys():
    x = _talker(1, 0.0, offset=-9000)
    filtered, pcm = high_pass(x)
    want_filtered, want_pcm = high_pass_numpy(x)
    assert np.array_equal(filtered, want_filtered) and np.array_equal(pcm, want_pcm)
    assert abs(float(filtered.mean())) < 1.0  # the offset is gone


def test_the_sizes_built_into_the_kernels_are_the_front_ends():
    compiled = kernels()
    assert compiled.FRAME == FRAME_SAMPLES
    assert SECTIONS.shape[0] == compiled.SECTIONS
    assert compiled.HIGHPASS == HIGHPASS_BLOCK_SAMPLES
    assert compiled.NARROW == NARROW_SAMPLES


def test_wrong_buffers_are_refused_with_what_was_expected():
    compiled = kernels()
    zir, carry = carried_response()
    frames = np.zeros((2, FRAME_SAMPLES), np.int16)
    out = np.empty((2, FRAME_SAMPLES), np.float32)
    with pytest.raises(ValueError, match=r"sums \(n,\) float64"):
        compiled.filter_frames(SECTIONS, zir, carry, np.zeros(12), frames, out, np.empty(3))
    with pytest.raises(ValueError, match=r"state \(12,\) float64"):
        compiled.filter_frames(SECTIONS, zir, carry, np.zeros(6), frames, out, np.empty(2))
    extra = (np.empty((2, 160), np.float32), np.empty(2), np.empty(2), np.empty(2, bool))
    with pytest.raises(ValueError, match=r"pcm \(n, 320\) int16"):
        compiled.high_pass(frames, out, np.empty((1, FRAME_SAMPLES), np.int16), *extra)
    with pytest.raises(ValueError, match=r"silent \(n,\) bool"):
        compiled.high_pass(frames, out, np.empty(frames.shape, np.int16), *extra[:3], np.empty(1))


@PROPERTY
@given(
    voice=st.integers(0, len(HUMAN_WAVS) + len(ASTERISK_VOICES) - 1),
    gain_db=st.floats(-40.0, 6.0),
    mode=st.integers(0, 3),
    cuts=st.lists(st.integers(0, 500), max_size=6),
)
def test_webrtcvad_from_c_decides_as_is_speech_frame_by_frame(voice, gain_db, mode, cuts):
    if voice < len(HUMAN_WAVS):
        frames = _talker(voice, gain_db)
    else:
        x = asterisk_voice(ASTERISK_VOICES[voice - len(HUMAN_WAVS)]) * 32768
        x = x * 10 ** (gain_db / 20) + np.random.default_rng(voice).standard_normal(x.size) * 30
        n = x.size // FRAME_SAMPLES * FRAME_SAMPLES
        frames = np.rint(np.clip(x[:n], -32768, 32767)).astype(np.int16).reshape(-1, 320)
    silence = np.zeros((25, FRAME_SAMPLES), np.int16)
    frames = np.concatenate((silence, frames, silence))  # a line that answers, then hangs up
    vad = webrtcvad.Vad(mode)
    want = np.array([vad.is_speech(f.tobytes(), 16000) for f in frames])
    assert not want.all()
    if gain_db >= -20.0:
        assert want.any()  # decisions both ways to agree on
    ours = VoiceActivity(mode)
    assert ours._flags is not None  # the C loop, not the fallback
    got = in_pieces(ours.flags, frames, cuts)
    assert got.dtype == bool
    assert np.array_equal(got, want)
    fallback = VoiceActivity(mode)
    assert np.array_equal(in_pieces(fallback.flags_one_by_one, frames, cuts), want)


def test_webrtcvad_is_bound_only_in_its_loaded_module():
    compiled = kernels()
    assert compiled.bind_webrtcvad(_webrtcvad.__file__)
    assert not compiled.bind_webrtcvad("/nonexistent/_webrtcvad.so")
    with pytest.raises(TypeError, match="WebRtcVadPtr"):
        compiled.webrtcvad_flags(object(), np.zeros((1, 320), np.int16), np.empty(1, bool))
    vad = webrtcvad.Vad(1)
    with pytest.raises(ValueError, match=r"flags \(n,\) bool"):
        compiled.webrtcvad_flags(vad._vad, np.zeros((2, 320), np.int16), np.empty(1, bool))


NOT_BUILT = """
import sys
sys.modules["ivr.detect._kernels"] = None  # as if the extension had not been built
import numpy as np
from ivr.detect.band import SpeechBand
try:
    SpeechBand()
except ImportError as exc:
    print(exc)
"""


def test_an_unbuilt_kernel_says_how_to_build_it():
    done = subprocess.run(
        [sys.executable, "-c", NOT_BUILT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "ivr/detect/_kernels.c" in done.stdout
    assert "make setup" in done.stdout and "pip install -e ." in done.stdout
