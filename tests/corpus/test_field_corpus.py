"""The field corpus (ivr.synth.field): its files are what their manifest says.

Each script's corpus is rendered once per test run; the tests read the files back: a GSM call
went through GSM 06.10, the telephone line is causal (no pre-ringing before a click, little
below 200 Hz), lost frames are exact zeros in bursts of the stated lengths, hum has its
harmonics, levels are in their documented ranges, a third is held out, a seed gives the same
bytes.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from shared import OUTBOUND_VALUES as VALUES
from shared import ManifestCalls, built_once, script_frames

from ivr.script import load_script
from ivr.synth import load_manifest
from ivr.synth.field import ROWS, field_call_specs, held_out_rows
from ivr.synth.field_audio import HUM_HARMONICS, gsm_round_trip, telephone_line
from ivr.synth.field_ranges import (
    CHIME_DBFS,
    HUM_DBFS,
    HUM_TALKER_DBFS,
    OVER_BABBLE_DB,
    ROOM_DBFS,
    ROOM_RT60_S,
    STATIC_BURST_MS,
    STATIC_DBFS,
)
from ivr.synth.field_render import ERASED_BURST_MS, ERASED_KEPT_MS, render_field, write_field_corpus
from ivr.synth.levels import rms_dbfs

SCRIPTS = ("outbound", "inbound")


class Corpus(ManifestCalls):
    def __init__(self, name: str, folder: Path | None = None, seed: int = 7, factory=None) -> None:
        """The field corpus of script `name` for `seed`, written into `folder`, or (with
        `factory`, pytest's tmp_path_factory) the one the run builds once (shared.built_once)."""
        self.script = load_script(name, VALUES)
        self.frames = script_frames(self.script)
        self.pairs = field_call_specs(self.script, self.frames.__getitem__, seed)
        if factory is None:
            self.path = write_field_corpus(self.pairs, folder, seed)
        else:
            self.path = built_once(
                factory, f"field-{name}-{seed}", lambda f: write_field_corpus(self.pairs, f, seed)
            )
        self.manifest = load_manifest(self.path)
        self.raw = {c["file"]: c for c in yaml.safe_load(self.path.read_text())["calls"]}
        self.specs = {spec.file: spec for spec, _ in self.pairs}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Corpus]:
    return {name: Corpus(name, factory=tmp_path_factory) for name in SCRIPTS}


def test_same_seed_gives_byte_identical_files(corpora, tmp_path):
    corpus = corpora["outbound"]
    again = Corpus("outbound", tmp_path / "again")
    assert [s for s, _ in again.pairs] == [s for s, _ in corpus.pairs]
    for path in sorted(corpus.path.parent.iterdir()):
        assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes(), path.name
    other = field_call_specs(corpus.script, corpus.frames.__getitem__, 8)
    assert [s for s, _ in other] != [s for s, _ in corpus.pairs]


def test_a_third_is_held_out_stably_for_a_seed(corpora):
    held = held_out_rows(7)
    assert held == held_out_rows(7) and 0.28 <= len(held) / len(ROWS) <= 0.38
    assert held_out_rows(8) != held or held_out_rows(9) != held
    for corpus in corpora.values():
        parts = [corpus.raw[c.file]["expect"]["part"] for c in corpus.manifest.calls]
        assert [c.expect.part for c in corpus.manifest.calls] == parts
        assert parts == ["held_out" if i in held else "tuning" for i in range(len(ROWS))]
        # every class has calls in both parts
        for group in {r[0] for r in ROWS}:
            mine = {parts[i] for i, r in enumerate(ROWS) if r[0] == group}
            assert mine == {"tuning", "held_out"}, group


def test_manifest_describes_every_file(corpora):
    subtypes = {"pcm_16": "PCM_16", "mulaw": "ULAW", "alaw": "ALAW"}
    for corpus in corpora.values():
        assert len(corpus.manifest.calls) == len(ROWS)
        total = sum(c.duration_s for c in corpus.manifest.calls)
        assert 10 * 60 <= total <= 30 * 60
        for call in corpus.manifest.calls:
            info = sf.info(corpus.manifest.audio_path(call))
            assert (info.samplerate, info.subtype) == (call.sample_rate, subtypes[call.encoding])
            assert info.frames == round(call.duration_s * call.sample_rate)
            expect = corpus.raw[call.file]["expect"]
            assert expect["outcome"] in ("answered", "no_answer", "noisy_line", "choppy_line")
            assert corpus.raw[call.file]["field"]["class"] in "abcdef"


def test_gsm_files_went_through_gsm(corpora):
    for corpus in corpora.values():
        calls = [c for c in corpus.manifest.calls if c.channel == "telephone_gsm"]
        assert len(calls) >= 3
        for call in calls:
            samples, rate = corpus.read(call)
            assert rate == 8000
            # GSM 06.10 decodes to 13-bit PCM: the three low bits of every sample are zero
            assert not np.any(samples.astype(np.int32) % 8)
            line = to_line(corpus.specs[call.file])
            assert not np.all(line % 8 == 0)  # ... which the line's own samples are not
            assert np.array_equal(gsm_round_trip(line), samples)
            error = samples.astype(float) - line
            snr = 10 * np.log10(np.sum(line.astype(float) ** 2) / np.sum(error**2))
            assert 0.5 < snr < 30.0, call.file  # a lossy speech codec, not a copy


def to_line(spec) -> np.ndarray:
    from ivr.synth.levels import to_int16

    return to_int16(telephone_line(render_field(spec).line_in))


def test_band_pass_is_causal_and_band_limited(corpora):
    for corpus in corpora.values():
        for call in corpus.calls("band_clicks"):
            samples, rate = corpus.read(call)
            x = samples.astype(np.float64)
            power = np.abs(np.fft.rfft(x)) ** 2
            freqs = np.fft.rfftfreq(len(x), 1 / rate)
            assert power[freqs < 200].sum() / power.sum() < 0.02, call.file
            noise = 32768 * 10 ** (call.noise.level_dbfs / 20)
            clicks = corpus.raw[call.file]["field"]["layers"]
            for click in clicks:
                onset = round(click["start_s"] * rate)
                before = x[max(0, onset - 40) : onset - 1]  # 5 ms before the click
                after = x[onset : onset + 160]
                assert np.abs(before).max() < max(8 * noise, 40), (call.file, click)
                assert np.abs(after).max() > 20 * np.abs(before).max() / 8, (call.file, click)


def test_lost_frames_are_exact_zeros_in_bursts(corpora):
    for corpus in corpora.values():
        for call in corpus.calls("erased_bursts") + corpus.calls("lost_frames"):
            samples, rate = corpus.read(call)
            per = rate // 50
            frames = samples[: len(samples) // per * per].reshape(-1, per)
            zero = np.all(frames == 0, axis=1)
            runs = corpus.raw[call.file]["field"]["erased_s"]
            marked = np.zeros(len(zero), dtype=bool)
            for a, b in runs:
                marked[round(a * 50) : round(b * 50)] = True
            assert np.array_equal(zero, marked), call.file
            lengths = np.array([round((b - a) * 1000) for a, b in runs])
            first = round(call.speech[0].start_s * 50)
            share = marked[first:].mean()
            if call.situation == "erased_bursts":
                assert lengths.min() >= ERASED_BURST_MS[0] and lengths.max() <= ERASED_BURST_MS[1]
                gaps = [round((c - b) * 1000) for (_, b), (c, _) in itertools.pairwise(runs)]
                assert min(gaps) >= ERASED_KEPT_MS[0] and max(gaps) <= ERASED_KEPT_MS[1]
                assert 0.25 <= share <= 0.42, (call.file, share)
            else:
                assert set(lengths) == {20}
                assert 0.025 <= share <= 0.075, (call.file, share)
            assert not marked[:first].any()


def test_hum_has_its_harmonics(corpora):
    for corpus in corpora.values():
        for call in corpus.calls("hum_talker"):
            [layer] = corpus.raw[call.file]["field"]["layers"]
            assert HUM_DBFS[0] <= layer["level_dbfs"] <= HUM_DBFS[1]
            assert all(
                HUM_TALKER_DBFS[0] <= s.level_dbfs <= HUM_TALKER_DBFS[1] for s in call.speech
            )
            samples, rate = corpus.read(call)
            quiet = samples[: round((call.speech[0].start_s - 0.1) * rate)].astype(float)
            assert rms_dbfs(quiet) == pytest.approx(layer["level_dbfs"], abs=1.0)
            power = np.abs(np.fft.rfft(quiet * np.hanning(len(quiet)))) ** 2
            freqs = np.fft.rfftfreq(len(quiet), 1 / rate)
            peaks = [power[np.abs(freqs - 50 * h) < 2].sum() for h in HUM_HARMONICS]
            assert sum(peaks) / power.sum() > 0.95
            assert min(peaks) > 1e-3 * max(peaks)


def test_levels_are_in_their_ranges(corpora):
    for corpus in corpora.values():
        for call in corpus.manifest.calls:
            field = corpus.raw[call.file]["field"]
            for layer in field.get("layers", []):
                kind, level = layer["kind"], layer["level_dbfs"]
                if kind in ("chime", "ring"):
                    assert CHIME_DBFS[0] <= level <= CHIME_DBFS[1]
                elif kind == "static":
                    assert STATIC_DBFS[0] <= level <= STATIC_DBFS[1]
                    ms = 1000 * (layer["end_s"] - layer["start_s"])
                    assert STATIC_BURST_MS[0] - 0.1 <= ms <= STATIC_BURST_MS[1] + 0.1
                elif kind in ("tv", "babble"):
                    assert ROOM_RT60_S[0] <= layer["rt60_s"] <= ROOM_RT60_S[1]
                    if call.situation == "talker_over_babble":
                        over = call.speech[0].level_dbfs - level
                        assert OVER_BABBLE_DB[0] - 0.2 <= over <= OVER_BABBLE_DB[1] + 0.2
                    else:
                        assert ROOM_DBFS[0] <= level <= ROOM_DBFS[1]
                        assert 4 <= layer.get("talkers", 1) <= 6 or kind == "tv"
            if call.channel == "clean" and call.situation in ("babble_alone", "tv_in_room"):
                samples, _ = corpus.read(call)
                assert rms_dbfs(samples) == pytest.approx(field["layers"][0]["level_dbfs"], abs=0.5)
