"""The live panel of `ivr call` stays whole: the sound card's underruns are
counted on it, ALSA's own `ALSA lib ... underrun occurred` lines are held back while it is up
(and everything else written to standard error is given back afterwards), and Ctrl-C stops it
once, without the terminal's `^C` echo that pushed its redraw one line down (its top border
drawn twice). No sound card: a fake session, a pseudo-terminal."""

from __future__ import annotations

import io
import os
import re
import termios

import numpy as np
import pytest
from rich.console import Console

from ivr.call_settings import ClassifySettings
from ivr.cli.live_view import LiveView
from ivr.cli.terminal import HeldStderr
from ivr.detect.frontend import BlockResult
from ivr.engine import Engine
from ivr.script.model import Handler, HangupAction, Listen, Say, Script, State
from ivr.transports.sounddevice import StreamCounters

ALSA = "ALSA lib pcm.c:8570:(snd_pcm_recover) underrun occurred"


class SoundCardSession:
    """What the view reads of a live call (ivr.call.live.LiveCall) listening in its first
    state, on a sound card that has under-run 3 times and overflowed once."""

    def __init__(self) -> None:
        on = {"noinput": (Handler("noinput", 1, (Say("bye"), HangupAction("no_answer"))),)}
        state = State("ask", ("ask",), Listen(3.0, 0.8, 10.0), on)
        self.script = Script(
            "demo", "demo.yaml", "ask", {"ask": "您好", "bye": "再见"}, {"ask": state}
        )
        self.engine = Engine(self.script, ClassifySettings())
        self.engine.start(0)
        self.engine.on_playback_finished(100)
        self.frames = 120
        self.level_dbfs = -23.0
        ones = np.ones(1, dtype=bool)
        self.last_result = BlockResult(
            119, ones, np.array([-23.0], np.float32), np.array([-61.0], np.float32),
            ones, np.zeros(0), [],
        )  # fmt: skip
        self.stream_counters = StreamCounters(overflows=1, underruns=3)


def test_the_panel_counts_the_sound_cards_underruns():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    console.print(LiveView(console).render(SoundCardSession()))
    [row] = [line for line in out.getvalue().splitlines() if "underruns" in line]
    assert row.split()[1:5] == ["underruns", "3", "overflows", "1"]


def test_alsa_lines_are_held_back_and_the_rest_given_back(capfd):
    with HeldStderr() as held:
        os.write(2, f"{ALSA}\nsomething else went wrong\n{ALSA}\n".encode())
    assert held.alsa_lines == [ALSA, ALSA]
    assert capfd.readouterr().err == "something else went wrong\n"


def test_the_view_holds_alsa_back_and_says_it_once_after(capfd):
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    with LiveView(console):
        os.write(2, f"{ALSA}\n{ALSA}\n".encode())
    assert ALSA not in capfd.readouterr().err
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # cursor hidden, shown
    notes = [line for line in shown.splitlines() if line.startswith("note:")]
    assert notes == [
        "note: the sound card (ALSA) reported: underrun occurred (snd_pcm_recover) (2 times)"
    ]


def read_until(fd: int, *markers: bytes) -> bytes:
    """What the terminal shows (read from the pty's master) up to one of `markers`."""
    seen = b""
    while not any(marker in seen for marker in markers):
        seen += os.read(fd, 65536)
    return seen


def test_ctrl_c_is_not_echoed_into_the_panel_and_stops_it_once():
    master, slave = os.openpty()
    terminal = os.fdopen(slave, "w", encoding="utf-8")
    try:
        console = Console(file=terminal, force_terminal=True, width=80, height=40)
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ISIG  # Ctrl-C as a plain character: no signal, no flush
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        echoing = attrs[3] & termios.ECHOCTL
        assert echoing  # a terminal echoes Ctrl-C as ^C
        view = LiveView(console)
        session = SoundCardSession()
        with pytest.raises(KeyboardInterrupt), view:
            view(session)
            os.write(master, b"\x03")  # the user presses Ctrl-C: echoed as ^C, or as itself
            assert b"^C" not in read_until(master, b"^C", b"\x03")
            raise KeyboardInterrupt  # as the call's loop gets it
        terminal.write("<after>")
        terminal.flush()
        final = read_until(master, b"<after>")
        assert final.count("╭".encode()) == 1  # the panel's last draw, once
        assert termios.tcgetattr(slave)[3] & termios.ECHOCTL == echoing  # echo put back
        view.__exit__(None, None, None)  # leaving again changes nothing
    finally:
        terminal.close()
        os.close(master)
