"""The dialog engine in the call runner: scripted detector events and playouts, timings asserted
to the frame."""

from __future__ import annotations

import numpy as np

from ivr.call.runner import CallRunner
from ivr.call_settings import ClassifySettings
from ivr.engine import Engine, HangUp, PlayPrompt
from ivr.events import Segment, SpeechEnded, SpeechStarted
from ivr.script.model import (
    Goto,
    Handler,
    HangupAction,
    Listen,
    Pause,
    Say,
    Script,
    SetInputGain,
    State,
)

LISTEN = Listen(noinput_timeout_s=3.0, end_of_speech_s=0.8, max_speech_s=10.0)


def handlers(event, *chains):
    return {event: tuple(Handler(event, i + 1, tuple(actions)) for i, actions in enumerate(chains))}


def script(barge_in=False, max_call_s=300.0) -> Script:
    on = {}
    on |= handlers(
        "noinput",
        [Say("again")],
        [Say("connected")],
        [Say("bye"), Pause(2.0), HangupAction("no_answer")],
    )
    on |= handlers("speech", [Goto("answered")])
    on |= handlers(
        "low_volume",
        [SetInputGain(6.0)],
        [SetInputGain(12.0)],
        [Say("louder")],
        [Say("bye"), Pause(2.0), HangupAction("low_volume")],
    )
    on |= handlers("noise", [Say("bye"), Pause(2.0), HangupAction("noisy_line")])
    listen = Listen(3.0, 0.8, 10.0, barge_in=barge_in)
    states = {
        "opening": State("opening", say=("opening",), listen=listen, handlers=on),
        "answered": State(
            "answered", say=("thanks",), actions=(Pause(2.0), HangupAction("answered"))
        ),
    }
    prompts = {k: k for k in ("opening", "again", "connected", "bye", "thanks", "louder")}
    return Script("test", "test.yaml", "opening", prompts, states, max_call_s=max_call_s)


class ScriptedSpeaker:
    """Our port in these tests: every prompt plays out in `frames` frames."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.played: list[tuple[str, int]] = []
        self.stops: list[int] = []
        self.until: int | None = None
        self._report: int | None = None

    def play(self, prompt: PlayPrompt) -> None:
        self.played.append((prompt.prompt, prompt.frame))
        self.until = self._report = prompt.frame + self.frames

    def stop(self, frame: int) -> None:
        self.stops.append(frame)
        self.until = self._report = None

    def finished(self) -> int | None:
        report, self._report = self._report, None
        return report


class Call:
    """Drives an engine through the call runner: prompts take `prompt_frames` frames to play
    out; time passes and detector events come as a session would hand them over."""

    def __init__(self, engine: Engine, prompt_frames=100):
        self.engine = engine
        self.speaker = ScriptedSpeaker(prompt_frames)
        self.runner = CallRunner(engine, self.speaker)
        self.runner.start(0)
        self.at = 0  # frames up to here have been handled

    @property
    def played(self) -> list[tuple[str, int]]:
        return self.speaker.played

    @property
    def stops(self) -> list[int]:
        return self.speaker.stops

    @property
    def hangup(self) -> HangUp | None:
        return self.engine.result

    @property
    def finish(self) -> int | None:
        """The frame the prompt playing finishes, while it plays."""
        until = self.speaker.until
        return until if until is not None and until > self.at else None

    def run_until(self, frame, floor=-90.0):
        """Let time pass to `frame`: playouts finish and timers fire in order."""
        if frame > self.at:
            self.runner.step(self.at, frame, [], np.array([floor]))
            self.at = frame

    def hear(self, event, floor=-90.0):
        """A detector event at its decided frame (time passes up to it first)."""
        self.run_until(event.decided_frame - 1, floor)
        self.runner.step(self.at, event.decided_frame, [event], np.array([floor]))
        self.at = event.decided_frame

    def speak(self, start, end, level=-20.0, floor=-90.0, hangover=15):
        """The callee speaks over frames [start, end): detector events at their decided frames."""
        self.hear(SpeechStarted(start, start + 5), floor)
        seg = Segment(start, end, level, level - floor, floor, end - start)
        self.hear(SpeechEnded(seg, end + hangover), floor)


def test_silent_line_reprompts_at_3_s_and_hangs_up_2_s_after_the_closing():
    call = Call(Engine(script()))
    call.run_until(10_000)
    assert call.played == [("opening", 0), ("again", 250), ("connected", 500), ("bye", 750)]
    # each re-prompt starts exactly 150 frames (3.00 s) after the previous prompt's last frame
    assert call.hangup == HangUp(850 + 100, "no_answer", "noinput #3 in opening")


def test_answer_2_5_s_after_the_opening_is_heard_without_reprompt():
    call = Call(Engine(script()))
    call.speak(100 + 125, 100 + 175)  # 2.5 s after the opening ended
    call.run_until(10_000)
    assert [p for p, _ in call.played] == ["opening", "thanks"]
    # utterance ends 0.8 s (40 frames) after the speech: thanks starts then
    assert call.played[1] == ("thanks", 100 + 175 + 40)
    assert call.hangup.outcome == "answered"


def test_answer_at_3_5_s_gets_the_reprompt_then_is_heard():
    call = Call(Engine(script()))
    call.speak(100 + 175, 100 + 225)  # 3.5 s after the opening: the re-prompt is playing
    call.speak(400, 450)  # the callee answers again after the re-prompt (frames 250..350)
    call.run_until(10_000)
    assert [p for p, _ in call.played] == ["opening", "again", "thanks"]
    assert call.played[1] == ("again", 250)
    assert call.played[2] == ("thanks", 450 + 40)
    events = [r.event for r in call.engine.log]
    assert "speech_ignored" in events


def test_speech_while_we_speak_is_not_an_answer():
    call = Call(Engine(script()))
    call.speak(20, 60)  # during the opening (frames 0..100)
    call.run_until(10_000)
    assert call.hangup.outcome == "no_answer"
    assert any(r.event == "speech_ignored" for r in call.engine.log)


def test_barge_in_stops_the_prompt_and_counts_the_speech():
    call = Call(Engine(script(barge_in=True)))
    call.speak(20, 60)
    call.run_until(10_000)
    assert call.stops == [25]
    assert call.hangup.outcome == "answered"


def test_too_faint_utterance_does_not_move_the_deadline():
    call = Call(Engine(script()))
    call.speak(150, 170, level=-85.0, floor=-90.0)  # audible to the VAD, far too faint to count
    call.run_until(10_000)
    assert call.played[1] == ("again", 250)  # the absolute deadline held
    assert call.hangup.outcome == "no_answer"


def test_quiet_callee_raises_the_gain_then_is_heard():
    call = Call(Engine(script(), ClassifySettings()))
    call.speak(150, 200, level=-45.0)  # low_volume: gain +6 dB, listen again
    call.run_until(240)
    assert call.engine.gain_db == 6.0
    call.speak(300, 350, level=-45.0)  # heard at -39 dBFS: an answer
    call.run_until(10_000)
    assert call.hangup.outcome == "answered"


def test_quiet_callee_escalation_ends_in_closing_and_pause():
    call = Call(Engine(script()))
    t = 150
    for _ in range(4):  # gain 6, gain 12, "louder", then the closing
        call.speak(t, t + 50, level=-60.0, floor=-90.0)
        call.run_until(t + 50 + 40)
        t = max(t + 50 + 41, (call.finish or 0) + 10)
        call.run_until(t)
    call.run_until(10_000)
    assert call.hangup.outcome == "low_volume"
    assert [p for p, _ in call.played] == ["opening", "louder", "bye"]
    bye_end = call.played[-1][1] + 100
    assert call.hangup.frame == bye_end + 100  # pause 2 s after the closing's last sample


def test_noisy_line_without_speech_is_noise_at_the_deadline():
    call = Call(Engine(script()))
    call.run_until(10_000, floor=-25.0)
    assert call.hangup.outcome == "noisy_line"
    assert call.played == [("opening", 0), ("bye", 250)]


def test_a_state_without_noise_handlers_takes_a_noisy_window_as_noinput():
    # Scripts need not handle noise: on a noisy line such a state times out as on a silent
    # one (re-prompt 3 s after the prompt's end, ...), it does not fire its deadline for ever.
    noiseless = script()
    opening = noiseless.states["opening"]
    on = {e: h for e, h in opening.handlers.items() if e != "noise"}
    noiseless.states["opening"] = State("opening", opening.say, opening.listen, handlers=on)
    call = Call(Engine(noiseless))
    call.run_until(10_000, floor=-25.0)
    assert call.played == [("opening", 0), ("again", 250), ("connected", 500), ("bye", 750)]
    assert call.hangup == HangUp(850 + 100, "no_answer", "noinput #3 in opening")


def test_endless_speech_ends_at_max_speech():
    call = Call(Engine(script()))
    call.run_until(149)
    call.hear(SpeechStarted(145, 150))
    call.run_until(10_000, floor=-25.0)  # a noisy line that the VAD calls speech throughout
    assert call.hangup.outcome == "noisy_line"
    noise = next(r for r in call.engine.log if r.event == "noise")
    assert noise.frame == 145 + 500  # max_speech_s = 10 s after the speech began


def test_max_call_length_ends_the_call():
    call = Call(Engine(script(max_call_s=5.0)))
    call.run_until(10_000)
    assert call.hangup == HangUp(250, "max_duration", "call reached 5 s")


def test_same_inputs_same_timeline():
    logs = []
    for _ in range(2):
        call = Call(Engine(script()))
        call.speak(300, 340)
        call.run_until(10_000)
        logs.append(call.engine.log)
    assert logs[0] == logs[1]


# --- recognition -------------------------------------------------------------------------


class Heard:
    """A recognition result as the engine sees it."""

    def __init__(self, text, intent=None, confidence=0.9, rejected=False):
        self.text, self.intent, self.confidence, self.rejected = text, intent, confidence, rejected


def intent_script(unmatched="nomatch") -> Script:
    base = script()
    opening = base.states["opening"]
    on = dict(opening.handlers)
    on |= handlers("confirm", [Goto("answered")])
    on |= handlers("deny", [Say("bye"), Pause(2.0), HangupAction("wrong_person")])
    on |= handlers("nomatch", [Say("again")], [Say("bye"), Pause(2.0), HangupAction("nomatch")])
    intents = {"confirm": ("是的",), "deny": ("不是",), "cannot_hear": ("听不清",)}
    states = dict(base.states)
    states["opening"] = State(
        "opening", opening.say, opening.listen, on, intents=intents, unmatched=unmatched
    )
    return Script("intents", "intents.yaml", "opening", base.prompts, states)


def speak_heard(call: Call, start, end, result):
    """Like Call.speak, with the recognizer's result arriving before the segment's end."""
    call.hear(SpeechStarted(start, start + 5))
    seg = Segment(start, end, -20.0, 70.0, -90.0, end - start)
    call.run_until(end + 15 - 1)
    if result is not None:
        call.engine.on_recognition(end + 15, result)
    call.hear(SpeechEnded(seg, end + 15))


def test_recognized_intent_is_the_event():
    call = Call(Engine(intent_script(), recognizes=True))
    speak_heard(call, 150, 200, Heard("不是", "deny"))
    call.run_until(10_000)
    assert call.hangup.outcome == "wrong_person"
    assert any(r.event == "recognized" and r.intent == "deny" for r in call.engine.log)


def test_unrecognizable_speech_is_nomatch_twice_then_closing():
    call = Call(Engine(intent_script(), recognizes=True))
    speak_heard(call, 150, 200, Heard("", rejected=True))
    call.run_until(300)
    assert call.played[-1] == ("again", 240)  # nomatch #1 at the utterance's end + 0.8 s
    speak_heard(call, 400, 450, Heard("喂", None))  # understood, but no intent: unmatched
    call.run_until(10_000)
    assert call.hangup.outcome == "nomatch"


def test_unmatched_can_count_as_an_answer():
    call = Call(Engine(intent_script(unmatched="speech"), recognizes=True))
    speak_heard(call, 150, 200, Heard("我想查一下话费", None))
    call.run_until(10_000)
    assert call.hangup.outcome == "answered"


def test_intent_without_handler_falls_back_to_speech():
    call = Call(Engine(intent_script(), recognizes=True))
    speak_heard(call, 150, 200, Heard("听不清", "cannot_hear"))
    call.run_until(10_000)
    assert call.hangup.outcome == "answered"


def test_without_a_recognizer_speech_is_an_answer():
    call = Call(Engine(intent_script(), recognizes=False))
    speak_heard(call, 150, 200, None)
    call.run_until(10_000)
    assert call.hangup.outcome == "answered"


def test_recognition_of_ignored_speech_is_dropped():
    call = Call(Engine(intent_script(), recognizes=True))
    call.engine.on_recognition(30, Heard("不是", "deny"))  # while the opening plays
    call.run_until(10_000)
    assert call.hangup.outcome == "no_answer"
    assert not any(r.event == "recognized" for r in call.engine.log)
