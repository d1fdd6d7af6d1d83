"""Where a campaign stands, from its call log: which rows to call now, which later, which never.

A campaign's state is nothing but its call list and the attempts its call log holds, so a
campaign restarted after a crash (even killed mid-call) goes on where it stopped: a row whose
call was logged is never called again unless it is due a retry, and a call that was never
logged (the one cut off) is simply placed again. Each row is:

- `fresh`: never tried;
- `waiting`: its last attempt ended in a retryable outcome with retries left; due at a time;
- `done`: its last attempt's outcome is final, or its retries are used up;
- `skipped`: its number is on the do-not-call list; never dialed, whatever the log says.

The plan keeps times as given: compare aware datetimes with aware ones (the call log's are).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ivr.campaign.calllist import CallRow
from ivr.campaign.donotcall import DoNotCall
from ivr.vocabulary import Outcome

if TYPE_CHECKING:
    from ivr.records.calllog import CallRecord

FRESH, WAITING, DONE, SKIPPED = "fresh", "waiting", "done", "skipped"
STATUSES = (FRESH, WAITING, DONE, SKIPPED)

INTERRUPTED: frozenset[str] = frozenset({Outcome.ABORTED})
"""Outcomes of calls we cut short ourselves (Ctrl-C, SIGTERM): the row is called again at
once, and such a call does not use up one of its retries."""

PENDING = "pending"
"""The `counts()` entry of rows still to call (fresh or waiting)."""


@dataclass(frozen=True)
class RetryPolicy:
    """When a row is tried again: after a `retry_on` outcome, at most `retries` times, the
    first retry `backoff_s` seconds after the failed call ended, each later wait `factor`
    times the one before (300 s, 600 s, 1200 s, ...)."""

    retries: int = 2
    backoff_s: float = 300.0
    factor: float = 2.0
    retry_on: frozenset[str] = frozenset({Outcome.BUSY, Outcome.NO_ANSWER, Outcome.NETWORK_TONE})

    def __post_init__(self) -> None:
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError(f"invalid retries: {self.retries!r} (a whole number, 0 or more)")
        if not (math.isfinite(self.backoff_s) and self.backoff_s >= 0):
            raise ValueError(f"invalid backoff_s: {self.backoff_s!r} (seconds, 0 or more)")
        if not (math.isfinite(self.factor) and self.factor >= 1):
            raise ValueError(f"invalid backoff factor: {self.factor!r} (1 or more)")
        object.__setattr__(self, "retry_on", frozenset(self.retry_on))

    @property
    def max_attempts(self) -> int:
        """The most calls a row gets: its first try and its retries."""
        return 1 + self.retries

    def delay_s(self, attempt: int) -> float:
        """The wait (s) after the failed attempt number `attempt` (1: the first try) before the
        next: backoff_s, then backoff_s * factor, ..."""
        if attempt < 1:
            raise ValueError(f"invalid attempt: {attempt!r} (1 for the first try, or more)")
        return self.backoff_s * self.factor ** (attempt - 1)

    def wants_retry(self, outcome: str, attempt: int) -> bool:
        """Whether a call that was attempt number `attempt` and ended as `outcome` is tried
        again."""
        return attempt < self.max_attempts and outcome in self.retry_on


@dataclass(frozen=True)
class Attempt:
    """One logged call at a row: its `attempt` number (1: the first try), its `outcome`, and
    when it ended (`ended_at`, aware)."""

    row_key: str
    attempt: int
    outcome: str
    ended_at: datetime

    def __post_init__(self) -> None:
        if self.attempt < 1:
            raise ValueError(f"invalid attempt: {self.attempt!r} (1 for the first try, or more)")


def attempt_of(record: CallRecord) -> Attempt:
    """The attempt a campaign's call-log record stands for; it ended `duration_s` after it
    started. ValueError if the record is not a campaign's call."""
    if record.row_key is None or record.attempt is None:
        raise ValueError(f"call {record.id} is not a campaign's call (no row key or attempt)")
    started = datetime.fromisoformat(record.started_at)
    ended = started + timedelta(seconds=record.duration_s)
    return Attempt(record.row_key, record.attempt, record.outcome, ended)


def attempts_from_log(records: Iterable[CallRecord]) -> list[Attempt]:
    """The attempts of one campaign's call-log records (`CallLog.attempts(name)`), in order.

    ValueError if they are not all of one campaign."""
    records = list(records)
    campaigns = {r.campaign for r in records}
    if len(campaigns) > 1 or None in campaigns:
        named = ", ".join(sorted(repr(c) for c in campaigns))
        raise ValueError(f"call-log records of more than one campaign, or none: {named}")
    return [attempt_of(r) for r in records]


class CampaignPlan:
    """The state of a campaign's rows, from the attempts logged so far; `record` updates it.

    `rows`: the call list's rows (their keys unique); `policy`: when to retry; `attempts`: the
    call log's, in any order (for each row the highest-numbered one counts; attempts at keys
    not on the list are ignored: the list was edited); `do_not_call`: numbers never dialed."""

    def __init__(
        self,
        rows: Sequence[CallRow],
        policy: RetryPolicy | None = None,
        attempts: Iterable[Attempt] = (),
        do_not_call: DoNotCall | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._rows: dict[str, CallRow] = {}
        for row in rows:
            if row.key in self._rows:
                raise ValueError(f"row key {row.key!r} is on the call list twice")
            self._rows[row.key] = row
        self._order = {key: index for index, key in enumerate(self._rows)}
        self._in_order = list(self._rows.values())
        self._tried: dict[str, set[int]] = {}
        self._interrupted: dict[str, set[int]] = {}
        self._last: dict[str, Attempt] = {}
        self._status: dict[str, str] = {}
        self._due: dict[str, datetime] = {}
        for row in self._rows.values():
            skipped = do_not_call is not None and row.number in do_not_call
            self._status[row.key] = SKIPPED if skipped else FRESH
        for attempt in attempts:
            self.record(attempt)

    @property
    def rows(self) -> list[CallRow]:
        """The call list's rows, in file order."""
        return list(self._in_order)

    def record(self, attempt: Attempt) -> str | None:
        """Take in a call just logged; the row's status after it (None: not a row of the list).

        ValueError if that attempt at that row was already recorded."""
        key = attempt.row_key
        if key not in self._rows:
            return None
        tried = self._tried.setdefault(key, set())
        if attempt.attempt in tried:
            raise ValueError(f"row {key!r}: attempt {attempt.attempt} is already recorded")
        tried.add(attempt.attempt)
        if attempt.outcome in INTERRUPTED:
            self._interrupted.setdefault(key, set()).add(attempt.attempt)
        last = self._last.get(key)
        if last is None or attempt.attempt > last.attempt:
            self._last[key] = attempt
            self._update(key)
        return self._status[key]

    def _update(self, key: str) -> None:
        self._due.pop(key, None)
        if self._status[key] == SKIPPED:
            return
        last = self._last[key]
        if last.outcome in INTERRUPTED:
            self._status[key], self._due[key] = WAITING, last.ended_at
            return
        cut_short = sum(1 for n in self._interrupted.get(key, ()) if n < last.attempt)
        tries = last.attempt - cut_short  # the calls that count against the retries
        if self.policy.wants_retry(last.outcome, tries):
            self._status[key] = WAITING
            delay = timedelta(seconds=self.policy.delay_s(tries))
            self._due[key] = last.ended_at + delay
        else:
            self._status[key] = DONE

    def _row(self, row_key: str) -> str:
        if row_key not in self._rows:
            raise KeyError(f"no row {row_key!r} on the call list")
        return row_key

    def status(self, row_key: str) -> str:
        """The row's status: fresh, waiting, done or skipped."""
        return self._status[self._row(row_key)]

    def next_attempt(self, row_key: str) -> int:
        """The attempt number the row's next call carries (1 if it was never tried)."""
        last = self._last.get(self._row(row_key))
        return 1 if last is None else last.attempt + 1

    def last_outcome(self, row_key: str) -> str | None:
        """The outcome of the row's latest attempt, None if it was never tried."""
        last = self._last.get(self._row(row_key))
        return None if last is None else last.outcome

    def due_at(self, row_key: str) -> datetime | None:
        """When a waiting row's retry is due; None for a row that is not waiting."""
        return self._due.get(self._row(row_key))

    def ready(self, now: datetime) -> list[CallRow]:
        """The rows to call at `now`: the fresh ones in file order, then the waiting ones whose
        retry is due, the earliest due first (file order between equals)."""
        fresh = [row for key, row in self._rows.items() if self._status[key] == FRESH]
        due = sorted((when, self._order[key]) for key, when in self._due.items() if when <= now)
        return fresh + [self._in_order[index] for _, index in due]

    def next_due(self, now: datetime) -> datetime | None:
        """When the next waiting row becomes due after `now`; None if none is due later."""
        return min((when for when in self._due.values() if when > now), default=None)

    @property
    def finished(self) -> bool:
        """Whether no row is left to call (none fresh, none waiting)."""
        return not any(status in (FRESH, WAITING) for status in self._status.values())

    def counts(self) -> dict[str, int]:
        """Rows per final outcome of the done ones (by outcome name), then `pending` (fresh or
        waiting) and `skipped` (on the do-not-call list)."""
        finals = Counter(
            self._last[key].outcome for key, status in self._status.items() if status == DONE
        )
        statuses = Counter(self._status.values())
        return {
            **{outcome: finals[outcome] for outcome in sorted(finals)},
            PENDING: statuses[FRESH] + statuses[WAITING],
            SKIPPED: statuses[SKIPPED],
        }
