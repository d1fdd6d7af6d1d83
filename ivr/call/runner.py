"""The call runner: the dialog engine and a frame-ordered scheduler between two audio ports.

For each block of the callee's audio the runner is given the inputs decided in it (detector
events, keys) and the noise floor per frame, and hands the engine everything that happens at
frames base+1 .. end in frame order: the end of our prompt's playout (reported by our-audio
port), the inputs at their decided frames, and the engine's timers. At the same frame the
order is playout, then inputs, then timers (`Due`). The runner reads no clock and no audio:
replay, live calls and the tuner run the very same scheduling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Protocol, assert_never

import numpy as np

from ivr.call.watchers import Watcher
from ivr.engine import Engine, EngineAction, HangUp, PlayPrompt, StopPrompt
from ivr.events import InputEvent
from ivr.transports.base import OurAudio


class Due(IntEnum):
    """What falls due at a frame, in the order things at the same frame are handled."""

    PLAYOUT = 0
    """Our prompt finished playing out."""
    INPUT = 1
    """An input event was decided."""
    TIMER = 2
    """One of the engine's timers fires."""


_NEVER = 1 << 62
"""A frame after any call's end."""


def _decided_frame(event: InputEvent) -> int:
    return event.decided_frame


class InputWatcher(Protocol):
    """Something that follows the inputs around the engine (recognition, echo check)."""

    def before(self, event: InputEvent) -> None:
        """Before the engine hears `event`."""

    def admits(self, event: InputEvent) -> bool:
        """Whether the engine hears `event` at all (False: our own echo)."""

    def after(self, event: InputEvent) -> None:
        """After the engine heard `event`."""

    def after_time(self, frame: int) -> None:
        """After our playout ended or a timer fired at `frame`."""


class CallRunner:
    """Runs one call: `engine` driven in frame order, prompts to `speaker`."""

    def __init__(
        self, engine: Engine, speaker: OurAudio, watchers: Sequence[InputWatcher] = ()
    ) -> None:
        self.engine = engine
        self.speaker = speaker
        # each watcher's hooks, leaving out those it does not override (the tuner runs this
        # for every call of every combination)
        self._before = _hooks(watchers, "before")
        self._admits = _hooks(watchers, "admits")
        self._after = _hooks(watchers, "after")
        self._after_time_hooks = _hooks(watchers, "after_time")
        self._playout_end: int | None = None
        self._now = 0  # the last frame handled

    def start(self, frame: int = 0) -> None:
        """Begin the call at `frame`."""
        self._now = frame
        self._act(self.engine.start(frame))

    def end(self, frame: int, outcome: str, reason: str) -> None:
        """End the call from outside (Ctrl-C, a failed device, a line hung up) at `frame`."""
        self._act(self.engine.end(frame, outcome, reason))

    def hangs_up_by(self) -> int:
        """A frame by which the call will have hung up, whatever is heard (audio after it
        need not be listened to)."""
        return self.engine.hangs_up_by(self._playout_end)

    @property
    def done(self) -> bool:
        """Whether the call has hung up."""
        return self.engine.done

    def step(
        self,
        base: int,
        end: int,
        inputs: Sequence[InputEvent],
        floor_dbfs: np.ndarray,
        ordered: bool = False,
    ) -> None:
        """Hand the engine everything that happens at frames base+1 .. end, in order.

        `inputs` are handed over by decided frame, in their given order among equals
        (`ordered`: they are sorted so already); `floor_dbfs` is the noise floor (dBFS) in
        force at each frame of the block (frame base + i at index i)."""
        engine = self.engine
        if base > self._now:
            self._now = base
        self._poll_speaker()
        if not ordered and len(inputs) > 1:
            inputs = sorted(inputs, key=_decided_frame)
        count, i = len(inputs), 0
        last = len(floor_dbfs) - 1
        playout_first, input_next, timer_next = Due.PLAYOUT, Due.INPUT, Due.TIMER
        while not engine.done:
            # the earliest of: the next input, our playout's end, the engine's next timer;
            # at one frame in Due order
            frame = inputs[i].decided_frame if i < count else _NEVER
            due = input_next
            playout = self._playout_end
            if playout is not None and playout <= frame:
                frame, due = playout, playout_first
            deadline = engine.next_deadline()
            if deadline is not None and deadline < frame:
                frame, due = deadline, timer_next
            if frame > end:
                return
            self._now = frame
            if due is input_next:
                engine.floor_dbfs = float(floor_dbfs[min(max(frame - base - 1, 0), last)])
                i += 1
                self._input(inputs[i - 1])
            elif due is playout_first:
                self._playout_end = None
                self._act(engine.on_playback_finished(frame))
                self._after_time(frame)
            else:
                floor = float(floor_dbfs[min(max(frame - base - 1, 0), last)])
                self._act(engine.advance(frame, floor))
                self._after_time(frame)

    def _input(self, event: InputEvent) -> None:
        for before in self._before:
            before(event)
        for admits in self._admits:
            if not admits(event):
                return
        self._act(self.engine.on_input(event))
        for after in self._after:
            after(event)

    def _after_time(self, frame: int) -> None:
        for after_time in self._after_time_hooks:
            after_time(frame)

    def _act(self, actions: list[EngineAction]) -> None:
        for action in actions:
            match action:
                case PlayPrompt():
                    self.speaker.play(action)
                    self._poll_speaker()
                case StopPrompt():
                    self.speaker.stop(action.frame)
                    self._playout_end = None
                case HangUp():
                    pass
                case _:
                    assert_never(action)

    def _poll_speaker(self) -> None:
        """Take the playout end our-audio port reports, never earlier than now."""
        finished = self.speaker.finished()
        if finished is not None:
            self._playout_end = max(finished, self._now)


def _hooks(watchers: Sequence[InputWatcher], name: str) -> tuple[Callable, ...]:
    """The watchers' bound `name` methods, without the do-nothing ones of `Watcher`."""
    plain = getattr(Watcher, name)
    return tuple(getattr(w, name) for w in watchers if getattr(type(w), name, None) is not plain)


__all__ = ["CallRunner", "Due", "InputWatcher"]
