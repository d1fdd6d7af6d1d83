"""Callers talk across the end of our prompt: what is still going on then is heard from there.

Real human speech (pocketsphinx-testdata) is placed so that the speech segment the detectors
find ends exactly d frames after the end of the opening prompt's playout (found by analysing
the very file that is replayed). The rule: a segment going on when a listening window starts is
heard from that frame; the heard part must itself be a word (vad.onset_ms); while it goes on no
no-input timer fires. Both bundled scripts; event times to the frame.
"""

from __future__ import annotations

import pytest
from realcall import (
    CARDS,
    READER,
    at_level,
    bundled,
    continuous_talker,
    frame_of,
    line,
    opening_frames,
    place,
    read,
    records,
    replay,
    segments,
    start_listen,
    word_frames,
    write,
)

from ivr.audio.format import ms_to_frames

SCRIPTS = ("outbound", "inbound")


def ending_at(tmp_path, name: str, audio, target_end: int, seconds: float = 40.0):
    """A call where `audio`, cut after its longest speech segment that fits before
    `target_end`, is placed so that this segment (as the detectors find it) ends at frame
    `target_end` exactly; returns (path, that segment)."""
    alone = write(tmp_path / "alone.wav", place(line(seconds), audio, 100))
    fits = [s for s in segments(alone) if s.end - s.start <= target_end - 20]
    longest = max(fits, key=lambda s: s.end - s.start)
    first = max(0, longest.start - 100 - 10)
    audio = audio[first * 320 : (longest.end - 100 + 10) * 320]  # nothing else said
    at = target_end - (longest.end - 100 - first)
    for _ in range(8):
        path = write(tmp_path / f"{name}_{target_end}.wav", place(line(seconds), audio, at))
        near = [s for s in segments(path) if abs(s.end - target_end) <= 10]
        assert near, "the speech moved away from its place"
        found = min(near, key=lambda s: abs(s.end - target_end))
        if found.end == target_end:
            return path, found
        at += target_end - found.end
    raise AssertionError(f"could not place the speech to end at frame {target_end}")


@pytest.mark.parametrize("name", SCRIPTS)
@pytest.mark.parametrize("offset", [-1, 0])
def test_speech_ending_by_the_prompt_end_is_not_an_answer(tmp_path, name, offset):
    end = opening_frames(name)
    path, segment = ending_at(tmp_path, name, at_level(read(CARDS[1]), -20.0), end + offset)
    assert segment.start < end
    result = replay(path, name)
    timeout = ms_to_frames(start_listen(name).noinput_timeout_s * 1000)
    assert frame_of(result, "prompt_finished") == end
    # Its end is known only after the hangover, so it may still be open when we listen:
    # then it is heard from there, and what was heard is nothing.
    assert not records(result, "speech_started")
    for started in records(result, "speech_continues"):
        assert started.frame == end
        [ignored] = [r for r in records(result, "speech_ignored") if r.heard_s is not None]
        assert ignored.heard_s == 0.0
    assert not records(result, "speech")
    assert frame_of(result, "noinput") == end + timeout  # the deadline stands, to the frame
    assert records(result, "prompt_started")[1].frame == end + timeout


@pytest.mark.parametrize("name", SCRIPTS)
@pytest.mark.parametrize("offset", [1, 2, 4])
def test_a_tail_shorter_than_a_word_after_the_prompt_is_not_an_answer(tmp_path, name, offset):
    assert offset < word_frames()
    end = opening_frames(name)
    path, segment = ending_at(tmp_path, name, at_level(read(CARDS[1]), -20.0), end + offset)
    assert segment.start < end < segment.end
    result = replay(path, name)
    timeout = ms_to_frames(start_listen(name).noinput_timeout_s * 1000)
    assert not records(result, "speech_started")
    [started] = records(result, "speech_continues")
    assert started.frame == end and started.speech_start_s == pytest.approx(end * 0.02)
    [ignored] = [r for r in records(result, "speech_ignored") if r.heard_s is not None]
    assert ignored.heard_s == pytest.approx(offset * 0.02)
    assert frame_of(result, "noinput") == end + timeout
    assert result.outcome == "no_answer"


@pytest.mark.parametrize("name", SCRIPTS)
@pytest.mark.parametrize("offset_ms", [100, 500, 3000])
def test_speech_going_on_after_the_prompt_is_heard_from_its_end(tmp_path, name, offset_ms):
    end = opening_frames(name)
    offset = ms_to_frames(offset_ms)
    # the reader's longest sentence that can start before our prompt ends
    fitting = [p for p in READER if read(p).size // 320 < end + offset - 20]
    longest = max(fitting, key=lambda p: read(p).size)
    audio = at_level(read(longest if offset_ms >= 1000 else CARDS[1]), -20.0)
    path, segment = ending_at(tmp_path, name, audio, end + offset)
    assert segment.start < end < segment.end
    result = replay(path, name)
    assert result.outcome == "answered"
    assert not records(result, "noinput")
    heard = [r for r in records(result, "speech_continues") if r.frame == end]
    assert heard and heard[0].began_s < heard[0].speech_start_s == pytest.approx(end * 0.02)
    # the part under the prompt was ignored when it began
    assert any(r.frame < end for r in records(result, "speech_ignored"))
    eos = ms_to_frames(start_listen(name).end_of_speech_s * 1000)
    ended = [r for r in records(result, "vad_end") if r.speech_end_s == segment.end_s]
    answer = frame_of(result, "speech")
    assert answer == max(segment.end + eos, ended[0].frame)
    assert records(result, "prompt_started")[1].frame == answer


def never_pausing(tmp_path, name: str):
    """The reader talking on for 40 s from 3 s before the opening ends: (path, replayed)."""
    talker = at_level(continuous_talker(40.0), -20.0)
    start = max(0, opening_frames(name) - 150)
    path = write(tmp_path / "talker.wav", place(line(60.0), talker, start))
    return path, replay(path, name)


@pytest.mark.parametrize("name", SCRIPTS)
def test_a_talker_who_never_pauses_is_answered_without_a_reprompt(tmp_path, name):
    end = opening_frames(name)
    _, result = never_pausing(tmp_path, name)
    assert result.outcome == "answered"
    assert not records(result, "noinput")
    script = bundled(name)
    assert result.prompts == [*script.states[script.start].say, "thanks_goodbye"]
    # heard from the end of the opening: every speech_started in the window is at or after it
    [continued, *_] = records(result, "speech_continues")
    assert continued.frame == end
    assert all(r.frame > end for r in records(result, "speech_started"))


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_noinput_fires_while_the_callee_speaks(tmp_path, name):
    path, result = never_pausing(tmp_path, name)
    spans = [(s.start, s.end) for s in segments(path)]
    for record in records(result, "noinput"):
        assert not [a for a, b in spans if a < record.frame < b]
