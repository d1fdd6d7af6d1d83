"""Live calls on a scripted duplex line: device latency, underruns, Ctrl-C, a lost device.

The line (tests/scripted_line.py) replaces only PortAudio: the real duplex callback, the live
ports, the session, the runner and the engine run on the stream times it reports. Timing claims
are to the frame, in the microphone's frames and on what the speaker really played.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from realcall import READER, at_level, bundled, prompt_frames, read
from scripted_line import ScriptedLine
from shared import frames_of

from ivr.audio import FileSource
from ivr.audio.format import FRAME_S, FRAME_SAMPLES, SAMPLE_RATE
from ivr.call.live import LiveCall
from ivr.detect import analyze
from ivr.timeline import read_timeline
from ivr.tts import PromptCache


def live_call(line: ScriptedLine, tmp_path, name: str = "outbound"):
    call = LiveCall(line, bundled(name), PromptCache(), name="call.wav")
    result = call.run(tmp_path / "call.wav", tmp_path / "call.timeline.jsonl")
    return call, result


def sound_edges(samples: np.ndarray) -> list[tuple[int, int]]:
    """(first, last + 1) sample of each stretch of non-zero output."""
    on = np.flatnonzero(samples != 0)
    if on.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(on) > SAMPLE_RATE // 2)
    starts = np.r_[on[0], on[breaks + 1]]
    ends = np.r_[on[breaks], on[-1]] + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


@pytest.mark.parametrize("output_latency_s", [0.03, 0.25])
def test_silent_line_reprompts_3_s_after_the_opening_left_the_speaker(tmp_path, output_latency_s):
    line = ScriptedLine(output_latency_s=output_latency_s)
    _, result = live_call(line, tmp_path)
    assert result.outcome == "no_answer" and line.closed
    assert result.prompts == ["opening", "hello_again", "connected", "closing_no_sound"]
    starts, ends = frames_of(result, "prompt_started"), frames_of(result, "prompt_finished")
    lengths = prompt_frames("outbound")
    # on the microphone's clock: each prompt ends where its last sample left the speaker
    # a timer's prompt is handed over once the block ending at its frame is in, and leaves
    # the speaker one callback later; the opening waits for the call's first block too
    latency_frames = round((FRAME_S + line.input_latency_s + output_latency_s) / FRAME_S)
    latencies = [latency_frames + 1] + [latency_frames] * 3
    for start, end, prompt, late in zip(starts, ends, result.prompts, latencies, strict=True):
        assert end - start == late + lengths[prompt], prompt
    assert [b - a for a, b in zip(ends, starts[1:], strict=False)] == [150, 150, 150]
    assert frames_of(result, "hangup") == [ends[-1] + 100]
    # on the speaker: each prompt went out whole, `latency` after its due frame, and the
    # line was silent 3.00 s (2.00 s before the hang-up) plus that latency between prompts
    audio = line.speaker_audio()
    cache, script = PromptCache(), bundled("outbound")
    offset = round(line.dac_time(0) * SAMPLE_RATE)  # speaker sample 0 left at this time
    for start, prompt, late in zip(starts, result.prompts, latencies, strict=True):
        first = (start + late) * FRAME_SAMPLES - offset
        rendered = cache.get(script.prompts[prompt]).samples
        assert np.array_equal(audio[first : first + rendered.size], rendered), prompt
    outs = [r for r in result.timeline if r.event == "prompt_out"]
    # a timer's prompt: from its frame's capture; the opening: from the moment the call began
    began_s = line.dac_time(0) - output_latency_s + line.processing_s
    opening_ms = (line.dac_time(1) - began_s) * 1000
    expected_ms = [opening_ms] + [late * FRAME_S * 1000 for late in latencies[1:]]
    assert [o.start_latency_ms for o in outs] == pytest.approx(expected_ms, abs=0.1)
    timer_ms = (line.input_latency_s + line.processing_s) * 1000
    assert [o.processing_ms for o in outs] == pytest.approx([0.0] + [timer_ms] * 3, abs=0.1)
    streams = result.timeline[-1]
    assert streams.event == "streams" and streams.output_underruns == 0


def test_underruns_are_counted_and_the_call_goes_on(tmp_path):
    line = ScriptedLine(underruns=(3, 40, 41))
    _, result = live_call(line, tmp_path)
    assert result.outcome == "no_answer"
    assert result.timeline[-1].output_underruns == 3


def test_ctrl_c_ends_the_call_aborted_and_saves_recording_and_timeline(tmp_path):
    line = ScriptedLine(interrupt_at=120, echo_gain=0.5)
    _, result = live_call(line, tmp_path)
    assert result.outcome == "aborted" and result.frames == 120 and line.closed
    kinds = [r.event for r in read_timeline(tmp_path / "call.timeline.jsonl")]
    assert kinds[-2:] == ["hangup", "streams"]
    audio, rate = sf.read(tmp_path / "call.wav", dtype="int16")
    assert rate == SAMPLE_RATE and audio.shape == (120 * FRAME_SAMPLES, 2)
    assert np.abs(audio[:, 0]).max() > 1000  # our opening was playing
    assert np.abs(audio[:, 1]).max() > 100  # and came back into the microphone


def test_a_device_that_stops_delivering_is_a_device_error_with_everything_saved(tmp_path):
    line = ScriptedLine(lose_at=200)
    _, result = live_call(line, tmp_path)
    assert result.outcome == "device_error" and "no audio" in result.reason
    assert result.frames == 200 and line.closed
    audio, _ = sf.read(tmp_path / "call.wav", dtype="int16")
    assert audio.shape[0] == 200 * FRAME_SAMPLES
    assert read_timeline(tmp_path / "call.timeline.jsonl")[-1].event == "streams"


def test_our_own_echo_is_not_the_callee(tmp_path):
    """Half-duplex: the laptop hears its prompts; the call goes as on a silent line."""
    (tmp_path / "quiet").mkdir()
    quiet, _ = live_call(ScriptedLine(), tmp_path / "quiet")
    _, result = live_call(ScriptedLine(echo_gain=0.8), tmp_path)
    assert result.outcome == "no_answer"
    assert frames_of(result, "prompt_started") == [
        r.frame for r in quiet.engine.log if r.event == "prompt_started"
    ]
    assert any(r.event == "speech_ignored" for r in result.timeline)


def test_a_callee_answering_a_second_after_the_opening_is_heard_from_its_first_frame(tmp_path):
    quiet = ScriptedLine()
    silent, _ = live_call(quiet, tmp_path)
    listen = next(r.frame for r in silent.engine.log if r.event == "listen_started")
    answer = at_level(read(READER[0]), -26.0)
    callee = np.zeros((listen + 50) * FRAME_SAMPLES + answer.size)
    callee[(listen + 50) * FRAME_SAMPLES :] = answer
    callee = np.rint(callee).astype(np.int16)
    (tmp_path / "answer").mkdir()
    _, result = live_call(ScriptedLine(callee=callee), tmp_path / "answer")
    assert result.outcome == "answered"
    wav = tmp_path / "callee.wav"
    sf.write(wav, callee, SAMPLE_RATE, subtype="PCM_16")
    first = analyze(FileSource(wav)).segments[0]
    heard = next(r for r in result.timeline if r.event == "speech_started")
    assert heard.frame >= first.start and heard.speech_start_s == pytest.approx(first.start_s)
    assert result.prompts == ["opening", "thanks_goodbye"]


@pytest.mark.parametrize(
    ("line", "outcome", "code"),
    [(dict(interrupt_at=150), "aborted", 130), (dict(lose_at=150), "device_error", 1)],
)
def test_ivr_call_keeps_an_interrupted_or_failed_call(tmp_path, monkeypatch, line, outcome, code):
    """`ivr call` on a scripted line: the call ends, its recording, timeline and call-log row
    are kept, and the exit code says why."""
    import typer
    from typer.testing import CliRunner

    from ivr.cli import call as call_cli
    from ivr.records.calllog import CallLog

    scripted = ScriptedLine(**line)
    monkeypatch.setattr(call_cli, "open_line", lambda *devices: scripted)
    app = typer.Typer()
    app.callback()(lambda: None)
    call_cli.register(app)
    args = ["call", "--agent-id", "1", "--number", "13812345678", "--asr", "none"]
    args += ["--record", str(tmp_path / "call.wav"), "--db", str(tmp_path / "calls.db")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    assert "13812345678" not in result.output and scripted.closed
    assert sf.info(tmp_path / "call.wav").frames == 150 * FRAME_SAMPLES
    assert read_timeline(tmp_path / "call.timeline.jsonl")[-1].event == "streams"
    with CallLog(tmp_path / "calls.db", create=False) as log:
        [record] = log.list()
    assert record.outcome == outcome and record.number == "138****5678"
