"""The field corpus replayed through both scripts: the outcome a caller or QA listener expects.

Each script's field corpus (ivr.synth.field) is rendered once and every call replayed once
without recognition. Each call must reach its manifest's outcome with exactly its prompts;
a silent line (sounds that are not speech) must re-prompt and hang up at the silent line's
times, to the frame. Property tests draw one call over a range where the claim must hold.

These are the product's requirements on recordings it did not make, not a record of what the
engine does today: some fail until the detectors handle them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shared import OUTBOUND_VALUES as VALUES
from shared import built_once, script_frames

from ivr.call.expect import check_call, load_expectations
from ivr.call.replay import CallResult, replay_file
from ivr.script import load_script
from ivr.synth.field import ROWS, field_call, field_call_specs
from ivr.synth.field_render import write_field_corpus
from ivr.synth.script_calls import silent_line_events
from ivr.tts import PromptCache

SCRIPTS = ("outbound", "inbound")
NOINPUT_S = {"outbound": 3.0, "inbound": 5.0}
CASES = [
    pytest.param(name, i, id=f"{name}-f{i + 1:02d}-{group}-{situation}-{channel}")
    for name in SCRIPTS
    for i, (group, situation, channel, _, _) in enumerate(ROWS)
]
PROPERTY = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Corpus:
    def __init__(self, name: str, factory, cache: PromptCache) -> None:
        """The field corpus of script `name` (seed 7, built once per run: shared.built_once),
        each call replayed."""
        self.name = name
        self.script = load_script(name, VALUES)
        self.cache = cache
        self.frames = script_frames(self.script, cache)
        pairs = field_call_specs(self.script, self.frames.__getitem__, 7)
        self.path = built_once(
            factory, f"field-{name}-7", lambda folder: write_field_corpus(pairs, folder, 7)
        )
        self.expect = load_expectations(self.path)
        self.raw = {c["file"]: c for c in yaml.safe_load(self.path.read_text())["calls"]}
        self.results = {
            file: replay_file(self.path.parent / file, self.script, cache) for file in self.raw
        }

    def replay_one(self, pair) -> tuple[CallResult, list[str]]:
        """Render one (spec, expect) pair alone and replay it: (result, problems)."""
        spec, extra = pair
        with tempfile.TemporaryDirectory() as tmp:
            path = write_field_corpus([pair], Path(tmp), 7)
            expect = load_expectations(path)[spec.file]
            result = replay_file(path.parent / spec.file, self.script, self.cache)
        problems = check_call(expect, result.outcome, result.timeline)
        if result.prompts != extra["prompts"]:
            problems.append(f"prompts {result.prompts}, expected {extra['prompts']}")
        return result, problems


@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Corpus]:
    cache = PromptCache()  # the run's shared cache ($IVR_CACHE_DIR, tests/conftest.py)
    return {n: Corpus(n, tmp_path_factory, cache) for n in SCRIPTS}


def _timeline(result: CallResult) -> str:
    keep = ("prompt_started", "speech", "noinput", "low_volume", "noise", "choppy", "hangup")
    return "; ".join(
        f"{r.t:.2f} {r.event} {getattr(r, 'prompt', '') or getattr(r, 'outcome', '')}".rstrip()
        for r in result.timeline
        if r.event in keep
    )


@pytest.mark.parametrize(("script", "index"), CASES)
def test_replay_reaches_the_expected_outcome(corpora, script, index):
    corpus = corpora[script]
    file = list(corpus.raw)[index]
    expect, result = corpus.expect[file], corpus.results[file]
    problems = check_call(expect, result.outcome, result.timeline)
    wanted = corpus.raw[file]["expect"]["prompts"]
    if result.prompts != wanted:
        problems.append(f"prompts {result.prompts}, expected {wanted}")
    assert not problems, (
        f"{file}: outcome {result.outcome} (expected {expect.outcome}); "
        f"{' | '.join(problems)}; timeline: {_timeline(result)}"
    )


def test_silent_lines_carry_the_silent_line_times(corpora):
    """The labels: every sound-only line expects the silent line's prompts at its times:
    outbound 3 s, 3 s, the closing, 2 s; inbound 5 s, the closing, 5 s."""
    for name, corpus in corpora.items():
        silent = silent_line_events(corpus.script, corpus.frames.__getitem__)
        prompts = [e for e in silent if e["event"] == "prompt_started"]
        ends = [e["t"] + corpus.frames[e["prompt"]] * 0.02 for e in prompts]
        waits = [
            round(b["t"] - a, 2) for a, b in zip(ends, [*prompts[1:], silent[-1]], strict=True)
        ]
        wait = NOINPUT_S[name]
        assert waits == ([wait, wait, wait, 2.0] if name == "outbound" else [wait, wait, 5.0])
        quiet = [f for f, c in corpus.raw.items() if c["expect"]["outcome"] == "no_answer"]
        assert len(quiet) == 8
        for file in quiet:
            assert corpus.raw[file]["expect"]["events"] == silent


# --- over a range ------------------------------------------------------------------------------


@PROPERTY
@given(level=st.floats(-40.0, -10.0), start=st.floats(0.0, 2.0))
def test_one_chime_on_a_silent_outbound_line_is_a_silent_line(corpora, level, start):
    corpus = corpora["outbound"]
    pair = field_call(
        corpus.script, corpus.frames.__getitem__, "chimes", level_dbfs=level, first_s=start
    )
    _, problems = corpus.replay_one(pair)
    assert not problems, f"chime at {level:.1f} dBFS, {start:.2f} s: {problems}"


@pytest.mark.parametrize("script", SCRIPTS)
@PROPERTY
@given(over=st.floats(16.0, 30.0))
def test_a_talker_well_over_babble_is_answered(corpora, script, over):
    corpus = corpora[script]
    pair = field_call(corpus.script, corpus.frames.__getitem__, "over_babble", over_db=over)
    result, problems = corpus.replay_one(pair)
    assert not problems, f"talker {over:.1f} dB over babble: {problems}; {_timeline(result)}"


@pytest.mark.parametrize("script", SCRIPTS)
@PROPERTY
@given(hum=st.floats(-35.0, -20.0))
def test_a_talker_over_hum_is_answered(corpora, script, hum):
    corpus = corpora[script]
    pair = field_call(corpus.script, corpus.frames.__getitem__, "hum", hum_dbfs=hum)
    result, problems = corpus.replay_one(pair)
    assert not problems, f"hum at {hum:.1f} dBFS: {problems}; {_timeline(result)}"
