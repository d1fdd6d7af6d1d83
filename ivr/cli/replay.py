"""`ivr replay`: recorded calls as the callee side of a script, on a virtual clock."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from ivr.call.expect import callee_channels
from ivr.cli.common import (
    AnswerWithinOption,
    CalleeOption,
    DbOption,
    NoDbOption,
    ReportOption,
    apply_script_config,
    detector_settings,
    fail_line,
    load_config,
    make_console,
)
from ivr.cli.records import (
    call_record,
    calls_command,
    draw_picture,
    open_call_log,
)
from ivr.cli.replay_outcomes import (
    Outcome,
    expectation_table,
    judge,
    remarks,
    report_call,
)
from ivr.errors import IvrError
from ivr.privacy import mask_number
from ivr.qa.phrases import load_forbidden
from ivr.report.html import write_report

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".au", ".aiff", ".aif"}
"""File endings picked up from a folder."""


@dataclass(frozen=True)
class ReplayJob:
    """Everything a worker needs to replay calls (picklable)."""

    script: str
    values: dict[str, str]
    settings_config: Path | None
    overrides: tuple[str, ...]
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


_WORKER: dict[str, Any] = {}


def _setup(job: ReplayJob) -> dict[str, Any]:
    from ivr.script.loader import load_script
    from ivr.tts.prompt_cache import PromptCache

    script = apply_script_config(load_script(job.script, job.values), job.settings_config)
    cache = PromptCache(job.cache_dir)
    cache.render_all(script.prompts)  # a call never waits for synthesis
    settings = detector_settings(job.settings_config, list(job.overrides))
    env = {"script": script, "cache": cache, "settings": settings, "job": job}
    env["channels"] = callee_channels(job.reference) if job.channel is None else {}
    env.update(asr_setup(job.asr, job.model, job.reference))
    return env


ASR_MODES = ("vosk", "reference", "none")
"""--asr: the Vosk recognizer, reference transcripts from a manifest, or detector-only."""

MANDARIN = ("cn", "zh", None)
"""Model languages usable with ivr's Mandarin scripts (None: not known from the name)."""


def asr_setup(asr: str, model: str | None, reference: Path | None) -> dict[str, Any]:
    """What recognition a call uses, and a notice to print once when it runs without."""
    if asr == "none":
        return {"notice": "recognition off (--asr none): speech counts as an answer"}
    if asr == "reference":
        from ivr.call.recognition import reference_transcripts

        if reference is None:
            raise IvrError("--asr reference needs a manifest with transcripts: give --expect")
        return {"reference": reference_transcripts(reference)}
    from ivr.asr.models import find_model
    from ivr.asr.recognizer import SpeechModel
    from ivr.call.recognition import VoskBackend

    location = find_model(model)
    chosen = location is not None and location.source in ("--model", "IVR_VOSK_MODEL")
    if location is None or (not chosen and location.language not in MANDARIN):
        found = "" if location is None else f" ({location.name} from {location.source} is not)"
        return {
            "notice": "no Mandarin speech model found"
            + found
            + ": calls run in detector-only mode (speech counts as an answer, no transcripts); "
            "`ivr models fetch vosk-model-small-cn-0.22`, or --asr reference"
        }
    return {"vosk": VoskBackend(SpeechModel(location.path)), "model": location}


def _init_worker(job: ReplayJob) -> None:
    _WORKER.update(_setup(job))


def _replay_one(work: tuple[str, str]) -> Outcome:
    """Replay one file; `work` is (its path, the stem of its outputs)."""
    from ivr.call.replay import replay_file

    path, stem = work
    started = datetime.now().astimezone()

    env = _WORKER
    job: ReplayJob = env["job"]
    asr = env.get("vosk")
    if "reference" in env:
        from ivr.call.recognition import ReferenceBackend

        asr = ReferenceBackend(env["reference"].get(Path(path).name, []))
    try:
        result = replay_file(
            Path(path),
            env["script"],
            env["cache"],
            env["settings"],
            job.out_dir,
            job.channel or env["channels"].get(Path(path).name, "mix"),
            asr,
            job.show_numbers,
            stem,
        )
    except IvrError as exc:
        return Outcome(file=path, started=started, error=str(exc))
    picture, picture_error = None, ""
    if job.pictures is not None:
        picture, picture_error = draw_picture(
            result, job.pictures, env["settings"], job.show_numbers
        )
    return Outcome(path, started, result, picture=picture, picture_error=picture_error)


def output_stems(files: list[Path], show_numbers: bool) -> list[str]:
    """The stem of each file's outputs (`<stem>.call.wav`, ...): its own, with phone numbers
    masked unless `show_numbers`; stems that would clash get -2, -3, ... added."""
    stems, taken = [], set()
    for path in files:
        stem = path.stem if show_numbers else mask_number(path.stem)
        unique, n = stem, 1
        while unique in taken:
            n += 1
            unique = f"{stem}-{n}"
        taken.add(unique)
        stems.append(unique)
    return stems


def expand(paths: list[Path]) -> list[Path]:
    """Files as given; folders as the audio files inside them (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
            found = [p for p in found if not p.name.endswith(".call.wav")]
            files.extend(found)
        else:
            files.append(path)
    return files


def placeholder_values(
    config: Path | None, org: str | None, agent_id: str | None, number: str | None
) -> dict[str, str]:
    """Placeholder values: a config file's `values:`, then --org, --agent-id, --number."""
    values: dict[str, str] = {}
    if config is not None:
        section = load_config(config).get("values") or {}
        if not isinstance(section, dict):
            raise IvrError(f"{config}: `values:` must be a mapping of placeholder values")
        values.update({str(k): str(v) for k, v in section.items()})
    for key, value in (("org", org), ("agent_id", agent_id), ("number", number)):
        if value is not None:
            values[key] = value
    return values


def replay_command(
    paths: Annotated[list[Path], typer.Argument(help="Recordings, or folders of them.")],
    script: Annotated[str, typer.Option(help="Script name (prompts/NAME.yaml) or path.")] = (
        "outbound"
    ),
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
    agent_id: Annotated[str | None, typer.Option(help="Value of {agent_id}.")] = None,
    number: Annotated[str | None, typer.Option(help="Value of {number} (the callee).")] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML with `values:` and `detect:` settings.")
    ] = None,
    settings_overrides: Annotated[
        list[str] | None, typer.Option("--set", help="Detector setting, e.g. vad.hangover_ms=400.")
    ] = None,
    cache_dir: Annotated[Path | None, typer.Option(help="Prompt audio cache folder.")] = None,
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
            script,
            values,
            config,
            tuple(settings_overrides or ()),
            channel,
            out,
            cache_dir,
            asr,
            model,
            expect,
            show_numbers,
            report / "pictures" if report is not None else None,
        )
        env = _setup(job)  # checks script, values and settings once, before any call
        QaSettings.for_script(env["script"], answer_within_ms)
        expectations = load_expectations(expect) if expect is not None else {}
        forbidden = load_forbidden()
        log = None if no_db else open_call_log(db, show_numbers)
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    _WORKER.update(env)
    console = make_console()
    if env.get("notice"):
        console.print(f"note: {env['notice']}", style="yellow", markup=False, highlight=False)
    elif env.get("model") is not None:
        where = env["model"]
        console.print(f"speech model {where.name} ({where.source})", markup=False)
    shown = (lambda text: text) if show_numbers else mask_number
    recognizes = "vosk" in env or "reference" in env
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
                result = judge(result, env["script"], forbidden, answer_within_ms, expectations,
                                recognizes)  # fmt: skip
                outcomes.append(result)
                if log is not None and result.result is not None:
                    record = call_record(
                        result.result, env["script"], values, "replay", result.qa,
                        result.started, callee, remarks(result),
                    )  # fmt: skip
                    log.add(record)
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
        subtitle = f"script {env['script'].name} · {len(outcomes)} calls"
        calls = [report_call(o, expectations) for o in outcomes]
        try:
            page = write_report(report, calls, "ivr replay", show_numbers, subtitle)
        except OSError as exc:
            fail_line(f"{report}: cannot write the report: {exc}", code=1)
        console.print(f"report {page}", markup=False)
    if log is not None:
        console.print(f"calls logged in {log.path} ({calls_command(log, 'list')})", markup=False)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `replay` to the CLI."""
    app.command("replay")(replay_command)
