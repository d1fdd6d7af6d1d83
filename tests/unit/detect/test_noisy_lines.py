"""Noisy but audible: a talker in a noisy office is answered; the office alone is a noisy line.

The standard's criterion is 听不清 (cannot be understood), so what decides is how far the
callee's speech stands above the noise, not how loud the noise is. Babble is a mix of real
human recordings and synthesized speech (ivr.synth.noise); the foreground talker is a real
recording (pocketsphinx-testdata). Levels are drawn by hypothesis over the ranges the rule
claims, both bundled scripts.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from realcall import (
    CARDS,
    READER,
    at_level,
    continuous_talker,
    examples,
    opening_frames,
    place,
    read,
    records,
    replay,
    start_listen,
    write,
)

from ivr.audio import FileSource
from ivr.detect import Situation, analyze
from ivr.synth.noise import make_noise

SCRIPTS = ("outbound", "inbound")
SLOW = examples(8)


def office(seconds: float, dbfs: float, seed: int) -> np.ndarray:
    """Distant babble of several talkers at an RMS of `dbfs` (float64, int16 units)."""
    return make_noise("babble", int(seconds * 16000), dbfs, np.random.default_rng(seed))


@pytest.mark.parametrize("name", SCRIPTS)
@SLOW
@given(
    talker=st.floats(-24.0, -14.0),
    babble=st.floats(-44.0, -36.0),
    index=st.integers(0, len(CARDS) + len(READER) - 1),
    after_s=st.floats(0.3, 2.0),
    seed=st.integers(0, 2**16),
)
def test_a_talker_clear_of_office_babble_is_answered(
    tmp_path, name, talker, babble, index, after_s, seed
):
    """Any talker 16 dB or more above the babble (levels as RMS over a loudest second of the
    talker and over all of the babble) is answered."""
    assume(talker - babble >= 16.0)
    clip = [*CARDS, *READER][index]
    end = opening_frames(name)
    audio = office(end * 0.02 + 25.0, babble, seed)
    audio = place(audio, at_level(read(clip), talker), end + int(after_s * 50))
    path = write(tmp_path / "office.wav", audio)
    result = replay(path, name)
    assert result.outcome == "answered", result.summary()
    assert not records(result, "noise")


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_continuous_talker_over_babble_is_answered_at_max_speech(tmp_path, name):
    """Talking on over the office for longer than max_speech: judged by the talker's SNR."""
    end = opening_frames(name)
    audio = office(end * 0.02 + 40.0, -40.0, 3)
    audio = place(audio, at_level(continuous_talker(30.0), -18.0), end + 25)
    path = write(tmp_path / "office_talker.wav", audio)
    result = replay(path, name)
    assert result.outcome == "answered", result.summary()
    assert not records(result, "noise")


@pytest.mark.parametrize("name", SCRIPTS)
@SLOW
@given(babble=st.floats(-40.0, -20.0), seed=st.integers(0, 2**16))
def test_babble_with_no_one_talking_to_us_is_a_noisy_line(tmp_path, name, babble, seed):
    path = write(tmp_path / "babble.wav", office(opening_frames(name) * 0.02 + 60.0, babble, seed))
    assert analyze(FileSource(path)).classification is Situation.NOISE
    result = replay(path, name)
    assert result.outcome == "noisy_line", result.summary()
    # judged on the window, at its no-input deadline, to the frame
    listen = start_listen(name)
    first = records(result, "noise")[0]
    assert first.frame == opening_frames(name) + round(listen.noinput_timeout_s * 50)
    assert not records(result, "noinput")
