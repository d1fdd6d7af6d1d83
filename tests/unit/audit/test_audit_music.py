"""Music on hold on the agent's side is the customer's wait, not the agent talking.

Holds filled with Asterisk's music on hold (its five tracks, drawn with their levels, places
in the track and the gaps around them by hypothesis through `ivr synth --audit`'s hold_music
kind) are scored like silent holds: the hold found at the silence's start, the agent's words
around the music kept as its words; and the cutting of music out of the agent's segments,
on its own.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.audit import AuditSettings, recording, score, silent_line_rules
from ivr.audit.music import MUSIC_SPEECH_SHARE, SHORTEST_PIECE_FRAMES, AgentMusic
from ivr.audit.sides import analyze_call
from ivr.events import Segment
from ivr.synth.audit_calls import build_scene
from ivr.synth.audit_corpus import AuditCall, render
from ivr.synth.channel import write_wav

TOLERANCE_S = 0.1
MEASURED = ("interrupting", "late_answer", "hold", "hung_up_first", "volume", "dead_air")
"""The items a hold with music could upset: every one as labelled."""


def _segment(start: int, end: int) -> Segment:
    return Segment(start, end, -25.0, 30.0, -55.0, end - start)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**32 - 1))
def test_a_hold_with_music_is_found_at_its_start_like_a_silent_one(tmp_path_factory, seed):
    scene = build_scene("hold_music", np.random.default_rng(seed))
    call = AuditCall("hold_music.wav", scene, "tuning", (-66.0, -66.0))
    path = tmp_path_factory.mktemp("music") / call.file
    write_wav(path, render(call, seed, 0), "telephone")
    settings_ = AuditSettings()
    sides = analyze_call(recording(path))
    card = score(sides, settings_, silent_line_rules("inbound", settings_))
    labels = scene.labels()
    for key in MEASURED:
        result, label = card.result(key), labels[key]
        assert str(result.verdict) == label["verdict"], (key, scene.music, result)
        found = list(result.moments) if label["verdict"] == "fail" else []
        assert len(found) == len(label["moments_s"]), (key, scene.music, result)
        for got, want in zip(found, label["moments_s"], strict=True):
            assert abs(got - want) <= TOLERANCE_S, (key, scene.music, result)
    # every turn of the agent's is heard, the words back after the music too; nothing inside
    # the music is the agent's speech
    speech = [(s.start_s, s.end_s) for s in sides.agent_speech]
    for turn in scene.agent_turns():
        assert any(a < turn.end_s and turn.start_s < b for a, b in speech), (turn, speech)
    music = scene.music[0]
    inside = [(a, b) for a, b in speech if music.start_s + 0.5 < b and a < music.end_s - 0.5]
    assert not inside, (music, speech)


def test_music_is_cut_out_and_the_words_around_it_stay():
    words, music_then_words = _segment(100, 900), _segment(1000, 4000)
    found = AgentMusic(stretches=((1150, 3800),), heard=((1000, 1140), (3800, 4000)))
    speech = found.speech([words, music_then_words], clear=[words])
    assert [(s.start, s.end) for s in speech] == [(100, 900), (1000, 1150), (3800, 4000)]


def test_what_is_left_beside_music_stays_only_if_long_enough_and_mostly_speech():
    segment = _segment(1000, 4000)
    short = 1000 + SHORTEST_PIECE_FRAMES - 1
    found = AgentMusic(stretches=((short, 3000),), heard=((1000, short),))
    assert found.speech([segment], clear=[segment]) == []  # the music's edge, then music
    half = int(100 * MUSIC_SPEECH_SHARE)
    for heard, kept in (((1000, 1000 + half),), True), (((1000, 999 + half),), False):
        found = AgentMusic(stretches=((1100, 4000),), heard=heard)
        speech = found.speech([segment], clear=[])  # judged by what was heard, not its SNR
        assert [(s.start, s.end) for s in speech] == ([(1000, 1100)] if kept else [])


def test_a_segment_without_music_is_kept_only_when_it_stands_clear_of_the_noise():
    loud, noise = _segment(0, 100), _segment(200, 900)
    assert AgentMusic().speech([loud, noise], clear=[loud]) == [loud]
