"""Realistic calls replayed through both scripts: the outcome a caller or QA listener expects.

Each script's realistic corpus (ivr.synth.realistic) is rendered once and every call replayed
once in detector-only mode, the callee's side of a stereo file chosen as its manifest says
(`callee_channel`, what `ivr replay --channel` would be given). Each call must reach the
manifest's outcome, with its events (at their times where the script's timers fix them) and
exactly its prompts, and `ivr detect` must classify the file as the situation says.

These are the product's requirements on real callers and lines, not a record of what the
engine does today: some fail until the detector and engine handle them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from shared import OUTBOUND_VALUES as VALUES
from shared import built_once, script_frames

from ivr.audio.source import FileSource
from ivr.call.expect import CallExpectation, check_call, load_expectations
from ivr.call.replay import CallResult, replay_file
from ivr.corpus.manifest import EXPECTED_CLASSIFICATION, CallEntry
from ivr.detect import Analysis, analyze
from ivr.qa.phrases import load_forbidden
from ivr.qa.score import QaSettings, score_call
from ivr.script import load_script
from ivr.synth import load_manifest, write_corpus
from ivr.synth.realistic import ROWS, realistic_call_specs
from ivr.synth.script_calls import chain, silent_line_events
from ivr.timeline import CallTimeline, read_timeline
from ivr.tts import PromptCache

SCRIPTS = ("outbound", "inbound")
CASES = [
    pytest.param(name, i, id=f"{name}-r{i + 1:02d}-{situation}-{channel}")
    for name in SCRIPTS
    for i, (situation, channel, _) in enumerate(ROWS)
]


@dataclass
class Replayed:
    """One realistic call: its label, what replay and the detectors made of it."""

    call: CallEntry
    expect: CallExpectation
    prompts: list[str]
    """The prompts the manifest expects, in order."""
    result: CallResult
    analysis: Analysis


class Corpus:
    def __init__(self, name: str, factory, cache: PromptCache) -> None:
        """The realistic corpus of script `name` (seed 7, built once per run:
        shared.built_once), each call replayed and analysed."""
        self.script = load_script(name, VALUES)
        self.frames = script_frames(self.script, cache)
        pairs = realistic_call_specs(self.script, self.frames.__getitem__, seed=7)
        extra = {spec.name: e for spec, e in pairs}
        self.path = built_once(
            factory,
            f"realistic-{name}-7",
            lambda f: write_corpus([s for s, _ in pairs], f, 7, expect_extra=extra),
        )
        manifest = load_manifest(self.path)
        expectations = load_expectations(self.path)
        raw = {c["file"]: c["expect"] for c in yaml.safe_load(self.path.read_text())["calls"]}
        self.raw: dict[str, dict[str, Any]] = raw
        self.calls = []
        for call in manifest.calls:
            path = manifest.audio_path(call)
            result = replay_file(path, self.script, cache, channel=call.replay_channel)
            analysis = analyze(FileSource(path, channel=call.replay_channel))
            prompts = raw[call.file]["prompts"]
            self.calls.append(Replayed(call, expectations[call.file], prompts, result, analysis))


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Corpus]:
    cache = PromptCache()  # the run's shared cache ($IVR_CACHE_DIR, tests/conftest.py)
    return {name: Corpus(name, tmp_path_factory, cache) for name in SCRIPTS}


def _timeline(result: CallResult) -> str:
    keep = ("prompt_started", "speech_started", "speech_continues", "speech_ended", "hangup")
    keep += ("noinput", "low_volume", "noise", "choppy", "speech", "max_speech")
    lines = [
        f"{r.t:.2f} {r.event} {getattr(r, 'prompt', '') or getattr(r, 'outcome', '')}".rstrip()
        for r in result.timeline
        if r.event in keep
    ]
    return "; ".join(lines)


@pytest.mark.parametrize(("script", "index"), CASES)
def test_replay_reaches_the_expected_outcome(corpora, script, index):
    replayed = corpora[script].calls[index]
    result, expect = replayed.result, replayed.expect
    problems = check_call(expect, result.outcome, result.timeline)
    if result.prompts != replayed.prompts:
        problems.append(f"prompts {result.prompts}, expected {replayed.prompts}")
    assert not problems, (
        f"{replayed.call.file}: outcome {result.outcome} (expected {expect.outcome}); "
        f"{' | '.join(problems)}; timeline: {_timeline(result)}"
    )


@pytest.mark.parametrize(("script", "index"), CASES)
def test_detect_classifies_the_file_as_its_situation(corpora, script, index):
    replayed = corpora[script].calls[index]
    expected = EXPECTED_CLASSIFICATION[replayed.call.situation]
    assert expected == replayed.call.expect.classification
    got = str(replayed.analysis.classification)
    segments = [
        (round(s.start_s, 2), round(s.end_s, 2), s.level_dbfs, s.snr_db)
        for s in replayed.analysis.segments
    ][:6]
    assert got == expected, (
        f"{replayed.call.file}: classified {got}, expected {expected}; floor "
        f"{replayed.analysis.floor_dbfs:.1f} dBFS; first segments {segments}"
    )


def qa_of(corpus: Corpus, situation: str, channel: str) -> tuple[list, dict[str, bool | None]]:
    """The timeline and QA items of the corpus's call of `situation` on `channel`."""
    [replayed] = [
        c for c in corpus.calls if c.call.situation == situation and c.call.channel == channel
    ]
    timeline, script = replayed.result.timeline, corpus.script
    qa = score_call(timeline, script.templates, load_forbidden(), QaSettings.for_script(script))
    return timeline, qa.items


def test_qa_does_not_take_a_noisy_lines_babble_for_the_callee(corpora):
    """Distant office babble and no one speaking: the engine hears `noise`, and so does QA, so
    the closing said over the babble, and hanging up on it, are no fault."""
    timeline, items = qa_of(corpora["outbound"], "distant_babble", "clean")
    heard = [r.heard_as for r in timeline if r.event in ("vad_end", "vad_open")]
    assert heard and set(heard) == {"noise"}
    assert items["no_talking_over"] is not False
    assert items["no_hangup_while_speaking"] is True


@pytest.mark.parametrize("channel", ["clean", "telephone_alaw"])
def test_qa_takes_a_clear_talker_for_the_callee(corpora, channel):
    """A callee talking on and on over a quiet line: every segment is `speech` to the engine,
    so all of it is the callee's speech to QA (a prompt started over it would be talking over
    them: tests/test_qa_score.py renders one)."""
    timeline, _ = qa_of(corpora["outbound"], "continuous_talker", channel)
    call = CallTimeline(timeline)
    assert call.speech_segments and set(call.heard_as.values()) == {"speech"}
    assert set(call.speech_segments) <= set(call.callee_speech)


def test_expected_outcomes_follow_the_scripts_own_rules(corpora):
    """The labels are what each script prescribes: an answer, the silent line, the noisy line."""
    for corpus in corpora.values():
        answered, outcome = chain(corpus.script, "speech")
        assert outcome == "answered"
        noisy, outcome = chain(corpus.script, "noise")
        assert outcome == "noisy_line"
        silent = silent_line_events(corpus.script, corpus.frames.__getitem__)
        opening = list(corpus.script.states[corpus.script.start].say)
        for replayed in corpus.calls:
            outcome = replayed.expect.outcome
            if outcome == "answered":
                assert replayed.prompts == opening + answered
            elif outcome == "noisy_line":
                assert replayed.prompts == opening + noisy
            else:
                assert outcome == "no_answer"
                assert corpus.raw[replayed.call.file]["events"] == silent
            assert not replayed.expect.needs_recognition


def test_ivr_replay_and_detect_take_each_stereo_files_side_from_the_manifest(tmp_path):
    """As a user runs them: `ivr synth --realistic`, then `ivr replay` and `ivr detect` on the
    whole folder with --expect, no --channel: every call passes, stereo ones included."""
    from typer.testing import CliRunner

    from ivr.cli import app

    runner = CliRunner()
    folder = tmp_path / "calls"
    values = ["--agent-id", "1001", "--number", "13812345678"]
    made = runner.invoke(
        app, ["synth", "--script", "outbound", *values, "--realistic", "--out", str(folder)]
    )
    assert made.exit_code == 0, made.output
    manifest = folder / "manifest.yaml"
    assert any(c.callee_channel for c in load_manifest(manifest).calls)
    replayed = runner.invoke(
        app,
        ["replay", str(folder), "--script", "outbound", *values, "--asr", "none",
         "--expect", str(manifest), "--no-db", "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert replayed.exit_code == 0, replayed.output
    # The agent's side speaks our prompts: heard on the callee's side, it would be speech
    # under our opening. The callee answers only after it.
    for call in load_manifest(manifest).calls:
        if call.callee_channel:
            timeline = tmp_path / "out" / f"{Path(call.file).stem}.timeline.jsonl"
            records = read_timeline(timeline)
            opening_end = next(r.frame for r in records if r.event == "prompt_finished")
            under_opening = [
                r for r in records if r.event == "speech_ignored" and r.frame < opening_end
            ]
            assert not under_opening, call.file
    detected = runner.invoke(app, ["detect", *map(str, sorted(folder.glob("*.wav"))),
                                   "--expect", str(manifest), "--json"])  # fmt: skip
    assert detected.exit_code == 0, detected.output
