"""The steps beneath the call commands (ivr.app): config and --set into settings, the call
set-up, the recordings of a run, recognition, and a tuning sweep's planned combinations."""

from pathlib import Path

import pytest
from shared import OUTBOUND_VALUES as VALUES

from ivr.app.config import call_settings, placeholder_values
from ivr.app.recognition import Recognition, set_up_recognition
from ivr.app.recordings import expand, output_stems
from ivr.app.setup import load_call_script, set_up_call
from ivr.call.recognition import ReferenceBackend
from ivr.call_settings import CallSettings
from ivr.errors import IvrError
from ivr.script import load_script
from ivr.tune.sweep import SweepJob, plan_variants


def test_settings_from_defaults_config_then_set(tmp_path):
    config = tmp_path / "tuned.yaml"
    config.write_text(
        "values: {org: 气象局, number: 1}\ndetect: {vad: {hangover_ms: 500}, min_snr_db: 6}\n",
        encoding="utf-8",
    )
    settings = call_settings(config, ["min_snr_db=8", "echo_margin_db=4"])
    assert settings.front_end.vad.hangover_ms == 500
    assert settings.classify.min_snr_db == 8.0 and settings.echo.echo_margin_db == 4.0
    assert call_settings(None, []) == CallSettings()
    assert placeholder_values(config, None, "1001", "138") == {
        "org": "气象局",
        "number": "138",
        "agent_id": "1001",
    }
    config.write_text("detect: {vad: {aggressiveness: 9}}\n", encoding="utf-8")
    with pytest.raises(IvrError, match=r"tuned\.yaml: vad\.aggressiveness must be in 0\.\.3"):
        call_settings(config, [])
    with pytest.raises(ValueError, match="expected NAME=VALUE"):
        call_settings(None, ["min_snr_db"])


def test_recordings_of_a_folder_and_their_output_names(tmp_path):
    for name in ("b_13812345678.wav", "a.WAV", "a.call.wav", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    files = expand([tmp_path, Path("given.flac")])
    assert [f.name for f in files] == ["a.WAV", "b_13812345678.wav", "given.flac"]
    assert output_stems(files, show_numbers=False) == ["a", "b_138****5678", "given"]
    assert output_stems([Path("x/a.wav"), Path("y/a.wav")], True) == ["a", "a-2"]


def test_recognition_without_a_model_or_from_reference_transcripts(tmp_path):
    off = set_up_recognition("none", None, None)
    assert not off.recognizes and "speech counts as an answer" in off.notice
    assert off.backend_for(Path("a.wav")) is None
    with pytest.raises(IvrError, match="--asr reference needs a manifest"):
        set_up_recognition("reference", None, None)
    manifest = tmp_path / "m.yaml"
    manifest.write_text("calls:\n- {file: a.wav, speech: [{start_s: 1, end_s: 2, text: 是}]}\n")
    reference = set_up_recognition("reference", None, manifest)
    assert reference.recognizes and reference.reference == {"a.wav": [(1.0, 2.0, "是")]}
    assert isinstance(reference.backend_for(tmp_path / "a.wav"), ReferenceBackend)
    assert Recognition().backend_for(Path("a.wav")) is None


def test_set_up_a_call(tmp_path):
    config = tmp_path / "tuned.yaml"
    config.write_text("script: {noinput: 4}\n", encoding="utf-8")
    script = load_call_script("outbound", VALUES, config)
    assert script.states[script.start].listen.noinput_timeout_s == 4.0
    settings = call_settings(None, ["vad.onset_ms=120"])
    setup = set_up_call(script, settings, tmp_path / "prompts")
    assert setup.script is script
    assert setup.settings.front_end.vad.onset_ms == 120
    assert set(setup.prompt_audio) == set(setup.script.prompts)
    frames = setup.prompt_frames()
    assert all(frames[setup.script.prompts[p]] == a.frames for p, a in setup.prompt_audio.items())
    assert not setup.recognition.recognizes


def test_a_sweep_plans_each_combination_once():
    script = load_script("outbound", VALUES)
    combos = [
        {"noinput": n, "vad.aggressiveness": a, "low_volume_dbfs": -40.0}
        for n in (2.5, 3.0)
        for a in (1, 2)
    ]
    variants = plan_variants(script, CallSettings(), combos)
    assert [v.settings.front_end.vad.aggressiveness for v in variants] == [1, 2, 1, 2]
    assert variants[0].settings is variants[2].settings  # one object per distinct setting
    assert variants[0].script is variants[1].script  # one script per distinct timing
    assert variants[2].script.states[script.start].listen.noinput_timeout_s == 3.0
    job = SweepJob.plan(script, CallSettings(), {}, combos, Path("cache"))
    assert job.variants == variants and job.combos == combos
    with pytest.raises(ValueError, match=r"--grid: low_volume_dbfs must be in -90\.0\.\.0\.0"):
        plan_variants(script, CallSettings(), [{"low_volume_dbfs": 5.0}])
