"""Calling hours: when a campaign may dial, as a daily window of local wall-clock time.

`09:00-21:00` opens at 09:00 (inclusive) and closes at 21:00 (exclusive); a window may wrap
midnight (`20:00-08:00` runs from 20:00 to 08:00 the next morning), and `00:00-24:00` is the
whole day. Days, if given (`mon-fri`, `mon,wed,sat`, `sat-mon`), are the days a window starts
on. Times are compared on the wall clock of the datetime asked about, in its own time zone
(an aware datetime keeps its tzinfo; a naive one is taken as local time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

MINUTES_PER_DAY = 24 * 60

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names in `datetime.weekday()` order (Monday is 0)."""

EVERY_DAY = frozenset(range(7))

_WINDOW = re.compile(r"\s*(\d{1,2}):(\d\d)\s*-\s*(\d{1,2}):(\d\d)\s*")
"""HH:MM-HH:MM"""


def _minute(hours: str, minutes: str, text: str, end: bool) -> int:
    value = int(hours) * 60 + int(minutes)
    if int(minutes) >= 60 or value > MINUTES_PER_DAY or (value == MINUTES_PER_DAY and not end):
        raise ValueError(f"invalid calling hours {text!r}: {hours}:{minutes} is not a time of day")
    return value


def parse_days(text: str) -> frozenset[int]:
    """The weekdays (Monday 0) named by `mon-fri`, `mon,wed,sat`, `fri-mon` (wrapping the
    week) or a mix (`mon-wed,sat`); ValueError naming the text if it names none or another."""
    days: set[int] = set()
    for part in text.lower().split(","):
        first, dash, last = (p.strip() for p in part.partition("-"))
        if first not in DAY_NAMES or (dash and last not in DAY_NAMES):
            raise ValueError(
                f"invalid calling days {text!r}: give days as mon-fri or mon,wed,sat "
                f"({', '.join(DAY_NAMES)})"
            )
        start = DAY_NAMES.index(first)
        length = (DAY_NAMES.index(last) - start) % 7 if dash else 0
        days.update((start + offset) % 7 for offset in range(length + 1))
    return frozenset(days)


@dataclass(frozen=True)
class CallingHours:
    """A daily window from `start_min` to `end_min` (minutes after midnight, wall clock; end
    after start, or before it for a window wrapping midnight, 1440 for midnight at the end),
    open on the window's start `days` (weekdays, Monday 0)."""

    start_min: int = 0
    end_min: int = MINUTES_PER_DAY
    days: frozenset[int] = EVERY_DAY

    def __post_init__(self) -> None:
        in_day = 0 <= self.start_min < MINUTES_PER_DAY and 0 <= self.end_min <= MINUTES_PER_DAY
        if not in_day or self.length_min == 0:
            raise ValueError(
                f"invalid calling hours: {self.start_min}-{self.end_min} min after midnight"
            )
        if not self.days or not self.days <= EVERY_DAY:
            raise ValueError(f"invalid calling days: {sorted(self.days)!r}")

    @classmethod
    def parse(cls, text: str | None, days: str | None = None) -> CallingHours:
        """The hours `HH:MM-HH:MM` (None: the whole day) on `days` (None: every day).

        ValueError naming the text if it is not such a window, or opens and closes at once."""
        days_open = EVERY_DAY if days is None else parse_days(days)
        if text is None:
            return cls(0, MINUTES_PER_DAY, days_open)
        match = _WINDOW.fullmatch(text)
        if match is None:
            raise ValueError(f"invalid calling hours {text!r}: give them as HH:MM-HH:MM")
        start = _minute(match[1], match[2], text, end=False)
        end = _minute(match[3], match[4], text, end=True)
        if start == end % MINUTES_PER_DAY and not (start == 0 and end == MINUTES_PER_DAY):
            raise ValueError(f"invalid calling hours {text!r}: the window is empty")
        return cls(start, end, days_open)

    @property
    def length_min(self) -> int:
        """How long each window is open (minutes)."""
        if self.start_min == 0 and self.end_min == MINUTES_PER_DAY:
            return MINUTES_PER_DAY
        return (self.end_min - self.start_min) % MINUTES_PER_DAY

    @property
    def always(self) -> bool:
        """Whether the hours never close (the whole day, every day)."""
        return self.length_min == MINUTES_PER_DAY and self.days == EVERY_DAY

    def _windows(self, at: datetime) -> list[tuple[datetime, datetime]]:
        """The windows that start from the day before `at` to 8 days after, in order."""
        midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
        windows = []
        for offset in range(-1, 9):
            day = midnight + timedelta(days=offset)
            if day.weekday() in self.days:
                opens = day + timedelta(minutes=self.start_min)
                windows.append((opens, opens + timedelta(minutes=self.length_min)))
        return windows

    def is_open(self, at: datetime) -> bool:
        """Whether a call may be placed at `at`."""
        return self.always or any(opens <= at < closes for opens, closes in self._windows(at))

    def next_open(self, at: datetime) -> datetime:
        """`at` if the hours are open then, else when they open next (same tzinfo)."""
        if self.is_open(at):
            return at
        return min(opens for opens, _ in self._windows(at) if opens > at)

    def closes_at(self, at: datetime) -> datetime | None:
        """When the hours open at `at` close (windows that meet count as one: `00:00-24:00` on
        mon-fri closes on Saturday 00:00); `at` itself if they are closed at `at`, None if they
        never close."""
        if self.always:
            return None
        closing = at
        for opens, closes in self._windows(at):
            if opens <= closing < closes:
                closing = closes
        return closing

    def __str__(self) -> str:
        def clock(minute: int) -> str:
            return f"{minute // 60:02d}:{minute % 60:02d}"

        window = f"{clock(self.start_min)}-{clock(self.end_min)}"
        if self.days == EVERY_DAY:
            return window
        return f"{window} on {','.join(DAY_NAMES[d] for d in sorted(self.days))}"
