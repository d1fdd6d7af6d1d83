"""Replaying recorded files as calls, for `ivr replay`: what a worker process needs (the job,
set up once per process), each file's replay as a `ReplayedFile` that never raises, and how a
replayed call is judged against its expectation and shown in the report."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.app.keeping import CallKeeper, KeepOptions
from ivr.app.records import draw_picture, report_view
from ivr.app.setup import CallSetup, set_up_call
from ivr.errors import IvrError, OutputError

if TYPE_CHECKING:
    from ivr.audio.source import RawFormat
    from ivr.call.result import CallResult
    from ivr.call_settings import CallSettings
    from ivr.qa.score import QaScore
    from ivr.report.html import ReportCall
    from ivr.script.model import Script


@dataclass(frozen=True)
class ReplayedFile:
    """One replayed file: its call's result, or the error that stopped it; then how it is
    judged."""

    file: str
    started: datetime
    """When its replay started (local time with its UTC offset)."""
    result: CallResult | None = None
    error: str = ""
    picture: Path | None = None
    picture_error: str = ""
    qa: QaScore | None = None
    """The call's QA score (ivr.qa.score)."""
    verdict: str = ""
    """Against its expectation: pass, fail, skip (not judged without recognition), or ''."""
    problems: tuple[str, ...] = ()
    no_space: bool = False
    """The error is a full disk under the outputs: the batch stops (every later call would
    fail the same way)."""

    @property
    def notes(self) -> tuple[str, ...]:
        """What was odd about the recording (cut short, non-finite samples), each a few words."""
        return self.result.notes if self.result is not None else ()

    @property
    def outcome(self) -> str:
        """The call's outcome ('' for a file that could not be replayed)."""
        return self.result.outcome if self.result is not None else ""

    @property
    def duration_s(self) -> float:
        """Length of the call up to the hang-up (s; 0 without a call)."""
        return self.result.duration_s if self.result is not None else 0.0


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
    raw: RawFormat | None = None
    """How to read headerless raw recordings (--raw-rate, ...), or None."""

    def set_up(self) -> ReplayWorker:
        """The call set-up and the callee channels this job's calls run with."""
        from ivr.call.expect import callee_channels

        setup = set_up_call(
            self.script, self.settings, self.cache_dir, self.asr, self.model, self.reference,
            can_reference=True,
        )  # fmt: skip
        channels = callee_channels(self.reference) if self.channel is None else {}
        return ReplayWorker(self, setup, channels)


@dataclass(frozen=True)
class ReplayWorker:
    """A job set up in one process: what replays its calls."""

    job: ReplayJob
    setup: CallSetup
    channels: dict[str, str]
    """File name -> the callee's side, from the --expect manifest (without --channel)."""

    def replay(self, work: tuple[str, str]) -> ReplayedFile:
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
                job.raw,
            )
        except OutputError as exc:
            return ReplayedFile(file=path, started=started, error=str(exc), no_space=exc.no_space)
        except IvrError as exc:
            return ReplayedFile(file=path, started=started, error=str(exc))
        except Exception as exc:  # what no check foresaw: still one line, and the batch goes on
            error = f"{path}: cannot replay: {type(exc).__name__}: {exc}"
            return ReplayedFile(file=path, started=started, error=error)
        picture, picture_error = None, ""
        if job.pictures is not None:
            picture, picture_error = draw_picture(
                result, job.pictures, setup.settings, job.show_numbers
            )
        return ReplayedFile(path, started, result, picture=picture, picture_error=picture_error)


_WORKER: dict[str, ReplayWorker] = {}
"""The worker of this process (set up once per process)."""


def use_worker(worker: ReplayWorker) -> None:
    """Make `worker` the one `replay_one` uses in this process."""
    _WORKER["worker"] = worker


def init_worker(job: ReplayJob) -> None:
    """Set up `job` in a worker process (the pool's initializer)."""
    use_worker(job.set_up())


def replay_one(work: tuple[str, str]) -> ReplayedFile:
    """Replay one file with this process's worker (see ReplayWorker.replay)."""
    return _WORKER["worker"].replay(work)


def judge(
    o: ReplayedFile, qa: QaScore | None, expectations: dict[str, Any], recognizes: bool
) -> ReplayedFile:
    """The replayed file with its QA score `qa` and its verdict against its expectation (if
    any); a file that could not be replayed fails."""
    from ivr.call.expect import check_call

    if o.error or o.result is None:
        return replace(o, verdict="fail", problems=(o.error,))
    exp = expectations.get(Path(o.file).name)
    if exp is None:
        return replace(o, qa=qa)
    if exp.needs_recognition and not recognizes:
        return replace(o, qa=qa, verdict="skip")
    problems = tuple(check_call(exp, o.outcome, o.result.timeline))
    return replace(o, qa=qa, verdict="fail" if problems else "pass", problems=problems)


def remarks(o: ReplayedFile) -> str:
    """The call log's remarks (备注) of a replayed call: its verdict against its expectation,
    then what was odd about its recording."""
    verdict = {
        "pass": "expectation met",
        "fail": "expectation failed: " + "; ".join(o.problems),
        "skip": "expectation not judged: needs recognition",
    }.get(o.verdict, "")
    return "; ".join(n for n in (verdict, *(f"recording {n}" for n in o.notes)) if n)


def report_call(o: ReplayedFile, expectations: dict[str, Any]) -> ReportCall:
    """The replayed file as the report shows it."""
    from ivr.report.html import ReportCall

    name = Path(o.file).name
    if o.error or o.result is None:
        return ReportCall(name=name, error=o.error)
    exp = expectations.get(name)
    note = "not judged: needs recognition (--asr reference)" if o.verdict == "skip" else ""
    return report_view(
        o.result,
        o.qa,
        o.picture,
        "; ".join(n for n in (note, *(f"recording {n}" for n in o.notes), o.picture_error) if n),
        exp.outcome if exp is not None else None,
        {"pass": True, "fail": False}.get(o.verdict),
        o.problems,
    )


@dataclass(frozen=True)
class ReplayOptions:
    """What `ivr replay` was asked to do (its options, as given)."""

    paths: list[Path]
    script: str
    channel: str | None
    expect: Path | None
    out: Path | None
    jobs: int
    placeholders: dict[str, str | None]
    """org, agent_id, number as given."""
    config: Path | None
    overrides: list[str]
    cache_dir: Path | None
    asr: str
    model: str | None
    keep: KeepOptions
    resume: bool
    raw: RawFormat | None = None
    """How to read headerless raw recordings (--raw-rate, --raw-encoding, --raw-channels)."""


@dataclass
class ReplayRun:
    """A replay set up before its first call: the job (and this process's worker), the files
    with the stems of their outputs, the expectations, the keeper of its calls."""

    options: ReplayOptions
    job: ReplayJob
    worker: ReplayWorker
    values: dict[str, str]
    work: list[tuple[str, str]]
    expectations: dict[str, Any]
    calls: CallKeeper
    not_listed: list[str] = field(default_factory=list)
    """Names of the files replayed that the --expect manifest does not list (not judged)."""

    @property
    def out(self) -> Path | None:
        """Where each call's recording and timeline go (--out; with --report, under it)."""
        return self.job.out_dir

    @property
    def folders(self) -> tuple[Path | None, ...]:
        """The folders the calls write into."""
        return (self.job.out_dir, self.job.pictures, self.options.keep.report)


def _checked(options: ReplayOptions) -> tuple[Path | None, list[Path]]:
    """The outputs' folder and the files to replay; ValueError for options that do not go."""
    from ivr.app.recognition import ASR_MODES
    from ivr.app.recordings import expand

    out, report = options.out, options.keep.report
    if options.jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {options.jobs}")
    if report is not None and out is None:
        out = report / "calls"  # the report needs each call's recording and timeline
    if options.asr not in ASR_MODES:
        raise ValueError(f"invalid --asr {options.asr!r}: use {', '.join(ASR_MODES)}")
    if options.resume and out is None:
        raise ValueError("--resume needs --out (or --report): the folder of the finished calls")
    files = expand(options.paths)
    if not files:
        raise ValueError("no recordings found in " + ", ".join(str(p) for p in options.paths))
    return out, files


def open_replay(options: ReplayOptions, command: str = "ivr replay") -> ReplayRun:
    """Check the options, read the script and settings, render every prompt, load the
    recognizer and the expectations, open the call log: all before the first call. IvrError or
    ValueError naming what is wrong."""
    from ivr.app.config import call_settings, placeholder_values
    from ivr.app.recordings import output_stems
    from ivr.app.setup import load_call_script
    from ivr.call.expect import load_expectations
    from ivr.qa.phrases import load_forbidden
    from ivr.qa.score import QaSettings

    out, files = _checked(options)
    keep = options.keep
    values = placeholder_values(options.config, **options.placeholders)
    job = ReplayJob(
        load_call_script(options.script, values, options.config),
        call_settings(options.config, options.overrides),
        options.channel, out, options.cache_dir, options.asr, options.model, options.expect,
        keep.show_numbers, keep.report / "pictures" if keep.report is not None else None,
        options.raw,
    )  # fmt: skip
    worker = job.set_up()  # renders every prompt and loads the recognizer, before any call
    QaSettings.for_script(worker.setup.script, keep.answer_within_ms)
    expect = options.expect
    expectations = load_expectations(expect) if expect is not None else {}
    not_listed = not_in_manifest(expect, files) if expect is not None else []
    calls = CallKeeper(keep, load_forbidden(), command)
    work = list(zip(map(str, files), output_stems(files, keep.show_numbers), strict=True))
    return ReplayRun(options, job, worker, values, work, expectations, calls, not_listed)


def not_in_manifest(manifest: Path, files: list[Path]) -> list[str]:
    """The names of `files` that `manifest` does not list (in the order given)."""
    from ivr.corpus.labels import load_labels

    listed = {call.name for call in load_labels(manifest)}
    return [path.name for path in files if path.name not in listed]
