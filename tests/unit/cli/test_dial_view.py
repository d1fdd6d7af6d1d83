"""`ivr dial`'s view on a pipe: one plain line per event — calling (the
address masked), ringing, answered, each dialog event of the call, the end — from a real
session (a replayed file standing in for the answered line)."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
from rich.console import Console

from ivr.audio.source import FileSource
from ivr.call.replay import replay_call
from ivr.cli.dial_view import DialView, line_event
from ivr.script import load_script
from ivr.tts import PromptCache

SCRIPT = """\
script: dial_view
start: ask
max_call_s: 10
prompts:
  hello: 您好
  bye: 再见
defaults:
  listen: {noinput_timeout_s: 1.0, end_of_speech_s: 0.5, max_speech_s: 5.0}
states:
  ask:
    say: hello
    listen: {}
    on:
      speech: [{do: [{hangup: answered}]}]
      noinput:
        - {count: 1, do: [{say: bye}, {hangup: no_answer}]}
"""


def test_plain_lines_for_every_event(tmp_path, write_wav) -> None:
    path = tmp_path / "script.yaml"
    path.write_text(SCRIPT, encoding="utf-8")
    script = load_script(path)
    silence = write_wav("silence.wav", np.zeros(16000 * 4, dtype=np.int16))
    session = replay_call(FileSource(silence), script, PromptCache(tmp_path / "prompts"))
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    view = DialView(console, "sip:13812345678@127.0.0.1:5070", 30.0)
    assert not view.interactive
    session.observers.append(view)
    with view:
        for state in ("calling", "ringing", "ringing", "ringing"):
            view.ringing(SimpleNamespace(state=state))
        session.record(None)
        view.end(session.engine.result.outcome)
    lines = out.getvalue().splitlines()
    events = [line.split()[2] for line in lines]
    assert events[:3] == ["calling", "ringing", "answered"], lines
    assert "sip:138****5678@127.0.0.1:5070" in lines[0] and "13812345678" not in out.getvalue()
    assert events[3:] == [
        "call_started", "state_entered", "prompt_started", "prompt_finished",
        "listen_started", "noinput", "prompt_started", "prompt_finished", "hangup", "ended:",
    ], lines  # fmt: skip
    hangup_s = session.engine.result.frame * 0.02
    assert lines[-1] == line_event(hangup_s, "ended: no_answer")  # the call's time
    assert line_event(2.125, "answered") == "    2.12 s  answered"
