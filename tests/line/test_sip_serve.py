"""`ivr serve` answering real SIP calls: baresip callers dial it on 127.0.0.1.

The inbound script waits 5 s (seed 002/003) after each prompt's last RTP frame: 250 frames of
the call's clock, for every call of several at once.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from baresip_callee import RATE, baresip
from realcall import prompt_frames
from shared import frames_of

from ivr.records.calllog import CallLog
from ivr.timeline.files import read_timeline

NUMBERS = ["13812345678", "13912345678", "13712345678"]


def start_serve(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """`ivr serve` on a free port; it and the address it answers on (from its first line)."""
    command = [sys.executable, "-m", "ivr", "serve", "--listen", "127.0.0.1:0", "--asr", "none"]
    command += ["--out", str(tmp_path / "calls"), "--db", str(tmp_path / "calls.db"), *args]
    # a later --listen wins over the first
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ}
    )
    for line in server.stdout:
        found = re.search(r"answering sip:(\S+) ", line)
        if found:
            return server, found.group(1)
    raise AssertionError(f"ivr serve did not start: {server.stderr.read()}")


def heard_bytes(caller) -> int:
    """How much of our audio a baresip caller has recorded so far (bytes, 8 kHz int16)."""
    return sum(p.stat().st_size for p in caller.record_dir.glob("dump-*-dec.wav"))


def wait_until(condition, server: subprocess.Popen, timeout_s: float = 30.0) -> None:
    """Poll a condition of the real processes (every 20 ms) while the server runs."""
    give_up = time.monotonic() + timeout_s
    while not condition():
        assert server.poll() is None and time.monotonic() < give_up, "gave up waiting"
        time.sleep(0.02)


def test_serve_answers_two_callers_at_once_each_with_its_own_5_s_waits(tmp_path):
    server, address = start_serve(tmp_path, "--max-calls", "2")
    with (
        baresip(tmp_path / "silent", np.zeros(RATE * 60, np.int16), user=NUMBERS[0]) as silent,
        baresip(tmp_path / "brief", np.zeros(RATE * 4, np.int16), user=NUMBERS[1]) as brief,
    ):
        silent.dial(f"sip:hotline@{address}")
        brief.dial(f"sip:hotline@{address}")
        out, err = server.communicate(timeout=120)
    assert server.returncode == 0, out + err
    assert "2 calls answered (1 callee_hangup, 1 no_answer)" in out, out
    assert not any(n in out + err for n in NUMBERS)
    with CallLog(tmp_path / "calls.db", create=False) as log:
        records = {r.outcome: r for r in log.list()}
    assert set(records) == {"no_answer", "callee_hangup"}
    for record in records.values():
        assert (record.direction, record.source, record.script) == ("inbound", "sip", "inbound")
        assert record.sip_status == 200 and record.number in ("138****5678", "139****5678")
        assert record.rtp is not None and record.rtp["packets"] >= 100, record.rtp  # 4 s and up
    lengths = prompt_frames("inbound")
    timeline = read_timeline(records["no_answer"].timeline_path)
    prompts = [r.prompt for r in timeline if r.event == "prompt_started"]
    assert prompts == ["greeting", "greeting", "closing_no_sound"]
    starts, ends = frames_of(timeline, "prompt_started"), frames_of(timeline, "prompt_finished")
    for start, end, prompt in zip(starts, ends, prompts, strict=True):
        assert 0 <= end - start - lengths[prompt] <= 2, (prompt, end - start)
    assert [b - a for a, b in zip(ends, starts[1:], strict=False)] == [250, 250]
    assert frames_of(timeline, "hangup") == [ends[-1] + 250]  # the 5 s pause, then BYE
    brief_record = records["callee_hangup"]
    assert 195 <= read_timeline(brief_record.timeline_path)[-1].frame <= 210  # its 4 s voice
    assert Path(brief_record.recording_path).stat().st_size > 44


def test_a_caller_beyond_the_concurrency_is_refused_busy(tmp_path):
    server, address = start_serve(tmp_path, "--max-calls", "1", "--concurrency", "1")
    with (
        baresip(tmp_path / "first", np.zeros(RATE * 3, np.int16)) as first,
        baresip(tmp_path / "second", np.zeros(RATE * 3, np.int16)) as second,
    ):
        first.dial(f"sip:{NUMBERS[0]}@{address}")
        second.dial(f"sip:{NUMBERS[1]}@{address}")  # while the first call is up
        out, err = server.communicate(timeout=60)
        refused = (tmp_path / "second" / "baresip.log").read_text()
    assert server.returncode == 0, out + err
    assert "1 calls answered (1 callee_hangup)" in out
    assert "486" in refused and "Busy" in refused, refused[-2000:]
    with CallLog(tmp_path / "calls.db", create=False) as log:
        assert len(log.list()) == 1


def test_sigterm_ends_the_calls_under_way_as_aborted_and_keeps_them(tmp_path):
    server, address = start_serve(tmp_path)
    with ExitStack() as stack:
        callers = [
            stack.enter_context(baresip(tmp_path / n, np.zeros(RATE * 60, np.int16), user=n))
            for n in NUMBERS[:2]
        ]
        for caller in callers:
            caller.dial(f"sip:hotline@{address}")
        for caller in callers:  # both hear our greeting: the calls are well under way
            wait_until(lambda c=caller: heard_bytes(c) > RATE, server)
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    assert server.returncode == 130, out + err
    assert "2 calls answered (2 aborted)" in out, out
    with CallLog(tmp_path / "calls.db", create=False) as log:
        records = log.list()
    assert [r.outcome for r in records] == ["aborted", "aborted"]
    for record in records:
        assert record.duration_s >= 0.4 and record.prompts_said == ("greeting",)
        assert Path(record.recording_path).stat().st_size > 44 + 4 * 6400  # stereo, >= 0.4 s
        assert read_timeline(record.timeline_path)[-1].event == "hangup"
