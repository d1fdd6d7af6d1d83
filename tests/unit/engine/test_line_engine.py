"""The engine on what a telephone line says besides speech, on the bundled script
prompts/outbound_amd.yaml: keys, network tones, a carrier's announcement, the answering-machine
verdict, hold etiquette and the still-listening cue. Events are handed over as the session
would; every prompt takes 100 frames (2 s) to play out; times are asserted to the frame."""

from __future__ import annotations

from dataclasses import replace

from shared import OUTBOUND_VALUES as VALUES
from test_engine import Call

from ivr.engine import Engine, HangUp
from ivr.events import KeyPressed, MachineVerdict, ToneHeard
from ivr.script import load_script
from ivr.script.model import Handler, Hold, MachineDetection
from ivr.timeline import HoldEnded, HoldStarted, InputIgnored, LineTone, MachineDetected

PROMPT = 100  # frames each prompt plays out in


def amd_script(**amd):
    script = load_script("outbound_amd", VALUES)
    if amd:
        script = replace(script, amd=replace(script.amd, **amd))
    return script


def human_call(script=None) -> Call:
    """A call whose answering-machine verdict is `human` at frame 45 (0.9 s)."""
    call = Call(Engine(script or amd_script()), PROMPT)
    call.hear(MachineVerdict("human", "HUMAN-800-800", 45))
    return call


def test_nothing_is_said_before_the_verdict_and_a_human_gets_the_opening_at_it():
    call = Call(Engine(amd_script()), PROMPT)
    call.run_until(44)
    assert call.played == []
    call.hear(MachineVerdict("human", "HUMAN-800-800", 45))
    assert call.played == [("opening", 45)]
    assert [r for r in call.engine.log if isinstance(r, MachineDetected)] == [
        MachineDetected(45, None, "human", "HUMAN-800-800")
    ]


def test_not_sure_starts_the_script_as_for_a_human():
    call = Call(Engine(amd_script()), PROMPT)
    call.hear(MachineVerdict("notsure", "TOOLONG-5000", 250))
    assert call.played == [("opening", 250)]


def test_a_machine_without_leave_message_hangs_up_at_the_verdict():
    call = Call(Engine(amd_script(leave_message=None)), PROMPT)
    call.hear(MachineVerdict("machine", "LONGGREETING-1500-1500", 90))
    assert call.played == []
    assert call.hangup == HangUp(90, "machine", "answering machine (LONGGREETING-1500-1500)")


def test_a_machine_gets_the_message_at_the_beep_and_then_the_call_ends():
    call = Call(Engine(amd_script()), PROMPT)
    call.hear(MachineVerdict("machine", "MAXWORDS-3-2", 90))
    call.run_until(600)
    assert call.played == [] and call.hangup is None  # the greeting goes on: we wait
    call.hear(ToneHeard("beep", 601, 626, 1000.0))
    assert call.played == [("voicemail_message", 626)]
    call.run_until(5000)
    assert call.hangup == HangUp(626 + PROMPT + 50, "machine", "answering machine (MAXWORDS-3-2)")


def test_a_machine_that_never_beeps_is_left_after_beep_timeout_to_the_frame():
    call = Call(Engine(amd_script(beep_timeout_s=20.0)), PROMPT)
    call.hear(MachineVerdict("machine", "INITIALSILENCE-2500-2500", 125))
    call.run_until(125 + 999)
    assert call.hangup is None
    call.run_until(125 + 1000)
    assert call.hangup == HangUp(1125, "machine", "no beep within 20 s")


def test_a_beep_before_any_verdict_or_on_a_human_call_changes_nothing():
    call = human_call()
    call.hear(ToneHeard("beep", 60, 80, 1400.0))
    call.run_until(144)
    assert call.played == [("opening", 45)] and call.hangup is None
    assert any(isinstance(r, LineTone) and r.tone == "beep" for r in call.engine.log)


def test_ringback_on_an_answered_call_ends_it_as_network_tone_at_once():
    call = human_call()
    call.hear(ToneHeard("ringback", 50, 300, 450.0))  # while our opening is playing
    assert call.hangup == HangUp(300, "network_tone", "ringback tone from 1 s")


def test_busy_tone_while_listening_ends_the_call_as_network_tone():
    call = human_call()
    call.run_until(200)
    call.hear(ToneHeard("busy", 180, 215, 450.0))
    assert call.hangup.outcome == "network_tone" and call.hangup.frame == 215


def test_the_special_information_tone_ends_the_call_as_carrier_announcement():
    call = human_call()
    call.hear(ToneHeard("sit", 60, 110, 950.0))
    assert call.hangup.outcome == "carrier_announcement" and call.hangup.frame == 110


def test_key_1_while_listening_is_the_owner_confirming():
    call = human_call()
    call.run_until(160)
    call.hear(KeyPressed("1", 158, 160))
    assert call.played[-1] == ("how_can_i_help", 160)


def test_key_2_is_the_wrong_person_and_a_key_under_our_prompt_is_ignored():
    call = human_call()
    call.hear(KeyPressed("2", 100, 102))  # the opening plays until 145
    assert any(isinstance(r, InputIgnored) and r.key == "2" for r in call.engine.log)
    call.hear(KeyPressed("2", 150, 152))
    call.run_until(1000)
    assert call.played[-1] == ("closing_wrong_person", 152)
    assert call.hangup == HangUp(152 + PROMPT + 100, "wrong_person", "dtmf #1 in opening")


def test_another_key_asks_again_and_the_third_one_closes():
    call = human_call()
    for n, frame in enumerate((150, 300, 450)):
        call.run_until(frame)
        call.hear(KeyPressed("7", frame - 2, frame))
        expected = "press_one" if n < 2 else "closing_nomatch"
        assert call.played[-1] == (expected, frame)
    call.run_until(2000)
    assert call.hangup.outcome == "nomatch"


def _explain(call: Call, start: int, end: int) -> None:
    call.speak(start, end, level=-22.0, floor=-70.0)


def test_a_pause_mid_explanation_gets_still_listening_and_the_turn_goes_on():
    call = human_call()
    call.hear(KeyPressed("1", 150, 152))  # how_can_i_help plays 152..252
    _explain(call, 270, 420)  # 3 s of explaining, then a pause
    call.run_until(420 + 49)
    assert call.played[-1][0] == "how_can_i_help"
    call.run_until(420 + 50)
    assert call.played[-1] == ("still_listening", 470)  # 1 s into the pause
    _explain(call, 600, 700)  # the callee goes on after the cue (played 470..570)
    call.run_until(700 + 89)
    assert call.played[-1][0] == "still_listening"  # no second cue in the same utterance
    call.run_until(700 + 90)
    assert call.played[-1] == ("hold_start", 790)  # the turn ended 1.8 s after the speech


def test_a_callee_silent_after_the_cue_ends_the_turn_end_of_speech_after_its_playout():
    call = human_call()
    call.hear(KeyPressed("1", 150, 152))
    _explain(call, 270, 420)
    call.run_until(1000)
    assert call.played[-2:] == [("still_listening", 470), ("hold_start", 470 + PROMPT + 90)]


def test_speech_over_the_still_listening_cue_cuts_it_short():
    call = human_call()
    call.hear(KeyPressed("1", 150, 152))
    _explain(call, 270, 420)
    call.run_until(480)
    _explain(call, 500, 560)  # starts while the cue plays (470..570)
    assert 505 in call.stops  # decided 5 frames after its start
    call.run_until(560 + 90)
    assert call.played[-1] == ("hold_start", 650)


def test_a_short_answer_is_waited_out_without_the_cue():
    call = human_call()
    call.hear(KeyPressed("1", 150, 152))
    _explain(call, 270, 320)  # 1 s: an answer, not an explanation
    call.run_until(320 + 90)
    assert [p for p, _ in call.played] == ["opening", "how_can_i_help", "hold_start"]


def test_hold_prompts_come_30_s_after_the_previous_one_ends_and_the_hold_ends_on_time():
    call = human_call()
    call.hear(KeyPressed("1", 150, 152))
    _explain(call, 270, 320)
    start = 320 + 90
    call.run_until(start + 10_000)
    held = [(p, f) for p, f in call.played if p.startswith("hold") or p == "answer_ready"]
    assert held == [
        ("hold_start", start),
        ("hold_progress", start + PROMPT + 1500),  # 30.00 s of silence after hold_start
        ("hold_progress", start + 2 * (PROMPT + 1500)),
        ("hold_return", start + 3750),  # the 75 s hold is up
        ("answer_ready", start + 3750 + PROMPT),
    ]
    log = call.engine.log
    assert [r.frame for r in log if isinstance(r, HoldStarted)] == [start]
    assert [(r.frame, r.how) for r in log if isinstance(r, HoldEnded)] == [
        (start + 3750, "returned")
    ]
    assert call.hangup.outcome == "answered"


def test_speech_and_keys_on_hold_do_not_count():
    call = human_call()
    call.hear(KeyPressed("1", 150, 152))
    _explain(call, 270, 320)
    start = 320 + 90
    _explain(call, start + 300, start + 400)
    call.hear(KeyPressed("5", start + 500, start + 502))
    call.run_until(start + 10_000)
    assert ("hold_progress", start + PROMPT + 1500) in call.played


def test_a_hold_past_the_callback_time_offers_to_call_back():
    script = amd_script()
    help_state = script.states["help"]
    (speech,) = help_state.handlers["speech"]
    hold = Hold(seconds=180.0, callback="callback")
    handlers = dict(
        help_state.handlers, speech=(Handler("speech", 1, (hold, *speech.actions[1:])),)
    )
    script = replace(
        script, states={**script.states, "help": replace(help_state, handlers=handlers)}
    )
    call = human_call(script)
    call.hear(KeyPressed("1", 150, 152))
    _explain(call, 270, 320)
    start = 320 + 90
    call.run_until(start + 20_000)
    progress = [f - start for p, f in call.played if p == "hold_progress"]
    assert progress == [1600, 3200, 4800]  # every 30 s of silence, until 120 s
    assert ("offer_callback", start + 6000) in call.played
    assert call.hangup.outcome == "callback_offered"


def test_scripts_without_amd_ignore_the_verdict():
    script = load_script("outbound", VALUES)
    call = Call(Engine(script), PROMPT)
    call.hear(MachineVerdict("machine", "MAXWORDS-3-2", 40))
    assert call.played == [("opening", 0)] and call.hangup is None


def test_amd_settings_of_the_script_are_kept_by_name():
    assert MachineDetection({"greeting_ms": 2000}).settings == {"greeting_ms": 2000}
