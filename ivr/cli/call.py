"""`ivr call`: a demo call on the microphone and speaker, with the same engine as replay."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ivr.cli.common import (
    AnswerWithinOption,
    CalleeOption,
    DbOption,
    NoDbOption,
    ReportOption,
    apply_script_config,
    detector_settings,
    fail_line,
    make_console,
)
from ivr.cli.records import (
    call_record,
    calls_command,
    draw_picture,
    open_call_log,
    qa_of,
    report_view,
)
from ivr.cli.replay import ASR_MODES, asr_setup, placeholder_values
from ivr.errors import DeviceError, IvrError
from ivr.privacy import mask_number
from ivr.qa.phrases import load_forbidden
from ivr.qa.score import QaSettings
from ivr.report.html import write_report

EXIT_CODES = {"aborted": 130, "device_error": 1}
"""Exit status by outcome; every other outcome is a call that ended normally (0)."""


def _list_devices() -> None:
    from ivr.audio.devices import list_devices

    try:
        devices = list_devices()
    except DeviceError as exc:
        fail_line(str(exc), code=1)
    table = Table(title="audio devices (give --input-device / --output-device by index or name)")
    for name in ("index", "name", "host API", "inputs", "outputs", "default rate Hz"):
        table.add_column(name)
    for d in devices:
        table.add_row(
            str(d["index"]), d["name"], d["hostapi"], str(d["inputs"]), str(d["outputs"]),
            f"{d['rate']:.0f}",
        )  # fmt: skip
    make_console().print(table)


def call_command(
    script: Annotated[str, typer.Option(help="Script name (prompts/NAME.yaml) or path.")] = (
        "outbound"
    ),
    number: Annotated[str | None, typer.Option(help="The number called: {number}.")] = None,
    org: Annotated[str | None, typer.Option(help="Value of {org}.")] = None,
    agent_id: Annotated[str | None, typer.Option(help="Value of {agent_id}.")] = None,
    input_device: Annotated[
        str | None, typer.Option(help="Microphone: index or name (see --list-devices).")
    ] = None,
    output_device: Annotated[
        str | None, typer.Option(help="Speaker: index or name (see --list-devices).")
    ] = None,
    list_devices: Annotated[
        bool, typer.Option("--list-devices", help="List the audio devices and exit.")
    ] = False,
    record: Annotated[
        Path | None,
        typer.Option(help="Stereo recording of the call (default calls/call-<time>.wav)."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML with `values:` and `detect:` (e.g. from ivr tune).")
    ] = None,
    settings_overrides: Annotated[
        list[str] | None, typer.Option("--set", help="Detector setting, e.g. vad.hangover_ms=400.")
    ] = None,
    asr: Annotated[str, typer.Option(help="Recognition: vosk (default) or none.")] = "vosk",
    model: Annotated[str | None, typer.Option(help="Vosk model folder or name.")] = None,
    cache_dir: Annotated[Path | None, typer.Option(help="Prompt audio cache folder.")] = None,
    show_numbers: Annotated[
        bool, typer.Option(help="Phone numbers unmasked in the output, call log and timeline.")
    ] = False,
    db: DbOption = None,
    no_db: NoDbOption = False,
    callee: CalleeOption = None,
    report: ReportOption = None,
    answer_within_ms: AnswerWithinOption = None,
) -> None:
    """Run a demo call live: we speak through the speaker, the callee is the microphone."""
    if list_devices:
        _list_devices()
        return
    if asr not in ASR_MODES or asr == "reference":
        fail_line(f"invalid --asr {asr!r} for a live call: use vosk or none")
    from ivr.audio.devices import LiveStreams
    from ivr.call.live import LiveSession
    from ivr.cli.live_view import LiveView
    from ivr.script.loader import load_script
    from ivr.tts.prompt_cache import PromptCache

    console = make_console()
    try:
        values = placeholder_values(config, org, agent_id, number)
        loaded = apply_script_config(load_script(script, values), config)
        settings = detector_settings(config, settings_overrides or [])
        cache = PromptCache(cache_dir)
        cache.render_all(loaded.prompts)  # the call never waits for synthesis
        recognition = asr_setup(asr, model, None)
        forbidden = load_forbidden()
        QaSettings.for_script(loaded, answer_within_ms)
        streams = LiveStreams(input_device, output_device)
    except DeviceError as exc:
        hint = "" if "--list-devices" in str(exc) else " (see --list-devices, or use ivr replay)"
        fail_line(f"{exc}{hint}", code=1)
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    if recognition.get("notice"):
        console.print(f"note: {recognition['notice']}", style="yellow", markup=False)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    recording = record or Path("calls") / f"call-{stamp}.wav"
    timeline = recording.with_suffix(".timeline.jsonl")
    view = LiveView(console, show_numbers)
    session = LiveSession(
        streams,
        loaded,
        cache,
        settings,
        recognition.get("vosk"),
        observer=view,
        name=recording.name,
    )
    started = datetime.now().astimezone()
    with view:
        result = session.run(recording, timeline, show_numbers)
    view.finish(session)
    shown = result.summary() if show_numbers else mask_number(result.summary())
    console.print(shown, markup=False, highlight=False)
    if session.latencies_ms:
        latencies = sorted(session.latencies_ms)
        console.print(
            f"prompt start latency: median {latencies[len(latencies) // 2]:.0f} ms, "
            f"max {latencies[-1]:.0f} ms over {len(latencies)} prompts",
            markup=False,
        )
    console.print(f"recording {recording}, timeline {timeline}", markup=False)
    qa = qa_of(result, loaded, forbidden, answer_within_ms)
    failed = [item for item, verdict in qa["items"].items() if verdict is False]
    console.print(
        f"QA score {qa['score']:.0f}/100" + (f" (failed: {', '.join(failed)})" if failed else ""),
        markup=False,
    )
    if not no_db:
        record = call_record(result, loaded, values, "live", qa, started, callee)
        try:
            with open_call_log(db, show_numbers) as log:
                call_id = log.add(record)
        except IvrError as exc:
            fail_line(f"{exc} (the recording and timeline are saved)", code=1)
        shown_log = f"call {call_id} logged in {log.path} ({calls_command(log, 'show')} {call_id})"
        console.print(shown_log, markup=False)
    if report is not None:
        picture, note = draw_picture(result, report / "pictures", settings, show_numbers)
        subtitle = f"live call, script {loaded.name}"
        try:
            view = report_view(result, qa, picture, note)
            page = write_report(report, [view], "ivr call", show_numbers, subtitle)
        except OSError as exc:
            fail_line(f"{report}: cannot write the report: {exc}", code=1)
        console.print(f"report {page}", markup=False)
    raise typer.Exit(EXIT_CODES.get(result.outcome, 0))


def register(app: typer.Typer) -> None:
    """Add `call` to the CLI."""
    app.command("call")(call_command)
