"""SIPp as the far end: `ivr dial` to a SIPp callee that answers and speaks, is busy,
or rings until we give up; `ivr serve` called by SIPp callers that speak. The callee's and
callers' speech is real (tools/sipp_audio.py's pcaps, G.711 mu-law RTP); everything runs on
127.0.0.1, a few calls each, well under 30 s a test. baresip stays the callee of the tests
that check interoperability (test_sip_call.py and the others).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sipp_far_end
from shared import ivr
from test_sip_guard import records, start_serve, stop_serve, wait_for_rows

SCRIPT = """\
script: sipp_short
direction: outbound
start: ask
prompts:
  ask: "您好"
  bye: "好的,再见!"
defaults:
  listen: {noinput_timeout_s: 4.0, end_of_speech_s: 0.8, max_speech_s: 10.0}
states:
  ask:
    say: [ask]
    listen: {}
    "on":
      speech:
        - {count: 1, do: [{say: bye}, {hangup: answered}]}
      noinput:
        - {count: 1, do: [{hangup: no_answer}]}
"""
"""A short outbound script: a greeting, then the callee's speech is an answer."""

SPEECH_AT_S = 2.0
"""When the callee's speech starts in callee_speech.pcap (s from the answer)."""


@pytest.fixture(autouse=True)
def _sipp_installed():
    sipp_far_end.require_sipp()


@pytest.fixture(scope="module")
def pcaps(tmp_path_factory) -> Path:
    """The pcaps, made once for this module's tests."""
    folder = tmp_path_factory.mktemp("pcaps")
    sipp_far_end.write_pcaps(folder)
    return folder


def dial(tmp_path: Path, uri: str, *args: str, script_text: str = SCRIPT):
    """`ivr dial URI` with `script_text` (SCRIPT), no recognition; what it printed and the
    call's log row."""
    script = tmp_path / "short.yaml"
    script.write_text(script_text, encoding="utf-8")
    done = ivr(
        "dial", uri, "--script", str(script), "--asr", "none", "--record",
        str(tmp_path / "call.wav"), "--db", str(tmp_path / "calls.db"), *args, timeout=60,
    )  # fmt: skip
    (row,) = records(tmp_path / "calls.db")
    return done, row


def far_end(tmp_path: Path, pcaps: Path, scenario: str, pcap: str = "callee_speech.pcap"):
    return sipp_far_end.start(scenario, tmp_path / "sipp", pcap, calls=1, cache=pcaps)


def test_dial_to_a_sipp_callee_that_answers_hears_its_speech_and_ends_answered(tmp_path, pcaps):
    callee = far_end(tmp_path, pcaps, "uas_answer")
    try:
        done, row = dial(tmp_path, callee.uri)
    finally:
        code = callee.wait(20)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (row.outcome, row.sip_status) == ("answered", 200), row
    timeline = [json.loads(line) for line in (tmp_path / "call.timeline.jsonl").open()]
    starts = [e["speech_start_s"] for e in timeline if e["event"] == "vad_start"]
    # the callee's speech as its RTP carried it: where the pcap has it, give or take the
    # moment SIPp began playing after the ACK and the detector's onset
    assert starts and abs(starts[0] - SPEECH_AT_S) < 0.3, starts
    assert [e["prompt"] for e in timeline if e["event"] == "prompt_started"] == ["ask", "bye"]
    assert code == 0 and max(callee.statuses().values())[-1] == 200  # SIPp had our BYE


def test_a_callee_whose_audio_never_reaches_us_ends_media_error_at_5_s(tmp_path, pcaps):
    # one-way audio: SIPp answers and sends no RTP. Without the check the silence filled in
    # for it would be a silent callee (here noinput at 8 s after the greeting).
    patient = SCRIPT.replace("noinput_timeout_s: 4.0", "noinput_timeout_s: 8.0")
    callee = far_end(tmp_path, pcaps, "uas_mute")
    try:
        done, row = dial(tmp_path, callee.uri, script_text=patient)
    finally:
        code = callee.wait(20)
    assert (row.outcome, row.sip_status) == ("media_error", 200), done.stdout + done.stderr
    assert "not one RTP packet in 5 s after the answer" in row.result, row.result
    assert row.rtp is not None and row.rtp["packets"] == 0, row.rtp
    timeline = [json.loads(line) for line in (tmp_path / "call.timeline.jsonl").open()]
    (end,) = [e for e in timeline if e["event"] == "hangup"]
    assert (end["outcome"], end["frame"]) == ("media_error", 250), end  # 5.00 s, to the frame
    assert code == 0 and max(callee.statuses().values())[-1] == 200  # SIPp had our BYE


def test_dial_to_a_busy_sipp_callee_is_busy_486(tmp_path, pcaps):
    callee = far_end(tmp_path, pcaps, "uas_busy")
    try:
        done, row = dial(tmp_path, callee.uri)
    finally:
        code = callee.wait(20)
    assert (row.outcome, row.sip_status) == ("busy", 486), done.stdout + done.stderr
    assert code == 0


def test_dial_to_a_sipp_callee_that_only_rings_is_no_answer_after_the_timeout(tmp_path, pcaps):
    callee = far_end(tmp_path, pcaps, "uas_no_answer")
    try:
        done, row = dial(tmp_path, callee.uri, "--answer-timeout-s", "2")
    finally:
        code = callee.wait(20)
    assert (row.outcome, row.sip_status) == ("no_answer", 487), done.stdout + done.stderr
    assert "not answered in 2 s" in row.result, row.result
    assert code == 0 and list(callee.statuses().values()) == [[180, 487]]  # our CANCEL's end


def test_serve_called_by_sipp_callers_that_speak_keeps_every_call_answered(tmp_path, pcaps):
    server, address = start_serve(tmp_path, "--max-calls", "2")
    try:
        callers = sipp_far_end.start(
            "uac_speech", tmp_path / "sipp", "caller_speech.pcap", calls=2, target=address,
            rate=2, cache=pcaps,
        )  # fmt: skip
        code = callers.wait(30)
        wait_for_rows(tmp_path / "calls.db", 2, server)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            out, err = stop_serve(server)
    assert code == 0 and server.returncode == 0, out + err
    assert "2 calls answered (2 answered)" in out, out + err
    logged = records(tmp_path / "calls.db")
    assert {(r.outcome, r.sip_status, r.direction) for r in logged} == {
        ("answered", 200, "inbound")
    }, [(r.outcome, r.result) for r in logged]
    assert all(r.transcript == "" and r.duration_s < 20 for r in logged)
    assert "Traceback" not in err, err
