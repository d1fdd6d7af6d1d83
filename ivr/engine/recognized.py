"""What recognition heard, as the engine takes it: the result's shape, its timeline record, and
the dialog event it makes in a state (an intent, `unmatched`, `nomatch` or plain `speech`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ivr.script.model import State
from ivr.timeline import Recognized
from ivr.vocabulary import DialogEvent


class RecognitionLike(Protocol):
    """What the engine needs of a recognition result (see ivr.asr.recognizer.Recognition)."""

    text: str
    intent: str | None
    confidence: float
    rejected: bool


def recognized_record(frame: int, state: str | None, result: RecognitionLike) -> Recognized:
    """The `recognized` timeline record of `result` at `frame` in `state`: text, intent,
    confidence, rejection and its reason, the words with their call times (s) and confidences,
    the free transcript."""
    words = [
        [w.word, round(w.start_s, 3), round(w.end_s, 3), round(w.conf, 3)]
        for w in getattr(result, "words", ())
    ]
    return Recognized(
        frame,
        state,
        text=result.text,
        intent=result.intent,
        confidence=round(result.confidence, 3),
        rejected=result.rejected,
        reason=getattr(result, "reason", ""),
        words=words,
        free_text=getattr(result, "free_text", ""),
    )


def understood_event(
    state: State, recognizes: bool, heard: Sequence[RecognitionLike], carrier: str = ""
) -> str:
    """The event for speech heard clearly in `state`: an intent, `unmatched`, `nomatch`, or
    `speech` (no recognition, or a state without intents); `carrier` (the intent a script's
    carrier phrases are listened for under) when a carrier's announcement was recognized."""
    if carrier and any(r.intent == carrier and not r.rejected for r in heard):
        return carrier
    if not recognizes or not state.intents:
        return DialogEvent.SPEECH
    for result in heard:
        if result.intent is not None and not result.rejected:
            return result.intent if result.intent in state.handlers else DialogEvent.SPEECH
    if any(not r.rejected and r.text for r in heard):
        return state.unmatched
    return DialogEvent.NOMATCH
