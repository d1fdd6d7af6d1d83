"""What a person sees during `ivr dial`: the live panel of `ivr call` (ivr.cli.live_view) with
the line's state on top — calling, ringing (with how long until we give up), answered — and,
when stdout is not a terminal, one plain line per event instead:

       0.00 s  calling sip:138****5678@127.0.0.1:5070
       0.31 s  ringing
       2.12 s  answered
       0.00 s  prompt_started [opening]  prompt=opening, ...

Times before the answer are seconds since dialing; from the answer on, the call's own time
(the timeline's), as `ivr call` prints them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.panel import Panel
from rich.text import Text

from ivr.audio.format import frames_to_seconds
from ivr.cli.live_view import LiveView
from ivr.privacy import mask_number

if TYPE_CHECKING:
    from rich.console import Console

    from ivr.call.session import CallSession
    from ivr.sip.call import SipCall


def line_event(seconds: float, what: str) -> str:
    """One plain line of the line's state: `   2.12 s  answered`, aligned with the event lines
    (ivr.cli.live_view.describe)."""
    return f"{seconds:8.2f} s  {what}"


class AnsweredCall:
    """The answered call as the live panel reads it (what ivr.call.live.LiveCall offers): the
    session's engine, frames heard, detector results, the last frame's level, the script."""

    def __init__(self, session: CallSession) -> None:
        self.session = session
        self.script = session.engine.script
        self.level_dbfs = -100.0
        """Level of the last frame heard (dBFS)."""

    @property
    def engine(self) -> Any:
        return self.session.engine

    @property
    def frames(self) -> int:
        return self.session.frames

    @property
    def last_result(self) -> Any:
        return self.session.last_result

    def hear(self, samples: np.ndarray) -> None:
        """Take the level (dBFS) of a block's last frame."""
        last = samples[-1].astype(np.float32)
        self.level_dbfs = float(10 * np.log10(max(np.mean(last * last) / 32768.0**2, 1e-10)))


class DialView(LiveView):
    """Follows one dialed SIP call: its ringing (`ringing`, the SIP callee's `on_ring`), then
    every block of the answered call (`on_block`, a session observer)."""

    def __init__(
        self, console: Console, uri: str, answer_timeout_s: float, show_numbers: bool = False
    ) -> None:
        super().__init__(console, show_numbers)
        self.uri = uri if show_numbers else mask_number(uri)
        self.answer_timeout_s = answer_timeout_s
        self.call: AnsweredCall | None = None
        self._dialed = time.monotonic()
        self._state = ""

    def _line(self, what: str, at_s: float | None = None) -> None:
        """Print a line state change on a pipe, at `at_s` (s, the call's time) or else at the
        seconds since dialing."""
        if not self.interactive:
            at_s = time.monotonic() - self._dialed if at_s is None else at_s
            self.console.print(line_event(at_s, what), markup=False, highlight=False)

    def __enter__(self) -> DialView:
        super().__enter__()
        self._line(f"calling {self.uri}")
        self._state = "calling"
        return self

    def ringing(self, call: SipCall) -> None:
        """The call before the answer (every 20 ms or so): its state, on a change."""
        state = call.state
        if state != self._state:
            self._state = state
            if state != "calling":
                self._line(state)
        if self.interactive and self._live is not None:
            now = time.monotonic()
            if now - self._drawn >= 0.1:
                self._drawn = now
                self._live.update(self._ringing_panel(now - self._dialed), refresh=True)

    def _ringing_panel(self, elapsed: float) -> Panel:
        left = max(self.answer_timeout_s - elapsed, 0.0)
        body = Text(f"{self._state} {self.uri}   {elapsed:.1f} s, giving up in {left:.0f} s")
        return Panel(body, title="ivr dial", border_style="blue")

    def on_block(self, session: CallSession, samples: np.ndarray, base: int, stop: int) -> None:
        """A block of the answered call: the first says it was answered; each updates the
        panel (or prints the new events)."""
        if self.call is None:
            self.call = AnsweredCall(session)
            self._state = "answered"
            self._line("answered")
        self.call.hear(samples)
        self(self.call)  # type: ignore[arg-type]  # AnsweredCall reads as a LiveCall

    def render(self, session: Any) -> Panel:
        panel = super().render(session)
        panel.title = f"ivr dial: {session.script.name}, answered {self.uri}"
        return panel

    def end(self, outcome: str) -> None:
        """The call is over: the last events, then its outcome on a pipe (the panel shows the
        last state)."""
        if self.call is None:
            self._line(f"ended: {outcome}")
            return
        self.finish(self.call)  # type: ignore[arg-type]
        result = self.call.engine.result
        frame = result.frame if result is not None else self.call.frames
        self._line(f"ended: {outcome}", frames_to_seconds(frame))


__all__ = ["AnsweredCall", "DialView", "line_event"]
