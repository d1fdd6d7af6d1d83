"""`ivr detect` as a user runs it: tables, JSON, settings, raw audio, expectations, errors."""

import json

import numpy as np
import soundfile as sf
import yaml
from shared import human_speech, ivr

from ivr.synth import sample_specs, write_corpus


def call_file(tmp_path, name="call.wav"):
    """Silence, a real human utterance at 1 s, silence: 16 kHz PCM WAV."""
    speech = human_speech(0)
    audio = np.concatenate([np.zeros(16000, np.int16), speech, np.zeros(16000, np.int16)])
    path = tmp_path / name
    sf.write(path, audio, 16000, subtype="PCM_16")
    return path, len(speech) / 16000


def test_table_shows_segments_floor_and_classification(tmp_path):
    path, _ = call_file(tmp_path)
    result = ivr("detect", str(path))
    assert result.returncode == 0, result.stderr
    assert "call.wav: speech" in result.stdout
    assert "noise floor" in result.stdout
    for column in ("start s", "end s", "level dBFS", "SNR dB"):
        assert column in result.stdout


def test_json_has_segments_with_times_levels_and_snr(tmp_path):
    path, length = call_file(tmp_path)
    result = ivr("detect", str(path), "--json")
    assert result.returncode == 0, result.stderr
    [entry] = json.loads(result.stdout)
    assert entry["classification"] == "speech"
    [segment] = entry["segments"]
    assert abs(segment["start_s"] - 1.0) <= 0.1
    assert abs(segment["end_s"] - (1.0 + length)) <= 0.3
    assert segment["snr_db"] > 20
    assert -40 < segment["level_dbfs"] < -5
    assert entry["noise_floor_dbfs"] <= -90  # digital silence around the speech


def test_stereo_channel_choice(tmp_path):
    speech = human_speech(0)
    stereo = np.stack([np.zeros_like(speech), speech], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 8000, subtype="ULAW")
    left = json.loads(ivr("detect", str(path), "--json", "--channel", "left").stdout)
    right = json.loads(ivr("detect", str(path), "--json", "--channel", "right").stdout)
    assert left[0]["classification"] == "silence"
    assert right[0]["classification"] == "speech"


def test_headerless_raw_with_explicit_format(tmp_path):
    path = tmp_path / "call.raw"
    sf.write(path, human_speech(1), 16000, format="RAW", subtype="ULAW")
    result = ivr("detect", str(path), "--json", "--raw-rate", "16000", "--raw-encoding", "mulaw")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["classification"] == "speech"


def test_settings_from_flags_and_config(tmp_path):
    path, _ = call_file(tmp_path)
    quiet = ivr("detect", str(path), "--json", "--set", "low_volume_dbfs=-5")
    assert json.loads(quiet.stdout)[0]["classification"] == "low_volume"
    config = tmp_path / "tuned.yaml"
    config.write_text(yaml.safe_dump({"detect": {"low_volume_dbfs": -5, "vad": {"onset_ms": 60}}}))
    tuned = ivr("detect", str(path), "--json", "--config", str(config))
    assert json.loads(tuned.stdout)[0]["classification"] == "low_volume"


def test_bad_setting_is_one_line_naming_it(tmp_path):
    path, _ = call_file(tmp_path)
    result = ivr("detect", str(path), "--set", "vad.aggresiveness=3")
    assert result.returncode == 2
    assert result.stderr.startswith("error: unknown detector setting 'vad.aggresiveness'")
    assert result.stderr.count("\n") == 1
    result = ivr("detect", str(path), "--set", "vad.aggressiveness=9")
    assert "vad.aggressiveness must be in 0..3, got 9" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("detect: [1, 2\n")
    result = ivr("detect", str(path), "--config", str(bad))
    assert result.returncode == 2 and str(bad) in result.stderr and "Traceback" not in result.stderr


def test_expectations_pass_and_fail(tmp_path):
    manifest = write_corpus(sample_specs()[:3], tmp_path, seed=7)
    files = sorted(str(p) for p in tmp_path.glob("*.wav"))
    result = ivr("detect", *files, "--expect", str(manifest))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("pass") == 3
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    data["calls"][0]["expect"]["classification"] = "noise"
    manifest.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = ivr("detect", *files, "--expect", str(manifest))
    assert result.returncode == 1
    assert "FAIL" in result.stdout


def test_a_line_answered_into_ringback_is_a_network_tone_not_a_machine(tmp_path):
    """Answering-machine detection hears the gaps between rings as initial silence and says
    `machine`; the ringback comes no later, and that is what a call meets (`network_tone`)."""
    from line_audio import noise, put, samples, sine

    audio = noise(samples(12.0), -60.0)
    for ring in range(3):
        put(audio, sine(450.0, samples(1.0), -20.0), samples(0.3 + 5.0 * ring))
    path = tmp_path / "ringback.wav"
    sf.write(path, np.rint(audio).astype(np.int16), 16000, subtype="PCM_16")
    [entry] = json.loads(ivr("detect", str(path), "--json", "--amd").stdout)
    assert [t["tone"] for t in entry["tones"]] == ["ringback"]
    assert entry["amd"]["verdict"] == "machine"
    assert entry["line_outcome"] == "network_tone"
    table = ivr("detect", str(path), "--amd")
    assert "line: network_tone" in table.stdout
    assert "line: network_tone" in ivr("detect", str(path)).stdout  # the tone, without AMD


def test_a_person_who_says_hello_is_a_person_on_the_line(tmp_path):
    path, _ = call_file(tmp_path)
    [entry] = json.loads(ivr("detect", str(path), "--json", "--amd").stdout)
    assert entry["amd"]["verdict"] == "human"
    assert entry["line_outcome"] is None
    assert "line: person" in ivr("detect", str(path), "--amd").stdout
