"""The realistic corpus (ivr.synth.realistic): real files, as a replay or a detector reads them.

Each script's corpus is rendered once per test run; the tests read the WAV files back and check
that every situation is what its name says: clicks are 5-40 ms impulses on a quiet line, the
DC offset is in the file, A-law files are A-law, a stereo file has the agent on one side.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import typer
import yaml
from shared import OUTBOUND_VALUES as VALUES
from shared import ManifestCalls, built_once, script_frames
from typer.testing import CliRunner

from ivr.audio.source import FileSource
from ivr.cli import synth as synth_cli
from ivr.corpus.manifest import (
    EXPECTED_CLASSIFICATION,
    REALISTIC_SITUATIONS,
    SITUATIONS,
    ManifestError,
)
from ivr.script import load_script
from ivr.synth import CallSpec, Utterance, load_manifest, render_call, sample_specs, write_corpus
from ivr.synth.impulses import Sound
from ivr.synth.levels import active_level_dbfs, frame_powers, rms_dbfs
from ivr.synth.noise import OFFICE_TALKERS, office_talkers
from ivr.synth.realistic import (
    CLICK_INTERVAL_S,
    CLICK_PEAK_DBFS,
    DC_OFFSET,
    EARLY_START_S,
    LONG_TAIL_S,
    OVERRUN_S,
    ROWS,
    realistic_call_specs,
)
from ivr.synth.script_calls import silent_line_events
from ivr.synth.speech import load_phrase

SCRIPTS = ("outbound", "inbound")


class Corpus(ManifestCalls):
    """One script's realistic corpus and the specs it was made from."""

    def __init__(self, name: str, folder: Path | None = None, seed: int = 7, factory=None) -> None:
        """The realistic corpus of script `name` for `seed`, written into `folder`, or (with
        `factory`, pytest's tmp_path_factory) the one the run builds once (shared.built_once)."""
        self.script = load_script(name, VALUES)
        self.frames = script_frames(self.script)
        self.pairs = realistic_call_specs(self.script, self.frames.__getitem__, seed)
        extra = {spec.name: e for spec, e in self.pairs}
        specs = [s for s, _ in self.pairs]
        if factory is None:
            self.path = write_corpus(specs, folder, seed, expect_extra=extra)
        else:
            self.path = built_once(
                factory,
                f"realistic-{name}-{seed}",
                lambda f: write_corpus(specs, f, seed, expect_extra=extra),
            )
        self.manifest = load_manifest(self.path)
        self.specs = {spec.file: spec for spec, _ in self.pairs}
        self.opening_s = (
            sum(self.frames[p] for p in self.script.states[self.script.start].say) * 0.02
        )


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Corpus]:
    return {name: Corpus(name, factory=tmp_path_factory) for name in SCRIPTS}


def each(corpora: dict[str, Corpus]) -> list[Corpus]:
    return list(corpora.values())


# --- determinism and the manifest --------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(corpora, tmp_path):
    for name, corpus in corpora.items():
        again = Corpus(name, tmp_path / name)
        assert [s for s, _ in again.pairs] == [s for s, _ in corpus.pairs]
        for path in sorted(corpus.path.parent.iterdir()):
            assert (tmp_path / name / path.name).read_bytes() == path.read_bytes(), path.name
    other = realistic_call_specs(corpora["inbound"].script, corpora["inbound"].frames.get, 8)
    assert [s for s, _ in other] != [s for s, _ in corpora["inbound"].pairs]


def test_a_call_renders_the_same_alone(corpora):
    corpus = corpora["inbound"]
    [call] = corpus.calls("clicks", "clean")
    samples, _ = corpus.read(call)
    assert np.array_equal(render_call(corpus.specs[call.file]).audio, samples)


def test_manifest_loads_and_describes_every_file(corpora):
    subtypes = {"pcm_16": "PCM_16", "mulaw": "ULAW", "alaw": "ALAW"}
    for corpus in each(corpora):
        assert len(corpus.manifest.calls) == len(ROWS)
        assert set(REALISTIC_SITUATIONS) <= {c.situation for c in corpus.manifest.calls}
        assert {c.channel for c in corpus.manifest.calls} == {
            "clean",
            "telephone",
            "telephone_alaw",
        }
        raw = yaml.safe_load(corpus.path.read_text(encoding="utf-8"))
        for call, entry in zip(corpus.manifest.calls, raw["calls"], strict=True):
            info = sf.info(corpus.manifest.audio_path(call))
            assert info.format == "WAV" and info.channels == call.channels, call.file
            assert (info.samplerate, info.subtype) == (call.sample_rate, subtypes[call.encoding])
            assert info.frames == round(call.duration_s * call.sample_rate)
            assert call.situation in SITUATIONS
            assert call.expect.classification == EXPECTED_CLASSIFICATION[call.situation]
            expect = entry["expect"]
            assert expect["outcome"] in ("answered", "no_answer", "noisy_line"), call.file
            assert expect["prompts"][0] == corpus.script.states[corpus.script.start].say[0]
            assert expect["events"][-1]["event"] == "hangup"
            assert list(entry)[-1] == "expect"


def test_silent_lines_carry_the_prompt_and_hangup_times(corpora):
    for corpus in each(corpora):
        silent = silent_line_events(corpus.script, corpus.frames.__getitem__)
        raw = yaml.safe_load(corpus.path.read_text(encoding="utf-8"))
        quiet = [
            e for e in raw["calls"] if e["situation"] in ("clicks", "breathing", "never_answers")
        ]
        assert len(quiet) == 6
        for entry in quiet:
            assert entry["expect"]["outcome"] == "no_answer"
            assert entry["expect"]["events"] == silent
            assert entry["expect"]["classification"] == "silence"
            # the recording runs on past the final hang-up
            assert entry["duration_s"] > silent[-1]["t"] + 2.9


def test_old_manifests_stay_readable_with_defaults(tmp_path):
    manifest = load_manifest(write_corpus(sample_specs(7)[:2], tmp_path, seed=7))
    text = manifest.path.read_text(encoding="utf-8")
    for key in ("channels", "callee_channel", "dc_offset", "clipping", "sounds", "agent"):
        assert f"{key}:" not in text
    for call in manifest.calls:
        assert (call.channels, call.callee_channel, call.dc_offset) == (1, None, 0.0)
        assert (call.clipping, call.sounds, call.agent, call.replay_channel) == (
            False,
            (),
            (),
            "mix",
        )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c.pop("callee_channel"), "callee_channel"),
        (lambda c: c.update(channels=3), "channels"),
        (lambda c: c.update(dc_offset=0.9), "dc_offset"),
        (
            lambda c: c.update(sounds=[{"start_s": 1, "end_s": 2, "kind": "x", "level_dbfs": -9}]),
            "kind",
        ),
        (
            lambda c: c.update(
                sounds=[{"start_s": 2, "end_s": 1, "kind": "pop", "level_dbfs": -9}]
            ),
            "sounds",
        ),
        (lambda c: c.update(clipping="yes"), "clipping"),
        (lambda c: c.update(channel="telephone_alaw"), "sample_rate"),
    ],
)
def test_bad_new_fields_fail_with_one_line(corpora, tmp_path, edit, message):
    corpus = corpora["inbound"]
    data = yaml.safe_load(corpus.path.read_text(encoding="utf-8"))
    [stereo] = [c for c in data["calls"] if c.get("callee_channel") == "right"]
    stereo.update(dc_offset=0.1, sounds=[])
    edit(stereo)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ManifestError, match=message) as caught:
        load_manifest(path)
    assert "\n" not in str(caught.value)


# --- the situations ------------------------------------------------------------------------------


def _impulse_windows(call, rate: int, margin_s: float) -> np.ndarray:
    """Per-sample mask of the labelled sounds, each widened by `margin_s` (s)."""
    mask = np.zeros(round(call.duration_s * rate), dtype=bool)
    for sound in call.sounds:
        first = max(0, round((sound.start_s - margin_s) * rate))
        mask[first : round((sound.end_s + margin_s) * rate)] = True
    return mask


def test_clicks_are_5_to_40_ms_impulses_on_a_quiet_line(corpora):
    for corpus in each(corpora):
        [clean] = corpus.calls("clicks", "clean")
        samples, rate = corpus.read(clean)
        x = samples.astype(np.float64)
        assert {s.kind for s in clean.sounds} == {"click", "pop", "knock"}
        lengths_ms = [1000 * (s.end_s - s.start_s) for s in clean.sounds]
        assert min(lengths_ms) >= 5.0 - 0.1 and max(lengths_ms) <= 40.0 + 0.1
        starts = np.array([s.start_s for s in clean.sounds])
        gaps = np.diff(starts)
        assert gaps.min() >= CLICK_INTERVAL_S[0] - 1e-6 and gaps.max() <= CLICK_INTERVAL_S[1] + 1e-6
        assert starts[0] <= CLICK_INTERVAL_S[1] and clean.duration_s - starts[-1] <= 2.2
        for sound in clean.sounds:
            assert CLICK_PEAK_DBFS[0] <= sound.level_dbfs <= CLICK_PEAK_DBFS[1]
            window = x[round(sound.start_s * rate) : round(sound.end_s * rate)]
            peak_dbfs = 20 * np.log10(np.abs(window).max() / 32768)
            assert peak_dbfs == pytest.approx(sound.level_dbfs, abs=0.3), sound
        # Outside the impulses there is only the faint line noise.
        outside = ~_impulse_windows(clean, rate, 0.0)
        assert rms_dbfs(x[outside]) == pytest.approx(clean.noise.level_dbfs, abs=0.5)
        assert np.abs(x[outside]).max() < 32768 * 10 ** (clean.noise.level_dbfs / 20) * 6
        # On the A-law telephone line the band-pass rings for a few ms around each impulse, but
        # the energy stays there.
        [phone] = corpus.calls("clicks", "telephone_alaw")
        samples, rate = corpus.read(phone)
        energy = samples.astype(np.float64) ** 2
        near = _impulse_windows(phone, rate, 0.005)
        noise_power = (32768 * 10 ** (phone.noise.level_dbfs / 20)) ** 2
        excess = np.maximum(energy - noise_power, 0.0)
        assert excess[near].sum() / excess.sum() > 0.99


def test_breathing_is_slow_quiet_bursts(corpora):
    for corpus in each(corpora):
        for call in corpus.calls("breathing"):
            breaths = call.sounds
            assert {s.kind for s in breaths} == {"breath"}
            lengths = np.array([s.end_s - s.start_s for s in breaths])
            assert lengths.min() >= 0.4 - 1e-6 and lengths.max() <= 1.2 + 1e-6
            assert len(breaths) / call.duration_s == pytest.approx(2 / 4.0, rel=0.3)  # 12-20/min
            assert all(-58.0 <= s.level_dbfs <= -52.0 for s in breaths)
            rendered = render_call(corpus.specs[call.file])
            for sound in breaths:
                part = rendered.sounds[round(sound.start_s * 16000) : round(sound.end_s * 16000)]
                assert rms_dbfs(part) == pytest.approx(sound.level_dbfs, abs=0.05)
            frames = 10 * np.log10(np.maximum(frame_powers(rendered.audio), 1e-10))
            assert frames.max() < -40.0  # never louder than a quiet talker's softest words
            assert not call.speech


def test_dc_offset_is_in_the_files(corpora):
    for corpus in each(corpora):
        dc_calls = [c for c in corpus.manifest.calls if c.dc_offset]
        assert {c.situation for c in dc_calls} == {"dc_offset", "clipped_loud"}
        assert "telephone" in {c.channel for c in dc_calls}
        for call in dc_calls:
            assert DC_OFFSET[0] <= abs(call.dc_offset) <= DC_OFFSET[1]
            samples, _ = corpus.read(call)
            assert samples.mean() / 32768 == pytest.approx(call.dc_offset, abs=0.004), call.file
        [plain] = corpus.calls("dc_offset")
        assert not plain.clipping
        samples, _ = corpus.read(plain)
        assert np.abs(samples).max() < 32767  # a normal talker: the offset does not clip them


def test_loud_talker_clips(corpora):
    for corpus in each(corpora):
        for call in corpus.calls("clipped_loud"):
            assert call.clipping and all(-9.0 <= s.level_dbfs <= -5.0 for s in call.speech)
            rendered = render_call(corpus.specs[call.file])
            at_rails = np.abs(rendered.audio.astype(np.int32)) >= 32767
            assert at_rails.sum() > 100, call.file  # flat tops at full scale
        [clean] = corpus.calls("clipped_loud", "clean")
        samples, _ = corpus.read(clean)
        rail = 32767 if clean.dc_offset > 0 else -32768
        assert (samples == rail).sum() > 50  # the recorder clips the offset talker on one side


def test_alaw_files_are_alaw_and_band_limited(corpora):
    for corpus in each(corpora):
        calls = corpus.calls("babble_talker", "telephone_alaw") + corpus.calls(
            "continuous_talker", "telephone_alaw"
        )
        for call in calls:
            path = corpus.manifest.audio_path(call)
            info = sf.info(path)
            assert (info.samplerate, info.subtype, info.channels) == (8000, "ALAW", 1)
            assert path.read_bytes()[20:22] == (6).to_bytes(2, "little")  # WAVE_FORMAT_ALAW
            samples, rate = sf.read(path, dtype="float64")
            power = np.abs(np.fft.rfft(samples)) ** 2
            freqs = np.fft.rfftfreq(len(samples), 1.0 / rate)
            # nothing outside the band edges' skirts (200-3600 Hz)
            assert power[(freqs < 200) | (freqs > 3600)].sum() / power.sum() < 0.01, call.file
            decoded = FileSource(path).read_all()
            assert decoded.shape[0] * 0.02 == pytest.approx(call.duration_s, abs=0.04)


def test_stereo_has_the_agent_on_one_side(corpora):
    sides = set()
    for corpus in each(corpora):
        for call in [c for c in corpus.manifest.calls if c.channels == 2]:
            sides.add(call.callee_channel)
            samples, rate = corpus.read(call)
            callee = samples[:, 0 if call.callee_channel == "left" else 1].astype(np.float64)
            agent = samples[:, 1 if call.callee_channel == "left" else 0].astype(np.float64)
            assert call.agent and call.speech
            for seg in call.agent:
                part = slice(round(seg.start_s * rate), round(seg.end_s * rate))
                assert active_level_dbfs(agent[part]) > -30.0
                assert rms_dbfs(callee[part]) < -55.0  # the callee is silent while we speak
            for seg in call.speech:
                part = slice(round(seg.start_s * rate), round(seg.end_s * rate))
                assert active_level_dbfs(callee[part]) > -30.0
                assert rms_dbfs(agent[part]) < -55.0
            chosen = FileSource(corpus.manifest.audio_path(call), channel=call.replay_channel)
            assert np.array_equal(chosen.read_all().reshape(-1)[: len(callee)], callee)
    assert sides == {"left", "right"}
    outbound = corpora["outbound"]
    [prompts] = [c for c in outbound.manifest.calls if c.callee_channel == "right"]
    assert (
        prompts.agent[0].text.startswith("您好!我是温州气象局1001号")
        and prompts.agent[0].start_s < 0.2
    )


def test_continuous_talker_talks_on_from_before_the_prompt_ends(corpora):
    for corpus in each(corpora):
        for call in corpus.calls("continuous_talker"):
            first, last = call.speech[0], call.speech[-1]
            early = corpus.opening_s - first.start_s
            assert EARLY_START_S[0] - 0.1 <= early <= EARLY_START_S[1] + 0.1, call.file
            assert last.end_s - corpus.opening_s >= 20.0
            gaps = [b.start_s - a.end_s for a, b in zip(call.speech, call.speech[1:], strict=False)]
            assert max(gaps) < 0.8 and all(s.source == "human" for s in call.speech)


def test_talker_over_prompt_starts_mid_prompt_and_stops_a_second_after(corpora):
    for corpus in each(corpora):
        for call in corpus.calls("talks_over_prompt"):
            start, end = call.speech[0].start_s, call.speech[-1].end_s
            assert 0.25 * corpus.opening_s <= start <= 0.75 * corpus.opening_s, call.file
            overrun = end - corpus.opening_s
            assert OVERRUN_S[0] - 0.1 <= overrun <= OVERRUN_S[1] + 0.1, call.file


def test_office_babble_is_real_human_talkers(corpora):
    talkers = office_talkers(16000 * 8, np.random.default_rng(3))
    assert len(talkers) == len(OFFICE_TALKERS) >= 5
    assert all(t.source == "human" for t in talkers)
    assert all(load_phrase(p).source == "human" for pool in OFFICE_TALKERS for p in pool)
    for corpus in each(corpora):
        [alone] = corpus.calls("distant_babble")
        assert not alone.speech and alone.noise.type == "office"
        assert -42.0 <= alone.noise.level_dbfs <= -38.0
        samples, _ = corpus.read(alone)
        assert rms_dbfs(samples) == pytest.approx(alone.noise.level_dbfs, abs=0.5)
        for call in corpus.calls("babble_talker"):
            assert call.noise.type == "office" and -42.0 <= call.noise.level_dbfs <= -38.0
            assert all(-20.0 <= s.level_dbfs <= -16.0 for s in call.speech)


def test_long_silence_runs_well_past_the_hangup(corpora):
    for corpus in each(corpora):
        hangup = silent_line_events(corpus.script, corpus.frames.__getitem__)[-1]["t"]
        calls = corpus.calls("never_answers")
        assert {c.channel for c in calls} == {"clean", "telephone_alaw"}
        for call in calls:
            assert call.duration_s >= hangup + LONG_TAIL_S[0]
            samples, _ = corpus.read(call)
            assert rms_dbfs(samples) < -60.0


# --- specs and the command line -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sounds": (Sound(1.0, "click", 50.0, -10.0),)}, "lasts 5-40 ms"),
        ({"sounds": (Sound(1.0, "hiss", 10.0, -10.0),)}, "kind"),
        ({"sounds": (Sound(5.99, "knock", 30.0, -10.0),)}, "after the call's end"),
        ({"dc_offset": 0.7}, "dc_offset"),
        ({"agent": (Utterance(0.2, "喂?"),)}, "stereo"),
        ({"callee_channel": "middle"}, "callee_channel"),
        ({"utterances": (Utterance(0.2, "喂?"),), "situation": "clicks"}, "no utterances"),
    ],
)
def test_render_call_rejects_bad_realistic_specs(changes, message):
    spec = CallSpec("ok", "clicks", 6.0, noise="white", noise_dbfs=-70.0)
    render_call(spec)
    with pytest.raises(ValueError, match=message):
        render_call(dataclasses.replace(spec, **changes))


def test_cli_writes_the_realistic_corpus(tmp_path, corpora):
    app = typer.Typer()
    app.callback()(lambda: None)
    synth_cli.register(app)
    args = ["synth", "--script", "inbound", "--realistic", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--agent-id", "1001", "--number", "13812345678"])
    assert result.exit_code == 0, result.output
    assert "callee right" in result.output and "expect no_answer" in result.output
    written = (tmp_path / "manifest.yaml").read_bytes()
    assert written == corpora["inbound"].path.read_bytes()
    alone = CliRunner().invoke(app, ["synth", "--realistic", "--out", str(tmp_path / "x")])
    assert alone.exit_code != 0 and "--script" in alone.output
