"""Onset and hangover smoothing, checked against golden frame strings (1 = voiced frame)."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.call_settings import VadSettings
from ivr.detect.level import power_to_dbfs
from ivr.detect.vad import SpeechSegmenter
from ivr.events import SpeechEnded, SpeechStarted


def run(
    golden: str,
    onset_ms=100,
    hangover_ms=100,
    cuts=(),
    power=1e-2,
    floor_db=-100.0,
    levels=None,
):
    """Feed a golden string in pieces; return (events, speech mask string).

    Voiced frames have `power` (full scale = 1), unvoiced ones none, unless `levels` (dBFS per
    frame) says otherwise.
    """
    flags = np.array([c == "1" for c in golden.replace(" ", "")], dtype=bool)
    if levels is None:
        powers = np.where(flags, power, 0.0)
    else:
        powers = 10 ** (np.asarray(levels, dtype=np.float64) / 10)
    level_db = power_to_dbfs(powers).astype(np.float32)
    floor = np.full(flags.shape, floor_db, dtype=np.float32)
    seg = SpeechSegmenter(VadSettings(onset_ms=onset_ms, hangover_ms=hangover_ms))
    events, masks = [], []
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(flags)), len(flags)]
    for a, b in itertools.pairwise(bounds):
        ev, mask = seg.feed(a, flags[a:b], powers[a:b], level_db[a:b], floor[a:b])
        events += ev
        masks.append(mask)
    events += seg.finish(len(flags))
    mask = "".join("1" if m else "0" for m in np.concatenate(masks))
    return events, mask


def spans(events):
    return [(e.segment.start, e.segment.end) for e in events if isinstance(e, SpeechEnded)]


def test_a_word_is_speech_with_backdated_start_and_decision_times():
    #          frame: 0123456789...
    events, mask = run("0011111111000000000000", onset_ms=100, hangover_ms=100)
    started, ended = events
    assert started == SpeechStarted(frame=2, decided_frame=7)  # 5 voiced frames heard by frame 7
    assert (ended.segment.start, ended.segment.end) == (2, 10)
    assert ended.decided_frame == 15  # 5 unvoiced frames after the last voiced one
    assert mask == "0000001111111100000000"  # what was known, frame by frame


def test_a_blip_shorter_than_onset_is_not_speech():
    events, mask = run("000111000000111100000000", onset_ms=100)
    assert events == []
    assert "1" not in mask


def test_short_gaps_do_not_break_onset():
    events, _ = run("0011011100000000", onset_ms=100, hangover_ms=60)
    assert spans(events) == [(2, 8)]


def test_gap_of_onset_length_restarts_the_candidate():
    events, _ = run("0110000011100000000", onset_ms=100, hangover_ms=60)
    assert spans(events) == []


def test_pause_shorter_than_hangover_stays_inside_one_segment():
    events, _ = run("1111100011111000000000", onset_ms=100, hangover_ms=100)
    assert spans(events) == [(0, 13)]


def test_pause_of_hangover_length_splits_segments():
    events, _ = run("11111000001111100000", onset_ms=100, hangover_ms=100)
    assert spans(events) == [(0, 5), (10, 15)]


def test_speech_at_end_of_audio_is_closed():
    events, mask = run("00001111111", onset_ms=100, hangover_ms=300)
    assert spans(events) == [(4, 11)]
    assert events[-1].decided_frame == 11
    assert mask == "00000000111"  # decided on the fifth voiced frame


def test_segment_level_and_snr_subtract_the_noise_floor():
    # voiced power 1e-2 (-20 dBFS) over a -40 dBFS floor
    events, _ = run("1111111111000000", power=1e-2, floor_db=-40.0)
    seg = events[-1].segment
    assert seg.level_dbfs == pytest.approx(10 * np.log10(1e-2 - 1e-4), abs=0.01)
    assert seg.snr_db == pytest.approx(10 * np.log10((1e-2 - 1e-4) / 1e-4), abs=0.01)
    assert seg.floor_dbfs == -40.0
    assert seg.voiced_frames == 10


def test_webrtcvad_overhang_at_the_floor_is_trimmed_from_the_end():
    # speech at -20 dBFS, then 4 frames still "voiced" but at the -60 dBFS floor
    golden = "00111111111111000000000"
    levels = [-60] * 2 + [-20] * 8 + [-60] * 13
    events, _ = run(golden, floor_db=-60.0, levels=levels)
    assert spans(events) == [(2, 10)]


def test_soft_onset_above_the_floor_is_added_to_the_start():
    # a breath-like onset 10 dB above the floor, 3 frames before webrtcvad says voiced
    golden = "00000111111111000000000"
    levels = [-60] * 2 + [-50] * 3 + [-20] * 9 + [-60] * 9
    events, _ = run(golden, floor_db=-60.0, levels=levels)
    assert spans(events) == [(2, 14)]
    assert events[0] == SpeechStarted(frame=2, decided_frame=10)


def test_edges_move_at_most_160_ms():
    golden = "0" * 20 + "1" * 10 + "0" * 30
    levels = [-40] * 20 + [-20] * 10 + [-60] * 30  # loud all the way back to frame 0
    events, _ = run(golden, floor_db=-60.0, levels=levels)
    assert spans(events) == [(12, 30)]  # 8 frames (160 ms) back, no further


@given(
    golden=st.text(alphabet="01", min_size=1, max_size=300),
    cuts=st.lists(st.integers(0, 300), max_size=6),
    onset_ms=st.sampled_from([20, 60, 100, 200]),
    hangover_ms=st.sampled_from([20, 100, 300]),
)
def test_result_does_not_depend_on_block_boundaries(golden, cuts, onset_ms, hangover_ms):
    whole = run(golden, onset_ms, hangover_ms)
    assert run(golden, onset_ms, hangover_ms, cuts=cuts) == whole


@given(golden=st.text(alphabet="01", min_size=1, max_size=300))
def test_segments_are_ordered_disjoint_and_start_and_end_on_voiced_frames(golden):
    events, mask = run(golden, onset_ms=60, hangover_ms=100)
    segs = spans(events)
    for (_, b), (c, _) in itertools.pairwise(segs):
        assert b <= c
    for a, b in segs:
        assert golden[a] == "1" and golden[b - 1] == "1"
        assert golden[a:b].count("1") >= 3
    # every event is decided no earlier than the speech it reports
    for e in events:
        if isinstance(e, SpeechStarted):
            assert e.decided_frame > e.frame
        else:
            assert e.decided_frame >= e.segment.end
    assert len(mask) == len(golden)
