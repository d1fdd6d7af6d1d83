"""The script being performed: the current state, the queue of its actions still to carry out,
how many times each dialog event came in the state, the reason the next hang-up gives, and the
`Phase` of the call.

`ScriptRunner` carries out the actions that need only the script (say, pause, set a gain or a
volume, go to a state, hang up) and hands back the steps that need another part of the engine
(start listening, a hold's steps: ivr.engine.engine composes them). It writes the engine's
records to the `Timeline` it is given.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple, assert_never

from ivr.audio.format import duration_frames
from ivr.engine.actions import EngineAction, HangUp, PlayPrompt
from ivr.engine.state import Phase
from ivr.engine.utterance import PieceLevels
from ivr.script.model import (
    Action,
    Goto,
    HangupAction,
    Hold,
    Pause,
    Say,
    Script,
    SetInputGain,
    SetOutputVolume,
    State,
)
from ivr.timeline import (
    DialogEventRecord,
    EngineRecord,
    HungUp,
    InputGain,
    OutputVolume,
    PauseStarted,
    PromptStarted,
    StateEntered,
    Timeline,
)
from ivr.vocabulary import Outcome

CARRIER_INTENT: str = Outcome.CARRIER_ANNOUNCEMENT
"""The intent under which a script's carrier_phrases are listened for (recognized, the call
ends as that outcome)."""


class StartListening:
    """Queue marker: listen in the current state once the actions before it are done."""


class HoldStep:
    """Queue marker: the hold's next step (wait, or say the next hold prompt, or end it)."""


LISTEN = StartListening()
HOLD_STEP = HoldStep()

Step = Action | StartListening | HoldStep
"""What the queue holds: the script's actions and the engine's markers."""


class Judged(NamedTuple):
    """A dialog event heard from the callee, with the levels of the utterance that made it
    (for the record; None when there was none)."""

    event: str
    levels: PieceLevels | None = None


class ScriptRunner:
    """Performs `script`'s states and actions; its records go to `timeline`."""

    def __init__(self, script: Script, timeline: Timeline) -> None:
        self.script = script
        self.timeline = timeline
        self.phase = Phase.IDLE
        self.state: State | None = None
        """The script state the call is in (None before the first)."""
        self.queue: deque[Step] = deque()
        """The actions still to carry out, in order."""
        self.counters: dict[str, int] = {}
        """How many times each dialog event came in the current state."""
        self.reason = "start"
        """Why the call would hang up now: the last dialog event, or the machine verdict."""
        self.max_frame = duration_frames(script.max_call_s)
        """The frame the call reaches max_call_s."""
        self.pause_until = 0
        """While pausing: the frame the pause ends."""
        self.result: HangUp | None = None
        """The hang-up, once the call is over."""
        self.prompts_said: list[str] = []
        self.gain_db = 0.0
        """Input gain (dB) applied to the callee's measured levels."""
        self.volume_db = 0.0
        """Output volume of our prompts (dB)."""

    @property
    def state_name(self) -> str | None:
        """The current state's name, for the records (None before the first state)."""
        return self.state.name if self.state is not None else None

    def add(self, record: EngineRecord) -> None:
        """Add the engine's `record` to the timeline."""
        self.timeline.add(record)

    def enter(self, name: str, now: int) -> None:
        """Enter state `name` at `now`: queue its prompts and its listening, or its actions."""
        state = self.script.states[name]
        self.state = state
        self.counters = {}
        self.queue.clear()
        self.queue.extend(Say(p) for p in state.say)
        if state.listen is not None:
            self.queue.append(LISTEN)
        else:
            self.queue.extend(state.actions)
        self.add(StateEntered(now, self.state_name))

    def run(self, now: int, out: list[EngineAction]) -> StartListening | HoldStep | Hold | None:
        """Carry out queued actions until one takes time or the call ends (None), or until a
        step that another part of the engine carries out (returned, taken off the queue)."""
        while self.queue and self.phase is Phase.IDLE:
            if now >= self.max_frame:
                self.hang_up(now, Outcome.MAX_DURATION, self.max_call_reason, out)
                return None
            action = self.queue.popleft()
            match action:
                case StartListening() | HoldStep() | Hold():
                    return action
                case Say():
                    self.say(action.prompt, now, out)
                case Pause():
                    self.pause(now, now + duration_frames(action.seconds), action.seconds)
                case SetInputGain():
                    self.gain_db = action.db
                    self.add(InputGain(now, self.state_name, db=action.db))
                case SetOutputVolume():
                    self.volume_db = action.db
                    self.add(OutputVolume(now, self.state_name, db=action.db))
                case Goto():
                    self.enter(action.state, now)
                case HangupAction():
                    self.hang_up(now, action.outcome, self.reason, out)
                case _:
                    assert_never(action)
        return None

    @property
    def max_call_reason(self) -> str:
        """The reason a call hung up at max_call_s gives."""
        return f"call reached {self.script.max_call_s:g} s"

    def pause(self, now: int, until: int, seconds: float) -> None:
        """Pause from `now` to frame `until` (`seconds`, for the record)."""
        self.pause_until = until
        self.phase = Phase.PAUSING
        self.add(PauseStarted(now, self.state_name, seconds=seconds))

    def say(self, prompt: str, now: int, out: list[EngineAction]) -> None:
        """Start playing `prompt` at `now`."""
        out.append(PlayPrompt(prompt, self.script.prompts[prompt], now, self.volume_db))
        self.prompts_said.append(prompt)
        self.phase = Phase.PLAYING
        self.add(PromptStarted(now, self.state_name, prompt=prompt))

    def hang_up(self, now: int, outcome: str, reason: str, out: list[EngineAction]) -> None:
        """End the call at `now` as `outcome`."""
        self.phase = Phase.DONE
        self.queue.clear()
        self.result = HangUp(now, outcome, reason)
        self.add(HungUp(now, self.state_name, outcome=outcome, reason=reason))
        out.append(self.result)

    def handle(
        self,
        judged: Judged,
        now: int,
        out: list[EngineAction],
        floor_dbfs: float | None = None,
        key: str | None = None,
    ) -> bool:
        """Dialog event `judged` at `now` (with the floor of a timed-out window or the key that
        made it, for the record): queue its handler's actions (True), or, with no handler in
        the state, leave the queue be (False: listen on). A carrier's announcement ends the
        call (True)."""
        state = self.state
        assert state is not None
        event = judged.event
        if event == CARRIER_INTENT:  # a carrier's recorded announcement, not the callee
            reason = "carrier announcement recognized"
            self.hang_up(now, Outcome.CARRIER_ANNOUNCEMENT, reason, out)
            return True
        count = self.counters.get(event, 0) + 1
        self.counters[event] = count
        handler = state.handler_for(event, count, key)
        levels = judged.levels
        pieces, level_dbfs, snr_db = levels if levels is not None else (None, None, None)
        self.add(
            DialogEventRecord(
                now,
                state.name,
                event,
                count,
                floor_dbfs=floor_dbfs,
                pieces=pieces,
                level_dbfs=level_dbfs,
                snr_db=snr_db,
                key=key,
            )
        )
        self.phase = Phase.IDLE
        self.reason = f"{event} #{count} in {state.name}"
        if handler is None:
            return False
        self.queue.clear()
        self.queue.extend(handler.actions)
        if not handler.actions or not isinstance(handler.actions[-1], Goto | HangupAction):
            self.queue.append(LISTEN)
        return True
