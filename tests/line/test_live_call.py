"""`ivr call` through a real audio server: PulseAudio with a null sink.

The one end-to-end live test: the duplex stream, the CLI, the recording, the call log and the
report on a real audio server. Latency, underruns, Ctrl-C, a lost device, echo and an answering
callee are tested on a scripted line (tests/test_live_ports.py).

The test starts its own PulseAudio daemon whose default sink is a null sink (`line`) and whose
default source is that sink's monitor. `ivr call` plays its prompts into the line and listens
to the monitor, so it hears itself (half-duplex must ignore that) and whatever the test plays
into the line as the callee. Timings are checked on the saved timeline and on the recording.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from null_sink import null_sink

from ivr.records.calllog import CallLog
from ivr.script import load_script
from ivr.timeline import TimelineRecord, read_timeline
from ivr.tts import PromptCache

NUMBER = "13812345678"
VALUES = ["--agent-id", "1", "--number", NUMBER]


@pytest.fixture
def pulse(tmp_path):
    """A private PulseAudio daemon with a 16 kHz null sink as default sink and source."""
    with null_sink(tmp_path) as env:
        env["IVR_CACHE_DIR"] = os.environ["IVR_CACHE_DIR"]
        env["PYTHONUNBUFFERED"] = "1"
        yield env


def start_call(env, tmp_path: Path, *extra: str) -> subprocess.Popen:
    args = [sys.executable, "-m", "ivr", "call", "--script", "outbound", *VALUES, "--asr", "none"]
    args += ["--record", str(tmp_path / "call.wav"), "--db", str(tmp_path / "calls.db"), *extra]
    return subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(process: subprocess.Popen, words: str, lines: list[str]) -> None:
    """Read the call's event lines until one contains `words`."""
    for line in process.stdout:
        lines.append(line)
        if words in line:
            return
    raise AssertionError(f"no {words!r} in: {''.join(lines)}")


def timeline(tmp_path: Path) -> list[TimelineRecord]:
    return read_timeline(tmp_path / "call.timeline.jsonl")


def logged(tmp_path: Path):
    """The one call in the call's log, as `ivr replay` would have logged it."""
    with CallLog(tmp_path / "calls.db", create=False) as log:
        [record] = log.list()
    assert record.source == "live" and record.direction == "outbound"
    assert record.number == "138****5678" and record.script == "outbound"
    assert record.recording_path == str(tmp_path / "call.wav")
    assert record.timeline_path == str(tmp_path / "call.timeline.jsonl")
    return record


def frames(records, event):
    return [r.frame for r in records if r.event == event]


def loud_spans(samples: np.ndarray, threshold_dbfs: float = -45.0) -> list[tuple[float, float]]:
    """(start, end) seconds of stretches louder than the threshold, gaps < 0.5 s bridged."""
    x = samples.astype(np.float64)[: samples.size // 320 * 320].reshape(-1, 320)
    loud = 10 * np.log10(np.maximum((x * x).mean(axis=1) / 32768**2, 1e-10)) > threshold_dbfs
    spans, start, quiet = [], None, 0
    for i, on in enumerate(loud):
        if on:
            start = i if start is None else start
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= 25:
                spans.append((start * 0.02, (i - quiet + 1) * 0.02))
                start, quiet = None, 0
    if start is not None:
        spans.append((start * 0.02, (len(loud) - quiet) * 0.02))
    return spans


def test_silent_line_reprompts_after_3_s_and_hangs_up_2_s_after_the_closing(pulse, tmp_path):
    call = start_call(pulse, tmp_path, "--report", str(tmp_path / "report"))
    out, err = call.communicate(timeout=180)
    assert call.returncode == 0, out + err
    assert "no_answer" in out
    assert NUMBER not in out + err + (tmp_path / "call.timeline.jsonl").read_text("utf-8")
    records = timeline(tmp_path)
    starts, ends = frames(records, "prompt_started"), frames(records, "prompt_finished")
    assert len(starts) == 4
    # on the microphone's clock: 3.00 s from a prompt's last sample leaving the speaker to
    # the next re-prompt's timer, 2.00 s from the closing's to the hang-up, to the frame
    assert [b - a for a, b in zip(ends, starts[1:], strict=False)] == [150, 150, 150]
    hangup = frames(records, "hangup")[0]
    assert hangup - ends[3] == 100
    # what the line really carried: our prompts as heard back on the monitor
    stereo, rate = sf.read(tmp_path / "call.wav", dtype="int16")
    assert rate == 16000 and stereo.shape[1] == 2
    heard = loud_spans(stereo[:, 1])
    assert len(heard) == 4, heard
    # each prompt starts and ends with some silence of its own: a prompt's first sample was
    # `lead` before its sound was heard, its last sample `tail` after the sound stopped
    script = load_script("outbound", {"agent_id": "1", "number": NUMBER})
    cache = PromptCache()
    said = [r.prompt for r in records if r.event == "prompt_started"]
    edges = []
    for prompt in said:
        audio = cache.get(script.prompts[prompt])
        own = loud_spans(audio.samples)
        edges.append((own[0][0], audio.duration_s - own[-1][1]))
    first_sample = [start - lead for (start, _), (lead, _) in zip(heard, edges, strict=True)]
    last_sample = [end + tail for (_, end), (_, tail) in zip(heard, edges, strict=True)]
    # on the line: the same 3.00 s, plus the time the re-prompt took to leave the speaker
    # (its start latency, measured from the stream's DAC time); a frame either side
    out_records = [r for r in records if r.event == "prompt_out"]
    assert len(out_records) == 4
    late = [r.start_latency_ms / 1000 for r in out_records]
    for end, start, lag in zip(last_sample, first_sample[1:], late[1:], strict=False):
        assert abs(start - end - 3.0 - lag) <= 0.04, (heard, edges, late)
    assert abs(stereo.shape[0] / 16000 - last_sample[-1] - 2.0) <= 0.04
    # every prompt leaves the speaker within 100 ms of being due
    assert max(late) < 0.1, late
    record = logged(tmp_path)
    assert record.outcome == "no_answer" and record.prompts_said == tuple(said)
    assert record.duration_s == pytest.approx(hangup * 0.02)
    assert record.qa["score"] == 100.0 and record.qa["reprompts"] == 2
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert 'src="pictures/call.png"' in page and 'src="../call.wav"' in page
    assert (tmp_path / "report" / "pictures" / "call.png").stat().st_size > 10_000


def test_no_device_is_one_clear_line(tmp_path):
    """No audio server to reach (and none may be started for us)."""
    client = tmp_path / "client.conf"
    client.write_text("autospawn = no\n")
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path), "PULSE_CLIENTCONFIG": str(client)}
    env.pop("PULSE_SERVER", None)
    done = subprocess.run(
        [sys.executable, "-m", "ivr", "call", *VALUES, "--asr", "none"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and ("--list-devices" in lines[0] or "ivr replay" in lines[0])
