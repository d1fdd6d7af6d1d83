"""The engine's handling of what a telephone line says besides speech: the network's tones, a
carrier's announcement, and answering-machine detection before the script starts.

- ringback, busy tone or congestion tone heard on an answered call: the call never reached a
  person; it ends at once as `network_tone` (not re-prompted as a silent line);
- the special information tone, or recognized speech with one of the script's
  `carrier_phrases`: a carrier's recorded announcement; the call ends as
  `carrier_announcement`;
- with `amd:`, the script waits for the verdict: a human (or not sure) starts it; a machine
  hangs up as `machine`, or with `leave_message` waits for the greeting's beep (up to
  `beep_timeout_s`) and then enters that state.

The state lives in the Engine (ivr.engine.engine), which this class is a part of.
"""

from __future__ import annotations

from ivr.audio.format import duration_frames, frames_to_seconds
from ivr.detect.line_tones import NETWORK_TONES
from ivr.engine.actions import EngineAction
from ivr.events import MachineVerdict, ToneHeard
from ivr.timeline import LineTone, MachineDetected

LINE_OUTCOMES = ("network_tone", "carrier_announcement", "machine")
"""Outcomes of calls that never reached a person."""

CARRIER_INTENT = "carrier_announcement"
"""The intent under which a script's carrier_phrases are listened for."""


class LineInputs:
    """The Engine's handling of tones and of the answering-machine verdict.

    A part of `Engine`, which holds the phase and provides `_record`, `_enter`, `_run` and
    `_hang_up`.
    """

    def on_tone(self, event: ToneHeard) -> list[EngineAction]:
        """A line tone, at its decided frame (advance to that frame first)."""
        out: list[EngineAction] = []
        if self._phase == "done":
            return out
        now = event.decided_frame
        start_s = round(frames_to_seconds(event.frame), 3)
        self._record(
            LineTone, now, tone=event.kind, tone_start_s=start_s, frequency_hz=event.frequency_hz
        )
        if event.kind in NETWORK_TONES:
            self._hang_up(now, "network_tone", f"{event.kind} tone from {start_s:g} s", out)
        elif event.kind == "sit":
            reason = f"special information tone from {start_s:g} s"
            self._hang_up(now, "carrier_announcement", reason, out)
        elif event.kind == "beep" and self._phase == "awaiting_beep":
            amd = self.script.amd
            assert amd is not None and amd.leave_message is not None
            self._phase = "idle"
            self._enter(amd.leave_message, now)
            self._run(now, out)
        return out

    def on_machine_verdict(self, event: MachineVerdict) -> list[EngineAction]:
        """Answering-machine detection's verdict, at its decided frame."""
        out: list[EngineAction] = []
        amd = self.script.amd
        if amd is None or self._phase != "screening":
            return out
        now = event.decided_frame
        self._record(MachineDetected, now, verdict=event.verdict, cause=event.cause)
        if event.verdict != "machine":
            self._phase = "idle"
            self._enter(self.script.start, now)
            self._run(now, out)
        elif amd.leave_message is None:
            self._hang_up(now, "machine", f"answering machine ({event.cause})", out)
        else:
            self._phase = "awaiting_beep"
            self._beep_until = now + duration_frames(amd.beep_timeout_s)
            self._reason = f"answering machine ({event.cause})"
        return out

    def _beep_timed_out(self, due: int, out: list[EngineAction]) -> None:
        """No beep came after the machine's greeting: hang up as `machine`."""
        amd = self.script.amd
        assert amd is not None
        self._hang_up(due, "machine", f"no beep within {amd.beep_timeout_s:g} s", out)
