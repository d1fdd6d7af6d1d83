"""Every replayed call is logged and scored; numbers stay masked; a killed batch loses little."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import yaml
from shared import OUTBOUND_VALUES
from shared import ivr as run_ivr

NUMBER = OUTBOUND_VALUES["number"]
VALUES = ["--agent-id", OUTBOUND_VALUES["agent_id"], "--number", NUMBER]


ivr = functools.partial(run_ivr, timeout=600)


def replay(folder: Path, manifest: Path, *extra: str) -> subprocess.CompletedProcess:
    return ivr(
        "replay", str(folder), "--script", "outbound", *VALUES, "--asr", "reference",
        "--expect", str(manifest), *extra,
    )  # fmt: skip


@pytest.fixture
def calls_saying_the_number(outbound_calls: Path, tmp_path: Path) -> Path:
    """The sample choppy call, whose callee says the number (so it reaches transcripts), and
    its recording again named after the number (so it reaches file names)."""
    folder = tmp_path / "calls"
    folder.mkdir()
    data = yaml.safe_load(outbound_calls.read_text(encoding="utf-8"))
    [choppy] = [c for c in data["calls"] if c.get("situation") == "cut_in_out"]
    data["calls"] = [choppy]
    shutil.copy(outbound_calls.parent / choppy["file"], folder / choppy["file"])
    manifest = folder / "manifest.yaml"
    for segment in choppy["speech"]:
        segment["text"] = f"我的号码是{NUMBER}"
    manifest.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    shutil.copy(folder / choppy["file"], folder / f"call-{NUMBER}.wav")
    return manifest


def test_numbers_never_appear_unmasked_unless_asked(calls_saying_the_number, tmp_path):
    folder = calls_saying_the_number.parent
    out = tmp_path / "out"
    db = out / "calls.db"
    done = replay(folder, calls_saying_the_number, "--db", str(db), "--report", str(out / "rep"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "138****5678" in done.stdout  # the transcript and the file name, masked
    assert NUMBER not in done.stdout + done.stderr
    written = [p for p in out.rglob("*") if p.is_file()]
    kinds = {p.suffix for p in written}
    assert {".db", ".html", ".png", ".wav", ".jsonl"} <= kinds, kinds
    for path in written:  # database, report, pictures, timelines, recordings
        assert NUMBER.encode() not in path.read_bytes(), path
        assert NUMBER not in str(path.relative_to(out)), path
    timelines = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*.jsonl"))
    assert "我的号码是138****5678" in timelines
    rows = sqlite3.connect(db).execute("select count(*) from calls").fetchone()[0]
    assert rows == len(list(folder.glob("*.wav")))

    shown = tmp_path / "shown"
    done = replay(
        folder, calls_saying_the_number, "--db", str(shown / "calls.db"), "--out", str(shown),
        "--show-numbers",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert NUMBER in done.stdout
    assert NUMBER.encode() in (shown / "calls.db").read_bytes()
    assert (shown / f"call-{NUMBER}.timeline.jsonl").is_file()


def test_calls_are_logged_with_their_verdict_and_qa(outbound_calls, tmp_path):
    db = tmp_path / "calls.db"
    done = replay(outbound_calls.parent, outbound_calls, "--db", str(db))
    assert done.returncode == 0, done.stderr
    expected = yaml.safe_load(outbound_calls.read_text(encoding="utf-8"))["calls"]
    no_answer = sum(1 for c in expected if c["expect"]["outcome"] == "no_answer")
    listed = ivr("calls", "list", "--db", str(db), "--outcome", "no_answer", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [yaml.safe_load(line) for line in listed.stdout.splitlines()]
    assert len(rows) == no_answer > 0
    for row in rows:
        assert row["outcome"] == "no_answer" and row["remarks"] == "expectation met"
        assert row["number"] == "138****5678" and row["direction"] == "outbound"
        assert row["handler"] == "ivr agent 1001" and row["script"] == "outbound"
        assert row["qa"]["items"]["reprompts_within_limit"] is True
        assert row["qa"]["reprompts"] == 2  # seed 000: twice, then the closing
        assert row["prompts_said"][-1] == "closing_no_sound"
    shown = ivr("calls", "show", str(rows[0]["id"]), "--db", str(db))
    assert shown.returncode == 0, shown.stderr
    assert "reprompts_within_limit" in shown.stdout and "no_answer" in shown.stdout


def test_killing_a_batch_midway_keeps_every_finished_call(outbound_calls, tmp_path):
    db = tmp_path / "calls.db"
    args = [sys.executable, "-m", "ivr", "replay", str(outbound_calls.parent), "--script"]
    args += ["outbound", *VALUES, "--asr", "none", "--db", str(db), "--out", str(tmp_path)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    finished = []
    assert process.stdout is not None
    for line in process.stdout:
        if " after " in line:  # a summary line: that call is logged before it is printed
            finished.append(line.split(":")[0])
            if len(finished) == 3:
                process.send_signal(signal.SIGKILL)
                break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    connection = sqlite3.connect(db)
    assert connection.execute("pragma integrity_check").fetchone()[0] == "ok"
    logged = [row[0] for row in connection.execute("select file from calls order by id")]
    assert logged[: len(finished)] == finished
    assert len(logged) <= len(finished) + 1  # at most the call in progress
    listed = ivr("calls", "list", "--db", str(db))
    assert listed.returncode == 0 and f"{len(logged)} calls" in listed.stdout
    for recording in tmp_path.glob("*.call.wav"):  # written atomically: whole or not there
        assert sf.info(recording).frames > 0
