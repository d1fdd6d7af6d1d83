"""The labelled test-call generator: real espeak-ng speech, real recordings, real WAV files."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import typer
import yaml
from shared import ROOT
from typer.testing import CliRunner

from ivr.audio.format import FRAME_S, FRAME_SAMPLES, SAMPLE_RATE
from ivr.cli import synth as synth_cli
from ivr.corpus.manifest import (
    BASIC_SITUATIONS,
    EXPECTED_CLASSIFICATION,
    NOISE_TYPES,
    SITUATIONS,
    ManifestError,
)
from ivr.errors import IvrError
from ivr.synth import (
    CallSpec,
    Utterance,
    active_level_dbfs,
    load_manifest,
    random_specs,
    render_call,
    rms_dbfs,
    sample_specs,
    write_corpus,
)
from ivr.synth.channel import band_pass, dropout_mask
from ivr.synth.levels import active_frames, scale_to_active_level
from ivr.synth.noise import babble_talkers
from ivr.synth.speech import RecordingsMissingError, load_phrase
from ivr.tts import Synthesizer

REPO = ROOT

BASIC_NOISE_TYPES = tuple(n for n in NOISE_TYPES if n != "office")
"""The noise types of the sample and random corpora (office babble is the realistic corpus')."""


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_corpus(sample_specs(7), out, seed=7)
    return out


@pytest.fixture(scope="module")
def random_corpus() -> list[tuple[CallSpec, dict]]:
    return [(spec, render_call(spec).entry) for spec in random_specs(24, seed=3)]


def _utterance_window(spec: CallSpec, utterance: Utterance) -> slice:
    first = round(utterance.start_s / FRAME_S) * FRAME_SAMPLES
    return slice(first, first + len(load_phrase(utterance.phrase).samples))


# --- synthesizer -------------------------------------------------------------------------------


def test_synthesis_is_deterministic_across_setting_changes() -> None:
    """Voice, rate and volume apply in order: the same settings always give the same samples."""
    fast, slow, quiet = Synthesizer(), Synthesizer(rate=120), Synthesizer(volume=0.5)
    first = [s._synthesize("你说什么") for s in (fast, slow, quiet)]
    for _ in range(3):
        for synth, expected in zip(
            (slow, quiet, fast), (first[1], first[2], first[0]), strict=True
        ):
            assert np.array_equal(synth._synthesize("你说什么"), expected)
    assert len(first[1]) > 1.2 * len(first[0])
    assert active_level_dbfs(first[2]) < active_level_dbfs(first[0]) - 3


def test_synthesizer_speaks_mandarin_at_16khz() -> None:
    tts = Synthesizer()
    audio = tts.render("你说什么")
    assert audio.dtype == np.int16
    assert 0.5 < len(audio) / SAMPLE_RATE < 3.0
    assert -30.0 < active_level_dbfs(audio) < -10.0
    assert tts.render("你说什么") is audio  # cached
    other = tts.render("没问题")
    assert len(other) != len(audio) or not np.array_equal(other, audio)
    slower = Synthesizer(rate=120).render("你说什么")
    assert len(slower) > len(audio) * 1.2


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"rate": 20}, "rate"),
        ({"rate": 175.5}, "rate"),
        ({"volume": 1.5}, "volume"),
        ({"volume": -0.1}, "volume"),
        ({"voice": "no-such-voice"}, "voice"),
    ],
)
def test_synthesizer_rejects_bad_settings(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Synthesizer(**kwargs)


# --- levels ------------------------------------------------------------------------------------


def test_level_reference_points() -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    square = np.where(np.sin(2 * np.pi * 100 * t + 0.1) >= 0, 32767.0, -32768.0)
    assert rms_dbfs(square) == pytest.approx(0.0, abs=0.01)
    assert rms_dbfs(32768.0 * np.sin(2 * np.pi * 100 * t)) == pytest.approx(-3.01, abs=0.01)
    assert active_level_dbfs(np.zeros(SAMPLE_RATE)) == -100.0
    # Half the frames at -20 dBFS, half silent: the active level ignores the silence.
    tone = 32768.0 * 10 ** (-17 / 20) * np.sin(2 * np.pi * 440 * t)
    tone[SAMPLE_RATE // 2 :] = 0.0
    assert active_level_dbfs(tone) == pytest.approx(-20.0, abs=0.02)
    assert active_frames(tone).sum() == 25


def test_scaling_reaches_the_requested_active_level() -> None:
    for phrase in ("喂?", "human:cards/005.wav", "human:goforward.raw"):
        for level in (-21.0, -45.5, -60.0):
            scaled = scale_to_active_level(load_phrase(phrase).samples, level)
            assert scaled.dtype == np.int16
            assert active_level_dbfs(scaled) == pytest.approx(level, abs=0.01)


# --- phrases -----------------------------------------------------------------------------------


def test_human_recordings_have_transcriptions_and_no_dc() -> None:
    card = load_phrase("human:cards/001.wav")
    assert card.source == "human"
    assert card.text == "ten of clubs"
    assert len(card.samples) % FRAME_SAMPLES == 0
    book = load_phrase("human:librivox/sense_and_sensibility_01_austen_64kb-0880.wav")
    assert book.text == "he was not an ill disposed young man"
    assert abs(float(np.mean(book.samples))) < 30.0  # the recording's DC offset of 245 is removed
    raw = load_phrase("human:goforward.raw")
    assert raw.text is None
    assert 1.5 < raw.duration_s < 3.0


@pytest.mark.parametrize("phrase", ["human:../etc/passwd.wav", "human:/abs.wav", "human:x.mp3", ""])
def test_bad_phrases_are_rejected(phrase: str) -> None:
    with pytest.raises(ValueError, match="phrase"):
        load_phrase(phrase)


def test_missing_testdata_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("IVR_TESTDATA_DIR", str(tmp_path / "absent"))
    with pytest.raises(RecordingsMissingError, match="apt-get install pocketsphinx-testdata"):
        load_phrase("human:cards/001.wav")


# --- corpus: determinism, manifest, labels -----------------------------------------------------


def test_same_seed_gives_byte_identical_corpus(sample_dir: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_corpus(sample_specs(7), again, seed=7)
    names = sorted(p.name for p in sample_dir.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    assert "manifest.yaml" in names and len(names) == len(sample_specs()) + 1
    for name in names:
        assert (sample_dir / name).read_bytes() == (again / name).read_bytes(), name

    other = tmp_path / "other"
    write_corpus(sample_specs(8), other, seed=8)
    differing = [n for n in names if (sample_dir / n).read_bytes() != (other / n).read_bytes()]
    assert len(differing) >= len(names) - 1  # noise changes; a noiseless call may not


def test_a_call_renders_the_same_alone(sample_dir: Path) -> None:
    spec = next(s for s in sample_specs(7) if s.channel == "clean" and s.noise == "pink")
    samples, rate = sf.read(sample_dir / spec.file, dtype="int16")
    assert rate == SAMPLE_RATE
    assert np.array_equal(render_call(spec).audio, samples)


def test_manifest_describes_the_files(sample_dir: Path) -> None:
    manifest = load_manifest(sample_dir / "manifest.yaml")
    raw = yaml.safe_load((sample_dir / "manifest.yaml").read_text(encoding="utf-8"))
    assert list(raw) == ["version", "generator", "seed", "calls"]
    assert (manifest.version, manifest.generator, manifest.seed) == (1, "ivr synth", 7)
    assert list(raw["calls"][0]) == [
        "file",
        "situation",
        "channel",
        "sample_rate",
        "encoding",
        "duration_s",
        "noise",
        "speech",
        "expect",
    ]
    assert "是的,我是" in (sample_dir / "manifest.yaml").read_text(encoding="utf-8")
    specs = {s.file: s for s in sample_specs(7)}
    assert [c.file for c in manifest.calls] == list(specs)
    for call in manifest.calls:
        spec = specs[call.file]
        info = sf.info(manifest.audio_path(call))
        assert info.format == "WAV" and info.channels == 1
        assert info.samplerate == call.sample_rate
        assert info.subtype == {"pcm_16": "PCM_16", "mulaw": "ULAW"}[call.encoding]
        assert info.frames == round(call.duration_s * call.sample_rate)
        assert call.duration_s == spec.duration_s
        assert (call.situation, call.channel) == (spec.situation, spec.channel)
        assert call.noise.type == spec.noise and call.noise.level_dbfs == spec.noise_dbfs
        assert call.expect.classification == EXPECTED_CLASSIFICATION[call.situation]
        first = call.speech[0].start_s if call.speech else None
        assert call.expect.first_speech_s == first
        assert manifest.find(f"/elsewhere/{call.file}") is call


def _check_labels(spec: CallSpec, entry: dict) -> None:
    previous_end = 0.0
    for segment in entry["speech"]:
        start, end = segment["start_s"], segment["end_s"]
        assert previous_end <= start < end <= entry["duration_s"], (spec.name, segment)
        assert round(start / FRAME_S, 6) == round(start / FRAME_S)  # on a frame boundary
        assert segment["source"] in ("tts", "human")
        assert segment["level_dbfs"] in {u.level_dbfs for u in spec.utterances}
        previous_end = end
    assert bool(entry["speech"]) == bool(spec.utterances)


def test_labels_are_inside_ordered_and_disjoint(
    sample_dir: Path, random_corpus: list[tuple[CallSpec, dict]]
) -> None:
    manifest = yaml.safe_load((sample_dir / "manifest.yaml").read_text(encoding="utf-8"))
    for spec, entry in zip(sample_specs(7), manifest["calls"], strict=True):
        _check_labels(spec, entry)
    for spec, entry in random_corpus:
        _check_labels(spec, entry)


def test_labels_start_where_the_speech_starts() -> None:
    spec = CallSpec("late", "answers_late", 6.0, (Utterance(3.0, "是的,我是", -20.0),), seed=1)
    rendered = render_call(spec)
    (segment,) = rendered.entry["speech"]
    assert segment["start_s"] == 3.0 and segment["text"] == "是的,我是"
    assert rendered.entry["expect"] == {"classification": "speech", "first_speech_s": 3.0}
    start, end = (round(segment[k] * SAMPLE_RATE) for k in ("start_s", "end_s"))
    assert not rendered.audio[:start].any()
    assert not rendered.audio[end:].any()  # espeak's trailing silence is digital zero
    assert active_level_dbfs(rendered.audio[start:end]) == pytest.approx(-20.0, abs=0.1)


def test_speech_levels_measure_back(sample_dir: Path) -> None:
    checked = 0
    for spec in sample_specs(7):
        if spec.dropouts or not spec.utterances:
            continue
        rendered = render_call(spec)
        written, _ = sf.read(sample_dir / spec.file, dtype="int16")
        for utterance in spec.utterances:
            window = _utterance_window(spec, utterance)
            measured = active_level_dbfs(rendered.speech[window])
            assert measured == pytest.approx(utterance.level_dbfs, abs=0.5)
            if spec.channel == "clean" and spec.noise_dbfs < utterance.level_dbfs - 25:
                assert active_level_dbfs(written[window]) == pytest.approx(
                    utterance.level_dbfs, abs=0.5
                )
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("noise", ["white", "pink", "babble", "hum", "office"])
@pytest.mark.parametrize("level", [-62.0, -21.0])
def test_noise_level_measures_back(noise: str, level: float, tmp_path: Path) -> None:
    spec = CallSpec("n", "noisy_line", 6.0, noise=noise, noise_dbfs=level, seed=11)
    manifest = write_corpus([spec], tmp_path, seed=11)
    samples, _ = sf.read(manifest.parent / "n.wav", dtype="int16")
    assert rms_dbfs(samples) == pytest.approx(level, abs=1.0)
    assert rms_dbfs(render_call(spec).noise) == pytest.approx(level, abs=0.01)


def test_telephone_files_are_8khz_mulaw_and_band_limited(sample_dir: Path) -> None:
    phone = [s for s in sample_specs(7) if s.channel == "telephone"]
    assert len(phone) >= 2
    for spec in phone:
        info = sf.info(sample_dir / spec.file)
        assert (info.samplerate, info.subtype, info.format) == (8000, "ULAW", "WAV")
        samples, rate = sf.read(sample_dir / spec.file, dtype="float64")
        power = np.abs(np.fft.rfft(samples)) ** 2
        freqs = np.fft.rfftfreq(len(samples), 1.0 / rate)
        total = power.sum()
        assert power[freqs < 200].sum() / total < 0.01, spec.name
        assert power[freqs > 3600].sum() / total < 0.01, spec.name
        assert power[(freqs >= 300) & (freqs <= 3400)].sum() / total > 0.9, spec.name


def test_band_pass_response() -> None:
    rate = SAMPLE_RATE
    t = np.arange(rate) / rate
    for freq, gain in ((100, 0.0), (1000, 1.0), (3000, 1.0), (5000, 0.0)):
        out = band_pass(np.sin(2 * np.pi * freq * t))
        assert np.sqrt(np.mean(out[1000:-1000] ** 2)) / np.sqrt(0.5) == pytest.approx(
            gain, abs=0.01
        )


# --- noise and dropouts ------------------------------------------------------------------------


def test_babble_is_overlapped_speech_of_several_talkers() -> None:
    n = 8 * SAMPLE_RATE
    talkers = babble_talkers(n, np.random.default_rng(5))
    assert len(talkers) >= 4
    assert {t.source for t in talkers} == {"human", "tts"}
    assert len({t.phrases for t in talkers}) == len(talkers)
    active = np.array([active_frames(t.samples) for t in talkers])
    assert (active.mean(axis=1) > 0.4).all()  # each talker mostly talks
    assert (active.sum(axis=0) >= 2).mean() > 0.9  # talkers overlap nearly all the time
    tracks = np.array([t.samples for t in talkers])
    correlation = np.corrcoef(tracks)
    assert np.abs(correlation[~np.eye(len(talkers), dtype=bool)]).max() < 0.2
    again = babble_talkers(n, np.random.default_rng(5))
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(talkers, again, strict=True))


def test_dropout_mask_timing() -> None:
    mask = dropout_mask(2000, np.random.default_rng(0))
    edges = np.diff(np.concatenate([[1], mask, [1]]))
    gaps = np.flatnonzero(edges == 1) - np.flatnonzero(edges == -1)
    starts = np.flatnonzero(edges == -1)
    kept = np.diff(starts) - gaps[:-1]
    assert gaps.min() * FRAME_S >= 0.1 and gaps[:-1].max() * FRAME_S <= 0.3
    assert kept.min() * FRAME_S >= 0.3 and kept.max() * FRAME_S <= 0.6


def test_dropouts_erase_the_speech_inside_its_labels() -> None:
    spec = next(s for s in sample_specs(7) if s.situation == "cut_in_out")
    assert spec.dropouts
    cut = render_call(spec)
    whole = render_call(dataclasses.replace(spec, dropouts=False))
    # Inside the first utterance's labelled speech the speech is zeroed in 100-300 ms runs ...
    window = _utterance_window(spec, spec.utterances[0])
    silent = (cut.speech[window].reshape(-1, FRAME_SAMPLES) == 0).all(axis=1)
    voiced = ~(whole.speech[window].reshape(-1, FRAME_SAMPLES) == 0).all(axis=1)
    assert (silent & voiced).sum() * FRAME_S > 1.0
    # ... while the line noise continues underneath.
    assert rms_dbfs(cut.audio[window][np.repeat(silent & voiced, FRAME_SAMPLES)]) > -60.0


# --- specs -------------------------------------------------------------------------------------


def test_sample_specs_cover_every_situation_and_channel() -> None:
    specs = sample_specs()
    assert 6 <= len(specs) <= 10
    assert {s.situation for s in specs} == set(BASIC_SITUATIONS)
    assert set(BASIC_SITUATIONS) < set(SITUATIONS) == set(EXPECTED_CLASSIFICATION)
    assert {s.channel for s in specs} == {"clean", "telephone"}
    assert all(6.0 <= s.duration_s <= 10.0 for s in specs)
    assert sample_specs() == sample_specs(7)
    assert [s.seed for s in sample_specs(7)] != [s.seed for s in sample_specs(8)]
    _check_situation_rules(specs)


def _check_situation_rules(specs: list[CallSpec]) -> None:
    for s in specs:
        levels = [u.level_dbfs for u in s.utterances]
        if s.situation == "answers_at_once":
            assert min(u.start_s for u in s.utterances) <= 0.5
        if s.situation in ("answers_at_once", "answers_late", "cut_in_out"):
            assert all(-23.0 <= level <= -17.0 for level in levels)
        if s.situation == "answers_late":
            assert min(u.start_s for u in s.utterances) >= 1.0
        if s.situation == "never_answers":
            assert not s.utterances and (s.noise_dbfs is None or s.noise_dbfs <= -60.0)
        if s.situation == "too_quiet":
            assert all(-47.0 <= level <= -44.0 for level in levels)
            assert s.noise_dbfs is None or s.noise_dbfs <= -70.0
        if s.situation == "noisy_line":
            assert -25.0 <= s.noise_dbfs <= -18.0
            assert all(level <= s.noise_dbfs for level in levels)
        assert s.dropouts == (s.situation == "cut_in_out")


def test_random_specs_vary_and_repeat(random_corpus: list[tuple[CallSpec, dict]]) -> None:
    specs = [spec for spec, _ in random_corpus]
    assert specs == random_specs(24, seed=3)
    assert specs != random_specs(24, seed=4)
    assert len({s.name for s in specs}) == 24
    assert {s.situation for s in specs} == set(BASIC_SITUATIONS)
    for situation in BASIC_SITUATIONS:
        assert {s.channel for s in specs if s.situation == situation} == {"clean", "telephone"}
    assert {s.noise for s in specs} == set(BASIC_NOISE_TYPES)
    phrases = [u.phrase for s in specs for u in s.utterances]
    assert any(p.startswith("human:") for p in phrases)
    assert len({p for p in phrases if not p.startswith("human:")}) >= 5
    _check_situation_rules(specs)
    assert random_specs(0, seed=1) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"situation": "busy"}, "situation"),
        ({"channel": "radio"}, "channel"),
        ({"noise": "pink"}, "noise_dbfs"),
        ({"name": "../x"}, "name"),
        ({"duration_s": 0.0}, "duration_s"),
        ({"utterances": (Utterance(5.8, "你说什么"),)}, "after the call's end"),
        ({"utterances": (Utterance(0.2, "你说什么"), Utterance(0.6, "好的"))}, "before"),
        ({"utterances": (Utterance(0.2, "你说什么", 0.0),)}, "cannot reach"),
        ({"utterances": ()}, "at least one utterance"),
    ],
)
def test_render_call_rejects_bad_specs(changes: dict, message: str) -> None:
    spec = CallSpec("ok", "answers_at_once", 6.0, (Utterance(0.2, "喂?"),))
    render_call(spec)
    with pytest.raises(ValueError, match=message):
        render_call(dataclasses.replace(spec, **changes))


# --- manifest loading --------------------------------------------------------------------------


def _broken(sample_dir: Path, tmp_path: Path, edit) -> Path:
    data = yaml.safe_load((sample_dir / "manifest.yaml").read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _set(keys: tuple, value):
    def edit(data: dict) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_set(("version",), 2), "version"),
        (_set(("calls", 0, "expect", "classification"), "maybe"), r"calls\[0\].expect"),
        (_set(("calls", 1, "sample_rate"), 16000), r"calls\[1\].sample_rate"),
        (_set(("calls", 0, "speech", 1, "start_s"), 0.4), r"calls\[0\].speech\[1\]"),
        (_set(("calls", 0, "speech", 0, "end_s"), 99.0), r"calls\[0\].speech\[0\]"),
        (_set(("calls", 2, "noise", "level_dbfs"), None), r"calls\[2\].noise"),
        (lambda d: d["calls"][0].pop("file"), r"calls\[0\].file: missing"),
        (lambda d: d["calls"].append(d["calls"][0]), "more than once"),
        (_set(("calls",), "none"), "calls"),
    ],
)
def test_bad_manifests_fail_with_one_line(
    sample_dir: Path, tmp_path: Path, edit, message: str
) -> None:
    path = _broken(sample_dir, tmp_path, edit)
    with pytest.raises(ManifestError, match=message) as caught:
        load_manifest(path)
    assert isinstance(caught.value, IvrError)
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)


def test_unreadable_manifests(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("calls: [\n", encoding="utf-8")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(bad)


# --- command line ------------------------------------------------------------------------------


def test_cli_writes_a_random_corpus(tmp_path: Path) -> None:
    app = typer.Typer()
    app.callback()(lambda: None)
    synth_cli.register(app)
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--count", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("wrote ") for line in lines[:3])
    assert lines[-1] == f"manifest {tmp_path / 'manifest.yaml'}"
    assert load_manifest(tmp_path / "manifest.yaml").seed == 7

    both = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--sample", "--count", "2"])
    assert both.exit_code != 0


def test_tool_script_writes_the_same_corpus(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_test_calls", REPO / "tools/make_test_calls.py"
    )
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--out", str(tmp_path / "a"), "--count", "2", "--seed", "5"]) == 0
    write_corpus(random_specs(2, seed=5), tmp_path / "b", seed=5)
    for name in ("manifest.yaml", "call_0001_answers_at_once.wav", "call_0002_answers_late.wav"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
