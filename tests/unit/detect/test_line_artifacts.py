"""Lines that click, and sound cards that add DC: neither is a callee speaking, neither is noise.

Clicks, pops and handset knocks (impulses of 1-40 ms, every 1-2 s, at any level) on an
otherwise silent line, and DC offsets of any size on a silent line or under a real talker, are
drawn by hypothesis. A silent line with them must go exactly as a silent line goes — every
prompt and the hang-up at the script's own times — and a talker must still be answered.
"""

from __future__ import annotations

import numpy as np
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
    prompt_frames,
    read,
    records,
    replay,
    start_listen,
    write,
)

from ivr.audio import FileSource
from ivr.audio.format import SAMPLE_RATE
from ivr.detect import Situation, analyze
from ivr.synth.script_calls import silent_line_events

SCRIPTS = ("outbound", "inbound")
SLOW = examples(12)


def impulse(kind: str, ms: float, peak_dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """One click (a decaying noise burst), pop (a few samples of one sign) or knock (a damped
    low tone), `ms` long, its peak at `peak_dbfs` (float64, int16 units)."""
    n = max(1, int(ms * SAMPLE_RATE / 1000))
    t = np.arange(n) / SAMPLE_RATE
    if kind == "pop":
        shape = np.ones(n) * rng.choice([-1.0, 1.0])
    elif kind == "knock":
        freq = rng.uniform(120.0, 400.0)
        shape = np.sin(2 * np.pi * freq * t) * np.exp(-t / (ms / 4000))
    else:
        shape = rng.standard_normal(n) * np.exp(-t / (ms / 3000))
    return shape / np.max(np.abs(shape)) * 10 ** (peak_dbfs / 20) * 32768


def silent_events(name: str) -> list[dict]:
    frames = prompt_frames(name)
    return silent_line_events(bundled(name), frames.__getitem__)


def call_length_s(name: str) -> float:
    return silent_events(name)[-1]["t"] + 5.0


def assert_silent_line(result, name: str) -> None:
    """The call went exactly as on a silent line: same prompts at the same frames."""
    expected = silent_events(name)
    said = [(r.prompt, r.t) for r in records(result, "prompt_started")]
    assert said == [(e["prompt"], e["t"]) for e in expected if e["event"] == "prompt_started"]
    assert result.outcome == expected[-1]["outcome"] == "no_answer"
    assert result.duration_s == pytest.approx(expected[-1]["t"])


@pytest.mark.parametrize("name", SCRIPTS)
@SLOW
@given(
    kind=st.sampled_from(["click", "pop", "knock"]),
    ms=st.floats(1.0, 40.0),
    peak=st.floats(-40.0, -3.0),
    gap_s=st.floats(1.0, 2.0),
    floor=st.floats(-75.0, -55.0),
    seed=st.integers(0, 2**16),
)
def test_clicks_on_a_silent_line_are_not_an_answer(
    tmp_path, name, kind, ms, peak, gap_s, floor, seed
):
    rng = np.random.default_rng(seed)
    seconds = call_length_s(name)
    audio = line(seconds, floor, seed)
    t = rng.uniform(0.0, gap_s)
    while t < seconds - 0.05:
        click = impulse(kind, ms, peak, rng)
        start = int(t * SAMPLE_RATE)
        audio[start : start + click.size] += click[: audio.size - start]
        t += gap_s * rng.uniform(0.9, 1.1)
    path = write(tmp_path / "clicks.wav", audio)
    assert analyze(FileSource(path)).classification is Situation.SILENCE
    assert_silent_line(replay(path, name), name)


@pytest.mark.parametrize("name", SCRIPTS)
@SLOW
@given(dc=st.floats(-0.3, 0.3), floor=st.floats(-75.0, -55.0), seed=st.integers(0, 2**16))
def test_a_dc_offset_on_a_silent_line_is_a_silent_line(tmp_path, name, dc, floor, seed):
    audio = line(call_length_s(name), floor, seed) + dc * 32768
    path = write(tmp_path / "dc.wav", audio)
    assert analyze(FileSource(path)).classification is Situation.SILENCE
    assert_silent_line(replay(path, name), name)


@pytest.mark.parametrize("name", SCRIPTS)
@SLOW
@given(
    dc=st.floats(-0.3, 0.3),
    level=st.floats(-30.0, -12.0),
    clip=st.booleans(),
    clip_index=st.integers(0, len(CARDS) - 1),
)
def test_a_talker_through_a_dc_offset_is_answered(tmp_path, name, dc, level, clip, clip_index):
    """A talker at a normal level, or a loud one clipped by the sound card, plus DC."""
    end = opening_frames(name)
    talker = at_level(read(CARDS[clip_index]), -6.0 if clip else level)
    audio = place(line(end * 0.02 + 20.0), talker, end + 50) + dc * 32768
    path = write(tmp_path / "dc_talker.wav", audio)  # clipped at full scale when written
    result = replay(path, name)
    assert result.outcome == "answered", result.summary()
    assert not records(result, "noise")
    # answered end_of_speech_s after the end of what was said, to the frame
    eos = round(start_listen(name).end_of_speech_s * 50)
    [answer] = records(result, "speech")
    ends = [r for r in records(result, "vad_end") if r.frame <= answer.frame]
    last_end = round(ends[-1].speech_end_s * 50)
    assert answer.frame == max(last_end + eos, ends[-1].frame)
