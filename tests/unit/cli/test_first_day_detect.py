"""`ivr detect` is honest about answering-machine detection and readable at 80 columns: AMD
judges the start of a telephone line, so without --amd no verdict is shown; with --amd it is,
with what it assumed. A file's heading says its length as "N s long" and breaks, if it must,
only between its phrases."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from rich.console import Console
from shared import human_speech
from typer.testing import CliRunner

from ivr.cli import app
from ivr.cli import detect as detect_cli

NAME = "outbound_01_answers_at_once_clean.wav"


@pytest.fixture
def listener(tmp_path: Path) -> Path:
    """A person who listens 4 s in silence, then answers (as under our opening prompt): AMD,
    taking the start for the answer, hears a long initial silence and says `machine`."""
    silence = np.zeros(4 * 16000, np.int16)
    audio = np.concatenate([silence, human_speech(0), np.zeros(16000, np.int16)])
    path = tmp_path / NAME
    sf.write(path, audio, 16000, subtype="PCM_16")
    return path


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["detect", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_without_amd_there_is_no_answering_machine_verdict(listener: Path):
    shown = run(str(listener), str(listener))  # two files: the summary table too
    assert "answering machine" not in shown and "machine" not in shown
    assert "AMD" not in shown
    [entry] = json.loads(run(str(listener), "--json"))
    assert entry["amd"] is None and entry["line_outcome"] is None


def test_with_amd_the_verdict_says_what_it_assumed(listener: Path):
    shown = run(str(listener), "--amd")
    assert "assuming the recording starts when the line is answered" in shown
    assert "answering machine: machine (INITIALSILENCE" in shown
    [entry] = json.loads(run(str(listener), "--json", "--amd"))
    assert entry["amd"]["verdict"] == "machine"
    assert entry["amd"]["assumes"] == "the recording starts when the line is answered"


def test_the_heading_says_the_length_and_breaks_only_between_phrases(listener, monkeypatch):
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    monkeypatch.setattr(detect_cli, "make_console", lambda stderr=False: console)
    result = CliRunner().invoke(app, ["detect", str(listener), "--amd"])
    assert result.exit_code == 0, result.output
    lines = out.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines)
    heading = [line for line in lines if "s long" in line or "noise floor" in line]
    assert heading[0].startswith(f"{NAME}: speech, ")
    text = " ".join(line.strip() for line in heading)
    length = sf.info(listener).duration
    assert f"{NAME}: speech, {length:.2f} s long, noise floor " in text
    assert any(f"{length:.2f} s long" in line for line in heading)  # never split
    assert any(re.search(r"noise floor -[\d.]+ dBFS \(max -[\d.]+\)", x) for x in heading)
    line = [x for x in lines if "answering machine" in x or x.startswith("  line:")]
    assert any("answering machine: machine (INITIALSILENCE-" in x for x in line)
