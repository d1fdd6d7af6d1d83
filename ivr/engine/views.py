"""What the call runner and its watchers ask of the engine between inputs: whether speech
would barge in, which segment is being heard, which intents to listen for, and a frame by which
the call is sure to hang up. The state lives in the Engine (ivr.engine.engine), which this class
is a part of.
"""

from __future__ import annotations

from ivr.audio.format import duration_frames
from ivr.engine.line import CARRIER_INTENT
from ivr.script.model import Hangup, Pause


class EngineViews:
    """Read-only questions about the Engine's state (a part of `Engine`)."""

    def hangs_up_by(self, playout_end: int | None) -> int:
        """A frame by which the call hangs up whatever the callee does: the end of the pause
        before a hang-up already under way (from `playout_end`, the frame the prompt playing
        finishes, if it is followed by a pause and the hang-up and cannot be barged in on),
        else the call's max_call_s."""
        queue = self._queue
        if self._phase == "pausing" and queue and isinstance(queue[0], Hangup):
            return min(self._pause_until, self._max_frame)
        playing = self._phase == "playing" and not self.barge_in_possible()
        if playing and playout_end is not None and len(queue) == 2:
            pause, last = queue
            if isinstance(pause, Pause) and isinstance(last, Hangup):
                return min(playout_end + duration_frames(pause.seconds), self._max_frame)
        return self._max_frame

    def barge_in_possible(self) -> bool:
        """Whether speech starting now would interrupt the prompt playing (barge-in)."""
        return self._phase == "playing" and (
            self._cue_playing
            or (
                self._state is not None
                and self._state.listen is not None
                and self._state.listen.barge_in
            )
        )

    def hearing(self) -> tuple[int, int] | None:
        """The speech segment being counted now: (its start frame, the frame it is heard
        from), or None."""
        if self._phase != "listening" or self._open_start is None:
            return None
        return self._open_start, self._heard_from

    def is_hearing(self, start_frame: int) -> bool:
        """Whether the speech segment that started at `start_frame` is being counted."""
        return self._phase == "listening" and self._open_start == start_frame

    def intents(self) -> dict[str, tuple[str, ...]]:
        """The intents the current state listens for (empty when none), with the script's
        carrier phrases under `carrier_announcement`."""
        intents = dict(self._state.intents) if self._state is not None else {}
        if self.script.carrier_phrases:
            intents[CARRIER_INTENT] = self.script.carrier_phrases
        return intents
