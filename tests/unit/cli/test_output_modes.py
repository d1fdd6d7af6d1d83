"""Outputs follow the umask: reports, recordings, timelines, manifests and
CSV exports are written through the atomic writer, whose temporary file mkstemp makes 0600;
with umask 022 a written file must be 0644 (others can read a report), with 077 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from shared import human_speech
from typer.testing import CliRunner

from ivr.cli import app
from ivr.records.calllog import CallLog, CallRecord

SCRIPT = """\
script: modes
start: ask
max_call_s: 10
prompts:
  hello: 您好
  bye: 再见
defaults:
  listen: {noinput_timeout_s: 1.0, end_of_speech_s: 0.5, max_speech_s: 5.0}
states:
  ask:
    say: hello
    listen: {}
    on:
      speech: [{do: [{goto: done}]}]
      noinput:
        - {count: 1, do: [{say: bye}, {hangup: no_answer}]}
  done:
    say: [bye]
    do: [{hangup: answered}]
"""


@pytest.fixture
def umask() -> Iterator[callable]:
    """set(mask): the process umask for the test; the old one is put back after it."""
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640)])
def test_replay_outputs_follow_the_umask(tmp_path: Path, umask, mask: int, expected: int):
    script = tmp_path / "modes.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    audio = np.zeros(32000, dtype=np.int16)
    audio[8000 : 8000 + 16000] = human_speech(0)[:16000]
    sf.write(tmp_path / "call.wav", audio, 16000)
    umask(mask)
    out, report = tmp_path / "out", tmp_path / "report"
    result = CliRunner().invoke(app, [
        "replay", str(tmp_path / "call.wav"), "--script", str(script), "--asr", "none",
        "--out", str(out), "--report", str(report), "--db", str(tmp_path / "calls.db"),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    written = files_under(out) + files_under(report)
    assert any(p.suffix == ".wav" for p in written) and (report / "index.html") in written
    assert {p.name: oct(mode(p)) for p in written} == {p.name: oct(expected) for p in written}


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600)])
def test_synth_manifest_and_calls_follow_the_umask(tmp_path: Path, umask, mask, expected):
    umask(mask)
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--count", "1"])
    assert result.exit_code == 0, result.output
    written = files_under(tmp_path)
    assert tmp_path / "manifest.yaml" in written and len(written) >= 2
    assert {p.name: oct(mode(p)) for p in written} == {p.name: oct(expected) for p in written}


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600)])
def test_calls_export_follows_the_umask(tmp_path: Path, umask, mask: int, expected: int):
    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        log.add(CallRecord(
            started_at="2026-12-01T10:15:00+08:00", direction="outbound", number="13812345678",
            script="outbound", outcome="answered", duration_s=3.0, source="replay", file="a.wav",
        ))  # fmt: skip
    umask(mask)
    out = tmp_path / "calls.csv"
    result = CliRunner().invoke(app, ["calls", "export", "--csv", "--out", str(out),
                                      "--db", str(db)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert oct(mode(out)) == oct(expected)
