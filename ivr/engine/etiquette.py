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

The state lives in the Engine (ivr.engine.engine), which this class is a part of.
"""

from __future__ import annotations

from ivr.audio.format import duration_frames, frames_to_seconds
from ivr.engine.actions import EngineAction, PlayPrompt
from ivr.script.model import STILL_LISTENING_PROMPT, Goto, Hold, Say
from ivr.timeline import HoldEnded, HoldStarted, PauseStarted, PromptStarted, StillListening


class HoldStep:
    """Queue marker: the hold's next step (wait, or say the next hold prompt, or end it)."""


HOLD_STEP = HoldStep()


class Etiquette:
    """The Engine's hold and still-listening cue.

    A part of `Engine`, which holds the queue and phase and provides `_record`, `_queue`,
    `_listen`, `_utterance`, `_utt_start` and `_utt_end`.
    """

    # --- hold -------------------------------------------------------------------------------

    def _start_hold(self, hold: Hold, now: int) -> None:
        self._hold = hold
        self._hold_end = now + duration_frames(hold.seconds)
        self._hold_callback_at = (
            now + duration_frames(hold.callback_after_s) if hold.callback is not None else None
        )
        self._hold_waited = False
        self._record(HoldStarted, now, seconds=hold.seconds)
        self._queue.extendleft((HOLD_STEP, Say("hold_start")))

    def _hold_step(self, now: int) -> None:
        """After a hold prompt's playout: wait; after a wait: the next prompt, or the end."""
        hold = self._hold
        assert hold is not None
        callback_at = self._hold_callback_at
        if not self._hold_waited:
            due = min(now + duration_frames(hold.every_s), self._hold_end)
            if callback_at is not None:
                due = min(due, callback_at)
            self._hold_waited = True
            self._pause_until = max(due, now)
            self._phase = "pausing"
            self._record(PauseStarted, now, seconds=frames_to_seconds(self._pause_until - now))
            self._queue.appendleft(HOLD_STEP)
            return
        self._hold_waited = False
        if callback_at is not None and now >= callback_at and callback_at < self._hold_end:
            self._hold = None
            self._record(HoldEnded, now, how="callback")
            self._queue.clear()
            self._queue.append(Goto(hold.callback))
        elif now >= self._hold_end:
            self._hold = None
            self._record(HoldEnded, now, how="returned")
            self._queue.appendleft(Say("hold_return"))
        else:
            self._queue.extendleft((HOLD_STEP, Say("hold_progress")))

    # --- still listening --------------------------------------------------------------------

    def _cue_frame(self) -> int | None:
        """The frame the still-listening prompt is due in the utterance's pause, or None."""
        listen = self._listen
        if listen is None or listen.still_listening_after_s is None or self._cue_said:
            return None
        if self._utt_end is None or not self._utterance:
            return None
        last_end = self._utterance[-1].end
        if last_end - self._utt_start < duration_frames(listen.still_listening_min_speech_s):
            return None
        return last_end + duration_frames(listen.still_listening_after_s)

    def _say_still_listening(self, now: int, out: list[EngineAction]) -> None:
        """The callee paused mid-explanation: say we are listening, keeping the utterance."""
        last_end = self._utterance[-1].end
        self._cue_said, self._cue_playing = True, True
        self._record(StillListening, now, pause_s=frames_to_seconds(now - last_end))
        text = self.script.prompts[STILL_LISTENING_PROMPT]
        out.append(PlayPrompt(STILL_LISTENING_PROMPT, text, now, self.volume_db))
        self.prompts_said.append(STILL_LISTENING_PROMPT)
        self._phase = "playing"
        self._utt_end = None
        self._record(PromptStarted, now, prompt=STILL_LISTENING_PROMPT)

    def _cue_finished(self, now: int) -> None:
        """The still-listening prompt ended (played out or cut short): listen on, the
        utterance still open; it ends end_of_speech_s from now unless speech resumes."""
        assert self._listen is not None
        self._cue_playing = False
        self._phase = "listening"
        self._utt_end = now + duration_frames(self._listen.end_of_speech_s)
