"""Tables never cut what a row is looked up by: file names, outcomes and
masked phone numbers are whole on an 80-column terminal (other columns wrap or fold), and on a
pipe every table is plain lines, one row per line, without box drawing."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from rich.console import Console
from typer.testing import CliRunner

from ivr.cli import app
from ivr.cli import calls as calls_cli
from ivr.cli import detect as detect_cli
from ivr.cli import replay as replay_cli
from ivr.records.calllog import CallLog, CallRecord

SCRIPT = """\
script: tables
start: ask
prompts: {hello: 您好}
states:
  ask:
    say: hello
    listen: {noinput_timeout_s: 1.0, end_of_speech_s: 0.5, max_speech_s: 5.0}
    on:
      speech: [{do: [{hangup: answered}]}]
      noinput: [{count: 1, do: [{hangup: wrong_person_or_nobody}]}]
"""

BOX = set("│┃─━┏┓┗┛┡┩└┘├┤┬┴┼╭╮╰╯")
NUMBER, MASKED = "13812345678", "138****5678"
OUTCOMES = ("wrong_person", "callee_hangup", "answering_machine")
FILES = ("outbound_001_answered_by_a_person.wav", "outbound_002_voicemail_greeting.wav")


@pytest.fixture
def call_db(tmp_path: Path) -> Path:
    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        for i, outcome in enumerate(OUTCOMES):
            log.add(CallRecord(
                started_at=f"2026-12-01T10:1{i}:00+08:00", direction="outbound", number=NUMBER,
                script="outbound_amd", outcome=outcome, duration_s=12.5, source="replay",
                file=FILES[0], result=f"the callee said a long sentence about {NUMBER} " * 2,
            ))  # fmt: skip
    return db


@pytest.fixture
def recordings(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(25)
    paths = []
    for name in FILES:
        sf.write(tmp_path / name, (rng.standard_normal(8000) * 300).astype(np.int16), 8000)
        paths.append(tmp_path / name)
    return paths


def terminal(monkeypatch, module) -> io.StringIO:
    """Make `module`'s console an 80-column terminal; what it prints goes to the buffer."""
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    monkeypatch.setattr(module, "make_console", lambda stderr=False: console)
    return out


def test_calls_list_on_a_pipe_is_plain_lines(call_db: Path):
    result = CliRunner().invoke(app, ["calls", "list", "--db", str(call_db)])
    assert result.exit_code == 0, result.output
    assert not BOX & set(result.output) and "…" not in result.output
    lines = result.output.splitlines()
    assert lines[0] == "3 calls" and lines[1].split()[:4] == ["id", "started", "dir", "number"]
    for outcome, line in zip(OUTCOMES, lines[2:], strict=True):
        assert MASKED in line.split() and outcome in line.split()
    assert NUMBER not in result.output


def test_calls_list_on_an_80_column_terminal_keeps_numbers_and_outcomes(call_db, monkeypatch):
    out = terminal(monkeypatch, calls_cli)
    result = CliRunner().invoke(app, ["calls", "list", "--db", str(call_db)])
    assert result.exit_code == 0, result.output
    text = out.getvalue()
    assert BOX & set(text) and max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text and text.count(MASKED) >= 3
    for outcome in OUTCOMES:
        assert outcome in text
    assert NUMBER not in text


def test_detect_summary_keeps_file_names(recordings: list[Path], monkeypatch):
    piped = CliRunner().invoke(app, ["detect", *map(str, recordings)])
    assert piped.exit_code == 0, piped.output
    assert not BOX & set(piped.output) and "…" not in piped.output
    assert all(name in piped.output.split() for name in FILES)
    out = terminal(monkeypatch, detect_cli)
    shown = CliRunner().invoke(app, ["detect", *map(str, recordings)])
    assert shown.exit_code == 0, shown.output
    summary = out.getvalue().split("Summary")[-1]
    assert "…" not in summary and all(name in summary for name in FILES)


def test_replay_expected_outcomes_keep_file_names_and_outcomes(recordings, monkeypatch):
    folder = recordings[0].parent
    (folder / "tables.yaml").write_text(SCRIPT, encoding="utf-8")
    manifest = folder / "expect.yaml"
    manifest.write_text(
        "calls:\n"
        + "".join(
            f"- {{file: {name}, expect: {{outcome: wrong_person_or_nobody}}}}\n" for name in FILES
        ),
        encoding="utf-8",
    )
    args = ["replay", *map(str, recordings), "--script", str(folder / "tables.yaml"),
            "--asr", "none", "--no-db", "--expect", str(manifest)]  # fmt: skip
    piped = CliRunner().invoke(app, args)
    assert piped.exit_code == 0, piped.output
    assert not BOX & set(piped.output) and "…" not in piped.output
    table = piped.output.split("Expected outcomes\n")[1].splitlines()  # after the per-call lines
    rows = [line.split() for line in table if line.startswith("outbound_")]
    assert [row[:3] for row in rows] == [[n, *["wrong_person_or_nobody"] * 2] for n in FILES]
    out = terminal(monkeypatch, replay_cli)
    shown = CliRunner().invoke(app, args)
    assert shown.exit_code == 0, shown.output
    table = out.getvalue().split("Expected outcomes")[-1]
    assert "…" not in table and all(name in table for name in FILES)
    assert table.count("wrong_person_or_nobody") == 4
