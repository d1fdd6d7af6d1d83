"""Calling hours, retry backoff and a campaign's state from its call log: examples, and
properties over arbitrary times and attempt histories (resuming after a crash included)."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.campaign.calllist import CallRow
from ivr.campaign.donotcall import DoNotCall
from ivr.campaign.hours import MINUTES_PER_DAY, CallingHours, parse_days
from ivr.campaign.plan import (
    DONE,
    FRESH,
    SKIPPED,
    WAITING,
    Attempt,
    CampaignPlan,
    RetryPolicy,
    attempts_from_log,
)
from ivr.records.calllog import CallLog, CallRecord

CST = timezone(timedelta(hours=8))
MINUTE = timedelta(minutes=1)


def local(day: int, hour: int, minute: int = 0, tz=CST) -> datetime:
    """A time in November 2026 (the 2nd is a Monday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=tz)


# Calling hours: examples


def test_a_daytime_window_opens_at_its_start_and_closes_at_its_end():
    hours = CallingHours.parse("09:00-21:00")
    assert not hours.is_open(local(2, 8, 59)) and hours.is_open(local(2, 9))
    assert hours.is_open(local(2, 20, 59)) and not hours.is_open(local(2, 21))
    assert hours.next_open(local(2, 7)) == local(2, 9)
    assert hours.next_open(local(2, 21)) == local(3, 9)
    assert hours.next_open(local(2, 12, 34)) == local(2, 12, 34)
    assert hours.closes_at(local(2, 12)) == local(2, 21)
    assert hours.closes_at(local(2, 22)) == local(2, 22)  # closed: closes at once
    assert str(hours) == "09:00-21:00" and not hours.always


def test_a_window_may_wrap_midnight_and_days_are_the_days_it_starts():
    hours = CallingHours.parse("20:00-08:00", days="mon-fri")
    assert hours.is_open(local(6, 23)) and hours.is_open(local(7, 7, 59))  # Fri night, Sat dawn
    assert not hours.is_open(local(7, 20)) and not hours.is_open(local(9, 7))  # Sat and Mon
    assert hours.next_open(local(7, 8)) == local(9, 20)
    assert hours.closes_at(local(6, 23)) == local(7, 8)
    assert str(hours) == "20:00-08:00 on mon,tue,wed,thu,fri"


def test_the_whole_day_is_always_open_unless_days_are_given():
    for always in (CallingHours.parse(None), CallingHours.parse("00:00-24:00"), CallingHours()):
        assert (
            always.always and always.is_open(local(8, 3)) and always.closes_at(local(8, 3)) is None
        )
    weekdays = CallingHours.parse("00:00-24:00", days="mon-fri")
    assert (
        not weekdays.always and weekdays.is_open(local(2, 0)) and not weekdays.is_open(local(8, 12))
    )
    assert weekdays.closes_at(local(3, 10)) == local(7, 0)  # days that meet close as one
    assert weekdays.next_open(local(7, 0)) == local(9, 0)
    evening = CallingHours.parse("18:30-24:00", days="sun")
    assert evening.next_open(local(2, 12)) == local(8, 18, 30) and evening.length_min == 330


def test_calling_hours_keep_the_tzinfo_and_work_on_naive_times():
    shanghai = CallingHours.parse("9:00 - 21:00")
    utc_morning = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    opens = shanghai.next_open(utc_morning)
    assert opens == datetime(2026, 11, 2, 9, 0, tzinfo=UTC) and opens.tzinfo is UTC
    assert shanghai.next_open(datetime(2026, 11, 2, 22)) == datetime(2026, 11, 3, 9)


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,wed,sat", {0, 2, 5}),
        ("Sat-Mon", {5, 6, 0}),
        ("mon-wed, sat", {0, 1, 2, 5}),
        ("sun", {6}),
        ("tue-mon", set(range(7))),
    ],
)
def test_parse_days(days, expected):
    assert parse_days(days) == expected


@pytest.mark.parametrize(
    ("text", "days", "message"),
    [
        ("9-21", None, "invalid calling hours '9-21': give them as HH:MM-HH:MM"),
        ("09:00", None, "invalid calling hours '09:00': give them as HH:MM-HH:MM"),
        ("09:00-25:00", None, "invalid calling hours '09:00-25:00': 25:00 is not a time of day"),
        ("09:60-21:00", None, "invalid calling hours '09:60-21:00': 09:60 is not a time of day"),
        ("24:00-08:00", None, "invalid calling hours '24:00-08:00': 24:00 is not a time of day"),
        ("09:00-09:00", None, "invalid calling hours '09:00-09:00': the window is empty"),
        ("00:00-00:00", None, "invalid calling hours '00:00-00:00': the window is empty"),
        ("09:00-21:00", "weekdays", "invalid calling days 'weekdays': give days as mon-fri"),
        ("09:00-21:00", "mon-", "invalid calling days 'mon-'"),
        ("09:00-21:00", "", "invalid calling days ''"),
    ],
)
def test_bad_calling_hours_say_what_is_wrong(text, days, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        CallingHours.parse(text, days=days)


# Calling hours: properties against a plain model


def model_is_open(hours: CallingHours, at: datetime) -> bool:
    """Whether `hours` are open at `at`, from the wall clock alone."""
    minute = at.hour * 60 + at.minute + (at.second + at.microsecond / 1e6) / 60
    today, yesterday = at.weekday(), (at.weekday() - 1) % 7
    start, end = hours.start_min, hours.end_min
    if hours.length_min == MINUTES_PER_DAY:
        return today in hours.days
    if start < end:
        return start <= minute < end and today in hours.days
    return (minute >= start and today in hours.days) or (minute < end and yesterday in hours.days)


def _zones() -> list:
    zones = [None, CST, UTC, timezone(-timedelta(hours=5, minutes=30))]
    with contextlib.suppress(ZoneInfoNotFoundError):
        zones += [ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")]
    return zones


@st.composite
def calling_hours(draw) -> CallingHours:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    if draw(st.integers(0, 5)) == 0:
        return CallingHours(0, MINUTES_PER_DAY, days)
    start = draw(st.integers(0, MINUTES_PER_DAY - 1))
    end = draw(st.integers(0, MINUTES_PER_DAY).filter(lambda e: e % MINUTES_PER_DAY != start))
    return CallingHours(start, end, days)


instants = st.datetimes(
    datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.sampled_from(_zones())
)


def minute_marks(after: datetime, before: datetime):
    """Every whole minute strictly between two times (windows open and close on them)."""
    mark = after.replace(second=0, microsecond=0) + MINUTE
    while mark < before:
        yield mark
        mark += MINUTE


@given(calling_hours(), instants)
def test_is_open_agrees_with_the_wall_clock_model(hours, at):
    assert hours.is_open(at) == model_is_open(hours, at)


@given(calling_hours(), instants)
def test_next_open_is_the_first_open_instant_from_at(hours, at):
    opens = hours.next_open(at)
    assert opens >= at and opens.tzinfo is at.tzinfo
    assert hours.is_open(opens) and model_is_open(hours, opens)
    assert opens - at <= timedelta(days=7)
    if opens > at:
        assert not hours.is_open(at) and not hours.is_open(opens - timedelta(microseconds=1))
        assert not any(model_is_open(hours, mark) for mark in minute_marks(at, opens))


@given(calling_hours(), instants)
def test_closes_at_ends_the_open_stretch_at_at(hours, at):
    closes = hours.closes_at(at)
    if hours.always:
        assert closes is None
    elif not hours.is_open(at):
        assert closes == at
    else:
        assert at < closes <= at + timedelta(days=7) and closes.tzinfo is at.tzinfo
        assert not hours.is_open(closes) and hours.is_open(closes - timedelta(microseconds=1))
        assert all(model_is_open(hours, mark) for mark in minute_marks(at, closes))


# Retry policy


def test_backoff_doubles_from_the_first_retry_and_retries_are_limited():
    policy = RetryPolicy()
    assert [policy.delay_s(n) for n in (1, 2, 3)] == [300.0, 600.0, 1200.0]
    assert policy.max_attempts == 3
    assert policy.wants_retry("busy", 1) and policy.wants_retry("no_answer", 2)
    assert not policy.wants_retry("busy", 3) and not policy.wants_retry("answered", 1)
    assert not policy.wants_retry("call_failed", 1)
    flat = RetryPolicy(retries=1, backoff_s=60, factor=1, retry_on={"call_failed"})
    assert flat.retry_on == frozenset({"call_failed"}) and flat.delay_s(5) == 60
    assert not RetryPolicy(retries=0).wants_retry("busy", 1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"retries": -1}, "invalid retries: -1"),
        ({"retries": 1.5}, "invalid retries: 1.5"),
        ({"backoff_s": -1.0}, "invalid backoff_s: -1.0"),
        ({"backoff_s": float("inf")}, "invalid backoff_s: inf"),
        ({"factor": 0.5}, "invalid backoff factor: 0.5"),
    ],
)
def test_bad_retry_policies_say_what_is_wrong(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        RetryPolicy(**changes)
    with pytest.raises(ValueError, match="invalid attempt: 0"):
        RetryPolicy().delay_s(0)


@given(
    st.floats(0, 1e4), st.floats(1, 4), st.integers(1, 10), st.integers(0, 5), st.text(max_size=3)
)
def test_waits_never_shrink_and_no_attempt_past_the_last_is_wanted(
    backoff_s, factor, attempt, retries, outcome
):
    policy = RetryPolicy(retries, backoff_s, factor, frozenset({outcome, "busy"}))
    assert policy.delay_s(attempt + 1) >= policy.delay_s(attempt) >= 0
    assert policy.wants_retry(outcome, attempt) == (attempt <= retries)


# The campaign's plan: examples


def row(key: str, number: str) -> CallRow:
    return CallRow(key, 0, number, None, None, {"number": number})


ROWS = [row("a", "13800000001"), row("b", "13800000002"), row("c", "13800000003"),
        row("d", "13800000004")]  # fmt: skip
T0 = local(2, 10)


def test_each_row_is_fresh_waiting_done_or_skipped_from_its_attempts():
    attempts = [
        Attempt("a", 1, "busy", T0),
        Attempt("b", 1, "answered", T0),
        Attempt("d", 1, "answered", T0),  # called before it was put on the do-not-call list
        Attempt("gone", 1, "busy", T0),  # a row since taken off the list
    ]
    plan = CampaignPlan(ROWS, RetryPolicy(), attempts, DoNotCall(["+86 138 0000 0004"]))
    assert [plan.status(k) for k in "abcd"] == [WAITING, DONE, FRESH, SKIPPED]
    assert [plan.next_attempt(k) for k in "abcd"] == [2, 2, 1, 2]
    assert plan.due_at("a") == T0 + timedelta(seconds=300) and plan.due_at("c") is None
    assert plan.last_outcome("b") == "answered" and plan.last_outcome("c") is None
    assert [r.key for r in plan.ready(T0)] == ["c"]
    assert [r.key for r in plan.ready(T0 + timedelta(seconds=300))] == ["c", "a"]
    assert plan.next_due(T0) == T0 + timedelta(seconds=300)
    assert plan.next_due(T0 + timedelta(seconds=300)) is None
    assert plan.counts() == {"answered": 1, "pending": 2, "skipped": 1} and not plan.finished
    assert plan.record(Attempt("c", 1, "callee_hangup", T0)) == DONE
    assert plan.record(Attempt("a", 2, "no_answer", T0 + MINUTE * 10)) == WAITING
    assert plan.due_at("a") == T0 + MINUTE * 20  # 600 s after the second try ended
    assert plan.record(Attempt("a", 3, "busy", T0 + MINUTE * 30)) == DONE  # retries used up
    assert plan.record(Attempt("gone", 2, "busy", T0)) is None
    assert plan.finished and plan.ready(T0 + timedelta(days=1)) == [] and plan.next_due(T0) is None
    assert plan.counts() == {"answered": 1, "busy": 1, "callee_hangup": 1, "pending": 0,
                             "skipped": 1}  # fmt: skip


def test_due_retries_come_earliest_first_after_the_fresh_rows():
    attempts = [Attempt("c", 1, "busy", T0), Attempt("a", 1, "busy", T0 + MINUTE),
                Attempt("b", 1, "busy", T0)]  # fmt: skip
    plan = CampaignPlan(ROWS, RetryPolicy(backoff_s=60), attempts)
    assert [r.key for r in plan.ready(T0 + MINUTE * 2)] == ["d", "b", "c", "a"]
    assert [r.key for r in plan.ready(T0 + MINUTE)] == ["d", "b", "c"]
    assert plan.next_due(T0 + MINUTE) == T0 + MINUTE * 2


def test_a_plan_refuses_an_attempt_twice_a_key_twice_and_an_unknown_row():
    plan = CampaignPlan(ROWS, attempts=[Attempt("a", 1, "busy", T0)])
    with pytest.raises(ValueError, match="row 'a': attempt 1 is already recorded"):
        plan.record(Attempt("a", 1, "answered", T0))
    with pytest.raises(ValueError, match="row key 'a' is on the call list twice"):
        CampaignPlan([*ROWS, ROWS[0]])
    with pytest.raises(KeyError, match="no row 'z' on the call list"):
        plan.status("z")
    with pytest.raises(ValueError, match="invalid attempt: 0"):
        Attempt("a", 0, "busy", T0)
    assert plan.rows == ROWS


def test_a_plan_from_the_call_log_after_a_restart(tmp_path):
    def call(key: str | None, attempt: int | None, outcome: str, campaign: str | None = "双十一"):
        return CallRecord(
            started_at="2026-11-02T10:00:00+08:00", direction="outbound", number="13800000001",
            script="outbound", outcome=outcome, duration_s=42.5, source="sip", file="x.wav",
            campaign=campaign, row_key=key, attempt=attempt,
        )  # fmt: skip

    with CallLog(tmp_path / "calls.db") as log:
        log.add(call("a", 1, "busy"))
        log.add(call("b", 1, "answered"))
        log.add(call("a", 1, "answered", campaign="another"))
        log.add(call(None, None, "answered", campaign=None))
    with CallLog(tmp_path / "calls.db") as log:  # the campaign restarted
        attempts = attempts_from_log(log.attempts("双十一"))
    ended = datetime(2026, 11, 2, 10, 0, 42, 500000, tzinfo=CST)
    assert attempts == [Attempt("a", 1, "busy", ended), Attempt("b", 1, "answered", ended)]
    plan = CampaignPlan(ROWS, RetryPolicy(), attempts)
    assert [r.key for r in plan.ready(ended)] == ["c", "d"]
    assert plan.due_at("a") == ended + timedelta(seconds=300)
    with pytest.raises(ValueError, match="more than one campaign, or none"):
        attempts_from_log([call("a", 1, "busy"), call("a", 1, "busy", campaign="another")])
    with pytest.raises(ValueError, match="more than one campaign, or none"):
        attempts_from_log([call(None, None, "busy", campaign=None)])
    assert attempts_from_log([]) == []


# The campaign's plan: properties over arbitrary histories

OUTCOMES = ("busy", "no_answer", "answered", "call_failed", "callee_hangup")
KEYS = [f"line {n}" for n in range(2, 9)]


@st.composite
def campaigns(draw):
    """Rows, a retry policy, a do-not-call list and a shuffled history of attempts (at rows
    of the list and at rows no longer on it), numbered 1, 2, ... per row."""
    keys = draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=len(KEYS)))
    rows = [row(key, f"1380000000{KEYS.index(key)}") for key in keys]
    policy = RetryPolicy(
        draw(st.integers(0, 3)), draw(st.sampled_from([0.0, 60.0, 300.0])),
        draw(st.sampled_from([1.0, 2.0, 3.0])),
        draw(st.frozensets(st.sampled_from(OUTCOMES), max_size=3)),
    )  # fmt: skip
    blocked = draw(st.lists(st.sampled_from(rows), unique=True)) if rows else []
    history = []
    for key in [*keys, "gone"]:
        for number in range(1, draw(st.integers(0, 5)) + 1):
            ended = T0 + MINUTE * draw(st.integers(0, 600))
            history.append(Attempt(key, number, draw(st.sampled_from(OUTCOMES)), ended))
    history = draw(st.permutations(history))
    return rows, policy, DoNotCall(r.number for r in blocked), history


def state(plan: CampaignPlan) -> tuple:
    """Everything the plan tells, at times through the history and after it."""
    times = [T0 + MINUTE * m for m in (0, 100, 400, 800, 3000)]
    return (
        [(r.key, plan.status(r.key), plan.next_attempt(r.key), plan.due_at(r.key),
          plan.last_outcome(r.key)) for r in plan.rows],
        [([r.key for r in plan.ready(t)], plan.next_due(t)) for t in times],
        plan.counts(), plan.finished,
    )  # fmt: skip


@given(campaigns(), st.data())
def test_resuming_from_any_prefix_of_the_log_gives_the_same_plan(campaign, data):
    rows, policy, dnc, history = campaign
    cut = data.draw(st.integers(0, len(history)))
    resumed = CampaignPlan(rows, policy, history[:cut], dnc)
    for attempt in history[cut:]:
        resumed.record(attempt)
    assert state(resumed) == state(CampaignPlan(rows, policy, history, dnc))
    assert state(resumed) == state(CampaignPlan(rows, policy, history[::-1], dnc))  # any order


@given(campaigns(), st.integers(0, 800))
def test_ready_rows_are_never_done_nor_blocked_nor_past_their_last_attempt(campaign, minutes):
    rows, policy, dnc, history = campaign
    plan = CampaignPlan(rows, policy, history, dnc)
    now = T0 + MINUTE * minutes
    ready = plan.ready(now)
    assert len({r.key for r in ready}) == len(ready)
    due = {r.key for r in rows if plan.status(r.key) == WAITING and plan.due_at(r.key) <= now}
    fresh = [r.key for r in rows if plan.status(r.key) == FRESH]
    order = {r.key: i for i, r in enumerate(rows)}  # file order between equal due times
    assert [r.key for r in ready] == fresh + sorted(due, key=lambda k: (plan.due_at(k), order[k]))
    later = [plan.due_at(r.key) for r in rows if r.key not in due and plan.due_at(r.key)]
    assert plan.next_due(now) == min(later, default=None)
    for ready_row in ready:
        assert plan.status(ready_row.key) in (FRESH, WAITING)
        assert ready_row.number not in dnc
        assert 1 <= plan.next_attempt(ready_row.key) <= policy.max_attempts
    for listed in rows:
        if listed.number in dnc:
            assert plan.status(listed.key) == SKIPPED and plan.due_at(listed.key) is None
    counts = plan.counts()
    assert sum(counts.values()) == len(rows)
    assert plan.finished == (counts["pending"] == 0)


@given(
    st.integers(1, 6), st.integers(0, 3), st.lists(st.sampled_from(OUTCOMES), min_size=30),
    st.lists(st.integers(0, 9), max_size=8), st.lists(st.integers(0, 5), max_size=4),
)  # fmt: skip
def test_a_campaign_killed_any_number_of_times_calls_as_one_never_killed(
    size, retries, outcomes, kills, blocked
):
    """Dial until finished; each kill drops the call in progress (never logged) and rebuilds
    the plan from the log. Outcomes depend on the row and attempt only, so the log must come
    out the same as a run that was never killed, and no row is called past its end."""
    rows = [row(KEYS[n], f"1380000000{n}") for n in range(size)]
    dnc = DoNotCall(rows[n].number for n in blocked if n < size)
    policy = RetryPolicy(retries, backoff_s=60)

    def outcome(key: str, attempt: int) -> str:
        return outcomes[(KEYS.index(key) * 5 + attempt) % len(outcomes)]

    def run(kill_at: set[int]) -> list[tuple[str, int, str]]:
        log: list[Attempt] = []
        plan, now, dialed = CampaignPlan(rows, policy, log, dnc), T0, 0
        while not plan.finished:
            ready = plan.ready(now)
            if not ready:
                now = plan.next_due(now)
                continue
            key = ready[0].key
            number = plan.next_attempt(key)
            dialed += 1
            now += MINUTE
            if dialed in kill_at:  # killed mid-call: nothing logged, the plan is lost
                plan = CampaignPlan(rows, policy, list(log), dnc)
                continue
            log.append(Attempt(key, number, outcome(key, number), now))
            plan.record(log[-1])
            assert dialed < 200
        return sorted((a.row_key, a.attempt, a.outcome) for a in log)

    calm = run(set())
    assert run({k + 1 for k in kills}) == calm
    for listed in rows:
        mine = [(n, o) for key, n, o in calm if key == listed.key]
        if listed.number in dnc:
            assert mine == []
            continue
        assert [n for n, _ in mine] == list(range(1, len(mine) + 1))
        assert 1 <= len(mine) <= policy.max_attempts
        assert all(policy.wants_retry(o, n) for n, o in mine[:-1])
        assert not policy.wants_retry(*reversed(mine[-1]))


def test_a_call_we_cut_short_is_placed_again_at_once_without_using_a_retry():
    rows = [row("line 2", "13800000000")]
    policy = RetryPolicy(retries=1, backoff_s=60)
    history = [Attempt("line 2", 1, "aborted", T0), Attempt("line 2", 2, "busy", T0 + MINUTE)]
    plan = CampaignPlan(rows, policy, history[:1])
    assert plan.status("line 2") == WAITING and plan.due_at("line 2") == T0
    assert [r.key for r in plan.ready(T0)] == ["line 2"] and plan.next_attempt("line 2") == 2
    plan.record(history[1])  # its first real try: busy, so the one retry is still due
    assert plan.status("line 2") == WAITING and plan.due_at("line 2") == T0 + 2 * MINUTE
    plan.record(Attempt("line 2", 3, "busy", T0 + 3 * MINUTE))
    assert plan.status("line 2") == DONE and plan.counts()["busy"] == 1
