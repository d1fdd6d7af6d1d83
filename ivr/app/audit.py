"""Running `ivr audit` on a batch: each recording scored here or in worker processes, every
outcome handed back in the recordings' order, and each scorecard's row in the call log.

A recording that cannot be read, a worker process that dies (ivr.app.pool: a new one takes
its place) or a scoring that raises fails that recording only; the batch goes on. Outcomes come
back in the order the recordings were given, each as soon as it and every one before it are
done, so the console's lines, the call log's ids and the tables follow the command line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ivr.app.pool import BatchPool
from ivr.audit import AuditSettings, Outcome, Recording, Scorecard, audit_call
from ivr.audit.silent_line import SilentLineRules
from ivr.call_settings import CallSettings
from ivr.errors import IvrError

if TYPE_CHECKING:
    from ivr.records.calllog import CallRecord

AUDIT_HANDLER = "ivr audit"
"""The call log's `handler` of an audited call: who scored it (the agent is not known)."""


@dataclass(frozen=True)
class AuditJob:
    """Everything scoring a recording needs (picklable, for the worker processes): the
    standard's numbers, the script's silent-line rules with the script's name and direction,
    and the detectors' settings."""

    settings: AuditSettings
    rules: SilentLineRules
    script: str
    direction: str
    detect: CallSettings


def audit_job(script: str, settings: AuditSettings, detect: CallSettings) -> AuditJob:
    """The job for `script` (a bundled script's name or a path); ScriptError or ValueError when
    the script cannot be read or has no silent-line rules."""
    from ivr.script.loader import load_script_structure

    loaded = load_script_structure(script)
    rules = SilentLineRules.of(loaded, settings.silent_wait_slack_s)
    return AuditJob(settings, rules, loaded.name, loaded.direction, detect)


def audit_here(rec: Recording, job: AuditJob) -> Outcome:
    """One recording's outcome: its scorecard, or the error (naming the file) that stopped it."""
    try:
        return Outcome(rec.name, audit_call(rec, job.settings, job.rules, job.detect))
    except IvrError as exc:
        return Outcome(rec.name, None, str(exc))


_worker_job: AuditJob | None = None
"""The job of this worker process (set once by `init_worker`)."""


def init_worker(job: AuditJob) -> None:
    """A worker process's set-up: keep the job."""
    global _worker_job
    _worker_job = job


def audit_in_worker(rec: Recording) -> Outcome:
    """One recording's outcome, in a worker process set up by `init_worker`."""
    assert _worker_job is not None, "init_worker was not called"
    return audit_here(rec, _worker_job)


def audit_outcomes(recordings: Sequence[Recording], job: AuditJob, jobs: int) -> Iterator[Outcome]:
    """Each recording's outcome in the recordings' order: with `jobs` 1 (or one recording)
    here, else in `jobs` worker processes, each yielded once it and those before it are done."""
    if jobs < 1:
        raise ValueError(f"invalid jobs: {jobs} (must be >= 1)")
    if jobs == 1 or len(recordings) < 2:
        for rec in recordings:
            yield audit_here(rec, job)
        return
    done: dict[int, Outcome] = {}
    next_index = 0
    with BatchPool(min(jobs, len(recordings)), init_worker, (job,), audit_in_worker) as pool:
        for end in pool.run(recordings):
            outcome = end.result
            if not isinstance(outcome, Outcome):  # its worker died, or the scoring raised
                outcome = Outcome(end.item.name, None, f"{_given(end.item)}: {outcome}")
            done[end.index] = outcome
            while next_index in done:
                yield done.pop(next_index)
                next_index += 1


def _given(rec: Recording) -> str:
    """The recording as the command line gave it: a file, or `agent.wav+customer.wav`."""
    return str(rec.agent) if rec.stereo else f"{rec.agent}+{rec.customer}"


def result_text(card: Scorecard) -> str:
    """The call log's `result` of an audited call: its scorecard's line without the name."""
    return card.line().removeprefix(f"{card.name}: ")


def audit_record(card: Scorecard, rec: Recording, job: AuditJob, started: datetime) -> CallRecord:
    """The call log's row of an audited recording: source `audit`, outcome its verdict (pass
    or fail), its items with their verdicts and failed moments (s); `started` is when it was
    scored (the call's own time is not in the audio)."""
    from ivr.records.calllog import AuditItem, CallRecord

    items = tuple(
        AuditItem(r.key, str(r.verdict), tuple(round(m, 2) for m in r.moments))
        for r in card.results
    )
    return CallRecord(
        started_at=started.astimezone().isoformat(timespec="seconds"),
        direction=job.direction,
        number="",
        script=job.script,
        outcome="fail" if card.failed else "pass",
        duration_s=round(card.duration_s, 3),
        source="audit",
        file=card.name,
        handler=AUDIT_HANDLER,
        result=result_text(card),
        recording_path=str(rec.agent.resolve()) if rec.stereo else None,
        audit=items,
    )
