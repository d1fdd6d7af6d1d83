"""`ivr call` through a real audio server: PulseAudio with a null sink.

The test starts its own PulseAudio daemon whose default sink is a null sink (`line`) and whose
default source is that sink's monitor. `ivr call` plays its prompts into the line and listens
to the monitor, so it hears itself (half-duplex must ignore that) and whatever the test plays
into the line as the callee. Timings are checked on the saved timeline and on the recording.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from null_sink import null_sink, pactl

from ivr.records.calllog import CallLog
from ivr.script import load_script
from ivr.tts import PromptCache, Synthesizer

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


def timeline(tmp_path: Path) -> list[dict]:
    text = (tmp_path / "call.timeline.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


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
    return [r["frame"] for r in records if r["event"] == event]


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
    for gap in (starts[1] - ends[0], starts[2] - ends[1], starts[3] - ends[2]):
        assert abs(gap * 0.02 - 3.0) <= 0.1, gap
    hangup = frames(records, "hangup")[0]
    assert abs((hangup - ends[3]) * 0.02 - 2.0) <= 0.1
    # what the line really carried: our prompts as heard back on the monitor
    stereo, rate = sf.read(tmp_path / "call.wav", dtype="int16")
    assert rate == 16000 and stereo.shape[1] == 2
    heard = loud_spans(stereo[:, 1])
    assert len(heard) == 4, heard
    # each prompt starts and ends with some silence of its own: a prompt's first sample was
    # `lead` before its sound was heard, its last sample `tail` after the sound stopped
    script = load_script("outbound", {"agent_id": "1", "number": NUMBER})
    cache = PromptCache()
    said = [r["prompt"] for r in records if r["event"] == "prompt_started"]
    edges = []
    for prompt in said:
        audio = cache.get(script.prompts[prompt])
        own = loud_spans(audio.samples)
        edges.append((own[0][0], audio.duration_s - own[-1][1]))
    first_sample = [start - lead for (start, _), (lead, _) in zip(heard, edges, strict=True)]
    last_sample = [end + tail for (_, end), (_, tail) in zip(heard, edges, strict=True)]
    for end, start in zip(last_sample, first_sample[1:], strict=False):
        assert abs(start - end - 3.0) <= 0.1, (heard, edges)
    assert abs(stereo.shape[0] / 16000 - last_sample[-1] - 2.0) <= 0.1
    out_records = [r for r in records if r["event"] == "prompt_out"]
    assert len(out_records) == 4 and all(r["start_latency_ms"] < 200 for r in out_records)
    record = logged(tmp_path)
    assert record.outcome == "no_answer" and record.prompts_said == tuple(said)
    assert record.duration_s == pytest.approx(hangup * 0.02)
    assert record.qa["score"] == 100.0 and record.qa["reprompts"] == 2
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert 'src="pictures/call.png"' in page and 'src="../call.wav"' in page
    assert (tmp_path / "report" / "pictures" / "call.png").stat().st_size > 10_000


def test_callee_answering_1_s_after_the_opening_is_heard(pulse, tmp_path):
    answer = Synthesizer().render("是的,我是")
    wav = tmp_path / "callee.wav"
    sf.write(wav, np.concatenate([np.zeros(16000, np.int16), answer]), 16000, subtype="PCM_16")
    call = start_call(pulse, tmp_path)
    lines: list[str] = []
    wait_for(call, "listen_started", lines)
    player = subprocess.Popen(["paplay", "--device=line", str(wav)], env=pulse)
    out, err = call.communicate(timeout=120)
    player.wait(timeout=30)
    assert call.returncode == 0, "".join(lines) + out + err
    records = timeline(tmp_path)
    assert records[-2]["event"] == "hangup" and records[-2]["outcome"] == "answered"
    [listen] = frames(records, "listen_started")[:1]
    heard = next(r for r in records if r["event"] == "speech_started")
    assert abs(heard["speech_start_s"] - listen * 0.02 - 1.0) <= 0.25
    assert [r["prompt"] for r in records if r["event"] == "prompt_started"] == [
        "opening",
        "thanks_goodbye",
    ]
    qa = logged(tmp_path).qa
    assert qa["items"]["answered_in_time"] is True
    out = next(r for r in records if r["event"] == "prompt_out" and r["prompt"] == "thanks_goodbye")
    speech_end = next(r for r in records if r["event"] == "speech_ended")["speech_end_s"]
    answered = [r for r in records if r["event"] == "prompt_started"][-1]["t"]
    expected_ms = (answered - speech_end) * 1000 + out["start_latency_ms"]
    assert qa["answer_ms"] == round(expected_ms)  # measured to the first sample heard


def test_ctrl_c_saves_the_record_and_a_playable_recording(pulse, tmp_path):
    call = start_call(pulse, tmp_path)
    lines: list[str] = []
    wait_for(call, "prompt_started", lines)
    time.sleep(1.0)  # let the call run a little: the recording has audio in it
    call.send_signal(signal.SIGINT)
    out, err = call.communicate(timeout=60)
    assert call.returncode == 130, out + err
    records = timeline(tmp_path)
    hangup = next(r for r in records if r["event"] == "hangup")
    assert hangup["outcome"] == "aborted"
    assert records[-1]["event"] == "streams"
    audio, rate = sf.read(tmp_path / "call.wav", dtype="int16")
    assert rate == 16000 and audio.shape[1] == 2 and audio.shape[0] >= 16000 // 2
    assert np.abs(audio[:, 0]).max() > 1000  # our opening was playing
    assert "Traceback" not in err
    record = logged(tmp_path)  # an interrupted call is logged too
    assert record.outcome == "aborted" and record.qa["items"]["closing"] is None


def test_audio_server_stopping_mid_call_is_a_device_error(pulse, tmp_path):
    call = start_call(pulse, tmp_path)
    lines: list[str] = []
    wait_for(call, "prompt_started", lines)
    time.sleep(1.0)
    pactl(pulse, "pulseaudio", "--kill")
    out, err = call.communicate(timeout=60)
    assert call.returncode == 1, out + err
    records = timeline(tmp_path)
    hangup = next(r for r in records if r["event"] == "hangup")
    assert hangup["outcome"] == "device_error"
    audio, rate = sf.read(tmp_path / "call.wav", dtype="int16")
    assert rate == 16000 and audio.shape[0] > 0
    assert "Traceback" not in err
    assert logged(tmp_path).outcome == "device_error"


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
