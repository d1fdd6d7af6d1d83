"""The agent's words, recognized: each of the agent's speech segments (the ones the audit
measures, clear of the line's noise) through a Vosk model on its own, with its times.

A Mandarin model (`vosk-model-small-cn-0.22`, `ivr models fetch`) gives the words the word
items listen for; Vosk writes Chinese words apart, which the comparison ignores (spaces are
removed on both sides). The model is loaded once per process.
"""

from __future__ import annotations

from functools import cache

from ivr.asr.recognizer import SpeechModel, UtteranceRecognizer
from ivr.audio.format import FRAME_S
from ivr.audit.sides import CallSides
from ivr.corpus.audit_labels import Utterance


@cache
def speech_model(path: str) -> SpeechModel:
    """The Vosk model in folder `path`, loaded once (ModelNotFoundError naming it)."""
    return SpeechModel(path)


def hear_agent(sides: CallSides, model_path: str) -> list[Utterance]:
    """The agent's utterances: each speech segment of `sides` recognized on its own, from the
    agent's frames kept by the analysis (`analyze_call(..., keep_agent_audio=True)`; text:
    Vosk's transcript, empty when it heard no word)."""
    if sides.agent_audio is None:
        raise ValueError("the agent's audio was not kept: analyze_call(keep_agent_audio=True)")
    model = speech_model(model_path)
    utterances = []
    for segment in sides.agent_speech:
        recognizer = UtteranceRecognizer(model, None, start_frame=segment.start)
        recognizer.accept(sides.agent_audio[segment.start : segment.end])
        heard = recognizer.finish()
        utterances.append(
            Utterance(segment.start * FRAME_S, segment.end * FRAME_S, heard.free_text)
        )
    return utterances
