"""Test calls made for one script: the callee answers at times relative to our prompts.

A recorded call can only be judged against a script if the callee speaks when the script
listens, so these calls place their utterances after the end of the script's opening (whose
length depends on the prompt audio and the placeholder values). Each call's manifest entry
says the outcome the script must reach and, for the silent line, the time of every prompt and
of the hang-up, worked out from the script's own timeouts and the prompts' lengths.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ivr.audio.format import FRAME_S, ms_to_frames
from ivr.script.model import Goto, HangupAction, Pause, Say, Script, SetInputGain, SetOutputVolume
from ivr.synth.calls import CallSpec, Utterance

CHOPPY_SENTENCES = (
    "我这边信号不太好，你刚才说的我没听清楚，能再说一遍吗？",
    "喂，你好，我在外面，信号很差，你讲的哪个事情？",
    "我现在在外面，你们上次打过电话，我还在考虑。",
)
"""What the callee of the choppy line says (Mandarin, synthesized like every other callee of
these calls), in turn: each takes 5.5-7 s, less than the 8 s between utterances, and none
says an intent's words (the line's choppiness, not an answer, must end the call)."""

PromptFrames = Callable[[str], int]
"""Prompt id -> its length in 20 ms frames."""


def _frames(seconds: float) -> int:
    return ms_to_frames(seconds * 1000)


def silent_line_events(script: Script, prompt_frames: PromptFrames) -> list[dict[str, Any]]:
    """The prompts and the hang-up of a call where the callee never makes a sound.

    Follows the start state's noinput handlers count by count: each fires one no-input
    timeout after the end of the last prompt's playout; pauses add their length.
    """
    events: list[dict[str, Any]] = []
    state = script.states[script.start]
    t = 0
    pending = [Say(p) for p in state.say]
    count = 0
    for _ in range(1000):  # a validated script hangs up long before
        for action in pending:
            if isinstance(action, Say):
                events.append({"event": "prompt_started", "prompt": action.prompt, "t": t})
                t += prompt_frames(action.prompt)
            elif isinstance(action, Pause):
                t += _frames(action.seconds)
            elif isinstance(action, HangupAction):
                events.append({"event": "hangup", "outcome": action.outcome, "t": t})
                return [{**e, "t": round(e["t"] * FRAME_S, 3)} for e in events]
            elif isinstance(action, Goto):
                state, count = script.states[action.state], 0
                pending = [Say(p) for p in state.say] + (
                    [] if state.listen is not None else list(state.actions)
                )
                break
            elif isinstance(action, SetInputGain | SetOutputVolume):
                continue
        else:
            if state.listen is None:
                raise ValueError(f"state {state.name!r} neither listens nor ends")
            t += _frames(state.listen.noinput_timeout_s)
            count += 1
            handler = state.handler_for("noinput", count)
            if handler is None:
                raise ValueError(f"state {state.name!r} has no noinput handler")
            pending = list(handler.actions)
    raise ValueError(f"{script.path}: the silent line never hangs up")


def chain_outcome(script: Script, state_name: str, event: str, count: int = 1) -> str | None:
    """The outcome the `count`-th `event` in a state leads to, if it ends the call without
    listening again (following gotos into states that do not listen); else None."""
    state = script.states[state_name]
    handler = state.handler_for(event, count)
    actions = list(handler.actions) if handler else []
    for _ in range(100):
        if not actions:
            return None
        action = actions.pop(0)
        if isinstance(action, HangupAction):
            return action.outcome
        if isinstance(action, Goto):
            target = script.states[action.state]
            if target.listen is not None:
                return None
            actions = list(target.actions)
    return None


def chain(script: Script, event: str) -> tuple[list[str], str | None]:
    """The prompts the start state's `event` leads to, count by count, until a hang-up, and its
    outcome (following gotos into states that do not listen); ([], None) if it never ends."""
    state = script.states[script.start]
    prompts: list[str] = []
    for count in range(1, 50):
        handler = state.handler_for(event, count)
        if handler is None:
            return [], None
        actions = list(handler.actions)
        while actions:
            action = actions.pop(0)
            if isinstance(action, Say):
                prompts.append(action.prompt)
            elif isinstance(action, HangupAction):
                return prompts, action.outcome
            elif isinstance(action, Goto):
                target = script.states[action.state]
                if target.listen is not None:
                    return [], None
                prompts += list(target.say)
                actions = list(target.actions)
    return [], None


def _said_s(actions: tuple, prompt_frames: PromptFrames) -> float:
    return prompts_s([a.prompt for a in actions if isinstance(a, Say)], prompt_frames)


def prompts_s(prompts: Iterable[str], prompt_frames: PromptFrames) -> float:
    """How long saying `prompts` one after the other takes (s)."""
    return sum(prompt_frames(p) for p in prompts) * FRAME_S


UNTRANSCRIBED = "human:goforward.raw"
"""Real speech with no transcript: what a recognizer cannot make out (nomatch)."""


def intent_call_specs(
    script: Script, prompt_frames: PromptFrames, seed: int = 7
) -> list[tuple[CallSpec, dict[str, Any]]]:
    """Calls for the start state's intents: deny, cannot-hear then an answer, nomatch twice.

    Their outcomes need recognition (`--asr reference` uses the manifest's transcripts)."""
    from ivr.synth.speech import load_phrase

    state = script.states[script.start]
    if not state.intents or state.listen is None:
        return []
    t0 = prompts_s(state.say, prompt_frames)
    eos = state.listen.end_of_speech_s
    answer = "confirm" if "confirm" in state.intents else "speech"
    rows: list[tuple[str, tuple[Utterance, ...], dict[str, Any]]] = []
    if "deny" in state.intents:
        rows.append(
            (
                "deny",
                (Utterance(round(t0 + 0.6, 2), "不是"),),
                {"outcome": chain_outcome(script, script.start, "deny")},
            )
        )
    if "cannot_hear" in state.intents:
        first = state.handler_for("cannot_hear", 1)
        asked = _said_s(first.actions, prompt_frames) if first else 0.0
        reply = t0 + 0.6 + load_phrase("听不清").duration_s + eos + asked + 1.0
        volume = [a.db for a in first.actions if isinstance(a, SetOutputVolume)] if first else []
        events = [{"event": "output_volume", "db": volume[0]}] if volume else []
        rows.append(
            (
                "cannot_hear",
                (Utterance(round(t0 + 0.6, 2), "听不清"), Utterance(round(reply, 2), "是的,我是")),
                {"outcome": chain_outcome(script, script.start, answer), "events_present": events},
            )
        )
    nomatch = state.handler_for("nomatch", 1)
    if nomatch is not None:
        asked = _said_s(nomatch.actions, prompt_frames)
        again = t0 + 0.6 + load_phrase(UNTRANSCRIBED).duration_s + eos + asked + 1.0
        rows.append(
            (
                "nomatch",
                (
                    Utterance(round(t0 + 0.6, 2), UNTRANSCRIBED),
                    Utterance(round(again, 2), UNTRANSCRIBED),
                ),
                {"outcome": chain_outcome(script, script.start, "nomatch", 2)},
            )
        )
    return _intent_calls(script, rows, seed)


def _intent_calls(
    script: Script, rows: list[tuple[str, tuple[Utterance, ...], dict[str, Any]]], seed: int
) -> list[tuple[CallSpec, dict[str, Any]]]:
    """`intent_call_specs`'s calls from its (intent, utterances, expect) rows: answered at once,
    30 s past the last utterance, numbered from 20."""
    from ivr.synth.speech import load_phrase

    out = []
    for i, (intent, utterances, expect) in enumerate(rows):
        end = utterances[-1].start_s + load_phrase(utterances[-1].phrase).duration_s
        spec = CallSpec(
            name=f"{script.name}_{20 + i:02d}_{intent}",
            situation="answers_at_once",
            duration_s=round(end + 30.0, 2),
            utterances=utterances,
            noise="pink",
            noise_dbfs=-65.0,
            seed=seed * 1000 + 20 + i,
        )
        expect = {k: v for k, v in expect.items() if v}
        out.append((spec, {**expect, "needs_recognition": True}))
    return out


def script_call_specs(
    script: Script, prompt_frames: PromptFrames, seed: int = 7
) -> list[tuple[CallSpec, dict[str, Any]]]:
    """Calls covering the script's main paths, each with its `expect:` additions."""
    rows = _main_path_rows(script, prompt_frames)
    out = []
    for i, (situation, channel, duration, utterances, noise, noise_dbfs, drop, expect) in enumerate(
        rows
    ):
        spec = CallSpec(
            name=f"{script.name}_{i + 1:02d}_{situation}_{channel}",
            situation=situation,
            duration_s=round(duration, 2),
            utterances=utterances,
            channel=channel,
            noise=noise,
            noise_dbfs=noise_dbfs,
            dropouts=drop,
            seed=seed * 1000 + i,
        )
        out.append((spec, expect))
    return out + intent_call_specs(script, prompt_frames, seed)


_Row = tuple[str, str, float, tuple[Utterance, ...], str, float | None, bool, dict]
"""A main path's call: situation, channel, duration (s), utterances, noise, noise level (dBFS),
dropouts, its `expect:` additions."""


def _main_path_rows(script: Script, prompt_frames: PromptFrames) -> list[_Row]:
    """`script_call_specs`'s calls, one row each, timed by the start state's prompts."""
    state = script.states[script.start]
    assert state.listen is not None
    opening_s = prompts_s(state.say, prompt_frames)
    timeout = state.listen.noinput_timeout_s
    first_noinput = state.handler_for("noinput", 1)
    reprompt_s = sum(
        prompt_frames(a.prompt) * FRAME_S
        for a in (first_noinput.actions if first_noinput else ())
        if isinstance(a, Say)
    )
    silent = silent_line_events(script, prompt_frames)
    U = Utterance
    t0 = round(opening_s, 2)
    after_reprompt = round(t0 + timeout + reprompt_s + 0.8, 2)
    quiet = tuple(
        U(round(t0 + 0.5 + 3.5 * i, 2), ("喂?", "听不清", "你说什么")[i % 3], -54.0)
        for i in range(14)
    )
    choppy = tuple(
        U(round(t0 + 0.5 + 8.0 * i, 2), CHOPPY_SENTENCES[i % len(CHOPPY_SENTENCES)], -20.0)
        for i in range(6)
    )
    rows: list[_Row] = [
        ("answers_at_once", "clean", t0 + 8, (U(t0 + 0.6, "是的,我是"),), "pink", -65.0, False,
         {"outcome": "answered"}),
        ("answers_late", "telephone", t0 + 10, (U(t0 + timeout - 0.5, "是的,我是"),), "white",
         -62.0, False, {"outcome": "answered"}),
        ("answers_late", "clean", after_reprompt + 6,
         (U(t0 + timeout + 0.5, "喂?"), U(after_reprompt, "是的,我是")), "pink", -66.0, False,
         {"outcome": "answered", "events": silent[: len(state.say) + 1]}),
        ("never_answers", "clean", t0 + 4, (), "white", -70.0, False,
         {"outcome": "no_answer", "events": silent}),
        ("never_answers", "telephone", t0 + 4, (), "pink", -68.0, False,
         {"outcome": "no_answer", "events": silent}),
        ("too_quiet", "clean", quiet[-1].start_s + 3, quiet, "pink", -80.0, False,
         {"outcome": "low_volume"}),
        ("noisy_line", "telephone", t0 + 4 * timeout, (), "babble", -20.0, False,
         {"outcome": "noisy_line"}),
        ("noisy_line", "clean", t0 + 4 * timeout, (), "pink", -22.0, False,
         {"outcome": "noisy_line"}),
        ("cut_in_out", "clean", choppy[-1].start_s + 8, choppy, "pink", -60.0, True,
         {"outcome": "choppy_line"}),
    ]  # fmt: skip
    return rows


class ScriptPlan:
    """A script's timing as a corpus of calls plans them: its opening prompts and when they
    end, the silent line's events, and the prompts its answer, noise and choppy paths say;
    with the `expect:` of a call that ends a given way."""

    def __init__(self, script: Script, prompt_frames: PromptFrames) -> None:
        self.script = script
        self.frames = prompt_frames
        state = script.states[script.start]
        assert state.listen is not None, "the start state must listen"
        self.opening = list(state.say)
        self.t0 = sum(prompt_frames(p) for p in state.say) * FRAME_S
        """When the opening prompts have played out (s)."""
        self.eos = state.listen.end_of_speech_s
        self.silent = silent_line_events(script, prompt_frames)
        self.hangup_s = self.silent[-1]["t"]
        """When a silent line is hung up (s)."""
        self.answer_prompts, _ = chain(script, "speech")
        self.noise_prompts, _ = chain(script, "noise")
        self.choppy_prompts, _ = chain(script, "choppy")

    def expect(self, outcome: str, then: list[str]) -> dict[str, Any]:
        """The `expect:` of a call that ends `outcome` after the opening and then `then`."""
        events = []
        t = 0.0
        for prompt in self.opening:
            events.append({"event": "prompt_started", "prompt": prompt, "t": round(t, 3)})
            t += self.frames(prompt) * FRAME_S
        events += [{"event": "prompt_started", "prompt": p} for p in then]
        events.append({"event": "hangup", "outcome": outcome})
        return {"outcome": outcome, "prompts": self.opening + then, "events": events}

    def no_answer(self) -> dict[str, Any]:
        """The `expect:` of a silent line: every prompt and the hang-up at their times."""
        prompts = [e["prompt"] for e in self.silent if e["event"] == "prompt_started"]
        return {"outcome": "no_answer", "prompts": prompts, "events": self.silent}
