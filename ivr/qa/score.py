"""QA score of a call: the scoring items of seed 003 (录音质检评分标准) that apply to a bot.

Each item passes, fails, or does not apply (None) to a call; the score is the share of the
items that apply which pass (0 to 100).
- greeting: the first prompt starts with a greeting (您好).
- closing: the last prompt before the hang-up is a closing (contains 再见).
- no_forbidden_phrase: no prompt said contains a forbidden phrase (服务禁语).
- no_hangup_while_speaking: the callee was not speaking when we hung up.
- answered_in_time: every answer to the callee's speech started within `answer_within_ms`
  of the end of that speech (the standard: answer before the customer says 喂 three times).
- reprompts_within_limit: re-prompts after silence (prompts that answer a no-input timeout and
  are not a closing) did not exceed `max_reprompts`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

DIALOG_EVENTS = frozenset({"speech", "low_volume", "noise", "choppy", "nomatch"})
"""Dialog events that answer the callee's speech (intents have a `count` too)."""


@dataclass(frozen=True)
class QaSettings:
    """What the QA items check."""

    answer_within_ms: int = 2000
    """Longest time from the end of the callee's speech to our answer (ms)."""
    max_reprompts: int = 2
    """Re-prompts after silence allowed (outbound: twice, seed 000; inbound: once, seed 002)."""
    greeting: str = "您好"
    closing: str = "再见"

    def __post_init__(self) -> None:
        if not 0 < self.answer_within_ms <= 60_000:
            raise ValueError(
                f"answer_within_ms must be in 1..60000 ms, got {self.answer_within_ms}"
            )
        if not 0 <= self.max_reprompts <= 20:
            raise ValueError(f"max_reprompts must be in 0..20, got {self.max_reprompts}")


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\W_]+", "", folded)


def _is_dialog_event(record: Mapping[str, Any]) -> bool:
    return "count" in record and record["event"] != "noinput"


def score_call(
    timeline: Sequence[Mapping[str, Any]],
    prompt_texts: Mapping[str, str],
    forbidden: Iterable[str],
    settings: QaSettings | None = None,
) -> dict[str, Any]:
    """QA of one call: {"items": {name: True | False | None}, "score": 0..100}.

    `prompt_texts` maps prompt ids to the texts said, `forbidden` lists forbidden phrases."""
    settings = settings or QaSettings()
    said = [r for r in timeline if r["event"] == "prompt_started"]
    texts = [prompt_texts.get(r.get("prompt", ""), "") for r in said]
    hangup = next((r for r in timeline if r["event"] == "hangup"), None)
    items: dict[str, bool | None] = {}
    items["greeting"] = texts[0].startswith(settings.greeting) if texts else None
    if hangup is None or hangup.get("outcome") in ("aborted", "device_error"):
        items["closing"] = None
    else:
        before = [t for r, t in zip(said, texts, strict=True) if r["frame"] <= hangup["frame"]]
        items["closing"] = bool(before) and settings.closing in before[-1]
    banned = [_plain(p) for p in forbidden if _plain(p)]
    items["no_forbidden_phrase"] = not any(b in _plain(t) for t in texts for b in banned)
    items["no_hangup_while_speaking"] = _quiet_at(timeline, hangup)
    items["answered_in_time"] = _answered_in_time(timeline, settings.answer_within_ms)
    reprompts = sum(
        1
        for i, r in enumerate(timeline)
        if r["event"] == "prompt_started"
        and i > 0
        and timeline[i - 1]["event"] == "noinput"
        and timeline[i - 1]["frame"] == r["frame"]
        and settings.closing not in prompt_texts.get(r.get("prompt", ""), "")
    )
    items["reprompts_within_limit"] = reprompts <= settings.max_reprompts
    applicable = [v for v in items.values() if v is not None]
    score = 100.0 * sum(applicable) / len(applicable) if applicable else 0.0
    return {"items": items, "score": round(score, 1), "reprompts": reprompts}


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


def _answered_in_time(timeline: Sequence[Mapping[str, Any]], within_ms: int) -> bool | None:
    """Whether each answer to speech started within `within_ms` of the speech's end."""
    last_end: float | None = None
    pending = False
    delays = []
    for r in timeline:
        if r["event"] == "speech_ended":
            last_end = r.get("speech_end_s")
        elif _is_dialog_event(r) and last_end is not None:
            pending = True
        elif r["event"] == "prompt_started" and pending and last_end is not None:
            delays.append((r["t"] - last_end) * 1000)
            pending = False
    if not delays:
        return None
    return max(delays) <= within_ms
