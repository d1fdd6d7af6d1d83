"""When the engine's next timer fires, from its named state (ivr.engine.state): a listening
window's no-input deadline, the end of an utterance or of its max_speech_s, the still-listening
cue, a pause, the wait for a machine's beep, and always the call's max_call_s.
"""

from __future__ import annotations

from ivr.engine.etiquette import cue_frame
from ivr.engine.state import DetectorSpeech, ListenWindow, Phase, Utterance


def max_speech_frame(window: ListenWindow, utterance: Utterance) -> int:
    """The frame the utterance in progress reaches the window's max_speech_s."""
    return utterance.start + window.max_speech_frames


def listening_due(window: ListenWindow, utterance: Utterance, detected: DetectorSpeech) -> int:
    """The next timer of a listening window: with speech open, its max_speech_s (or the
    deadline, to judge what goes on); after a piece, the utterance's end (or the cue before
    it); else the no-input deadline."""
    if utterance.open_start is not None:
        due = max_speech_frame(window, utterance)
        if not window.speaking_at_deadline and detected.measured is not None:
            due = min(due, window.deadline)  # is what goes on speech to us?
        return due
    if utterance.end is not None:
        cue = cue_frame(window.listen, utterance)
        return cue if cue is not None and cue < utterance.end else utterance.end
    return window.deadline


def next_due(
    phase: Phase,
    window: ListenWindow | None,
    utterance: Utterance,
    detected: DetectorSpeech,
    waits_until: int,
    max_frame: int,
) -> int | None:
    """The next frame a timer fires in `phase`, or None once the call is over. `waits_until`
    is the end of a pause or of the wait for a beep; no timer is later than `max_frame`."""
    if phase is Phase.LISTENING:
        assert window is not None
        due = listening_due(window, utterance, detected)
    elif phase is Phase.PAUSING or phase is Phase.AWAITING_BEEP:
        due = waits_until
    elif phase is Phase.DONE:
        return None
    else:
        return max_frame
    return due if due < max_frame else max_frame
