"""Detector settings: defaults in one place, dotted overrides, errors that name the parameter."""

import pytest

from ivr.detect.settings import DetectorSettings, NoiseSettings, VadSettings


def test_defaults():
    s = DetectorSettings()
    assert s.vad.aggressiveness == 2
    assert s.vad.onset_ms == 100
    assert s.low_volume_dbfs == -40.0
    assert "vad.aggressiveness" in DetectorSettings.names()
    assert "low_volume_dbfs" in DetectorSettings.names()


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda: VadSettings(aggressiveness=4), "aggressiveness must be in 0..3, got 4"),
        (lambda: VadSettings(onset_ms=0), "onset_ms must be in 20..1000"),
        (lambda: VadSettings(hangover_ms=-5), "hangover_ms must be in 20..5000"),
        (lambda: NoiseSettings(percentile=80), "percentile must be in 0.0..50.0"),
        (lambda: NoiseSettings(window_ms=10), "window_ms must be in 200..60000"),
        (lambda: DetectorSettings(low_volume_dbfs=3), "low_volume_dbfs must be in -90.0..0.0"),
        (lambda: DetectorSettings(min_snr_db=99), "min_snr_db must be in -10.0..60.0"),
        (lambda: VadSettings(aggressiveness="2"), "aggressiveness must be a number"),
    ],
)
def test_bad_values_name_the_parameter_and_range(build, words):
    with pytest.raises(ValueError, match=words.replace(".", r"\.")):
        settings = build()
        DetectorSettings(vad=settings) if isinstance(settings, VadSettings) else None
        DetectorSettings(noise=settings) if isinstance(settings, NoiseSettings) else None


def test_dotted_overrides():
    s = DetectorSettings().with_overrides({"vad.aggressiveness": "3", "low_volume_dbfs": -45})
    assert s.vad.aggressiveness == 3
    assert s.low_volume_dbfs == -45.0
    assert DetectorSettings().vad.aggressiveness == 2  # the original is untouched


def test_override_errors_list_valid_names():
    with pytest.raises(ValueError, match=r"unknown detector setting 'vad\.agressiveness'; valid: "):
        DetectorSettings().with_overrides({"vad.agressiveness": 1})
    with pytest.raises(ValueError, match=r"vad\.aggressiveness must be a whole number"):
        DetectorSettings().with_overrides({"vad.aggressiveness": 1.5})
    with pytest.raises(ValueError, match=r"vad\.aggressiveness must be in 0\.\.3"):
        DetectorSettings().with_overrides({"vad.aggressiveness": 7})


def test_from_nested_mapping():
    s = DetectorSettings.from_mapping({"vad": {"hangover_ms": 500}, "min_snr_db": 6})
    assert s.vad.hangover_ms == 500
    assert s.min_snr_db == 6.0
    assert s.as_dict()["vad.hangover_ms"] == 500
