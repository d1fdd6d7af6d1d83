"""Call settings: defaults in one place, parts by audience, dotted overrides, errors that name
the parameter."""

import pickle

import pytest

from ivr.call_settings import (
    CallSettings,
    ClassifySettings,
    EchoSettings,
    FrontEndSettings,
    LineSettings,
    NoiseSettings,
    VadSettings,
)


def test_defaults():
    s = CallSettings()
    assert s.front_end.vad.aggressiveness == 2
    assert s.front_end.vad.onset_ms == 100
    assert s.classify.low_volume_dbfs == -40.0
    assert s.echo.echo_margin_db == 10.0
    assert "vad.aggressiveness" in CallSettings.names()
    assert "low_volume_dbfs" in CallSettings.names()


def test_each_name_belongs_to_one_part():
    assert FrontEndSettings.names() == sorted(
        [*(f"vad.{k}" for k in ("aggressiveness", "onset_ms", "hangover_ms", "edge_margin_db")),
         *(f"noise.{k}" for k in ("window_ms", "percentile", "hop_ms")), "choppy_gap_ms",
         "learned.enabled", "learned.threshold",
         *(f"amd.{k}" for k in ("initial_silence_ms", "greeting_ms", "after_greeting_silence_ms",
                                "total_analysis_time_ms", "min_word_length_ms",
                                "between_words_silence_ms", "maximum_number_of_words",
                                "maximum_word_length_ms", "silence_threshold_dbfs"))]
    )  # fmt: skip
    classify = {"low_volume_dbfs", "min_snr_db", "noisy_floor_dbfs", "noisy_min_snr_db",
                "choppy_min_gaps", "choppy_min_rate_hz"}  # fmt: skip
    calls = {"echo_margin_db", "no_rtp_s"}
    assert set(CallSettings.names()) == {*FrontEndSettings.names(), *classify, *calls}
    s = CallSettings().with_overrides(
        {"choppy_gap_ms": 120, "choppy_min_gaps": 4, "echo_margin_db": 6, "noise.hop_ms": 200,
         "no_rtp_s": 0}
    )  # fmt: skip
    assert s.front_end.choppy_gap_ms == 120 and s.front_end.noise.hop_ms == 200
    assert s.classify == ClassifySettings(choppy_min_gaps=4)
    assert s.echo == EchoSettings(echo_margin_db=6.0)
    assert s.line == LineSettings(no_rtp_s=0.0)


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: VadSettings(aggressiveness=4), "aggressiveness must be in 0..3, got 4"),
        (lambda: VadSettings(onset_ms=0), "onset_ms must be in 20..1000"),
        (lambda: VadSettings(hangover_ms=-5), "hangover_ms must be in 20..5000"),
        (lambda: NoiseSettings(percentile=80), "percentile must be in 0.0..50.0"),
        (lambda: NoiseSettings(window_ms=10), "window_ms must be in 200..60000"),
        (lambda: ClassifySettings(low_volume_dbfs=3), "low_volume_dbfs must be in -90.0..0.0"),
        (lambda: ClassifySettings(min_snr_db=99), "min_snr_db must be in -10.0..60.0"),
        (lambda: EchoSettings(echo_margin_db=-1), "echo_margin_db must be in 0.0..60.0"),
        (lambda: LineSettings(no_rtp_s=-1), "no_rtp_s must be in 0.0..3600.0"),
        (lambda: FrontEndSettings(choppy_gap_ms=5), "choppy_gap_ms must be in 20..300"),
        (lambda: VadSettings(aggressiveness="2"), "aggressiveness must be a number"),
    ],
)
def test_bad_values_name_the_parameter_and_range(build, words):
    with pytest.raises(ValueError, match=words.replace(".", r"\.")):
        settings = build()
        FrontEndSettings(vad=settings) if isinstance(settings, VadSettings) else None
        FrontEndSettings(noise=settings) if isinstance(settings, NoiseSettings) else None


def test_dotted_overrides():
    s = CallSettings().with_overrides({"vad.aggressiveness": "3", "low_volume_dbfs": -45})
    assert s.front_end.vad.aggressiveness == 3
    assert s.classify.low_volume_dbfs == -45.0
    assert CallSettings().front_end.vad.aggressiveness == 2  # the original is untouched


def test_override_errors_list_valid_names():
    with pytest.raises(ValueError, match=r"unknown detector setting 'vad\.agressiveness'; valid: "):
        CallSettings().with_overrides({"vad.agressiveness": 1})
    with pytest.raises(ValueError, match=r"unknown detector setting 'classify\.min_snr_db'"):
        CallSettings().with_overrides({"classify.min_snr_db": 1})
    with pytest.raises(ValueError, match=r"vad\.aggressiveness must be a whole number"):
        CallSettings().with_overrides({"vad.aggressiveness": 1.5})
    with pytest.raises(ValueError, match=r"vad\.aggressiveness must be in 0\.\.3"):
        CallSettings().with_overrides({"vad.aggressiveness": 7})


def test_from_nested_mapping():
    s = CallSettings.from_mapping({"vad": {"hangover_ms": 500}, "min_snr_db": 6})
    assert s.front_end.vad.hangover_ms == 500
    assert s.classify.min_snr_db == 6.0
    assert s.as_dict()["vad.hangover_ms"] == 500


def test_settings_are_values_that_travel():
    """Equal settings are equal and hash alike (the tuning cache keys on the front end), and
    they survive pickling as they are (the tuning sweep ships them to its workers)."""
    a = CallSettings().with_overrides({"vad.onset_ms": 120, "min_snr_db": 8})
    b = CallSettings.from_mapping({"vad": {"onset_ms": 120}, "min_snr_db": 8.0})
    assert a == b and hash(a.front_end) == hash(b.front_end)
    assert pickle.loads(pickle.dumps(a)) == a
