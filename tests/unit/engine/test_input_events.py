"""Inputs that are not speech: telephone keys, and how a new kind of input is added.

A key (`KeyPressed`) is an answer at once while we listen, interrupts a barge-in prompt, and is
ignored while we speak otherwise. A toy input kind, added in a fixture, shows what a new kind
of input takes: its type next to the input union, a handler in the engine, its name in the
script parser — the call runner, the session, the timeline, its file and QA are untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ivr.audio.format import FRAME_SAMPLES
from ivr.call.replay import keep_call
from ivr.call.session import CallSession
from ivr.call_settings import CallSettings
from ivr.engine import Engine, EngineAction
from ivr.events import InputEvent, KeyPressed
from ivr.qa.phrases import load_forbidden
from ivr.qa.score import score_call
from ivr.script import load_script
from ivr.timeline import DialogEventRecord, read_timeline
from ivr.transports.base import CalleeBlock
from ivr.transports.replay import VirtualSpeaker
from ivr.tts import PromptCache

SCRIPT = """\
script: keys
start: ask
max_call_s: 60
prompts:
  ask: "请按一号键。"
  thanks: "谢谢。"
  bye: "再见。"
defaults:
  listen: {{noinput_timeout_s: 3.0, end_of_speech_s: 0.8, max_speech_s: 10.0, barge_in: {barge_in}}}
states:
  ask:
    say: [ask]
    listen: {{}}
    on:
      {event}:
        - {{count: 1, do: [{{say: thanks}}, {{hangup: answered}}]}}
      noinput:
        - {{count: 1, do: [{{say: bye}}, {{hangup: no_answer}}]}}
"""


class SilentLine:
    """A silent callee whose line sends `inputs` (each in the block of its decided frame)."""

    name = "keys"

    def __init__(self, inputs: tuple[InputEvent, ...]) -> None:
        self.inputs = inputs

    def blocks(self) -> Iterator[CalleeBlock]:
        frame = 0
        while True:
            here = tuple(e for e in self.inputs if frame < e.decided_frame <= frame + 10)
            yield CalleeBlock(np.zeros((10, FRAME_SAMPLES), np.int16), here)
            frame += 10


def script_file(tmp_path: Path, event: str = "dtmf", barge_in: bool = False) -> Path:
    path = tmp_path / "keys.yaml"
    flag = "true" if barge_in else "false"
    path.write_text(SCRIPT.format(event=event, barge_in=flag), encoding="utf-8")
    return path


def run(script, inputs, engine: Engine | None = None):
    session = CallSession(
        SilentLine(inputs), VirtualSpeaker(PromptCache()), script, CallSettings(), engine=engine
    )
    session.run()
    return session


def ask_frames(script) -> int:
    return PromptCache().get(script.prompts["ask"]).frames


def test_a_key_while_listening_is_the_answer_at_its_frame(tmp_path):
    script = load_script(script_file(tmp_path))
    heard = ask_frames(script) + 40
    session = run(script, (KeyPressed("1", heard - 2, heard),))
    log = session.engine.log
    [key] = [r for r in log if r.event == "dtmf"]
    assert isinstance(key, DialogEventRecord) and key.frame == heard and key.key == "1"
    assert key.count == 1 and key.state == "ask"
    assert session.engine.prompts_said == ["ask", "thanks"]
    assert session.engine.result.outcome == "answered"
    assert [r.frame for r in log if r.event == "prompt_started"][-1] == heard


@pytest.mark.parametrize("barge_in", [False, True])
def test_a_key_during_the_prompt_interrupts_only_a_barge_in_prompt(tmp_path, barge_in):
    script = load_script(script_file(tmp_path, barge_in=barge_in))
    session = run(script, (KeyPressed("5", 30, 30),))
    log = session.engine.log
    if barge_in:
        assert [r.event for r in log if r.frame == 30][:2] == ["barge_in", "listen_started"]
        assert session.engine.prompts_said == ["ask", "thanks"]
    else:
        [ignored] = [r for r in log if r.event == "input_ignored"]
        assert ignored.frame == 30 and ignored.input == "dtmf" and ignored.key == "5"
        assert session.engine.result.outcome == "no_answer"


# --- a new kind of input, added here ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cough:
    """The toy input: the callee coughed at `frame`, known at `decided_frame`."""

    frame: int
    decided_frame: int


ToyInput = InputEvent | Cough
"""1. the input union, with the new kind."""


class CoughingEngine(Engine):
    """2. the engine's handler for it."""

    def on_input(self, event: ToyInput) -> list[EngineAction]:  # type: ignore[override]
        match event:
            case Cough():
                return self.on_input_event("cough", event.decided_frame)
            case _:
                return super().on_input(event)


@pytest.fixture
def coughs(monkeypatch):
    """3. the script parser: `cough` is an event a state can handle."""
    import ivr.script.parse_states

    events = (*ivr.script.parse_states.EVENTS, "cough")
    monkeypatch.setattr(ivr.script.parse_states, "EVENTS", events)


def test_a_new_input_kind_needs_only_its_type_its_handler_and_its_name(tmp_path, coughs):
    script = load_script(script_file(tmp_path, event="cough"))
    heard = ask_frames(script) + 25
    engine = CoughingEngine(script, CallSettings().classify)
    session = run(script, (Cough(heard - 3, heard),), engine)
    result = keep_call(session, None, tmp_path / "keys.timeline.jsonl")
    assert result.outcome == "answered" and result.prompts == ["ask", "thanks"]
    [cough] = [r for r in result.timeline if r.event == "cough"]
    assert cough.frame == heard and cough.count == 1
    assert read_timeline(tmp_path / "keys.timeline.jsonl") == result.timeline
    qa = score_call(result.timeline, script.templates, load_forbidden())
    assert qa.items["no_forbidden_phrase"] is True and qa.reprompts == 0
    assert qa.items["answered_in_time"] is None  # no speech to answer: a key


class KeyingLine:
    """A callee whose line carries each key of `presses` (key, start frame) both ways, as some
    gateways do: its tones in the audio (100 ms at -15 dBFS) and, at its start, an RFC 4733
    event."""

    name = "keys"

    def __init__(self, presses: tuple[tuple[str, int], ...], frames: int = 3000) -> None:
        from ivr.synth.line_signals import render_line_sound

        audio = np.zeros(frames * FRAME_SAMPLES)
        length = round(0.1 * 16000)
        for key, at in presses:
            tone = render_line_sound("dtmf", length, -15.0, key)
            audio[at * FRAME_SAMPLES : at * FRAME_SAMPLES + length] += tone
        self.audio = np.rint(audio).astype(np.int16).reshape(frames, FRAME_SAMPLES)
        self.events = tuple(KeyPressed(key, at, at + 1) for key, at in presses)

    def blocks(self) -> Iterator[CalleeBlock]:
        for frame in range(0, self.audio.shape[0], 10):
            here = tuple(e for e in self.events if frame < e.decided_frame <= frame + 10)
            yield CalleeBlock(self.audio[frame : frame + 10], here)


def keys_heard(tmp_path, presses: tuple[tuple[str, int], ...]) -> list[tuple[str, str, int]]:
    """(event, key, frame) of each key the engine got: the answer, then those under our reply
    (ignored), for presses at frames after the question ends."""
    script = load_script(script_file(tmp_path))
    asked = ask_frames(script)
    line = KeyingLine(tuple((key, asked + at) for key, at in presses))
    session = CallSession(line, VirtualSpeaker(PromptCache()), script, CallSettings())
    session.run()
    return [
        (r.event, r.key, r.frame - asked)
        for r in session.engine.log
        if r.event in ("dtmf", "input_ignored")
    ]


def test_a_key_sent_both_in_band_and_out_of_band_is_one_press(tmp_path):
    # the out-of-band event comes first; the tones decided 2-3 frames later are the same press
    assert keys_heard(tmp_path, (("1", 20),)) == [("dtmf", "1", 21)]


def test_two_presses_of_a_key_300_ms_apart_are_two(tmp_path):
    heard = keys_heard(tmp_path, (("1", 20), ("1", 35)))
    assert heard == [("dtmf", "1", 21), ("input_ignored", "1", 36)]
