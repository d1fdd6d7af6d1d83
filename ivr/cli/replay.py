"""`ivr replay`: recorded calls as the callee side of a script, on a virtual clock.

Exit status: 0 when every file was replayed, met its expectation and was logged; 1 when a file
could not be replayed, a call failed its expectation, or the call log or the report refused
it; 2 before any call (a bad option, script or manifest, a call log that cannot be written);
3 when the batch stopped early for want of disk space (run it again with --resume).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from ivr.app.batch import Batch, BatchKeeper, clean_folders, finished, run_batch
from ivr.app.keeping import KeepOptions
from ivr.app.options import (
    IN_FILE,
    OUT_DIR,
    AgentIdOption,
    AnswerWithinOption,
    CalleeChannel,
    CalleeOption,
    DbOption,
    NoDbOption,
    PromptCacheOption,
    RawChannelsOption,
    RawEncodingOption,
    RawRateOption,
    ReportOption,
    ScriptOption,
    SetOption,
    channel_option,
)
from ivr.app.pool import BatchPool
from ivr.app.records import calls_command
from ivr.app.replay import (
    ReplayedFile,
    ReplayOptions,
    ReplayRun,
    init_worker,
    open_replay,
    replay_one,
    report_call,
    use_worker,
)
from ivr.audio.source import RawFormat
from ivr.cli.common import fail_line, make_console, say
from ivr.cli.replay_outcomes import expectation_table, judged_counts
from ivr.cli.tables import print_table
from ivr.errors import IvrError
from ivr.privacy import mask_number


def replay_command(
    paths: Annotated[
        list[Path], typer.Argument(help="Recordings, or folders of them.", exists=True)
    ],
    script: ScriptOption = "outbound",
    channel: Annotated[
        CalleeChannel | None,
        channel_option(
            "Stereo files: the callee's side (left, right, mix). Default: as the --expect "
            "manifest says for each file (`callee_channel`), else mix."
        ),
    ] = None,
    expect: Annotated[
        Path | None, typer.Option(help="Manifest of expected outcomes and event times.", **IN_FILE)
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for each call's recording and timeline.", **OUT_DIR)
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Calls replayed in parallel.")] = 1,
    org: Annotated[str | None, typer.Option(help="Value of {org} in the prompts.")] = None,
    agent_id: AgentIdOption = None,
    number: Annotated[str | None, typer.Option(help="Value of {number} (the callee).")] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML with `values:` and `detect:` settings.", **IN_FILE)
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
    raw_rate: RawRateOption = None,
    raw_encoding: RawEncodingOption = "s16le",
    raw_channels: RawChannelsOption = 1,
) -> None:
    """Replay recordings as calls: outcome, duration, prompts said and why it hung up. Every
    call is scored (QA) and logged; with --expect, judged; with --report, shown in a page.
    Exit status: 0 all well, 1 a call failed, 2 nothing run, 3 stopped early (disk full)."""
    options = ReplayOptions(
        paths, script, channel, expect, out, jobs,
        {"org": org, "agent_id": agent_id, "number": number}, config, settings_overrides or [],
        cache_dir, asr, model,
        KeepOptions(db, no_db, report, show_numbers, callee, answer_within_ms), resume,
    )  # fmt: skip
    try:
        if raw_rate is not None:  # headerless recordings
            options = replace(options, raw=RawFormat(raw_rate, raw_encoding, raw_channels))
        run = open_replay(options)
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    use_worker(run.worker)
    console = make_console()
    _notices(console, run)
    keeper = BatchKeeper(
        run.calls, run.worker.setup.script, run.values, run.expectations,
        run.worker.setup.recognition.recognizes, lambda text, style: say(console, text, style),
    )  # fmt: skip
    try:
        with Progress(console=console, transient=True, disable=len(run.work) < 2) as progress:
            task = progress.add_task("replaying", total=len(run.work))
            batch = run_batch(
                run.work, jobs, replay_one,
                lambda: BatchPool(jobs, init_worker, (run.job,), replay_one),
                keeper, run.folders, lambda: progress.advance(task),
            )  # fmt: skip
    except IvrError as exc:
        fail_line(str(exc), code=1)
    finally:
        run.calls.close_log()
    _summary(console, batch, keeper, run)


def _notices(console: Console, run: ReplayRun) -> None:
    """Say what the run starts with: the speech model (or why there is none), the temporary
    files a killed run left (removed), and with --resume the files done before (left out)."""
    recognition = run.worker.setup.recognition
    if recognition.notice:
        say(console, f"note: {recognition.notice}", "yellow")
    elif recognition.model is not None:
        where = recognition.model
        say(console, f"speech model {where.name} ({where.source})")
    if cleaned := clean_folders(run.folders):
        say(console, f"note: removed {cleaned} temporary file(s) left by a killed run", "yellow")
    if run.not_listed:
        names = ", ".join(run.not_listed)
        names = names if run.options.keep.show_numbers else mask_number(names)
        say(make_console(stderr=True), f"warning: {len(run.not_listed)} file(s) not in the "
            f"manifest {run.options.expect}, not judged: {names}", "yellow")  # fmt: skip
    if run.options.resume:
        assert run.out is not None
        total = len(run.work)
        done = finished(run.work, run.out, run.calls.log)
        run.work = [w for i, w in enumerate(run.work) if i not in done]
        say(console, f"--resume: {len(done)} of {total} files done before, "
                     f"{len(run.work)} to replay")  # fmt: skip


def _judged(
    console: Console, run: ReplayRun, outcomes: list[ReplayedFile], show_numbers: bool
) -> None:
    """With --expect: the table of expected outcomes and the count by verdict, or why there is
    no table (the manifest expects no outcome)."""
    manifest = run.options.expect
    if manifest is None:
        return
    if not run.expectations:
        say(console, f"note: {manifest}: no call has an expected outcome (`expect: outcome:`), "
                     "so none is judged; a corpus made with `ivr synth --count` has "
                     "classifications only, for `ivr detect --expect`", "yellow")  # fmt: skip
        return
    unlisted = set(run.not_listed)
    table = expectation_table(outcomes, run.expectations, show_numbers, unlisted)
    print_table(console, table)
    say(console, judged_counts(outcomes, unlisted))


def _summary(console: Console, batch: Batch, keeper: BatchKeeper, run: ReplayRun) -> None:
    """The table, the report, where things are, what failed; then exit with the batch's
    status (see the module's docstring)."""
    outcomes, show_numbers = batch.outcomes, keeper.show_numbers
    expectations, out, log = run.expectations, run.out, run.calls.log
    script_name = run.worker.setup.script.name
    failed = any(o.error or o.verdict == "fail" for o in outcomes) or bool(keeper.not_logged)
    _judged(console, run, outcomes, show_numbers)
    if out is not None:
        say(console, f"recordings and timelines in {out}{os.sep}")
    if run.options.keep.report is not None:
        recognition = run.worker.setup.recognition.summary
        subtitle = f"script {script_name} · {len(outcomes)} calls · {recognition}"
        calls = [report_call(o, expectations) for o in outcomes]
        try:
            page = run.calls.write_report(subtitle, calls)
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
    app.command("replay", short_help="Replay recordings as calls; score and log them.")(
        replay_command
    )
