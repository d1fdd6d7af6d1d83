"""`ivr audit`: score recorded calls of human agents against the service standard."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape

from ivr.app.config import call_settings, parse_assignment
from ivr.app.options import IN_FILE, OUT_DIR, DbOption, NoDbOption
from ivr.audit import ITEMS, AuditSettings, Outcome, Recording, Verdict
from ivr.cli.common import fail_line, make_console, say
from ivr.cli.tables import CliTable, print_table
from ivr.errors import IvrError

if TYPE_CHECKING:
    from ivr.app.audit import AuditJob, AuditWords
    from ivr.audit.expect import ItemCheck
    from ivr.corpus.audit_labels import AuditLabels
    from ivr.records.calllog import CallLog

AgentSide = Literal["left", "right"]
AuditAsr = Literal["none", "vosk", "reference"]

_CELL = {Verdict.PASS: "pass", Verdict.FAIL: "[red]FAIL[/red]", Verdict.NA: "n/a"}


def _split_overrides(overrides: list[str]) -> tuple[dict[str, str], list[str]]:
    """--set values: the audit's own (plain names) and the detectors' (dotted names)."""
    audit: dict[str, str] = {}
    detect: list[str] = []
    for text in overrides:
        name, value = parse_assignment(text)
        if "." in name:
            detect.append(text)
        else:
            audit[name] = value
    return audit, detect


def _batch_table(outcomes: list[Outcome]) -> CliTable:
    """A row per call: its verdict and each item measured (those that need words when a call
    had words)."""
    cards = [o.scorecard for o in outcomes if o.scorecard is not None]
    measured = [
        i
        for i in ITEMS
        if not i.needs_words or any(c.result(i.key).verdict is not Verdict.NA for c in cards)
    ]
    table = CliTable("Audit")
    table.column("file", keep=True)
    table.column("verdict", keep=True)
    for item in measured:
        table.column(f"{item.number} {item.key}")
    for o in outcomes:
        if o.scorecard is None:
            table.add_row(escape(o.name), "[red]error[/red]", *[""] * len(measured))
            continue
        cells = []
        for item in measured:
            r = o.scorecard.result(item.key)
            count = f" x{len(r.moments)}" if r.verdict is Verdict.FAIL else ""
            cells.append(_CELL[r.verdict] + count)
        verdict = "[red]FAIL[/red]" if o.scorecard.failed else "pass"
        table.add_row(escape(o.name), verdict, *cells)
    return table


def _settings_table(settings: AuditSettings) -> CliTable:
    """The standard's numbers scored by, with their units and seed lines."""
    table = CliTable("Settings (change with --config audit: or --set NAME=VALUE)")
    table.column("setting", keep=True)
    table.column("value", justify="right")
    table.column("unit")
    table.column("seed")
    for row in settings.described():
        value = f"{row['value']:g}"
        if row["value"] != row["default"]:
            value += f" (default {row['default']:g})"
        table.add_row(row["name"], value, row["unit"], escape(row["seed"]))
    return table


def _print_batch(console: Console, batch: _Batch, settings: AuditSettings, as_json: bool) -> None:
    """After the calls: their JSON scorecards (with `call_id`, the call log's id, when logged),
    or the batch's table and the settings'."""
    outcomes = batch.outcomes
    if as_json:
        cards = [
            o.scorecard.to_dict() if o.scorecard else {"file": o.name, "error": o.error}
            for o in outcomes
        ]
        for index, call_id in batch.call_ids.items():
            cards[index]["call_id"] = call_id
        for card, calls in zip(cards, batch.checks, strict=False):
            if calls:
                card["expectations"] = [asdict(c) | {"met": c.met} for c in calls]
        sys.stdout.write(json.dumps(cards, ensure_ascii=False, indent=2) + "\n")
        return
    console.print()
    print_table(console, _batch_table(outcomes))
    console.print()
    print_table(console, _settings_table(settings))


def audit_command(
    recordings: Annotated[
        list[str],
        typer.Argument(
            help="Recordings: stereo files (agent on one side), or agent.wav+customer.wav "
            "for a pair of mono files.",
            metavar="RECORDINGS",
            show_default=False,
        ),
    ],
    agent: Annotated[
        AgentSide | None,
        typer.Option(
            help="Stereo files: the agent's side; the customer is on the other. Default: as "
            "the --expect labels say for each file (`agent`), else left.",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    script: Annotated[
        str,
        typer.Option(help="Script whose silent-line rules apply: inbound, outbound or a path."),
    ] = "inbound",
    config: Annotated[
        Path | None,
        typer.Option(help="YAML with `audit:` (the standard's numbers) and `detect:`.", **IN_FILE),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A setting, e.g. dead_air_s=4 (the standard's) or vad.hangover_ms=400 "
            "(a detector's).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON scorecards.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Recordings scored in parallel.")] = 1,
    db: DbOption = None,
    no_db: NoDbOption = False,
    expect: Annotated[
        Path | None,
        typer.Option(help="Labels: each file's expected verdict per item (YAML).", **IN_FILE),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Write an HTML report into this folder (index.html): each call's items, its "
            "picture with the failed moments marked, its recording.",
            **OUT_DIR,
        ),
    ] = None,
    asr: Annotated[
        AuditAsr,
        typer.Option(
            help="The agent's words for items 8-10: none (n/a), vosk (a Mandarin model, or "
            "--model), reference (the --expect labels' agent_words).",
            case_sensitive=False,
        ),
    ] = "none",
    model: Annotated[
        str | None,
        typer.Option(help="Vosk model folder or name for --asr vosk.", show_default=False),
    ] = None,
) -> None:
    """Score recorded calls of human agents against the service standard: the items measured
    from the audio of both sides (and with --asr, from the agent's words), each pass, fail
    (with the moments, s into the call) or n/a.
    Each scorecard is logged in the call log (source audit) unless --no-db; with --expect,
    judged against its labels. Exit 1 when a recording cannot be read or logged (the others
    are still scored) or a label is not met."""
    from ivr.app.audit import audit_job
    from ivr.app.records import open_call_log
    from ivr.audit import load_audit_settings
    from ivr.corpus.audit_labels import load_audit_labels

    if jobs < 1:
        fail_line(f"invalid --jobs {jobs}: must be >= 1")
    try:
        audit_overrides, detect_overrides = _split_overrides(overrides or [])
        settings = load_audit_settings(config, audit_overrides)
        labels = load_audit_labels(expect, [i.key for i in ITEMS]) if expect else None
        words = _words(asr, model, labels)
        detect = call_settings(config, detect_overrides)
        job = audit_job(script, settings, detect, report, words)
        specs = [_recording(r, agent, labels) for r in recordings]
        if job.pictures is not None:
            _make_folder(job.pictures)  # and the report folder it is in
        log = None if no_db else open_call_log(db)
        if log is not None:
            job = replace(job, hang_ups=log.sip_hang_ups())
    except (ValueError, IvrError) as exc:
        fail_line(str(exc))
    console = make_console()
    try:
        batch = _run(console, specs, job, jobs, log, as_json)
    except IvrError as exc:  # the worker processes could not be set up
        fail_line(str(exc), code=1)
    finally:
        if log is not None:
            log.close()
    if labels is not None:
        batch.judge(labels)
    _print_batch(console, batch, settings, as_json)
    if labels is not None and not as_json:
        from ivr.cli.audit_view import print_expectations, warn_unlabelled

        warn_unlabelled(batch.outcomes, labels)
        print_expectations(console, batch.outcomes, batch.checks)
    if log is not None and batch.call_ids and not as_json:
        from ivr.app.records import calls_command

        listing = calls_command(log, "list") + " --source audit"
        say(console, f"scorecards logged in {log.path} ({listing})")
    if report is not None:
        page = _write_report(report, specs, batch, job)
        if not as_json:
            say(console, f"report {page}")
    if batch.failed:
        raise typer.Exit(1)


@dataclass
class _Batch:
    """What a batch gave: each recording's outcome in order, the call log's id of each logged
    one (by its place in the batch), and whether a recording failed or was not logged."""

    outcomes: list[Outcome] = field(default_factory=list)
    call_ids: dict[int, int] = field(default_factory=dict)
    failed: bool = False
    checks: list[list[ItemCheck]] = field(default_factory=list)
    """With labels: each recording's labelled items, judged (none for one not labelled)."""

    def judge(self, labels: AuditLabels) -> None:
        """Judge each outcome against `labels`; a label not met fails the batch."""
        from ivr.cli.audit_view import judge_batch

        self.checks = judge_batch(self.outcomes, labels)
        if any(not c.met for calls in self.checks for c in calls):
            self.failed = True


def _words(asr: str, model: str | None, labels: AuditLabels | None) -> AuditWords:
    """Where the agent's words come from, for --asr and --model (IvrError when they cannot)."""
    from ivr.app.audit import AuditWords

    if asr == "reference":
        if labels is None:
            raise IvrError("--asr reference needs labels with agent_words: give --expect")
        found = {c.file: c.agent_words for c in labels.calls if c.agent_words is not None}
        return AuditWords("reference", reference=found)
    if asr == "vosk":
        from ivr.app.recognition import choose_model, model_advice, no_model_found

        choice = choose_model(model)
        if choice.used is None:
            raise IvrError(f"--asr vosk: {no_model_found(choice.passed_over)}; {model_advice()}")
        return AuditWords("vosk", str(choice.used.path))
    if model is not None:
        raise IvrError("--model needs --asr vosk")
    return AuditWords()


def _make_folder(folder: Path) -> None:
    """Make the report's folders before any call is scored (IvrError if they cannot be)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IvrError(f"{folder}: cannot make the report folder: {exc.strerror}") from None


def _write_report(folder: Path, specs: list[Recording], batch: _Batch, job: AuditJob) -> Path:
    """The batch's report page in `folder` (one line and exit 1 if it cannot be written)."""
    from ivr.report.audit_page import AuditedCall, write_audit_report

    calls = [
        AuditedCall(
            o.name, o.scorecard, o.error or "", o.picture, rec.agent if rec.stereo else None
        )
        for rec, o in zip(specs, batch.outcomes, strict=True)
    ]
    subtitle = f"{len(calls)} recordings, silent-line rules of script {job.script}"
    try:
        return write_audit_report(folder, calls, "ivr audit", subtitle)
    except OSError as exc:
        fail_line(f"{folder}: cannot write the report: {exc}", code=1)


def _recording(spec: str, agent: str | None, labels: AuditLabels | None) -> Recording:
    """The recording `spec` names, the agent on the side --agent gives, else the one its
    labels give, else left."""
    from ivr.audit import recording

    rec = recording(spec, agent or "left")
    call = labels.find(rec.name) if labels is not None and agent is None else None
    if call is not None and call.agent is not None:
        rec = recording(spec, call.agent)
    return rec


def _run(
    console: Console, specs: list[Recording], job: AuditJob, jobs: int, log: CallLog | None,
    as_json: bool,
) -> _Batch:  # fmt: skip
    """Score the recordings, log each scorecard and say its line, in the recordings' order."""
    from ivr.app.audit import audit_outcomes, audit_record

    batch = _Batch()
    for rec, outcome in zip(specs, audit_outcomes(specs, job, jobs), strict=True):
        batch.outcomes.append(outcome)
        if outcome.scorecard is None:
            sys.stderr.write(f"error: {outcome.error}\n")
            batch.failed = True
            continue
        if log is not None:
            try:
                record = audit_record(outcome.scorecard, rec, job, datetime.now())
                batch.call_ids[len(batch.outcomes) - 1] = log.add(record)
            except IvrError as exc:
                sys.stderr.write(f"error: {outcome.name}: not logged: {exc}\n")
                batch.failed = True
        if not as_json:
            console.print(outcome.scorecard.line(), markup=False, highlight=False)
    return batch


def register(app: typer.Typer) -> None:
    """Add `audit` to the CLI."""
    app.command("audit", short_help="Score recorded calls against the service standard.")(
        audit_command
    )
