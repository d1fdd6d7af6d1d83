"""The detector front end on real audio: levels, noise floor, and independence from chunking."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared import HUMAN_WAVS, human_speech, tone

from ivr.audio import FileSource, open_source
from ivr.audio.format import SILENCE_DBFS, ms_to_frames
from ivr.call_settings import FrontEndSettings
from ivr.detect import Detectors, Situation, analyze
from ivr.detect.level import rms_dbfs, sliding_windows
from ivr.detect.noise import FloorSummary
from ivr.detect.vad import PROGRESS_MS
from ivr.events import SpeechEnded, SpeechProgress, SpeechStarted


@pytest.mark.parametrize("dbfs", [-10.0, -30.0, -45.0, -60.0])
@pytest.mark.parametrize("freq", [440.0, 1000.0])
def test_calibrated_tone_level_within_1_db(write_wav, dbfs, freq):
    path = write_wav("tone.wav", tone(freq, 2.0, dbfs))
    analysis = analyze(open_source(path), keep_frames=True)
    levels = analysis.track.level_dbfs
    assert np.all(np.abs(levels[:-1] - dbfs) < 1.0)  # the last frame is partly padding
    assert rms_dbfs(tone(freq, 1.0, dbfs)) == pytest.approx(dbfs, abs=0.05)


def test_full_scale_sine_is_minus_3_dbfs():
    t = np.arange(16000) / 16000
    x = np.rint(32767 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    assert rms_dbfs(x) == pytest.approx(-3.01, abs=0.01)


def test_digital_silence_is_the_silence_level(write_wav):
    analysis = analyze(open_source(write_wav("zeros.wav", np.zeros(32000, np.int16))))
    assert analysis.floor_dbfs == SILENCE_DBFS
    assert analysis.segments == []
    assert analysis.classification is Situation.SILENCE


WHITE_IN_BAND_DB = 10 * np.log10((3400 - 300) / 8000)
"""White noise's level in the speech band (300-3400 Hz of the 0-8000 Hz it spreads over), as
a change of its full-band level (dB): the floor is measured in the band (ivr.detect.band)."""


@pytest.mark.parametrize("dbfs", [-30.0, -45.0, -60.0])
def test_noise_floor_of_white_noise_within_1_db(write_wav, dbfs):
    rng = np.random.default_rng(3)
    noise = rng.standard_normal(16000 * 6) * 10 ** (dbfs / 20) * 32768
    path = write_wav("white.wav", np.rint(noise).astype(np.int16))
    analysis = analyze(open_source(path))
    assert analysis.floor_dbfs == pytest.approx(dbfs + WHITE_IN_BAND_DB, abs=1.0)


def test_floor_rises_with_line_noise_under_speech(write_wav):
    """A floor from quiet frames, not from the VAD: noise heard as speech still raises it."""
    rng = np.random.default_rng(4)
    speech = human_speech(5).astype(np.float64)
    noise = rng.standard_normal(speech.size) * 10 ** (-35 / 20) * 32768
    path = write_wav("noisy.wav", np.rint(np.clip(speech + noise, -32768, 32767)).astype(np.int16))
    floor = analyze(open_source(path)).floor_dbfs - WHITE_IN_BAND_DB
    assert -37.0 <= floor <= -33.0


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(block_frames=st.integers(1, 120), index=st.integers(0, 9))
def test_detectors_do_not_depend_on_block_size(write_wav, block_frames, index):
    rng = np.random.default_rng(index)
    speech = human_speech(index).astype(np.float64)
    lead = rng.standard_normal(16000) * 100
    audio = np.rint(np.concatenate([lead, speech + rng.standard_normal(speech.size) * 100]))
    path = write_wav("call.wav", audio.astype(np.int16))
    reference = analyze(FileSource(path, block_frames=500), keep_frames=True)
    chunked = analyze(FileSource(path, block_frames=block_frames), keep_frames=True)
    assert chunked.segments == reference.segments
    assert chunked.floor_dbfs == reference.floor_dbfs
    for name in ("voiced", "speech", "level_dbfs", "floor_dbfs"):
        assert np.array_equal(getattr(chunked.track, name), getattr(reference.track, name)), name


def _talker(index: int, gain_db: float) -> np.ndarray:
    """Real recording `index` at `gain_db`, 1 s into a call and 0.5 s before its end, over line
    noise at -58 dBFS: (n, 320) int16 frames."""
    rng = np.random.default_rng(index)
    speech = human_speech(index) * 10 ** (gain_db / 20)
    audio = np.concatenate([np.zeros(16000), speech, np.zeros(8000)])
    audio += rng.standard_normal(audio.size) * 40
    samples = np.rint(audio).astype(np.int16)
    return samples[: samples.size // 320 * 320].reshape(-1, 320)


def _every_event(frames: np.ndarray, block_frames: int) -> tuple[list, list, np.ndarray]:
    """The speech events, the line events and the tone frames of `frames` fed in blocks."""
    detectors = Detectors(FrontEndSettings())
    speech, line, tones = [], [], []
    for start in range(0, frames.shape[0], block_frames):
        result = detectors.process(frames[start : start + block_frames])
        speech += result.events
        line += result.line_events
        tones.append(result.tone)
    return speech + detectors.finish(), line, np.concatenate(tones)


@settings(max_examples=60, deadline=None)
@given(
    block_frames=st.integers(1, 60),
    index=st.integers(0, len(HUMAN_WAVS) - 1),
    gain_db=st.sampled_from([0.0, -14.0, -26.0]),
)
def test_every_event_is_decided_at_the_same_frame_whatever_the_blocks(block_frames, index, gain_db):
    """Live calls feed a frame or a few at a time, replays large blocks: a caller must be heard
    at the same frame either way, and measured the same while speaking (SpeechProgress). Real
    speech, also quiet (its onsets are then measured for voicing), over line noise."""
    frames = _talker(index, gain_db)
    speech, line, tones = _every_event(frames, block_frames)
    whole_speech, whole_line, whole_tones = _every_event(frames, 500)
    assert speech == whole_speech
    assert line == whole_line
    assert np.array_equal(tones, whole_tones)


def test_events_arrive_in_order_with_decision_times(write_wav):
    speech = human_speech(2)
    audio = np.concatenate([np.zeros(16000, np.int16), speech, np.zeros(16000, np.int16)])
    detectors = Detectors(FrontEndSettings())
    events = []
    for block in FileSource(write_wav("c.wav", audio), block_frames=7).blocks():
        events += detectors.process(block).events
    events += detectors.finish()
    decided = [e.decided_frame for e in events]
    assert decided == sorted(decided)
    edges = [e for e in events if not isinstance(e, SpeechProgress)]
    assert len(edges) >= 2 and len(edges) % 2 == 0
    # While a segment is open it is measured every PROGRESS_MS from its decision on (and when
    # its loudest part rises); the measurement ends at its own frame and starts where the
    # segment does.
    for started, ended in zip(edges[::2], edges[1::2], strict=True):
        assert isinstance(started, SpeechStarted) and isinstance(ended, SpeechEnded)
        inside = [
            e
            for e in events
            if isinstance(e, SpeechProgress)
            and started.decided_frame < e.decided_frame < ended.decided_frame
        ]
        step = ms_to_frames(PROGRESS_MS)
        due = range(started.decided_frame + step, ended.decided_frame, step)
        assert set(due) <= {e.decided_frame for e in inside}  # and where its peak rose
        for e in inside:
            assert e.segment.start == ended.segment.start
            assert e.segment.end == e.decided_frame
        frames = [e.decided_frame for e in inside]
        assert frames == sorted(set(frames))


def test_floor_summary_median_and_max():
    summary = FloorSummary()
    summary.add(np.array([-60.0, -50.0, -40.0, -55.2]))
    assert summary.count == 4
    assert summary.median() == pytest.approx(-55.0, abs=0.5)
    assert summary.maximum == -40.0
    assert FloorSummary().median() == SILENCE_DBFS


def test_detectors_reject_wrong_frames():
    with pytest.raises(TypeError, match="int16 frames"):
        Detectors().process(np.zeros((3, 160), np.int16))


@pytest.mark.parametrize("gain_db", [0.0, -26.0])
@pytest.mark.parametrize("onset_ms", [20, 40, 100])
def test_a_talker_starts_speech_with_any_onset(onset_ms, gain_db):
    """With an onset of one or two frames (tuning grids go down to 20 ms), fewer frames than
    ONSET_VOICED_FRAMES decide it: a loud talker, and a quiet one (below LOUD_VOICE_DBFS,
    measured for voicing), are heard."""
    from ivr.call_settings import VadSettings

    frames = _talker(1, gain_db)  # at -26 dB: peaks below -35 dBFS
    settings = FrontEndSettings(vad=VadSettings(onset_ms=onset_ms))
    detectors = Detectors(settings)
    started = [e for e in detectors.process(frames).events if isinstance(e, SpeechStarted)]
    assert started and 50 <= started[0].frame <= 80  # the talker begins 1.0-1.6 s in


A_CALL_AFTER_WARM_UP = """
import sys
import numpy as np
from ivr.call_settings import FrontEndSettings
from ivr.detect.frontend import Detectors, warm_up

settings = FrontEndSettings()
warm_up(settings, 1)
before = set(sys.modules)
detectors = Detectors(settings)  # a call's front end, built as its line rings
rng = np.random.default_rng(1)
detectors.process((rng.standard_normal((50, 320)) * 3000).astype(np.int16))
print(" ".join(sorted(m for m in set(sys.modules) - before if m.startswith(("scipy", "silero")))))
"""


def test_a_call_after_the_warm_up_loads_no_filter_or_model_of_its_own():
    # a line's call builds its front end as it rings: importing scipy.signal then (0.6-0.8 s)
    # held every call of the process up, so the line commands warm the front end up first
    done = subprocess.run(
        [sys.executable, "-c", A_CALL_AFTER_WARM_UP], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"loaded during the call: {done.stdout}"


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    size=st.integers(1, 40),
    extra=st.integers(0, 60),
    dtype=st.sampled_from([np.float32, np.float64]),
    sliced=st.booleans(),
)
def test_sliding_windows_are_numpys_view(size, extra, dtype, sliced):
    values = np.random.default_rng(size).standard_normal(2 * (size + extra)).astype(dtype)
    values = values[::2] if sliced else values[: size + extra]  # strided or contiguous
    got = sliding_windows(values, size)
    want = np.lib.stride_tricks.sliding_window_view(values, size)
    assert got.shape == want.shape and got.dtype == want.dtype
    assert np.array_equal(got, want)
    assert np.array_equal(got.mean(axis=1), want.mean(axis=1))
    assert not got.flags.writeable


def test_sliding_windows_longer_than_the_values_are_refused():
    with pytest.raises(ValueError, match="window of 5 over 4 values"):
        sliding_windows(np.zeros(4), 5)
    with pytest.raises(ValueError, match="window of 0"):
        sliding_windows(np.zeros(4), 0)
