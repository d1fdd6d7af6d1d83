"""QA score of a call: the scoring items of seed 003 (录音质检评分标准) that apply to a bot.

Each item passes, fails, or does not apply (None) to a call; the score is the share of the
items that apply which pass (0 to 100).
- greeting: the first prompt starts with a greeting (您好).
- closing: the last prompt before the hang-up is a closing (contains 再见).
- no_forbidden_phrase: no prompt said contains a forbidden phrase (服务禁语).
- no_hangup_while_speaking: the callee was not speaking when we hung up.
- no_talking_over: no prompt of ours started while the callee was speaking (seed 001's first
  服务禁忌, 客户讲话时轻易打断客户); judged when the timeline holds the detectors' speech
  segments (`vad_*` records) and the callee spoke.
- answered_in_time: every answer to the callee's speech started within `answer_within_ms`
  of the end of that speech (the standard: answer before the customer says 喂 three times);
  see `answer_delays_ms`.
- reprompts_within_limit: re-prompts after silence (prompts that answer a no-input timeout and
  are not a closing) did not exceed `max_reprompts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivr.qa.phrases import CLOSING_WORD, GREETINGS, ForbiddenPhrase, find_forbidden, plain_template

if TYPE_CHECKING:
    from ivr.script.model import Script


@dataclass(frozen=True)
class QaSettings:
    """The limits the QA items check against (a script's `qa:` section gives them)."""

    answer_within_ms: int = 2000
    """Longest time from the end of the callee's speech to our answer (ms)."""
    max_reprompts: int = 2
    """Re-prompts after silence allowed (outbound: twice, seed 000; inbound: once, seed 002)."""

    @classmethod
    def for_script(cls, script: Script, answer_within_ms: int | None = None) -> QaSettings:
        """The settings of the script's `qa:` section, `answer_within_ms` if given instead."""
        values: dict[str, Any] = dict(script.qa)
        if answer_within_ms is not None:
            values["answer_within_ms"] = answer_within_ms
        return cls(**values)

    def __post_init__(self) -> None:
        if not 0 < self.answer_within_ms <= 60_000:
            raise ValueError(
                f"answer_within_ms must be in 1..60000 ms, got {self.answer_within_ms}"
            )
        if not 0 <= self.max_reprompts <= 20:
            raise ValueError(f"max_reprompts must be in 0..20, got {self.max_reprompts}")


def _is_dialog_event(record: Mapping[str, Any]) -> bool:
    """A dialog event raised by the callee's speech (every dialog event has a `count`)."""
    return "count" in record and record["event"] != "noinput"


def score_call(
    timeline: Sequence[Mapping[str, Any]],
    prompt_texts: Mapping[str, str],
    forbidden: Sequence[ForbiddenPhrase],
    settings: QaSettings | None = None,
) -> dict[str, Any]:
    """QA of one call: {"items": {name: True | False | None}, "score": 0..100, "reprompts":
    re-prompts after silence, "answer_ms": the slowest answer to the callee (ms) or None}.

    `prompt_texts` maps prompt ids to their texts as written (`Script.templates`: a
    placeholder's value, such as the number called, is not a phrase the script chose)."""
    settings = settings or QaSettings()
    said = [r for r in timeline if r["event"] == "prompt_started"]
    texts = [prompt_texts.get(r.get("prompt", ""), "") for r in said]
    hangup = next((r for r in timeline if r["event"] == "hangup"), None)
    items: dict[str, bool | None] = {}
    items["greeting"] = plain_template(texts[0]).startswith(GREETINGS) if texts else None
    if hangup is None or hangup.get("outcome") in ("aborted", "device_error"):
        items["closing"] = None
    else:
        before = [t for r, t in zip(said, texts, strict=True) if r["frame"] <= hangup["frame"]]
        items["closing"] = bool(before) and _is_closing(before[-1])
    items["no_forbidden_phrase"] = not any(find_forbidden(t, forbidden) for t in set(texts))
    items["no_hangup_while_speaking"] = _quiet_at(timeline, hangup)
    items["no_talking_over"] = _no_talking_over(timeline, said)
    delays = answer_delays_ms(timeline)
    items["answered_in_time"] = max(delays) <= settings.answer_within_ms if delays else None
    reprompts = sum(
        1
        for i, r in enumerate(timeline)
        if r["event"] == "prompt_started"
        and i > 0
        and timeline[i - 1]["event"] == "noinput"
        and timeline[i - 1]["frame"] == r["frame"]
        and not _is_closing(prompt_texts.get(r.get("prompt", ""), ""))
    )
    items["reprompts_within_limit"] = reprompts <= settings.max_reprompts
    applicable = [v for v in items.values() if v is not None]
    score = 100.0 * sum(applicable) / len(applicable) if applicable else 0.0
    slowest = round(max(delays)) if delays else None
    return {"items": items, "score": round(score, 1), "reprompts": reprompts, "answer_ms": slowest}


def _is_closing(text: str) -> bool:
    return CLOSING_WORD in plain_template(text)


def _quiet_at(
    timeline: Sequence[Mapping[str, Any]], hangup: Mapping[str, Any] | None
) -> bool | None:
    """Whether no speech segment was open when we hung up (None without a hang-up)."""
    if hangup is None:
        return None
    open_segments = 0
    for r in timeline:
        if r["frame"] > hangup["frame"]:
            break
        if r["event"] == "vad_start":
            open_segments += 1
        elif r["event"] == "vad_end":
            open_segments = max(0, open_segments - 1)
    return open_segments == 0


def _no_talking_over(
    timeline: Sequence[Mapping[str, Any]], said: Sequence[Mapping[str, Any]]
) -> bool | None:
    """Whether every prompt started outside the callee's speech segments (None: no segment).

    A prompt that starts while the callee is speaking talks over them; speech that begins
    after our prompt began is the callee talking over us, not the other way round."""
    spans = [
        (r["speech_start_s"], r["speech_end_s"]) for r in timeline if r["event"] == "vad_end"
    ]
    ends = {start for start, _ in spans}
    spans += [
        (r.get("speech_start_s", r["t"]), float("inf"))
        for r in timeline
        if r["event"] == "vad_start" and r.get("speech_start_s", r["t"]) not in ends
    ]
    if not spans:
        return None
    return not any(start < r["t"] < end for r in said for start, end in spans)


def answer_delays_ms(timeline: Sequence[Mapping[str, Any]]) -> list[float]:
    """For each dialog event on the callee's speech whose handler spoke (a prompt started at the
    event's frame): ms from the end of that speech to our answer's first sample. On a live call
    the prompt's measured start latency (`prompt_out`) is added. A handler that only acts
    (e.g. raises the input gain, seed 000 二、2 01) owes no answer."""
    latency = {
        (r["frame"], r.get("prompt")): float(r.get("start_latency_ms", 0.0))
        for r in timeline
        if r["event"] == "prompt_out"
    }
    last_end: float | None = None
    waiting: int | None = None  # frame of a dialog event not yet answered
    delays = []
    for r in timeline:
        if waiting is not None and r["frame"] > waiting:
            waiting = None  # the handler said nothing
        if r["event"] == "speech_ended":
            last_end = r.get("speech_end_s")
        elif _is_dialog_event(r) and last_end is not None:
            waiting = r["frame"]
        elif r["event"] == "prompt_started" and waiting is not None and last_end is not None:
            extra_ms = latency.get((r["frame"], r.get("prompt")), 0.0)
            delays.append(round((r["t"] - last_end) * 1000 + extra_ms, 3))  # no float noise
            waiting = None
    return delays
