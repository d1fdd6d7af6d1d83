"""Telephone keys over SIP: a real callee (baresip) presses keys during our call; they come as
RFC 4733 telephone-events, out of band, and drive the script as in-band keys do."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf
from baresip_callee import RATE, baresip
from realcall import bundled, records

from ivr.call.replay import keep_call
from ivr.call.session import CallSession
from ivr.call_settings import CallSettings
from ivr.tts import PromptCache

HELLO = Path("/usr/share/asterisk/sounds/en_US_f_Allison/hello.wav")
"""Asterisk's recorded "hello" (8 kHz)."""


def press_after_our_question(callee, port, key: str, pressed_at: list) -> None:
    """Press `key` at the callee 10 frames after our first prompt finished playing out (on
    the call's clock); the frame count then goes into `pressed_at`."""
    give_up = time.monotonic() + 60
    while port.finished_at is None or port.frames_received < port.finished_at + 10:
        if time.monotonic() > give_up:
            return
        time.sleep(0.005)
    pressed_at.append(port.frames_received)
    callee.press(key)


def test_a_key_the_callee_presses_after_our_question_is_its_answer(tmp_path):
    from ivr.sip.agent import SipAgent
    from ivr.sip.call import SipCall
    from ivr.transports.sip import SipCallee, SipSpeaker

    script, prompts = bundled("outbound_amd"), PromptCache()
    prompts.render_all(script.prompts)
    # a person: "hello" (a real recording), then silence while they listen
    hello, rate = sf.read(HELLO, dtype="int16")
    assert rate == RATE
    voice = np.zeros(RATE * 60, np.int16)
    voice[RATE // 2 : RATE // 2 + hello.size] = hello
    with baresip(tmp_path / "callee", voice) as callee:
        agent = SipAgent()  # its work runs on this thread: the call runs here
        try:
            call = SipCall(agent, callee.uri)
            line = SipCallee(agent, call, "sip call")
            session = CallSession(line, SipSpeaker(call, prompts), script, CallSettings())
            pressed_at: list[int] = []
            presser = threading.Thread(
                target=press_after_our_question, args=(callee, call.frames, "2", pressed_at)
            )
            presser.start()
            session.record(tmp_path / "call.wav", line_can_fail=True)
            result = keep_call(session, tmp_path / "call.wav", tmp_path / "call.timeline.jsonl")
            presser.join()
        finally:
            agent.close()
    assert result.outcome == "wrong_person", result.summary()
    (key,) = [r for r in result.timeline if r.event == "dtmf"]
    assert 0 <= key.frame - pressed_at[0] <= 25  # loopback: within 500 ms of the press
    assert result.prompts[-1] == "closing_wrong_person"
    assert records(result, "prompt_started")[-1].frame - key.frame in (0, 1, 2)
