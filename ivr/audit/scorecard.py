"""A call's scorecard: each item of the standard `pass`, `fail` with the moments that failed
it (times in the call, s), or `n/a`, with the seed line it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ivr.audit.settings import AuditSettings


class Verdict(StrEnum):
    """An item's result on one call."""

    PASS = "pass"
    FAIL = "fail"
    NA = "n/a"


@dataclass(frozen=True)
class Item:
    """One item of the standard: its key, its number on the scorecard, title and seed line."""

    key: str
    number: str
    title: str
    seed: str
    needs_words: bool = False


ITEMS: tuple[Item, ...] = (
    Item(
        "interrupting",
        "1",
        "interrupting the customer",
        "001 服务禁忌 客户讲话时轻易打断客户、插话; 003 二.1 打断用户讲话",
    ),
    Item(
        "late_answer",
        "2",
        "answering late",
        '003 二.5 系统报号后没有及时应答,以客户"喂"三声为准; 002 电话铃声响三声后才接起',
    ),
    Item(
        "silent_line",
        "3",
        "a silent line handled by the standard",
        "002 如果遇到电话没有声音时 (稍停五秒 ... 挂机), 不可以直接挂机; 003 接入电话无声; "
        "000 二、1 (间隔3秒左右)",
    ),
    Item(
        "hold",
        "4",
        "hold etiquette",
        "000 三、8 03 每隔30秒告知客户进展; 003 如60秒内仍不能查询到所需答案,则应确认后回复",
    ),
    Item("hung_up_first", "5", "who hung up first", "001 服务禁忌 客户挂机前主动挂机"),
    Item("volume", "6", "volume", "001 音量适中,以客户听清为宜; 声音不要过大"),
    Item("pace", "6", "pace", "001 语速适中; 003 三.3 没有按用户要求调整语速"),
    Item(
        "dead_air",
        "7",
        "dead air while the customer waits",
        "003 二.2 精神不集中,没有及时、正确回应用户问题",
    ),
    Item("greeting_closing", "8", "greeting and closing", "003 一.1 没有使用问候、结束", True),
    Item("forbidden", "9", "forbidden phrases", "003 一.2 使用服务忌语、禁语; 001 服务禁语", True),
    Item("politeness", "10", "politeness words", "003 一.3 没有使用礼貌用语", True),
)
"""The items, in scorecard order."""

ITEM_BY_KEY = {item.key: item for item in ITEMS}

NO_WORDS = "needs the agent's words: --asr vosk (a Mandarin model) or --asr reference"
"""Why an item that needs words is n/a."""


@dataclass(frozen=True)
class ItemResult:
    """One item's result: its verdict, the moments that failed it (s into the call) and a
    short reason (`detail`)."""

    key: str
    verdict: Verdict
    moments: tuple[float, ...] = ()
    detail: str = ""

    @property
    def item(self) -> Item:
        """The item scored."""
        return ITEM_BY_KEY[self.key]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        item = self.item
        return {
            "item": item.key,
            "number": item.number,
            "title": item.title,
            "verdict": str(self.verdict),
            "moments_s": [round(m, 2) for m in self.moments],
            "detail": self.detail,
            "seed": item.seed,
        }


def passed(key: str, detail: str = "") -> ItemResult:
    """A pass."""
    return ItemResult(key, Verdict.PASS, (), detail)


def failed(key: str, moments: list[float], detail: str) -> ItemResult:
    """A fail at `moments` (s)."""
    return ItemResult(key, Verdict.FAIL, tuple(moments), detail)


def not_applicable(key: str, detail: str) -> ItemResult:
    """An n/a, with why."""
    return ItemResult(key, Verdict.NA, (), detail)


@dataclass(frozen=True)
class Scorecard:
    """A call's items in ITEMS order; `duration_s` its length (s)."""

    name: str
    duration_s: float
    results: tuple[ItemResult, ...]
    settings: AuditSettings

    @property
    def failed(self) -> list[ItemResult]:
        """The items failed."""
        return [r for r in self.results if r.verdict is Verdict.FAIL]

    def result(self, key: str) -> ItemResult:
        """The result of item `key`."""
        return next(r for r in self.results if r.key == key)

    def line(self) -> str:
        """One line: the call, its length and each failed item with its first moments."""
        if not self.failed:
            counted = sum(r.verdict is Verdict.PASS for r in self.results)
            return f"{self.name}: pass ({counted} items, {self.duration_s:.1f} s)"
        parts = []
        for r in self.failed:
            times = ", ".join(f"{m:.1f}" for m in r.moments[:3])
            more = f" +{len(r.moments) - 3}" if len(r.moments) > 3 else ""
            parts.append(f"{r.item.title} at {times} s{more}" if times else r.item.title)
        return f"{self.name}: FAIL {len(self.failed)} ({'; '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, with the settings scored by."""
        return {
            "file": self.name,
            "duration_s": round(self.duration_s, 2),
            "verdict": "fail" if self.failed else "pass",
            "items": [r.to_dict() for r in self.results],
            "settings": self.settings.as_dict(),
        }
