"""Hold etiquette and the still-listening cue (seed 000 三、6, 三、8, 三、9), in audio time.

Hold: `hold_start` is said; each time `every_s` of silence have passed since a hold prompt
finished playing out, `hold_progress`; when the hold's `seconds` (counted from its start) are
up, `hold_return`, and the actions after the hold go on; with a `callback` state, reaching
`callback_after_s` of hold goes there instead. The waits are pauses: the callee's speech does
not count while on hold.

Still listening: in a state with `still_listening_after_s`, a pause of that long inside an
utterance that has lasted `still_listening_min_speech_s` gets the `still_listening` prompt;
the callee's speech cuts it short and the utterance goes on; it ends end_of_speech_s after the
prompt's playout, or after the callee's next pause.

The hold's state is a `HoldProgress`, the cue's the `Utterance` (ivr.engine.state) of the
`Hearing` it is given; both carry out their steps on the `ScriptRunner` it is given.
"""

from __future__ import annotations

from ivr.audio.format import duration_frames, frames_to_seconds
from ivr.engine.actions import EngineAction
from ivr.engine.dialog import HOLD_STEP, ScriptRunner
from ivr.engine.hearing import Hearing
from ivr.engine.state import HoldProgress, Phase, Utterance
from ivr.script.model import STILL_LISTENING_PROMPT, Goto, Hold, Listen, Say
from ivr.timeline import HoldEnded, HoldStarted, StillListening


def cue_frame(listen: Listen | None, utterance: Utterance) -> int | None:
    """The frame the still-listening prompt is due in the utterance's pause, or None."""
    if listen is None or listen.still_listening_after_s is None or utterance.cue_said:
        return None
    if utterance.end is None or not utterance.pieces:
        return None
    last_end = utterance.pieces[-1].end
    if last_end - utterance.start < duration_frames(listen.still_listening_min_speech_s):
        return None
    return last_end + duration_frames(listen.still_listening_after_s)


class Etiquette:
    """Holds and the still-listening cue, in the call `runner` performs and the utterances
    `hearing` hears."""

    def __init__(self, runner: ScriptRunner, hearing: Hearing) -> None:
        self.runner = runner
        self.hearing = hearing
        self.hold: HoldProgress | None = None
        """The hold under way, or None."""
        self.cue_playing = False
        """The prompt playing is the still-listening prompt."""

    # --- hold -------------------------------------------------------------------------------

    def start_hold(self, hold: Hold, now: int) -> None:
        callback = (
            now + duration_frames(hold.callback_after_s) if hold.callback is not None else None
        )
        self.hold = HoldProgress(hold, now + duration_frames(hold.seconds), callback)
        self.runner.add(HoldStarted(now, self.runner.state_name, seconds=hold.seconds))
        self.runner.queue.extendleft((HOLD_STEP, Say("hold_start")))

    def hold_step(self, now: int) -> None:
        """After a hold prompt's playout: wait; after a wait: the next prompt, or the end."""
        progress = self.hold
        assert progress is not None
        callback_at, end = progress.callback_at, progress.end
        if not progress.waited:
            due = min(now + duration_frames(progress.hold.every_s), end)
            if callback_at is not None:
                due = min(due, callback_at)
            progress.waited = True
            until = max(due, now)
            self.runner.pause(now, until, frames_to_seconds(until - now))
            self.runner.queue.appendleft(HOLD_STEP)
            return
        progress.waited = False
        if callback_at is not None and now >= callback_at and callback_at < end:
            self.hold = None
            self.runner.add(HoldEnded(now, self.runner.state_name, how="callback"))
            self.runner.queue.clear()
            assert progress.hold.callback is not None
            self.runner.queue.append(Goto(progress.hold.callback))
        elif now >= end:
            self.hold = None
            self.runner.add(HoldEnded(now, self.runner.state_name, how="returned"))
            self.runner.queue.appendleft(Say("hold_return"))
        else:
            self.runner.queue.extendleft((HOLD_STEP, Say("hold_progress")))

    # --- still listening --------------------------------------------------------------------

    def say_still_listening(self, now: int, out: list[EngineAction]) -> None:
        """The callee paused mid-explanation: say we are listening, keeping the utterance."""
        utt = self.hearing.utterance
        last_end = utt.pieces[-1].end
        utt.cue_said, self.cue_playing = True, True
        pause_s = frames_to_seconds(now - last_end)
        self.runner.add(StillListening(now, self.runner.state_name, pause_s=pause_s))
        self.runner.say(STILL_LISTENING_PROMPT, now, out)
        utt.end = None

    def cue_finished(self, now: int) -> None:
        """The still-listening prompt ended (played out or cut short): listen on, the
        utterance still open; it ends end_of_speech_s from now unless speech resumes."""
        self.cue_playing = False
        self.runner.phase = Phase.LISTENING
        hearing = self.hearing
        hearing.utterance.end = now + hearing.current_window.end_of_speech_frames
