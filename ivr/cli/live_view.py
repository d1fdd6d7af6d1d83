"""What a person sees during `ivr call`: a live panel on a terminal, else one line per event."""

from __future__ import annotations

import re
import time
from collections import Counter
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ivr.audio.format import frames_to_seconds
from ivr.cli.terminal import HeldStderr, NoControlEcho
from ivr.privacy import mask_number
from ivr.timeline import (
    EngineRecord,
    PromptOut,
    Recognized,
    Streams,
    TimelineRecord,
    VadEnd,
    VadOpen,
    VadStart,
    record_to_json,
)

if TYPE_CHECKING:
    from ivr.call.live import LiveCall

REFRESH_S = 0.1
"""How often the panel is redrawn (s)."""

SHOWN_EVENTS = 12
"""Events kept on the panel."""

QUIET = (VadStart, VadEnd, VadOpen, PromptOut, Streams)
"""Timeline records that are detector or device detail, not dialog events."""


def alsa_message(line: str) -> str:
    """An ALSA library line without its source position: `ALSA lib pcm.c:8570:(snd_pcm_recover)
    underrun occurred` -> `underrun occurred (snd_pcm_recover)`."""
    match = re.match(r"ALSA lib [^:]*:\d+:\((\w+)\) (.*)", line)
    return f"{match[2]} ({match[1]})" if match else line.removeprefix("ALSA lib ")


def describe(record: TimelineRecord, show_numbers: bool = False) -> str:
    """One timeline record as a line of text: its time, event, state and fields as the timeline
    file has them (the words of a recognition left out)."""
    data = record_to_json(record)
    details = ", ".join(
        f"{k}={v}" for k, v in data.items() if k not in ("t", "frame", "event", "state", "words")
    )
    state = f" [{data['state']}]" if "state" in data else ""
    line = f"{record.t:8.2f} s  {record.event}{state}" + (f"  {details}" if details else "")
    return line if show_numbers else mask_number(line)


def meter(level_dbfs: float, floor_dbfs: float, voiced: bool, width: int = 40) -> Text:
    """A level bar from -80 to 0 dBFS with the noise floor marked and the VAD decision."""

    def position(db: float) -> int:
        return max(0, min(width, round((db + 80) / 80 * width)))

    bar = ["─"] * width
    for i in range(position(level_dbfs)):
        bar[i] = "█"
    floor_at = min(width - 1, position(floor_dbfs))
    bar[floor_at] = "│"
    text = Text("".join(bar), style="green" if voiced else "white")
    text.append(f"  {level_dbfs:6.1f} dBFS  floor {floor_dbfs:6.1f}  ")
    text.append("VOICE" if voiced else "quiet", style="bold green" if voiced else "dim")
    return text


class LiveView:
    """Follows a live session: a rich panel when `console` is a terminal, else event lines.

    While the panel is up, what would break it is held back (ivr.cli.terminal): the sound
    card's library writing to standard error, the terminal echoing Ctrl-C. Leaving the view
    stops the panel once, drawn as last updated (call `finish` inside it for the last state),
    then says what the sound card's library reported meanwhile, in one line per message."""

    def __init__(self, console: Console, show_numbers: bool = False) -> None:
        self.console = console
        self.show_numbers = show_numbers
        self.interactive = console.is_terminal
        self._live: Live | None = None
        self._held: ExitStack | None = None
        self._stderr: HeldStderr | None = None
        self._printed = 0
        self._drawn = 0.0

    def __enter__(self) -> LiveView:
        if self.interactive:
            self._held = ExitStack()
            self._held.enter_context(NoControlEcho(self.console.file))
            self._stderr = self._held.enter_context(HeldStderr())
            self._live = Live(console=self.console, auto_refresh=False, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        live, self._live = self._live, None
        held, self._held = self._held, None
        try:
            if live is not None:
                live.__exit__(*exc)
        finally:
            if held is not None:
                held.close()
        if self._stderr is not None:
            for message, count in Counter(alsa_message(x) for x in self._stderr.alsa_lines).items():
                times = f" ({count} times)" if count > 1 else ""
                self.console.print(
                    f"note: the sound card (ALSA) reported: {message}{times}",
                    style="yellow", markup=False, highlight=False,
                )  # fmt: skip
            self._stderr = None

    def __call__(self, session: LiveCall) -> None:
        log = session.engine.log
        if not self.interactive:
            for record in log[self._printed :]:
                if not isinstance(record, QUIET):
                    self.console.print(
                        describe(record, self.show_numbers), markup=False, highlight=False
                    )
            self._printed = len(log)
            return
        now = time.monotonic()
        if now - self._drawn < REFRESH_S and not session.engine.done:
            return
        self._drawn = now
        if self._live is not None:  # (not after the view: the panel is stopped)
            self._live.update(self.render(session), refresh=True)

    def finish(self, session: LiveCall) -> None:
        """Show the call's last state (its last events): the panel's last draw, inside the
        view; else the event lines not printed yet."""
        if not self.interactive:
            self(session)
        elif self._live is not None:  # (after the view, the panel is drawn already)
            self._live.update(self.render(session), refresh=True)

    def render(self, session: LiveCall) -> Panel:
        engine = session.engine
        result = session.last_result
        voiced = bool(result is not None and result.voiced[-1])
        floor = float(result.floor_dbfs[-1]) if result is not None else -100.0
        deadline = engine.next_deadline()
        countdown = (
            f"{frames_to_seconds(deadline - session.frames):.1f} s"
            if deadline is not None and engine.listening
            else "-"
        )
        state = next(
            (
                r.state
                for r in reversed(engine.log)
                if isinstance(r, EngineRecord) and r.state is not None
            ),
            "-",
        )
        heard = [r for r in engine.log if isinstance(r, Recognized)]
        transcript = heard[-1].text if heard else ""
        head = Table.grid(padding=(0, 2))
        head.add_row("state", state, "time", f"{frames_to_seconds(session.frames):.1f} s")
        head.add_row("listening", "yes" if engine.listening else "no", "timeout in", countdown)
        head.add_row("heard", transcript or "-", "prompts", ", ".join(engine.prompts_said) or "-")
        counters = getattr(session, "stream_counters", None)  # a sound card's line only
        if counters is not None:
            head.add_row("underruns", str(counters.underruns), "overflows", str(counters.overflows))
        events = [r for r in engine.log if not isinstance(r, QUIET)][-SHOWN_EVENTS:]
        lines = Text("\n".join(describe(r, self.show_numbers) for r in events))
        body = Group(head, meter(session.level_dbfs, floor, voiced), lines)
        return Panel(body, title=f"ivr call: {session.script.name}", border_style="blue")
