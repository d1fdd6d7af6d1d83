"""`ivr replay`: recorded calls as the callee side of a script, on a virtual clock.

Exit status: 0 when every file was replayed, met its expectation and was logged; 1 when a file
could not be replayed, a call failed its expectation, or the call log or the report refused
it; 2 before any call (a bad option, script or manifest, a call log that cannot be written);
3 when the batch stopped early for want of disk space (run it again with --resume).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from ivr.app.config import call_settings, placeholder_values
from ivr.app.keep import write_page
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
from ivr.app.pool import BatchPool
from ivr.app.recognition import ASR_MODES
from ivr.app.recordings import expand, output_stems
from ivr.app.records import calls_command, draw_picture, open_call_log
from ivr.app.setup import CallSetup, load_call_script, set_up_call
from ivr.call.expect import callee_channels
from ivr.cli.common import fail_line, make_console
from ivr.cli.replay_batch import Batch, Keeper, clean_folders, finished, run_batch, say
from ivr.cli.replay_outcomes import Outcome, expectation_table, report_call
from ivr.detect.settings import CallSettings
from ivr.errors import IvrError, OutputError
from ivr.qa.phrases import load_forbidden
from ivr.script.model import Script

if TYPE_CHECKING:
    from ivr.records.calllog import CallLog


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
        """Replay one file; `work` is (its path, the stem of its outputs). Whatever stops it is
        the outcome's one-line error (naming the file), never an exception: a batch goes on."""
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
        except OutputError as exc:
            return Outcome(file=path, started=started, error=str(exc), no_space=exc.no_space)
        except IvrError as exc:
            return Outcome(file=path, started=started, error=str(exc))
        except Exception as exc:  # what no check foresaw: still one line, and the batch goes on
            error = f"{path}: cannot replay: {type(exc).__name__}: {exc}"
            return Outcome(file=path, started=started, error=error)
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
    resume: Annotated[
        bool,
        typer.Option(
            help="Skip the files an earlier run finished: their recording and timeline are in "
            "--out and (unless --no-db) their call is in the call log.",
        ),
    ] = False,
) -> None:
    """Replay recordings as calls: outcome, duration, prompts said and why it hung up. Every
    call is scored (QA) and logged; with --expect, judged; with --report, shown in a page.
    Exit status: 0 all well, 1 a call failed, 2 nothing run, 3 stopped early (disk full)."""
    from ivr.call.expect import load_expectations
    from ivr.qa.score import QaSettings

    if jobs < 1:
        fail_line(f"--jobs must be >= 1, got {jobs}")
    if report is not None and out is None:
        out = report / "calls"  # the report needs each call's recording and timeline
    if asr not in ASR_MODES:
        fail_line(f"invalid --asr {asr!r}: use {', '.join(ASR_MODES)}")
    if resume and out is None:
        fail_line("--resume needs --out (or --report): the folder of the finished calls")
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
        say(console, f"note: {recognition.notice}", "yellow")
    elif recognition.model is not None:
        where = recognition.model
        say(console, f"speech model {where.name} ({where.source})")
    folders = (out, job.pictures, report)
    if cleaned := clean_folders(folders):
        say(console, f"note: removed {cleaned} temporary file(s) left by a killed run", "yellow")
    work = list(zip(map(str, files), output_stems(files, show_numbers), strict=True))
    if resume:
        assert out is not None
        done = finished(work, out, log)
        work = [w for i, w in enumerate(work) if i not in done]
        say(console, f"--resume: {len(done)} of {len(files)} files done before, "
                     f"{len(work)} to replay")  # fmt: skip
    keeper = Keeper(
        console, setup.script, values, forbidden, answer_within_ms, expectations,
        recognition.recognizes, log, callee, show_numbers,
    )  # fmt: skip
    try:
        with Progress(console=console, transient=True, disable=len(work) < 2) as progress:
            task = progress.add_task("replaying", total=len(work))
            batch = run_batch(
                work, jobs, _replay_one,
                lambda: BatchPool(jobs, _init_worker, (job,), _replay_one),
                keeper, folders, lambda: progress.advance(task),
            )  # fmt: skip
    except IvrError as exc:
        fail_line(str(exc), code=1)
    finally:
        if log is not None:
            log.close()
    _summary(console, batch, keeper, expectations, out, report, setup.script.name, log)


def _summary(
    console: Console,
    batch: Batch,
    keeper: Keeper,
    expectations: dict,
    out: Path | None,
    report: Path | None,
    script_name: str,
    log: CallLog | None,
) -> None:
    """The table, the report, where things are, what failed; then exit with the batch's
    status (see the module's docstring)."""
    outcomes, show_numbers = batch.outcomes, keeper.show_numbers
    failed = any(o.error or o.verdict == "fail" for o in outcomes) or bool(keeper.not_logged)
    if expectations:
        console.print(expectation_table(outcomes, expectations, show_numbers))
    if out is not None:
        say(console, f"recordings and timelines in {out}{os.sep}")
    if report is not None:
        subtitle = f"script {script_name} · {len(outcomes)} calls"
        calls = [report_call(o, expectations) for o in outcomes]
        try:
            page = write_page(report, calls, "ivr replay", show_numbers, subtitle)
            say(console, f"report {page}")
        except IvrError as exc:
            say(console, f"error: {exc}", "red")
            failed = True
    if log is not None:
        say(console, f"calls logged in {log.path} ({calls_command(log, 'list')})")
    if keeper.not_logged:
        names = ", ".join(keeper.shown(Path(f).name) for f, _ in keeper.not_logged)
        say(console, f"error: {len(keeper.not_logged)} call(s) not logged in {log.path}: "
                     f"{names} (their recordings and timelines are kept)", "red")  # fmt: skip
    if batch.stopped:
        say(
            console,
            f"error: the batch stopped: {keeper.shown(batch.stopped)}; {batch.not_run} of "
            f"{batch.not_run + len(outcomes)} files not replayed: make room, then run the same "
            "command with --resume",
            "red",
        )
        raise typer.Exit(3)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `replay` to the CLI."""
    app.command("replay")(replay_command)
