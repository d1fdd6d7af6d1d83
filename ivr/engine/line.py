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

It moves the `ScriptRunner`'s `Phase` (screening, awaiting_beep) and enters the script's
state, or ends the call with an `Outcome`; the engine then runs the actions queued.
"""

from __future__ import annotations

from ivr.audio.format import duration_frames, frames_to_seconds
from ivr.detect.line_tones import NETWORK_TONES
from ivr.engine.actions import EngineAction
from ivr.engine.dialog import CARRIER_INTENT, ScriptRunner
from ivr.engine.state import Phase
from ivr.events import MachineVerdict, ToneHeard
from ivr.timeline import LineTone, MachineDetected
from ivr.vocabulary import Outcome

__all__ = ["CARRIER_INTENT", "LineInputs"]


class LineInputs:
    """Tones and the answering-machine verdict, for the call `runner` performs."""

    def __init__(self, runner: ScriptRunner) -> None:
        self.runner = runner
        self.beep_until = 0
        """While awaiting the beep: the frame we stop waiting for it."""

    def on_tone(self, event: ToneHeard) -> list[EngineAction]:
        """A line tone, at its decided frame (advance to that frame first); the engine runs
        the actions of a state entered."""
        out: list[EngineAction] = []
        runner = self.runner
        if runner.phase is Phase.DONE:
            return out
        now = event.decided_frame
        start_s = round(frames_to_seconds(event.frame), 3)
        runner.add(
            LineTone(now, runner.state_name, event.kind, start_s, frequency_hz=event.frequency_hz)
        )
        if event.kind in NETWORK_TONES:
            runner.hang_up(now, Outcome.NETWORK_TONE, f"{event.kind} tone from {start_s:g} s", out)
        elif event.kind == "sit":
            reason = f"special information tone from {start_s:g} s"
            runner.hang_up(now, Outcome.CARRIER_ANNOUNCEMENT, reason, out)
        elif event.kind == "beep" and runner.phase is Phase.AWAITING_BEEP:
            amd = runner.script.amd
            assert amd is not None and amd.leave_message is not None
            runner.phase = Phase.IDLE
            runner.enter(amd.leave_message, now)
        return out

    def on_machine_verdict(self, event: MachineVerdict) -> list[EngineAction]:
        """Answering-machine detection's verdict, at its decided frame; the engine runs the
        actions of a state entered."""
        out: list[EngineAction] = []
        runner = self.runner
        amd = runner.script.amd
        if amd is None or runner.phase is not Phase.SCREENING:
            return out
        now = event.decided_frame
        verdict, cause = event.verdict, event.cause
        runner.add(MachineDetected(now, runner.state_name, verdict=verdict, cause=cause))
        if event.verdict != "machine":
            runner.phase = Phase.IDLE
            runner.enter(runner.script.start, now)
        elif amd.leave_message is None:
            runner.hang_up(now, Outcome.MACHINE, f"answering machine ({event.cause})", out)
        else:
            runner.phase = Phase.AWAITING_BEEP
            self.beep_until = now + duration_frames(amd.beep_timeout_s)
            runner.reason = f"answering machine ({event.cause})"
        return out

    def beep_timed_out(self, due: int, out: list[EngineAction]) -> None:
        """No beep came after the machine's greeting: hang up as `machine`."""
        runner = self.runner
        amd = runner.script.amd
        assert amd is not None
        runner.hang_up(due, Outcome.MACHINE, f"no beep within {amd.beep_timeout_s:g} s", out)
