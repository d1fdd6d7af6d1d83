"""Test calls of what a telephone line says besides speech, for a script with answering-machine
detection, telephone keys and a hold (prompts/outbound_amd.yaml and scripts like it).

- voicemail: a real recorded mailbox greeting, then its beep: the script leaves its message
  after the beep and ends `machine`;
- ringback, busy_tone: the call "answers" into China's 450 Hz ringback or busy tone: it ends
  `network_tone`;
- carrier_announcement: the special information tone, then a real recorded announcement: it
  ends `carrier_announcement`;
- presses_key: a person says "hello" (a real recording) and, once asked, presses 2 (not the
  owner): the outcome of key 2 in the start state;
- on_hold: a person says "hello", presses 1, then asks a question (a real reader's sentence):
  the script puts them on hold and comes back; its hold prompts fall every `every_s` of silence.

Times follow the rules the script is judged by, not the detectors' numbers: the human verdict
comes once the "hello" is followed by Asterisk AMD's after-greeting silence, the opening starts
then, and each answer falls well inside the listening window that follows a prompt.
"""

from __future__ import annotations

from typing import Any

from ivr.audio.format import FRAME_S
from ivr.call_settings import AmdSettings
from ivr.script.model import Hold, Script
from ivr.synth.calls import CallSpec, Utterance
from ivr.synth.impulses import Sound
from ivr.synth.script_calls import PromptFrames, chain_outcome, prompts_s

GREETING = "asterisk:en_US_f_Allison/vm-intro.wav"
"""A mailbox greeting (Asterisk's recorded voicemail prompt)."""
ANNOUNCEMENT = "asterisk:en_US_f_Allison/ss-noservice.wav"
"""A carrier's recorded announcement."""
HELLO = "asterisk:en_US_f_Allison/hello.wav"
"""A person answering."""
QUESTION = "human:librivox/sense_and_sensibility_01_austen_64kb-0870.wav"
"""A person's question: a real reader's sentence."""
TONE_DBFS = -15.0
"""Level of the line signals (dBFS, RMS while on): tones reach a line at -10 to -30 dBFS."""
HELLO_AT_S = 0.5
"""When the person says "hello" (s)."""
ANSWER_AFTER_S = 1.0
"""How long (s) after our prompt ends the callee answers (a key, a question)."""


def _frame(seconds: float) -> float:
    return round(round(seconds / FRAME_S) * FRAME_S, 2)


def line_call_specs(
    script: Script, prompt_frames: PromptFrames, seed: int = 7
) -> list[tuple[CallSpec, dict[str, Any]]]:
    """The line situations for `script`, each with its `expect:` additions (outcome, and the
    prompts said where they follow from the script)."""
    from ivr.synth.speech import load_phrase

    if script.amd is None:
        raise ValueError(f"script {script.name!r} has no amd: (line calls need one)")
    start = script.states[script.start]
    amd = AmdSettings(**script.amd.settings)
    hello = load_phrase(HELLO)
    verdict = HELLO_AT_S + hello.speech_span_s[1] + amd.after_greeting_silence_ms / 1000
    listening = verdict + prompts_s(start.say, prompt_frames)  # the opening has played out
    key_at = _frame(listening + ANSWER_AFTER_S)
    rows: list[tuple[str, str, float, tuple, tuple, dict]] = []

    greeting = load_phrase(GREETING)
    beep_at = _frame(0.5 + greeting.duration_s + 0.3)
    leave = script.amd.leave_message
    message = list(script.states[leave].say) if leave else []
    rows.append((
        "voicemail", "clean", beep_at + 0.3 + prompts_s(message, prompt_frames) + 6.0,
        (Utterance(0.5, GREETING),),
        (Sound(beep_at, "beep", 300.0, TONE_DBFS),),
        {"outcome": "machine", "prompts": message},
    ))  # fmt: skip
    for situation, kind, channel in (("ringback", "ringback", "telephone"),
                                     ("busy_tone", "busy", "clean")):  # fmt: skip
        tone = (Sound(0.0, kind, 19_000.0, TONE_DBFS),)
        rows.append((situation, channel, 20.0, (), tone, {"outcome": "network_tone"}))
    rows.append((
        "carrier_announcement", "clean", 8.0, (Utterance(1.4, ANNOUNCEMENT),),
        (Sound(0.3, "sit", 990.0, TONE_DBFS),), {"outcome": "carrier_announcement"},
    ))  # fmt: skip
    outcome = _key_outcome(script, "2")
    if outcome is not None:
        rows.append((
            "presses_key", "telephone", key_at + 12.0, (Utterance(HELLO_AT_S, HELLO),),
            (Sound(key_at, "dtmf", 100.0, TONE_DBFS, key="2"),), {"outcome": outcome},
        ))  # fmt: skip
    on_hold = _on_hold(script, prompt_frames, key_at)
    if on_hold is not None:
        rows.append(on_hold)
    out = []
    for i, (situation, channel, duration, utterances, sounds, expect) in enumerate(rows):
        spec = CallSpec(
            name=f"{script.name}_{40 + i:02d}_{situation}",
            situation=situation,
            duration_s=_frame(duration),
            utterances=utterances,
            channel=channel,
            noise="pink",
            noise_dbfs=-65.0,
            seed=seed * 1000 + 40 + i,
            sounds=sounds,
        )
        out.append((spec, expect))
    return out


def _key_outcome(script: Script, key: str) -> str | None:
    """The outcome key `key` pressed in the start state leads to, if it hangs up there."""
    from ivr.script.model import HangupAction

    handler = script.states[script.start].handler_for("dtmf", 1, key=key)
    actions = handler.actions if handler else ()
    return next((a.outcome for a in actions if isinstance(a, HangupAction)), None)


def _on_hold(script: Script, prompt_frames: PromptFrames, key_at: float):
    """The on_hold row: key 1, then a question in the state it leads to, whose speech handler
    holds; None if the script has no such path."""
    from ivr.script.model import Goto
    from ivr.synth.speech import load_phrase

    one = script.states[script.start].handler_for("dtmf", 1, key="1")
    goto = next((a for a in (one.actions if one else ()) if isinstance(a, Goto)), None)
    if goto is None:
        return None
    state = script.states[goto.state]
    speech = state.handler_for("speech", 1)
    hold = next((a for a in (speech.actions if speech else ()) if isinstance(a, Hold)), None)
    if hold is None or state.listen is None:
        return None
    asked = key_at + 0.1 + prompts_s(state.say, prompt_frames)
    question_at = _frame(asked + ANSWER_AFTER_S)
    question = load_phrase(QUESTION)
    end = question_at + question.duration_s + state.listen.end_of_speech_s + hold.seconds
    outcome = chain_outcome(script, state.name, "speech", 1)
    said = (Utterance(HELLO_AT_S, HELLO), Utterance(question_at, QUESTION))
    key = (Sound(key_at, "dtmf", 100.0, TONE_DBFS, key="1"),)
    return "on_hold", "clean", end + 30.0, said, key, {"outcome": outcome} if outcome else {}
