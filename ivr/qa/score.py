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
  see `ivr.timeline.CallTimeline.answer_delays_ms`.
- reprompts_within_limit: re-prompts after silence (prompts that answer a no-input timeout and
  are not a closing) did not exceed `max_reprompts`.

For no_hangup_while_speaking and no_talking_over the callee speaks in the detector segments the
engine hears as `speech` or `low_volume` (their `heard_as`, see
`ivr.timeline.CallTimeline.callee_speech`): a noisy line's babble, which the engine itself
judges `noise`, is not the callee speaking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivr.qa.phrases import CLOSING_WORD, GREETINGS, ForbiddenPhrase, find_forbidden, plain_template
from ivr.timeline import CallTimeline, TimelineRecord
from ivr.vocabulary import NOBODY_REACHED

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


@dataclass(frozen=True)
class QaScore:
    """The QA of one call. Kept in the call log and shown in the report as `to_dict()`."""

    items: dict[str, bool | None]
    """Item name -> passed (True), failed (False) or does not apply (None), in the order above."""
    score: float
    """The share of the items that apply which pass (0 to 100, one decimal)."""
    reprompts: int
    """Re-prompts after silence."""
    answer_ms: int | None
    """The slowest answer to the callee's speech (ms), or None."""

    @property
    def failed(self) -> list[str]:
        """The items that failed, in order."""
        return [item for item, verdict in self.items.items() if verdict is False]

    def to_dict(self) -> dict[str, Any]:
        """{"items": {...}, "score": ..., "reprompts": ..., "answer_ms": ...}: the form the
        call log and the report keep."""
        return {
            "items": dict(self.items),
            "score": self.score,
            "reprompts": self.reprompts,
            "answer_ms": self.answer_ms,
        }


def score_call(
    timeline: Sequence[TimelineRecord],
    prompt_texts: Mapping[str, str],
    forbidden: Sequence[ForbiddenPhrase],
    settings: QaSettings | None = None,
) -> QaScore:
    """QA of one call: each item's verdict, the score, the re-prompts after silence, the
    slowest answer to the callee.

    `prompt_texts` maps prompt ids to their texts as written (`Script.templates`: a
    placeholder's value, such as the number called, is not a phrase the script chose)."""
    settings = settings or QaSettings()
    call = CallTimeline(timeline)
    said = call.prompts
    texts = [prompt_texts.get(r.prompt, "") for r in said]
    hangup = call.hangup
    items: dict[str, bool | None] = {}
    items["greeting"] = plain_template(texts[0]).startswith(GREETINGS) if texts else None
    if hangup is None or hangup.outcome in ("aborted", "device_error", "media_error"):
        items["closing"] = None
    elif not said and hangup.outcome in NOBODY_REACHED:
        items["closing"] = None  # no one to say goodbye to: the network or a machine answered
    else:
        before = [t for r, t in zip(said, texts, strict=True) if r.frame <= hangup.frame]
        items["closing"] = bool(before) and _is_closing(before[-1])
    items["no_forbidden_phrase"] = not any(find_forbidden(t, forbidden) for t in set(texts))
    items["no_hangup_while_speaking"] = (
        None if hangup is None else call.segments_open_at(hangup.frame, callee_only=True) == 0
    )
    items["no_talking_over"] = _no_talking_over(call)
    delays = call.answer_delays_ms
    items["answered_in_time"] = max(delays) <= settings.answer_within_ms if delays else None
    reprompts = sum(
        1 for r in call.timer_prompts if not _is_closing(prompt_texts.get(r.prompt, ""))
    )
    items["reprompts_within_limit"] = reprompts <= settings.max_reprompts
    applicable = [v for v in items.values() if v is not None]
    score = 100.0 * sum(applicable) / len(applicable) if applicable else 0.0
    slowest = round(max(delays)) if delays else None
    return QaScore(items, round(score, 1), reprompts, slowest)


def _is_closing(text: str) -> bool:
    return CLOSING_WORD in plain_template(text)


def _no_talking_over(call: CallTimeline) -> bool | None:
    """Whether every prompt started outside the callee's speech segments (None: none).

    A prompt that starts while the callee is speaking talks over them; speech that begins
    after our prompt began is the callee talking over us, not the other way round."""
    spans = call.callee_speech
    if not spans:
        return None
    return not any(start < r.t < end for r in call.prompts for start, end in spans)
