"""Quiet callees: how far the input gain steps reach, and `ivr detect` agreeing with replay.

The outbound script turns a quiet callee up in two steps (+6 dB, then +12 dB: seed 000 二、2
01) before it asks them to speak up; the inbound script has no gain steps. A callee who keeps
answering (a real human phrase, again and again) at a level drawn by hypothesis is replayed, and
`ivr detect --script` must say what the call does: speech (answered), low_volume, or silence.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from realcall import (
    CARDS,
    at_level,
    bundled,
    examples,
    line,
    opening_frames,
    place,
    read,
    records,
    replay,
)
from realcall import write as write_wav
from typer.testing import CliRunner

from ivr.audio import FileSource
from ivr.audio.format import ms_to_frames
from ivr.call_settings import ClassifySettings
from ivr.cli import app
from ivr.detect import analyze
from ivr.engine.utterance import (
    audible_gain_db,
    input_gain_steps,
    low_volume_answers,
    utterances,
)

OUTCOME_OF = {"speech": "answered", "low_volume": "low_volume", "silence": "no_answer"}


def quiet_call(tmp_path, name: str, level: float, clip: int):
    """The callee keeps answering at `level` (loudest second, dBFS) over a quiet line (-75
    dBFS: 19 dB or more below the callee), each time 1.5 s after the last answer ended, for the
    whole call (as long as it takes the script to turn them up, ask them to speak up and
    close)."""
    script = bundled(name)
    end = opening_frames(name)
    phrase = at_level(read(CARDS[clip]), level)
    period = phrase.size // 320 + 75
    audio = line(script.max_call_s, -75.0)
    for at in range(end + 25, audio.size // 320, period):
        audio = place(audio, phrase, at)
    return write_wav(tmp_path / f"quiet_{name}.wav", audio)


@pytest.mark.parametrize("name", ["outbound", "inbound"])
@examples(10)
@given(level=st.floats(-56.0, -34.0), clip=st.integers(0, len(CARDS) - 1))
def test_detect_through_the_script_says_what_replay_does(tmp_path, name, level, clip):
    path = quiet_call(tmp_path, name, level, clip)
    result = CliRunner().invoke(app, ["detect", str(path), "--script", name, "--json"])
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.output)
    verdict = report["through_script"]
    replayed = replay(path, name)
    assert replayed.outcome == OUTCOME_OF[verdict["classification"]], replayed.summary()
    if verdict["gain_db"]:
        # answered once the gain that makes it audible is reached, and not before
        gains = [r.db for r in records(replayed, "input_gain")]
        assert gains[-1] == verdict["gain_db"]
        assert records(replayed, "speech")[0].frame > records(replayed, "input_gain")[-1].frame


def test_the_gain_steps_of_the_bundled_scripts():
    outbound, inbound = bundled("outbound"), bundled("inbound")
    assert input_gain_steps(outbound.states[outbound.start]) == (6.0, 12.0)
    assert input_gain_steps(inbound.states[inbound.start]) == ()


@pytest.mark.parametrize("measured", [-40.0, -46.0, -51.9, -52.0, -53.0])
def test_what_each_step_makes_audible(tmp_path, measured):
    """At the default low_volume_dbfs (-40), +6 dB reaches speech measured at -46 dBFS, +12 dB
    speech at -52 dBFS; quieter stays low_volume. Checked on a real file, answer by answer, for
    the levels the detectors report."""
    settings = ClassifySettings()
    steps = (6.0, 12.0)
    path = quiet_call(tmp_path, "outbound", measured, 1)
    analysis = analyze(FileSource(path))
    outbound = bundled("outbound")
    answers = low_volume_answers(outbound.states[outbound.start])
    assert answers == 5  # +6 dB, +12 dB, speak up, speak up, close
    eos = ms_to_frames(outbound.states[outbound.start].listen.end_of_speech_s * 1000)
    gain = audible_gain_db(analysis.segments, analysis.floor_dbfs, steps, settings, answers, eos)
    answered = utterances(analysis.segments, eos)
    reached = [
        g
        for g, pieces in zip((0.0, 6.0, 12.0, 12.0, 12.0), answered, strict=False)
        if max(s.level_dbfs for s in pieces) + g >= settings.low_volume_dbfs
    ]
    assert gain == (reached[0] if reached else None)
