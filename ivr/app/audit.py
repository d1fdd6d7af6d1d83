"""Running `ivr audit` on a batch: each recording scored here or in worker processes, every
outcome handed back in the recordings' order, and each scorecard's row in the call log.

A recording that cannot be read, a worker process that dies (ivr.app.pool: a new one takes
its place) or a scoring that raises fails that recording only; the batch goes on. Outcomes come
back in the order the recordings were given, each as soon as it and every one before it are
done, so the console's lines, the call log's ids and the tables follow the command line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.app.pool import BatchPool
from ivr.audit import AuditSettings, Outcome, Recording, Scorecard, analyze_call, score
from ivr.audit.sides import CallSides
from ivr.audit.silent_line import SilentLineRules
from ivr.call_settings import CallSettings
from ivr.corpus.audit_labels import Utterance
from ivr.errors import IvrError
from ivr.safe_names import safe_name

if TYPE_CHECKING:
    from ivr.records.calllog import CallRecord

AUDIT_HANDLER = "ivr audit"
"""The call log's `handler` of an audited call: who scored it (the agent is not known)."""


@dataclass(frozen=True)
class AuditWords:
    """Where the agent's words come from: `asr` none (the word items n/a), vosk (the model in
    folder `model`) or reference (`reference`: recording name -> the agent's utterances, from
    the labels file)."""

    asr: str = "none"
    model: str | None = None
    reference: dict[str, tuple[Utterance, ...]] | None = None

    @property
    def recognizes(self) -> bool:
        """Whether the words come from recognizing the agent's audio (it is kept for that)."""
        return self.asr == "vosk" and self.model is not None

    def of(self, rec: Recording, sides: CallSides) -> list[Utterance] | None:
        """The agent's utterances in `rec`, or None when there are no words to score."""
        model = self.model if self.asr == "vosk" else None
        if model is not None:
            from ivr.audit.hearing import hear_agent

            return hear_agent(sides, model)
        if self.asr == "reference" and self.reference is not None:
            words = self.reference.get(rec.name)
            return None if words is None else list(words)
        return None


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
    pictures: Path | None = None
    """The folder each call's picture is drawn in (`--report`'s `pictures/`, made by whoever
    runs the job), or None for none."""
    words: AuditWords = field(default_factory=AuditWords)
    """Where the agent's words come from (the items that need them)."""
    hang_ups: dict[str, str] = field(default_factory=dict)
    """Who sent the BYE of the SIP calls in the call log: recording path (resolved) ->
    `customer` or `agent` (ivr.records.calllog.CallLog.sip_hang_ups)."""


PICTURES = "pictures"
"""The report folder's subfolder of the calls' pictures."""


def audit_job(
    script: str,
    settings: AuditSettings,
    detect: CallSettings,
    report: Path | None = None,
    words: AuditWords | None = None,
) -> AuditJob:
    """The job for `script` (a bundled script's name or a path), drawing each call's picture
    under `report` if given, the agent's words from `words`; ScriptError or ValueError when the
    script cannot be read or has no silent-line rules."""
    from ivr.script.loader import load_script_structure

    loaded = load_script_structure(script)
    rules = SilentLineRules.of(loaded, settings.silent_wait_slack_s)
    pictures = None if report is None else report / PICTURES
    words = words or AuditWords()
    return AuditJob(settings, rules, loaded.name, loaded.direction, detect, pictures, words)


def picture_name(rec: Recording) -> str:
    """The file name of a recording's picture: its name made safe, and a short hash of where
    its files are (two recordings of one name in different folders do not meet)."""
    where = f"{rec.agent.resolve()}|{rec.customer.resolve()}|{rec.agent_channel}"
    digest = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{safe_name(rec.name, 160)}-{digest}.png"


def audit_here(rec: Recording, job: AuditJob) -> Outcome:
    """One recording's outcome: its scorecard (and picture, when the job draws them), or the
    error (naming the file) that stopped it."""
    try:
        sides = analyze_call(rec, job.detect, keep_agent_audio=job.words.recognizes)
        bye_from = job.hang_ups.get(str(rec.agent.resolve())) if rec.stereo else None
        card = score(sides, job.settings, job.rules, job.words.of(rec, sides), bye_from)
        if job.pictures is None:
            return Outcome(rec.name, card)
        from ivr.report.audit_picture import draw_audit

        picture = draw_audit(sides, card, job.pictures / picture_name(rec))
        return Outcome(rec.name, card, picture=picture)
    except IvrError as exc:
        return Outcome(rec.name, None, str(exc))
    except OSError as exc:  # the picture could not be written
        return Outcome(rec.name, None, f"{rec.name}: cannot draw its picture: {exc}")


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
