"""The QA checks of a call, each with its id and its title: one vocabulary for every place that
names them (ivr.qa.score, `ivr calls show`, the HTML report, the console after a call, the
README's QA list). The ids are what the call log, its CSV export and the report's data keep;
the titles are what people read, always next to the id where both fit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

V = TypeVar("V")


@dataclass(frozen=True)
class QaCheck:
    """One scoring item of seed 003 (录音质检评分标准) that applies to a bot."""

    id: str
    """The name kept in the call log and CSV export (`no_talking_over`)."""
    title: str
    """What people read (`no prompt started over the callee's speech`)."""


QA_CHECKS = (
    QaCheck("greeting", "greeting used"),
    QaCheck("closing", "closing before the hang-up"),
    QaCheck("no_forbidden_phrase", "no forbidden phrase said"),
    QaCheck("no_hangup_while_speaking", "no hang-up while the callee was speaking"),
    QaCheck("no_talking_over", "no prompt started over the callee's speech"),
    QaCheck("answered_in_time", "the callee's speech answered in time"),
    QaCheck("reprompts_within_limit", "re-prompts after silence within the standard's number"),
)
"""Every QA check, in the order a score lists them."""

QA_TITLES = {check.id: check.title for check in QA_CHECKS}
"""Check id -> title."""


def qa_order(items: Mapping[str, V]) -> list[tuple[str, V]]:
    """A score's items (check id -> verdict) in QA_CHECKS order, unknown ids last by name (the
    call log keeps them sorted by name)."""
    rank = {check.id: i for i, check in enumerate(QA_CHECKS)}
    return sorted(items.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def qa_title(check_id: str) -> str:
    """The title of a check; an id this version does not know (an older log's) as it is."""
    return QA_TITLES.get(check_id, check_id)


def qa_named(check_id: str) -> str:
    """A check as one text naming both: `no prompt started over the callee's speech
    (no_talking_over)`; an unknown id alone."""
    title = QA_TITLES.get(check_id)
    return f"{title} ({check_id})" if title else check_id


__all__ = ["QA_CHECKS", "QA_TITLES", "QaCheck", "qa_named", "qa_order", "qa_title"]
