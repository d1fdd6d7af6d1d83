"""What a person sees during a live call: the panel and the plain event lines."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console

from ivr.call_settings import ClassifySettings
from ivr.cli.live_view import LiveView, describe, meter
from ivr.detect.frontend import BlockResult
from ivr.engine import Engine
from ivr.script.model import Handler, HangupAction, Listen, Say, Script, State
from ivr.timeline import Recognized


class FakeSession:
    """The attributes the view reads from a LiveCall (the view is under test, not audio)."""

    def __init__(self):
        on = {"noinput": (Handler("noinput", 1, (Say("bye"), HangupAction("no_answer"))),)}
        state = State("ask", ("ask",), Listen(3.0, 0.8, 10.0), on)
        prompts = {"ask": "请问您是13812345678的机主吗?", "bye": "再见"}
        self.script = Script("demo", "demo.yaml", "ask", prompts, {"ask": state})
        self.engine = Engine(self.script, ClassifySettings())
        self.engine.start(0)
        self.engine.on_playback_finished(100)
        heard = Recognized(110, None, "是的", "confirm", 1.0, False, "", [], "")
        self.engine.log.append(heard)
        self.frames = 120
        self.level_dbfs = -23.0
        ones = np.ones(1, dtype=bool)
        self.last_result = BlockResult(
            119, ones, np.array([-23.0], np.float32), np.array([-61.0], np.float32),
            ones, np.zeros(0), [],
        )  # fmt: skip


def test_panel_shows_state_meter_countdown_transcript_and_events():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    session = FakeSession()
    view = LiveView(console)
    console.print(view.render(session))
    text = out.getvalue()
    assert "ivr call: demo" in text
    assert "ask" in text and "listening" in text
    assert "timeout in" in text and "2.6 s" in text  # deadline at frame 250, now 120
    assert "VOICE" in text and "-23.0 dBFS" in text and "floor  -61.0" in text
    assert "是的" in text
    assert "listen_started" in text


def test_plain_output_is_one_line_per_event_with_numbers_masked():
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=120)
    session = FakeSession()
    view = LiveView(console)
    view(session)
    lines = out.getvalue().splitlines()
    assert [line.split()[2] for line in lines] == [
        "call_started", "state_entered", "prompt_started", "prompt_finished", "listen_started",
        "recognized",
    ]  # fmt: skip
    view(session)  # nothing new: nothing printed again
    assert len(out.getvalue().splitlines()) == len(lines)


def test_describe_masks_numbers_and_meter_marks_the_floor():
    heard = Recognized(50, "opening", "13812345678", None, 0.9, False, "", [], "")
    line = describe(heard)
    assert "138****5678" in line and "13812345678" not in line
    assert line.startswith("    1.00 s  recognized [opening]  text=138****5678, intent=None")
    bar = meter(-20.0, -60.0, voiced=False).plain
    assert bar.index("│") < bar.index("─") and "quiet" in bar
