"""`ivr campaign` against a farm of real SIP callees (baresip on 127.0.0.1): answering, silent,
busy and unreachable numbers, the do-not-call list, the calling hours, and a campaign killed
with SIGKILL half-way and started again, which logs every row's attempts exactly once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import soxr
from baresip_callee import RATE, baresip, free_port

from ivr.campaign.hours import DAY_NAMES
from ivr.records.calllog import CallLog
from ivr.tts import Synthesizer

SCRIPT = """\
script: short
direction: outbound
start: ask
placeholders:
  name: null
prompts:
  ask: "您好{name}"
  again: "您好"
  bye: "再见"
defaults:
  listen: {noinput_timeout_s: 2.0, end_of_speech_s: 0.5, max_speech_s: 5.0}
states:
  ask:
    say: [ask]
    listen: {}
    "on":
      speech: [{count: 1, do: [{goto: done}]}]
      noinput:
        - {count: 1, do: [{say: again}]}
        - {count: 2, do: [{say: bye}, {pause: 1}, {hangup: no_answer}]}
  done:
    say: [bye]
    do: [{pause: 1}, {hangup: answered}]
"""
"""A short outbound script (2 s waits) so that a campaign of 50 calls stays quick."""

KINDS = ("answering", "answering", "silent", "busy", "unreachable")
"""The callee of row i is KINDS[i % 5]."""

FINAL = {
    "answering": ("answered", 1),
    "silent": ("no_answer", 2),  # the script's no_answer is retried once
    "busy": ("busy", 2),
    "unreachable": ("unreachable", 1),  # not a retried outcome
}
"""Each kind's final outcome and number of attempts, with --retries 1."""


def hello_voice() -> np.ndarray:
    """A callee answering 喂 2.2 s after the call connects (8 kHz int16), then silent: well
    inside the script's first listening window whatever the greeting's length (1.2-1.5 s with
    the rows' names, then 2 s), so a call's timing on a loaded machine does not decide it."""
    speech = Synthesizer().render("喂,你好").astype(np.float32) / 32768
    speech8k = np.rint(soxr.resample(speech, 16000, RATE) * 0.5 * 32768).astype(np.int16)
    voice = np.zeros(RATE * 60, np.int16)
    at = int(RATE * 2.2)
    voice[at : at + speech8k.size] = speech8k
    return voice


@contextlib.contextmanager
def callee_farm(folder: Path):
    """kind -> SIP URI of a callee of that kind (unreachable: a port nobody listens on)."""
    quiet = np.zeros(RATE * 60, np.int16)
    with (
        baresip(folder / "answering", hello_voice(), max_calls=32) as answering,
        baresip(folder / "silent", quiet, max_calls=32) as silent,
        baresip(folder / "busy", quiet, answer=False, refuse_after_s=1, max_calls=32) as busy,
    ):
        yield {
            "answering": answering.uri,
            "silent": silent.uri,
            "busy": busy.uri,
            "unreachable": f"sip:nobody@127.0.0.1:{free_port()}",
        }


def write_list(folder: Path, farm: dict[str, str], rows: int) -> Path:
    lines = ["id,number,name,uri"]
    lines += [f"r{i:02d},1381234{i:04d},张{i},{farm[KINDS[i % 5]]}" for i in range(rows)]
    path = folder / "calls.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def campaign_args(folder: Path, call_list: Path, *extra: str) -> list[str]:
    script = folder / "short.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    args = [sys.executable, "-m", "ivr", "campaign", str(call_list), "--script", str(script)]
    args += ["--asr", "none", "--retries", "1", "--retry-after-s", "0", "--answer-timeout-s", "5"]
    args += ["--db", str(folder / "calls.db"), "--out", str(folder / "calls"), *extra]
    return args


def logged(db: Path) -> int:
    """Calls in the call log so far (read while the campaign writes it)."""
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db, timeout=10)) as conn:
        try:
            return conn.execute("SELECT count(*) FROM calls").fetchone()[0]
        except sqlite3.OperationalError:  # not created yet
            return 0


def process_tree(pid: int) -> list[int]:
    """`pid` and every process under it (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        here = todo.pop()
        out.append(here)
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{here}/task/{here}/children").read_text().split()
            todo += [int(c) for c in children]
    return out


def run_or_show_where_it_hangs(args: list[str], env: dict, timeout_s: float):
    """subprocess.run(args), but a run that outlasts `timeout_s` fails the test with where each
    of its threads was (ivr campaign and its workers dump their stacks on SIGUSR1)."""
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        out, err = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        for pid in process_tree(process.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGUSR1)
        time.sleep(2)  # let them write their stacks
        for pid in process_tree(process.pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        out, err = process.communicate()
        pytest.fail(
            f"still running after {timeout_s:g} s; its threads:\n{err[-20000:]}\n{out[-3000:]}"
        )
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def test_a_campaign_killed_half_way_and_restarted_logs_every_attempt_once(tmp_path):
    with callee_farm(tmp_path / "farm") as farm:
        call_list = write_list(tmp_path, farm, 50)
        dnc = tmp_path / "dnc.txt"
        dnc.write_text("# never call\n+86 138 1234 0007\n13812340013\n", encoding="utf-8")
        args = campaign_args(tmp_path, call_list, "--concurrency", "10", "--dnc", str(dnc))
        env = {**os.environ}
        first = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        give_up = time.monotonic() + 120
        while logged(tmp_path / "calls.db") < 30:  # about half of the 68 calls to place
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < give_up
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.communicate()
        killed_at = logged(tmp_path / "calls.db")
        again = run_or_show_where_it_hangs(args, env, timeout_s=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1381234" not in again.stdout + again.stderr  # numbers masked everywhere
    with CallLog(tmp_path / "calls.db", create=False) as log:
        records = log.attempts("calls")
    assert killed_at < len(records)
    by_row: dict[str, list] = {}
    for record in records:
        by_row.setdefault(record.row_key, []).append(record)
    skipped = {"r07", "r13"}  # on the do-not-call list
    assert set(by_row) == {f"r{i:02d}" for i in range(50)} - skipped
    for i in range(50):
        key = f"r{i:02d}"
        if key in skipped:
            continue
        outcome, attempts = FINAL[KINDS[i % 5]]
        calls = by_row[key]
        assert [c.attempt for c in calls] == list(range(1, attempts + 1)), (key, calls)
        assert calls[-1].outcome == outcome, (key, [c.outcome for c in calls])
        assert all(c.number == f"138****{i:04d}" and c.source == "sip" for c in calls)
    assert Counter(r.sip_status for r in records if r.outcome == "busy") == {486: 18}  # 9 rows
    assert "answered" in again.stdout and "skipped (do-not-call)" in again.stdout


def test_outside_the_calling_hours_nothing_is_dialed_and_the_rows_wait(tmp_path):
    # the whole of a day three days from today: closed now whatever the time, even if the
    # clock passes midnight while the test runs
    closed_day = DAY_NAMES[(datetime.now().weekday() + 3) % 7]
    farm = {kind: "sip:nobody@127.0.0.1:9" for kind in KINDS}
    call_list = write_list(tmp_path, farm, 3)
    args = campaign_args(tmp_path, call_list, "--hours", "00:00-24:00", "--days", closed_day)
    args.append("--no-wait")
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "outside the calling hours" in done.stdout
    assert logged(tmp_path / "calls.db") == 0


def test_bad_rows_are_reported_and_the_others_called(tmp_path):
    with callee_farm(tmp_path / "farm") as farm:
        lines = ["number,name,uri", f"13800001111,甲,{farm['answering']}"]
        lines += [f"12ab,乙,{farm['busy']}", f",丙,{farm['busy']}"]
        lines += [f"13800002222,,{farm['answering']}"]
        call_list = tmp_path / "list.csv"
        call_list.write_text("\n".join(lines) + "\n", encoding="utf-8")
        done = subprocess.run(
            campaign_args(tmp_path, call_list), capture_output=True, text=True, timeout=120
        )
    out = done.stdout + done.stderr
    assert "list.csv:3:" in out and "list.csv:4:" in out, out
    with CallLog(tmp_path / "calls.db", create=False) as log:
        records = log.attempts("list")
    # line 5 has no name: its call cannot be set up ({name}), so it fails alone, one line
    assert [(r.row_key, r.outcome) for r in records] == [("line 2", "answered")], out
    assert records[0].rtp is not None and records[0].rtp["packets"] > 0, records[0].rtp
    assert "line 5" in out and done.returncode == 1
