"""Item 3: a silent line handled by the standard, against the script's own rules.

Seed 002 (如果遇到电话没有声音时) and 003 (接入电话无声): greet, 稍停五秒, greet again, 稍停五秒,
the closing, 再稍停五秒, hang up; seed 000 二、1 (outbound): re-prompt after about 3 s, twice,
then the closing; 不可以直接挂机. The bundled scripts state exactly this in their start state
(`noinput` handlers: the re-prompts, then the closing, a pause and the hang-up; the listen's
`noinput_timeout_s`; `qa: noinput_s`, the wait the standard allows), so the rules are read
from the script, and a human agent's silent-line call is measured against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from ivr.audio.format import frames_to_seconds
from ivr.audit.scorecard import ItemResult, failed, not_applicable, passed
from ivr.audit.settings import AuditSettings
from ivr.audit.turns import Talk
from ivr.script.model import HangupAction, Pause, Say, Script
from ivr.vocabulary import DialogEvent


@dataclass(frozen=True)
class SilentLineRules:
    """What a script does on a silent line: `reprompts` prompts after the first before the
    closing, each after a wait of `wait_low_s`..`wait_high_s` (s) of silence, then the
    closing, then `hangup_pause_s` (s) of silence before it hangs up."""

    script: str
    reprompts: int
    wait_low_s: float
    wait_high_s: float
    hangup_pause_s: float
    noinput_timeout_s: float

    @classmethod
    def of(cls, script: Script, slack_s: float) -> SilentLineRules:
        """The rules of `script`'s start state; `slack_s` (s) either side of its noinput
        timeout when the script gives no `qa: noinput_s` range. ValueError when the start
        state does not listen or has no noinput handler that hangs up."""
        start = script.states[script.start]
        if start.listen is None:
            raise ValueError(f"script {script.name!r}: its start state does not listen")
        handlers = start.handlers.get(DialogEvent.NOINPUT, ())
        reprompts = 0
        pause = None
        for handler in sorted(handlers, key=lambda h: h.count):
            actions = handler.actions
            if any(isinstance(a, HangupAction) for a in actions):
                pause = sum(a.seconds for a in actions if isinstance(a, Pause))
                break
            if any(isinstance(a, Say) for a in actions):
                reprompts += 1
        if pause is None:
            raise ValueError(f"script {script.name!r}: no noinput handler hangs up")
        timeout = start.listen.noinput_timeout_s
        window = script.qa_noinput_s
        if window is not None:
            low, high = window.low_s, window.high_s
        else:
            low, high = timeout - slack_s, timeout + slack_s
        return cls(script.name, reprompts, low, high, pause, timeout)


def _prompts(talk: Talk, join_s: float) -> list[tuple[int, int]]:
    """The agent's segments joined into prompts: less than `join_s` (s) apart is one."""
    prompts: list[tuple[int, int]] = []
    for s in talk.agent:
        if prompts and frames_to_seconds(s.start - prompts[-1][1]) < join_s:
            prompts[-1] = (prompts[-1][0], s.end)
        else:
            prompts.append((s.start, s.end))
    return prompts


def silent_line(talk: Talk, settings: AuditSettings, rules: SilentLineRules) -> ItemResult:
    """Item 3 on a call where the customer never speaks: too few prompts (hung up without
    the repeats: at the last prompt's end), a wait outside the script's (at the prompt
    before it ended), or a hang-up sooner after the closing than the script's pause less
    `silent_wait_slack_s` (at the closing's end). n/a when the customer speaks."""
    key = "silent_line"
    if talk.customer:
        return not_applicable(key, "the customer spoke: not a silent line")
    if not talk.agent:
        return not_applicable(key, "neither side spoke")
    prompts = _prompts(talk, settings.prompt_join_s)
    wanted = rules.reprompts + 2
    moments: list[float] = []
    reasons: list[str] = []
    for (_, end), (start, _) in pairwise(prompts):
        wait = frames_to_seconds(start - end)
        if not rules.wait_low_s <= wait <= rules.wait_high_s:
            moments.append(frames_to_seconds(end))
            reasons.append(
                f"waited {wait:.1f} s (script {rules.wait_low_s:g}-{rules.wait_high_s:g} s)"
            )
    last_end = prompts[-1][1]
    if len(prompts) < wanted:
        moments.append(frames_to_seconds(last_end))
        reasons.append(
            f"{len(prompts)} prompt(s) where {rules.script} says {wanted} "
            f"(greeting, {rules.reprompts} repeat(s), closing): 不可以直接挂机"
        )
    else:
        after = frames_to_seconds(talk.frames - last_end)
        if after < rules.hangup_pause_s - settings.silent_wait_slack_s:
            moments.append(frames_to_seconds(last_end))
            reasons.append(
                f"hung up {after:.1f} s after the closing ({rules.script} waits "
                f"{rules.hangup_pause_s:g} s)"
            )
    if moments:
        return failed(key, sorted(set(moments)), "; ".join(reasons))
    return passed(key, f"{len(prompts)} prompts as {rules.script} says")
