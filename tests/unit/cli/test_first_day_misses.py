"""No silent misses: a replayed file the --expect manifest does not list is
named and counted; a manifest without expected outcomes says so; `calls list --outcome` with
an outcome no call has lists the outcomes there are; re-running `ivr synth` into a folder
removes the calls of the earlier corpus it no longer lists (and nothing else); a wrong
`tune --channel` is one line before any call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from shared import human_speech
from typer.testing import CliRunner

from ivr.cli import app
from ivr.records.calllog import CallLog, CallRecord

TINY = """\
script: tiny
start: ask
max_call_s: 6
prompts:
  hello: 您好
  bye: 再见
defaults:
  listen: {noinput_timeout_s: 1.0, end_of_speech_s: 0.5, max_speech_s: 3.0}
states:
  ask:
    say: hello
    listen: {}
    on:
      speech: [{do: [{say: bye}, {hangup: answered}]}]
      noinput: [{do: [{say: bye}, {hangup: no_answer}]}]
"""


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    """A tiny script and two calls: one who answers at 1 s, one silent; a.wav is listed."""
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    audio = np.zeros(3 * 16000, np.int16)
    speech = human_speech(0)
    audio[16000 : 16000 + len(speech)] = speech
    sf.write(tmp_path / "a.wav", audio, 16000)
    sf.write(tmp_path / "b.wav", np.zeros(3 * 16000, np.int16), 16000)
    return tmp_path


def replay(folder: Path, manifest: dict) -> object:
    path = folder / "manifest.yaml"
    path.write_text(yaml.safe_dump(manifest), encoding="utf-8")
    return CliRunner().invoke(app, [
        "replay", str(folder / "a.wav"), str(folder / "b.wav"), "--script",
        str(folder / "tiny.yaml"), "--asr", "none", "--no-db", "--expect", str(path),
    ])  # fmt: skip


def test_a_file_not_in_the_manifest_is_named_and_counted(calls: Path):
    result = replay(calls, {"calls": [{"file": "a.wav", "expect": {"outcome": "answered"}}]})
    assert result.exit_code == 0, result.output
    [warning] = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert "1 file(s) not in the manifest" in warning and "b.wav" in warning
    assert "a.wav" not in warning
    assert "expected outcomes: 1 pass, 0 fail, 1 not in the manifest" in result.stdout


def test_a_manifest_without_expected_outcomes_says_so(calls: Path):
    listed = [{"file": name, "expect": {"classification": "speech"}} for name in ("a.wav", "b.wav")]
    result = replay(calls, {"calls": listed})
    assert result.exit_code == 0, result.output
    assert "no call has an expected outcome" in result.stdout
    assert "ivr synth --count" in result.stdout


def test_calls_list_with_an_outcome_no_call_has_lists_the_outcomes(tmp_path: Path):
    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        for i, outcome in enumerate(("answered", "answered", "no_answer")):
            log.add(CallRecord(
                started_at=f"2026-12-01T10:1{i}:00+08:00", direction="outbound",
                number="13812345678", script="outbound", outcome=outcome, duration_s=12.5,
                source="replay", file=f"call{i}.wav", result="",
            ))  # fmt: skip
    result = CliRunner().invoke(app, ["calls", "list", "--db", str(db), "--outcome", "answerd"])
    assert result.exit_code == 0, result.output
    line = " ".join(result.stdout.split())
    assert "no calls with outcome 'answerd' (did you mean 'answered'?)" in line
    assert "outcomes in the log: answered (2), no_answer (1)" in line


def test_synth_again_removes_the_earlier_corpus_calls_only(tmp_path: Path):
    out = tmp_path / "corpus"
    runner = CliRunner()
    first = runner.invoke(app, ["synth", "--count", "2", "--out", str(out)])
    assert first.exit_code == 0, first.output
    assert sorted(p.name for p in out.glob("*.wav")) == [
        "call_0001_answers_at_once.wav", "call_0002_answers_late.wav",
    ]  # fmt: skip
    (out / "mine.wav").write_bytes(b"not ours")
    again = runner.invoke(app, ["synth", "--count", "1", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert "removed 1 call(s) of the earlier corpus" in again.stdout
    assert "call_0002_answers_late.wav" in again.stdout
    assert sorted(p.name for p in out.glob("*.wav")) == [
        "call_0001_answers_at_once.wav", "mine.wav",
    ]  # fmt: skip


def test_tune_with_a_wrong_channel_is_one_line_before_any_call(calls: Path):
    labels = [{"file": name, "expect": {"outcome": "answered"}} for name in ("a.wav", "b.wav")]
    (calls / "manifest.yaml").write_text(yaml.safe_dump({"calls": labels}), encoding="utf-8")
    result = CliRunner().invoke(app, [
        "tune", str(calls), "--grid", "vad.hangover_ms=200,300", "--script",
        str(calls / "tiny.yaml"), "--channel", "center", "--out", str(calls / "tune"),
    ])  # fmt: skip
    assert result.exit_code == 2, result.output
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and "--channel" in line and "'center'" in line
    assert not (calls / "tune").exists()
