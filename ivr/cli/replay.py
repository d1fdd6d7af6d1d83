"""`ivr replay`: recorded calls as the callee side of a script, on a virtual clock."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from ivr.app.config import call_settings, placeholder_values
from ivr.app.keep import log_call, write_page
from ivr.app.options import (
    AgentIdOption,
    AnswerWithinOption,
    CalleeOption,
    DbOption,
    NoDbOption,
    PromptCacheOption,
    ReportOption,
    ScriptOption,
    SetOption,
)
from ivr.app.recognition import ASR_MODES
from ivr.app.recordings import expand, output_stems
from ivr.app.records import calls_command, draw_picture, open_call_log
from ivr.app.setup import CallSetup, load_call_script, set_up_call
from ivr.call.expect import callee_channels
from ivr.cli.common import fail_line, make_console
from ivr.cli.replay_outcomes import (
    Outcome,
    expectation_table,
    judge,
    remarks,
    report_call,
)
from ivr.detect.settings import CallSettings
from ivr.errors import IvrError
from ivr.privacy import mask_number
from ivr.qa.phrases import load_forbidden
from ivr.script.model import Script


@dataclass(frozen=True)
class ReplayJob:
    """Everything a worker needs to replay calls (picklable): the script and the settings as
    read once, and where the rest comes from."""

    script: Script
    settings: CallSettings
    channel: str | None
    """The callee's side of stereo files, or None: each file's `callee_channel` in the
    --expect manifest, else mix."""
    out_dir: Path | None
    cache_dir: Path | None
    asr: str = "vosk"
    model: str | None = None
    reference: Path | None = None
    show_numbers: bool = False
    pictures: Path | None = None
    """Folder for each call's timeline picture (for --report), or None."""

    def set_up(self) -> ReplayWorker:
        """The call set-up and the callee channels this job's calls run with."""
        setup = set_up_call(
            self.script, self.settings, self.cache_dir, self.asr, self.model, self.reference
        )
        channels = callee_channels(self.reference) if self.channel is None else {}
        return ReplayWorker(self, setup, channels)


@dataclass(frozen=True)
class ReplayWorker:
    """A job set up in one process: what replays its calls."""

    job: ReplayJob
    setup: CallSetup
    channels: dict[str, str]
    """File name -> the callee's side, from the --expect manifest (without --channel)."""

    def replay(self, work: tuple[str, str]) -> Outcome:
        """Replay one file; `work` is (its path, the stem of its outputs)."""
        from ivr.call.replay import replay_file

        path, stem = work
        started = datetime.now().astimezone()
        job, setup = self.job, self.setup
        try:
            result = replay_file(
                Path(path),
                setup.script,
                setup.prompts,
                setup.settings,
                job.out_dir,
                job.channel or self.channels.get(Path(path).name, "mix"),
                setup.recognition.backend_for(Path(path)),
                job.show_numbers,
                stem,
            )
        except IvrError as exc:
            return Outcome(file=path, started=started, error=str(exc))
        picture, picture_error = None, ""
        if job.pictures is not None:
            picture, picture_error = draw_picture(
                result, job.pictures, setup.settings, job.show_numbers
            )
        return Outcome(path, started, result, picture=picture, picture_error=picture_error)


_WORKER: dict[str, ReplayWorker] = {}
"""The worker of this process (set up once per process)."""


def _init_worker(job: ReplayJob) -> None:
    _WORKER["worker"] = job.set_up()


def _replay_one(work: tuple[str, str]) -> Outcome:
    return _WORKER["worker"].replay(work)


def replay_command(
    paths: Annotated[list[Path], typer.Argument(help="Recordings, or folders of them.")],
    script: ScriptOption = "outbound",
    channel: Annotated[
        str | None,
        typer.Option(
            help="Stereo files: the callee's side (left, right, mix). Default: as the --expect "
            "manifest says for each file (`callee_channel`), else mix.",
            show_default=False,
        ),
    ] = None,
    expect: Annotated[
        Path | None, typer.Option(help="Manifest of expected outcomes and event times.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for each call's recording and timeline.")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Calls replayed in parallel.")] = 1,
    org: Annotated[str | None, typer.Option(help="Value of {org} in the prompts.")] = None,
    agent_id: AgentIdOption = None,
    number: Annotated[str | None, typer.Option(help="Value of {number} (the callee).")] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML with `values:` and `detect:` settings.")
    ] = None,
    settings_overrides: SetOption = None,
    cache_dir: PromptCacheOption = None,
    show_numbers: Annotated[
        bool,
        typer.Option(help="Phone numbers unmasked in the output, call log, timelines, report."),
    ] = False,
    asr: Annotated[
        str, typer.Option(help="Recognition: vosk (default), reference (--expect's texts), none.")
    ] = "vosk",
    model: Annotated[
        str | None, typer.Option(help="Vosk model folder, or a name under audio_models/.")
    ] = None,
    db: DbOption = None,
    no_db: NoDbOption = False,
    report: ReportOption = None,
    callee: CalleeOption = None,
    answer_within_ms: AnswerWithinOption = None,
) -> None:
    """Replay recordings as calls: outcome, duration, prompts said and why it hung up. Every
    call is scored (QA) and logged; with --expect, judged; with --report, shown in a page."""
    from ivr.call.expect import load_expectations
    from ivr.qa.score import QaSettings

    if jobs < 1:
        fail_line(f"--jobs must be >= 1, got {jobs}")
    if report is not None and out is None:
        out = report / "calls"  # the report needs each call's recording and timeline
    if asr not in ASR_MODES:
        fail_line(f"invalid --asr {asr!r}: use {', '.join(ASR_MODES)}")
    files = expand(paths)
    if not files:
        fail_line("no recordings found in " + ", ".join(str(p) for p in paths))
    try:
        values = placeholder_values(config, org, agent_id, number)
        job = ReplayJob(
            load_call_script(script, values, config),
            call_settings(config, settings_overrides or []),
            channel,
            out,
            cache_dir,
            asr,
            model,
            expect,
            show_numbers,
            report / "pictures" if report is not None else None,
        )
        worker = job.set_up()  # renders every prompt and loads the recognizer, before any call
        setup = worker.setup
        QaSettings.for_script(setup.script, answer_within_ms)
        expectations = load_expectations(expect) if expect is not None else {}
        forbidden = load_forbidden()
        log = None if no_db else open_call_log(db, show_numbers)
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    _WORKER["worker"] = worker
    console = make_console()
    recognition = setup.recognition
    if recognition.notice:
        console.print(f"note: {recognition.notice}", style="yellow", markup=False, highlight=False)
    elif recognition.model is not None:
        where = recognition.model
        console.print(f"speech model {where.name} ({where.source})", markup=False)
    shown = (lambda text: text) if show_numbers else mask_number
    outcomes: list[Outcome] = []
    work = list(zip(map(str, files), output_stems(files, show_numbers), strict=True))
    with Progress(console=console, transient=True, disable=len(files) < 2) as progress:
        task = progress.add_task("replaying", total=len(files))
        if jobs == 1:
            results = map(_replay_one, work)
            pool = None
        else:
            pool = ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(job,))
            results = pool.map(_replay_one, work)
        try:
            for result in results:
                result = judge(result, setup.script, forbidden, answer_within_ms, expectations,
                                recognition.recognizes)  # fmt: skip
                outcomes.append(result)
                if log is not None and result.result is not None:
                    log_call(log, result.result, setup.script, values, "replay", result.qa,
                             result.started, callee, remarks(result))  # fmt: skip
                if result.result is None:
                    console.print(f"error: {shown(result.error)}", style="red", markup=False)
                else:
                    console.print(shown(result.result.summary()), markup=False, highlight=False)
                progress.advance(task)
        finally:
            if pool is not None:
                pool.shutdown()
            if log is not None:
                log.close()
    failed = any(o.error or o.verdict == "fail" for o in outcomes)
    if expectations:
        console.print(expectation_table(outcomes, expectations, show_numbers))
    if out is not None:
        console.print(f"recordings and timelines in {out}{os.sep}", markup=False)
    if report is not None:
        subtitle = f"script {setup.script.name} · {len(outcomes)} calls"
        calls = [report_call(o, expectations) for o in outcomes]
        try:
            page = write_page(report, calls, "ivr replay", show_numbers, subtitle)
        except IvrError as exc:
            fail_line(str(exc), code=1)
        console.print(f"report {page}", markup=False)
    if log is not None:
        console.print(f"calls logged in {log.path} ({calls_command(log, 'list')})", markup=False)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `replay` to the CLI."""
    app.command("replay")(replay_command)
