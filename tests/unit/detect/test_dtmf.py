"""In-band telephone keys (ivr.detect.keys through the front end): every key at several levels,
the ITU-T Q.24 limits on length, frequency and twist wherever a key starts, keys pressed over
real speech, and never a key from real speech, music or noise alone.

Frame times: the detector looks at 20 ms windows every 10 ms (160 samples). A key is seen from
the first window it fills to at least TONE_SHARE (all but at most 64 samples of its 320; near
that edge, the leakage of a cut tone decides), and decided at the frame that completes the
window after that one; claims are made to that frame.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from line_audio import MUSIC, SPEECH, detect, frames, keys, noise, put, recording, samples, sine

from ivr.audio import FileSource
from ivr.audio.format import FRAME_SAMPLES
from ivr.detect import analyze
from ivr.detect.frontend import VAD_OVERHANG_FRAMES, Detectors
from ivr.detect.keys import HIGH_HZ, KEYPAD, LOW_HZ

ALL_KEYS = "".join(KEYPAD)
HOP = FRAME_SAMPLES // 2
"""The detector's window hop (samples)."""
READERS = [p for p in SPEECH if "pocketsphinx" in p.parts]


def key(name: str, count: int, dbfs: float, twist_db: float = 0.0, off=(0.0, 0.0)) -> np.ndarray:
    """Key `name` for `count` samples: its row tone at `dbfs` RMS, its column tone `twist_db`
    above that; each tone's frequency off by the relative amounts `off` (row, column)."""
    row = next(i for i, keys_of_row in enumerate(KEYPAD) if name in keys_of_row)
    column = KEYPAD[row].index(name)
    low = sine(LOW_HZ[row] * (1 + off[0]), count, dbfs)
    return low + sine(HIGH_HZ[column] * (1 + off[1]), count, dbfs + twist_db)


def line(seconds: float = 1.0) -> np.ndarray:
    return noise(samples(seconds), -60.0, seed=7)


def pressed(name: str, at: int, seconds: float, dbfs: float = -20.0, **kw) -> list:
    call = put(line(), key(name, samples(seconds), dbfs, **kw), at)
    return keys(call)


def first_window(at: int, missing: int) -> int:
    """The first window start (samples) at most `missing` samples before `at`."""
    return -(-(at - missing) // HOP) * HOP


def seen_at(at: int) -> set[tuple[int, int]]:
    """(frame, decided frame) a key from sample `at` is reported with: its first window is one
    it fills but for at most 32 samples, or one it misses 33-64 samples of (a tone filling
    under 80 % of a window has under 80 % of its energy: never)."""
    found = set()
    for missing in (32, 64):
        start = first_window(at, missing)
        found.add((start // FRAME_SAMPLES, -(-(start + HOP + FRAME_SAMPLES) // FRAME_SAMPLES)))
    return found


@pytest.mark.parametrize("dbfs", [-10.0, -20.0, -30.0])
def test_every_key_at_every_level_is_heard_once_at_its_frame(dbfs):
    at = samples(0.2) + 77
    for name in ALL_KEYS:
        heard = pressed(name, at, 0.06, dbfs)
        assert [(k.key, k.frame, k.decided_frame) for k in heard] in (
            [(name, *seen)] for seen in seen_at(at)
        ), name


def test_keys_below_the_quietest_level_are_not_heard():
    assert [k for name in ALL_KEYS for k in pressed(name, 3200, 0.1, -40.0)] == []


def any_key_anywhere(test):
    """Run `test(offset, dbfs, name)` over any key, at any level keys are sent at, starting at
    any sample of four frames."""
    return settings(max_examples=60, deadline=None)(
        given(
            offset=st.integers(0, 4 * FRAME_SAMPLES),
            dbfs=st.floats(-32.0, -8.0),
            name=st.sampled_from(ALL_KEYS),
        )(test)
    )


@any_key_anywhere
def test_a_40_ms_key_is_heard_wherever_it_starts(offset, dbfs, name):
    at = samples(0.2) + offset
    heard = pressed(name, at, 0.040, dbfs)
    assert len(heard) == 1 and heard[0].key == name
    assert (heard[0].frame, heard[0].decided_frame) in seen_at(at)


@any_key_anywhere
def test_a_20_ms_burst_is_no_key_wherever_it_starts(offset, dbfs, name):
    assert pressed(name, samples(0.2) + offset, 0.020, dbfs) == []


@pytest.mark.parametrize("off", [(0.015, 0.0), (0.0, -0.015), (0.015, 0.015), (-0.015, 0.015)])
def test_keys_within_1_5_percent_are_heard(off):
    assert [k.key for name in ALL_KEYS for k in pressed(name, 3200, 0.06, off=off)] == list(
        ALL_KEYS
    )


@pytest.mark.parametrize("off", [(0.05, 0.0), (0.0, -0.05), (-0.05, -0.05), (0.05, -0.05)])
def test_keys_off_by_5_percent_are_not(off):
    assert [k for name in ALL_KEYS for k in pressed(name, 3200, 0.06, off=off)] == []


@pytest.mark.parametrize(
    ("twist_db", "heard"), [(-7.0, True), (-9.0, False), (3.0, True), (5.0, False)]
)
def test_twist_within_8_db_normal_and_4_db_reverse(twist_db, heard):
    found = [k.key for name in ALL_KEYS for k in pressed(name, 3200, 0.06, twist_db=twist_db)]
    assert found == (list(ALL_KEYS) if heard else [])


def test_a_10_ms_dropout_is_one_press_a_50_ms_pause_two():
    for at in range(3200, 3200 + FRAME_SAMPLES, 40):
        dropout = line()
        put(dropout, key("7", samples(0.05), -20.0), at)
        put(dropout, key("7", samples(0.05), -20.0), at + samples(0.06))
        assert [k.key for k in keys(dropout)] == ["7"], at
        pause = line()
        put(pause, key("7", samples(0.05), -20.0), at)
        put(pause, key("7", samples(0.05), -20.0), at + samples(0.10))
        assert [k.key for k in keys(pause)] == ["7", "7"], at


def test_a_long_press_is_one_key_and_the_next_key_follows_without_a_pause():
    call = line(2.0)
    put(call, key("1", samples(1.0), -20.0), 3200)
    put(call, key("2", samples(0.1), -20.0), 3200 + samples(1.0))
    assert [k.key for k in keys(call)] == ["1", "2"]


def key_span_db(audio: np.ndarray) -> float:
    return 10 * np.log10(np.mean(audio**2) / 32768.0**2 + 1e-20)


@pytest.mark.parametrize("path", READERS + SPEECH[len(READERS) :][:20], ids=lambda p: p.stem)
def test_keys_10_db_or_more_above_the_speech_they_are_pressed_over_are_heard(path):
    speech = recording(path)
    call, want = speech.copy(), []
    length = samples(0.06)
    for i, at in enumerate(range(samples(0.2), speech.size - length, samples(0.17))):
        speech_db = key_span_db(speech[at : at + length])
        if speech_db < -45.0:
            continue  # a pause: only keys over the talking count here
        name = ALL_KEYS[i % len(ALL_KEYS)]
        # two tones, each 7 dB above the speech: 10 dB in all, and never quieter than keys are sent
        put(call, key(name, length, max(speech_db + 7.0, -25.0)), at)
        want.append(name)
    assert want
    assert [k.key for k in keys(call)] == want


def test_no_key_from_real_speech():
    assert [(p.name, k.key) for p in SPEECH for k in keys(recording(p), block=50)] == []


@pytest.mark.parametrize("path", MUSIC, ids=lambda p: p.stem)
def test_no_key_from_music_on_hold(path):
    assert keys(recording(path), block=50) == []


@pytest.mark.parametrize("dbfs", [-10.0, -30.0])
def test_no_key_from_noise(dbfs):
    assert keys(noise(samples(30.0), dbfs, seed=3)) == []


def test_key_tones_are_never_speech(write_wav):
    call = line(3.0)
    for i, name in enumerate("13579#"):
        put(call, key(name, samples(0.2), -10.0), samples(0.3) + i * samples(0.4))
    _, tone, voiced = detect(call)
    _, _, line_alone = detect(line(3.0))  # webrtcvad calls the first frames of any noise voiced
    assert tone.sum() >= 6 * 9 and (voiced == line_alone).all()
    pcm = frames(call).reshape(-1)
    assert analyze(FileSource(write_wav("keys.wav", pcm))).segments == []


@pytest.mark.parametrize("path", READERS[:5], ids=lambda p: p.stem)
def test_speech_right_after_a_key_is_heard_at_most_the_vad_overhang_later(path, write_wav):
    speech = recording(path)
    speech = speech[np.flatnonzero(np.abs(speech) > 0.1 * np.abs(speech).max())[0] :]
    at = samples(0.5)
    alone = put(line(6.0), speech, at + samples(0.1))
    after_key = put(alone.copy(), key("3", samples(0.1), -15.0), at)
    segments = []
    for name, audio in (("alone.wav", alone), ("after_key.wav", after_key)):
        pcm = frames(audio).reshape(-1)
        segments.append(analyze(FileSource(write_wav(name, pcm))).segments)
    assert keys(after_key)[0].key == "3"
    (first, *rest), (first_after_key, *rest_after_key) = segments
    assert first.start <= first_after_key.start <= first.start + VAD_OVERHANG_FRAMES
    assert first_after_key.end == first.end and rest_after_key == rest


@settings(max_examples=20, deadline=None)
@given(cuts=st.lists(st.integers(1, 60), min_size=1, max_size=12))
def test_keys_do_not_depend_on_the_blocks(cuts):
    call = line(2.0)
    for i, name in enumerate("90*A"):
        put(call, key(name, samples(0.045), -20.0), 1111 + i * samples(0.3))
    whole = keys(call, block=10_000)
    assert len(whole) == 4
    pcm = frames(call)
    detectors, found, at, i = Detectors(), [], 0, 0
    while at < pcm.shape[0]:
        size = cuts[i % len(cuts)]
        found += [e for e in detectors.process(pcm[at : at + size]).line_events]
        at, i = at + size, i + 1
    assert found == whole
