"""Running a campaign: the rows its plan says are due, dialed over SIP, at most `concurrency`
at once, inside the calling hours, each call kept (and so logged) before the plan moves on.

The calls run in worker processes (ivr.service.workers); this loop keeps the plan and the call
log. The call log is the campaign's memory: a row's attempt is logged once the
call has ended, so a campaign stopped at any point (Ctrl-C, SIGTERM, even SIGKILL) and started
again places exactly the calls that were not logged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.app.keeping import CampaignAttempt, EndedCall
from ivr.campaign.calllist import CallRow
from ivr.campaign.hours import CallingHours
from ivr.campaign.plan import Attempt, CampaignPlan
from ivr.errors import IvrError
from ivr.privacy import mask_number

if TYPE_CHECKING:
    from ivr.app.keeping import CallKeeper
    from ivr.app.line import StopRequest
    from ivr.campaign.setup import OpenCampaign
    from ivr.service.workers import JobDone, WorkerPool

IDLE_POLL_MS = 100
"""How long each wait for a call's end lasts while no call is due (ms)."""

POLL_MS = 10
"""How long each wait for a call's end lasts while calls are under way (ms)."""


@dataclass(frozen=True)
class CampaignOptions:
    """How a campaign dials. `name`: the campaign's, as logged and shown (numbers masked
    unless shown: ivr.campaign.names). `trunk`: the SIP address of a row without its own
    `uri`, with `{number}` for the row's number (e.g. sip:{number}@10.0.0.5:5060).
    `answer_timeout_s`: how long a call may ring (s). `wait`: wait for the calling hours and
    for retries that are not yet due, instead of stopping with those rows pending. `shard`:
    (k, n), this worker's share of the list, the rows whose position in the file is k modulo n
    (one worker: (0, 1))."""

    name: str
    trunk: str | None
    concurrency: int
    hours: CallingHours
    wait: bool
    answer_timeout_s: float
    out: Path
    shard: tuple[int, int] = (0, 1)


def shard_keys(rows: Sequence[CallRow], shard: tuple[int, int]) -> set[str]:
    """The keys of the rows in share (k, n): those whose position in the list is k modulo n."""
    k, n = shard
    return {row.key for i, row in enumerate(rows) if i % n == k}


def uri_of(row: CallRow, trunk: str | None) -> str:
    """Where to call `row`: its own `uri`, else the trunk template with its number."""
    if row.uri:
        return row.uri
    if trunk is None:
        raise IvrError("no uri column and no --trunk to call the number through")
    return trunk.replace("{number}", row.digits)


class Campaign:
    """One run of a campaign: `run` until every due row is called (or stopped)."""

    def __init__(
        self,
        pool: WorkerPool,
        plan: CampaignPlan,
        campaign: OpenCampaign,
        keeper: CallKeeper,
        options: CampaignOptions,
        now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
        on_call: Callable[[CallRow, str], None] | None = None,
    ) -> None:
        self.pool, self.plan, self.campaign, self.keeper = pool, plan, campaign, keeper
        self.options, self.now, self.on_call = options, now, on_call
        self.placed = 0
        self.problems: list[str] = []
        self.stopped_for = ""
        """Why the run stopped with rows pending ('' when nothing is left to call)."""
        self._calling: set[str] = set()
        self._mine = shard_keys(plan.rows, options.shard)
        self._broken: set[str] = set()

    def _due(self, now: datetime) -> list[CallRow]:
        return [
            row
            for row in self.plan.ready(now)
            if row.key in self._mine and row.key not in self._calling | self._broken
        ]

    def _left(self) -> bool:
        return any(
            self.plan.status(key) in ("fresh", "waiting") for key in self._mine - self._broken
        )

    def run(self, stop: StopRequest) -> bool:
        """Call until no row of this worker's share is left (or, without `wait`, none is due
        now); whether it was stopped (Ctrl-C, SIGTERM)."""
        pool, hours = self.pool, self.options.hours
        while not stop:
            now = self.now()
            self._keep(pool.poll(0))
            if not self._left() and not pool.running:
                break
            if not hours.is_open(now):
                if not pool.running and not self.options.wait:
                    self.stopped_for = (
                        f"outside the calling hours (they open {hours.next_open(now):%c})"
                    )
                    break
                self._keep(pool.poll(IDLE_POLL_MS))
                continue
            due = self._due(now)
            for row in due[: pool.free]:
                self._start(row, now)
            if not due and not pool.running:
                later = self.plan.next_due(now)
                if later is None:
                    break
                if not self.options.wait:
                    self.stopped_for = f"retries due later (the next at {later:%c})"
                    break
            self._keep(pool.poll(IDLE_POLL_MS if not pool.running else POLL_MS))
        if stop:
            self._keep(pool.stop())
        return bool(stop)

    def _start(self, row: CallRow, now: datetime) -> None:
        attempt = self.plan.next_attempt(row.key)
        try:
            recording = self.campaign.names.recording(self.options.out, row, attempt)
            uri = uri_of(row, self.options.trunk)
            self.campaign.script_of(self.campaign.values_of(row))  # a value missing: not dialed
        except IvrError as exc:
            self.problems.append(mask_number(f"line {row.line}: {exc}"))
            self._broken.add(row.key)
            return
        self._calling.add(row.key)
        self.placed += 1
        self.pool.submit((row, attempt, now), uri, self.campaign.values_of(row), recording)
        if self.on_call is not None:
            self.on_call(row, "dialing")

    def _keep(self, finished: list[tuple[tuple[CallRow, int, datetime], JobDone]]) -> None:
        for (row, attempt, started), done in finished:
            self._calling.discard(row.key)
            if done.result is None:
                self.problems.append(mask_number(f"line {row.line}: {done.error}"))
                self._broken.add(row.key)  # tried again by the next run, not this one
                if self.on_call is not None:
                    self.on_call(row, "failed")
                continue
            values = self.campaign.values_of(row)
            try:
                script = self.campaign.script_of(values)
                tried = CampaignAttempt(
                    self.options.name, self.campaign.names.keys[row.key], attempt
                )
                call = EndedCall(
                    done.result.result, script, values, started, "sip", done.result.answered,
                    done.result.status, row.name, attempt=tried, rtp=done.result.rtp,
                )  # fmt: skip
                self.keeper.keep(call, self.campaign.settings)
            except (IvrError, ValueError) as exc:
                self.problems.append(mask_number(f"line {row.line}: {exc}"))
                self._broken.add(row.key)
                continue
            outcome = done.result.result.outcome
            ended = started + timedelta(seconds=done.result.result.duration_s)
            self.plan.record(Attempt(row.key, attempt, outcome, ended))
            if self.on_call is not None:
                self.on_call(row, outcome)
