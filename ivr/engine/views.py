"""What the call runner and its watchers ask of the engine between inputs: whether speech
would barge in, which segment is being heard, which intents to listen for, and a frame by which
the call is sure to hang up, read from the engine's parts: the `ScriptRunner`, the `Hearing`
and the `Etiquette`.
"""

from __future__ import annotations

from ivr.audio.format import duration_frames
from ivr.engine.dialog import CARRIER_INTENT, ScriptRunner
from ivr.engine.etiquette import Etiquette
from ivr.engine.hearing import Hearing
from ivr.engine.state import Phase
from ivr.script.model import HangupAction, Pause


class EngineViews:
    """Read-only questions about the call `runner` performs, `hearing` hears and
    `etiquette` holds."""

    def __init__(self, runner: ScriptRunner, hearing: Hearing, etiquette: Etiquette) -> None:
        self.runner = runner
        self.hearing_part = hearing
        self.etiquette = etiquette

    def hangs_up_by(self, playout_end: int | None) -> int:
        """A frame by which the call hangs up whatever the callee does: the end of the pause
        before a hang-up already under way (from `playout_end`, the frame the prompt playing
        finishes, if it is followed by a pause and the hang-up and cannot be barged in on),
        else the call's max_call_s."""
        runner = self.runner
        queue, max_frame = runner.queue, runner.max_frame
        if runner.phase is Phase.PAUSING and queue and isinstance(queue[0], HangupAction):
            return min(runner.pause_until, max_frame)
        playing = runner.phase is Phase.PLAYING and not self.barge_in_possible()
        if playing and playout_end is not None and len(queue) == 2:
            pause, last = queue
            if isinstance(pause, Pause) and isinstance(last, HangupAction):
                return min(playout_end + duration_frames(pause.seconds), max_frame)
        return max_frame

    def barge_in_possible(self) -> bool:
        """Whether speech starting now would interrupt the prompt playing (barge-in)."""
        state = self.runner.state
        return self.runner.phase is Phase.PLAYING and (
            self.etiquette.cue_playing
            or (state is not None and state.listen is not None and state.listen.barge_in)
        )

    def hearing(self) -> tuple[int, int] | None:
        """The speech segment being counted now: (its start frame, the frame it is heard
        from), or None."""
        utt = self.hearing_part.utterance
        if not self.hearing_part.listening or utt.open_start is None:
            return None
        return utt.open_start, utt.heard_from

    def is_hearing(self, start_frame: int) -> bool:
        """Whether the speech segment that started at `start_frame` is being counted."""
        hearing = self.hearing_part
        return hearing.listening and hearing.utterance.open_start == start_frame

    def intents(self) -> dict[str, tuple[str, ...]]:
        """The intents the current state listens for (empty when none), with the script's
        carrier phrases under `carrier_announcement`."""
        state, script = self.runner.state, self.runner.script
        intents = dict(state.intents) if state is not None else {}
        if script.carrier_phrases:
            intents[CARRIER_INTENT] = script.carrier_phrases
        return intents
