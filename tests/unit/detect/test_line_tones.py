"""The line's tones (ivr.detect.line_tones through the front end): China's 450 Hz cadences, the
special information tone and an answering machine's beep, on synthesized tones at several
levels and phases, on Asterisk's real recorded beep, and never on real speech, music or a hum.

Frame times: a tone's on period begins in the first frame it fills, and ends in the frame it
ends in, or the next when it fills most of that frame (its edge frame): claims are made to that
frame.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from line_audio import (
    ALLISON,
    MUSIC,
    SPEECH,
    detect,
    frames,
    noise,
    put,
    recording,
    samples,
    sine,
    tones,
)

from ivr.audio import FileSource
from ivr.audio.format import FRAME_SAMPLES
from ivr.detect import analyze
from ivr.detect.frontend import Detectors
from ivr.detect.line_tones import RINGBACK_OFF_S
from ivr.detect.voice_activity import VoiceActivity

CADENCES = {"ringback": (1.0, 4.0), "busy": (0.35, 0.35), "congestion": (0.7, 0.7)}
"""China's 450 Hz tones: on and off periods (s)."""
OFF_FRAMES = round(RINGBACK_OFF_S / 0.02)


def cadence(kind: str, dbfs: float, lead: int, seconds: float = 12.0, hz: float = 450.0):
    """`kind`'s cadence from sample `lead` on, line noise 20 dB below it (float64)."""
    on, off = CADENCES[kind]
    call = noise(samples(seconds), dbfs - 20.0, seed=lead)
    at = lead
    while at < call.size:
        put(call, sine(hz, samples(on), dbfs), at)
        at += samples(on + off)
    return call


def ends_in(sample: int) -> tuple[int, int]:
    """The frames a period ending at `sample` can be seen to end in (its edge frame or the
    next)."""
    return sample // FRAME_SAMPLES, sample // FRAME_SAMPLES + 1


def first_full(sample: int) -> int:
    return -(-sample // FRAME_SAMPLES)


def starts_in(sample: int) -> tuple[int, int]:
    """The frames a period beginning at `sample` can be seen to begin in (the frame it begins
    in, when it fills most of it, or the first it fills)."""
    return sample // FRAME_SAMPLES, first_full(sample)


@pytest.mark.parametrize("kind", CADENCES)
@pytest.mark.parametrize("dbfs", [-10.0, -25.0, -40.0])
@pytest.mark.parametrize("lead", [0, 5333, 8272])
def test_china_tones_are_recognized_at_their_frame(kind, dbfs, lead):
    heard = tones(cadence(kind, dbfs, lead))
    assert [t.kind for t in heard][:1] == [kind]
    tone = heard[0]
    assert tone.frame == first_full(lead)
    assert tone.frequency_hz == 450.0
    on, off = CADENCES[kind]
    if kind == "ringback":  # decided 3.2 s into the first off period
        assert tone.decided_frame - OFF_FRAMES in ends_in(lead + samples(on))
    else:  # decided at the end of the second on period
        assert tone.decided_frame - 1 in ends_in(lead + samples(2 * on + off))


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(sorted(CADENCES)),
    dbfs=st.floats(-42.0, -6.0),
    lead=st.integers(0, 2 * 16000),
    hz=st.floats(430.0, 470.0),
    block=st.sampled_from([1, 3, 50, 1000]),
)
def test_any_phase_level_and_frequency_within_20_hz_is_recognized(kind, dbfs, lead, hz, block):
    heard = tones(cadence(kind, dbfs, lead, seconds=9.0, hz=hz), block)
    assert heard and heard[0].kind == kind
    assert heard[0].frame in starts_in(lead)


@pytest.mark.parametrize("kind", CADENCES)
def test_the_same_cadence_at_another_frequency_is_no_network_tone(kind):
    for hz in (350.0, 600.0):
        assert all(t.kind not in CADENCES for t in tones(cadence(kind, -20.0, 0, hz=hz)))


@pytest.mark.parametrize("kind", ["busy", "congestion"])
def test_a_single_burst_is_not_enough(kind):
    on, _ = CADENCES[kind]
    call = put(noise(samples(6.0), -45.0), sine(450.0, samples(on), -20.0), 4000)
    assert tones(call) == []


def test_ringback_with_its_off_period_cut_short_is_not_ringback():
    call = noise(samples(8.0), -45.0)
    for at in (0.0, 3.0, 6.0):  # 1 s on, 2 s off: never 3.2 s of silence after a ring
        put(call, sine(450.0, samples(1.0), -20.0), samples(at))
    assert [t.kind for t in tones(call)] == []


def test_a_hum_at_450_hz_is_no_tone_alone_or_under_real_speech():
    hum = sine(450.0, samples(30.0), -35.0) + noise(samples(30.0), -60.0)
    assert tones(hum) == []
    talking = hum.copy()
    at = 0
    for path in SPEECH[:12]:
        speech = recording(path)
        put(talking, speech, at)
        at += speech.size + samples(0.35)  # pauses of the hum alone between sentences
        if at >= talking.size:
            break
    assert tones(talking) == []


def test_real_speech_never_makes_a_tone():
    found = [(p.name, t.kind) for p in SPEECH for t in tones(recording(p), block=50)]
    assert found == []


@pytest.mark.parametrize("path", MUSIC, ids=lambda p: p.stem)
def test_music_on_hold_never_makes_a_tone(path):
    assert tones(recording(path, 90.0), block=50) == []


def test_the_special_information_tone_in_order_only():
    call = noise(samples(3.0), -50.0)
    at = samples(0.5)
    for hz in (950.0, 1400.0, 1800.0):
        put(call, sine(hz, samples(0.33), -20.0), at)
        at += samples(0.33)
    heard = tones(call)
    assert [(t.kind, t.frame, t.frequency_hz) for t in heard] == [("sit", 25, 950.0)]
    assert heard[0].decided_frame - 1 in ends_in(at)
    backwards = noise(samples(3.0), -50.0)
    at = samples(0.5)
    for hz in (1800.0, 1400.0, 950.0):
        put(backwards, sine(hz, samples(0.33), -20.0), at)
        at += samples(0.33)
    assert [t.kind for t in tones(backwards)] == []


def test_the_real_beep_after_a_real_greeting():
    greeting = recording(ALLISON / "vm-intro.wav")
    beep = recording(ALLISON / "beep.wav")
    call = noise(samples(12.0), -60.0)
    put(call, greeting, samples(0.5))
    at = samples(0.5) + greeting.size + samples(0.3)
    put(call, beep, at)
    heard = tones(call)
    assert [t.kind for t in heard] == ["beep"]
    assert 690.0 <= heard[0].frequency_hz <= 710.0
    pure = np.flatnonzero(np.abs(beep) > 0.1 * np.abs(beep).max())
    assert abs(heard[0].frame - (at + pure[0]) // FRAME_SAMPLES) <= 1
    assert heard[0].decided_frame - 3 in ends_in(at + pure[-1])


@pytest.mark.parametrize("after", [SPEECH[0], MUSIC[0]], ids=["speech", "music"])
def test_a_beep_into_more_sound_is_no_beep(after):
    sound = recording(after, 8.0)
    loud = np.flatnonzero(np.abs(sound) > 0.1 * np.abs(sound).max())
    call = noise(samples(3.0), -60.0)
    put(call, sine(1000.0, samples(0.3), -20.0), samples(0.5))
    put(call, sound[loud[0] :], samples(0.8))  # sound right after it, from its first loud sample
    assert [t.kind for t in tones(call)] == []


def test_tones_below_the_quietest_level_are_not_heard():
    assert tones(cadence("busy", -50.0, 0)) == []


def test_a_tone_is_not_speech_from_its_third_frame(write_wav):
    call = cadence("congestion", -15.0, 0, seconds=8.0)
    pcm = np.clip(np.rint(call), -32768, 32767).astype(np.int16)
    raw = VoiceActivity(3).flags(pcm.reshape(-1, FRAME_SAMPLES))
    assert raw[2:35].mean() > 0.5  # webrtcvad itself calls the tone speech
    _, tone, voiced = detect(call)
    assert tone[2:35].all() and not tone[:2].any()
    assert not voiced[2:35].any()
    assert analyze(FileSource(write_wav("congestion.wav", pcm))).segments == []


@settings(max_examples=20, deadline=None)
@given(cuts=st.lists(st.integers(1, 400), min_size=1, max_size=12))
def test_results_do_not_depend_on_the_blocks(cuts):
    call = cadence("busy", -20.0, 777, seconds=4.0)
    put(call, recording(ALLISON / "beep.wav"), samples(2.2))
    whole = detect(call, block=10_000)
    pcm = frames(call)
    detectors = Detectors()
    events, tone, at, i = [], [], 0, 0
    while at < pcm.shape[0]:
        result = detectors.process(pcm[at : at + cuts[i % len(cuts)]])
        events += result.line_events
        tone.append(result.tone)
        at, i = at + cuts[i % len(cuts)], i + 1
    assert events == whole[0]
    assert np.array_equal(np.concatenate(tone), whole[1])


@settings(max_examples=15, deadline=None)
@given(cuts=st.lists(st.integers(1, 400), min_size=1, max_size=12), lead=st.integers(0, 8000))
def test_the_verdict_on_a_line_answered_into_ringback_waits_for_the_ringback(cuts, lead):
    call = cadence("ringback", -20.0, lead, seconds=9.0)
    whole = detect(call, block=10_000)[0]
    kinds = [type(e).__name__ for e in whole]
    assert kinds[:2] == ["ToneHeard", "MachineVerdict"]  # silence to the detector, between rings
    ring, verdict = whole[0], whole[1]
    assert ring.kind == "ringback" and verdict.decided_frame == ring.decided_frame
    pcm = frames(call)
    detectors, events, at, i = Detectors(), [], 0, 0
    while at < pcm.shape[0]:
        events += detectors.process(pcm[at : at + cuts[i % len(cuts)]]).line_events
        at, i = at + cuts[i % len(cuts)], i + 1
    assert events == whole


def test_the_verdict_on_real_speech_is_not_held_back():
    greeting = put(noise(samples(8.0), -60.0), recording(ALLISON / "vm-intro.wav"), samples(0.5))
    (verdict,) = [e for e in detect(greeting)[0] if type(e).__name__ == "MachineVerdict"]
    assert verdict.verdict == "machine" and verdict.cause.startswith("LONGGREETING")
    # 1.5 s of greeting from its start at 0.5 s (its first syllable a few frames in); a verdict
    # held for a pending tone would come 3.2 s later
    assert verdict.decided_frame <= round((0.5 + 1.5 + 0.3) / 0.02)
