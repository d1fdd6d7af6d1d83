"""`ivr call`: a demo call on the microphone and speaker, with the same engine as replay."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from ivr.app.keeping import EndedCall, KeepOptions
from ivr.app.line import LineOptions, check_line_asr, open_line_calls
from ivr.app.options import (
    OUT_FILE,
    AgentIdOption,
    AnswerWithinOption,
    CalleeOption,
    DbOption,
    LineAsrOption,
    LineConfigOption,
    LineShowNumbersOption,
    ModelOption,
    NoDbOption,
    OrgOption,
    PromptCacheOption,
    ReportOption,
    ScriptOption,
    SetOption,
)
from ivr.app.recordings import time_stamp
from ivr.app.setup import CallSetup
from ivr.cli.common import fail_line, make_console
from ivr.cli.keeping import EXIT_CODES, keep_one_call
from ivr.cli.tables import CliTable, print_table
from ivr.errors import DeviceError, IvrError
from ivr.privacy import mask_number


def _list_devices() -> None:
    from ivr.audio.devices import list_devices

    try:
        devices = list_devices()
    except DeviceError as exc:
        fail_line(str(exc), code=1)
    table = CliTable("audio devices (give --input-device / --output-device by index or name)")
    for name in ("index", "name", "host API", "inputs", "outputs", "default rate Hz"):
        table.column(name, keep=name == "name")
    for d in devices:
        table.add_row(
            str(d["index"]), d["name"], d["hostapi"], str(d["inputs"]), str(d["outputs"]),
            f"{d['rate']:.0f}",
        )  # fmt: skip
    print_table(make_console(), table)


def open_line(input_device: str | None, output_device: str | None):
    """The sound card's microphone and speaker as the call's line (DeviceError if not)."""
    from ivr.transports.sounddevice import SoundCardLine

    return SoundCardLine(input_device, output_device)


def live_session(line, setup: CallSetup, view, name: str):
    """The live call over `line`, with the set-up's script, prompts, settings and recognition;
    `view` observes it, `name` names it (the recording's file name)."""
    from ivr.call.live import LiveCall

    return LiveCall(
        line,
        setup.script,
        setup.prompts,
        setup.settings,
        setup.recognition.vosk,
        observer=view,
        name=name,
    )


def call_command(
    script: ScriptOption = "outbound",
    number: Annotated[str | None, typer.Option(help="The number called: {number}.")] = None,
    org: OrgOption = None,
    agent_id: AgentIdOption = None,
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
        typer.Option(
            help="Stereo recording of the call (default calls/call-<time>.wav).", **OUT_FILE
        ),
    ] = None,
    config: LineConfigOption = None,
    settings_overrides: SetOption = None,
    asr: LineAsrOption = "vosk",
    model: ModelOption = None,
    cache_dir: PromptCacheOption = None,
    show_numbers: LineShowNumbersOption = False,
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
    from ivr.cli.live_view import LiveView

    console = make_console()
    placeholders = {"org": org, "agent_id": agent_id, "number": number}
    options = LineOptions(
        script, placeholders, config, tuple(settings_overrides or []), cache_dir, asr, model,
        show_numbers,
    )  # fmt: skip
    keep = KeepOptions(db, no_db, report, show_numbers, callee, answer_within_ms)
    try:
        check_line_asr(asr, "a live call")
        prepared, keeper = open_line_calls(options, keep, "ivr call")
        line = open_line(input_device, output_device)
    except DeviceError as exc:
        hint = "" if "--list-devices" in str(exc) else " (see --list-devices, or use ivr replay)"
        fail_line(f"{exc}{hint}", code=1)
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    setup = prepared.call
    if setup.recognition.notice:
        console.print(f"note: {setup.recognition.notice}", style="yellow", markup=False)
    stamp = time_stamp()
    recording = record or Path("calls") / f"call-{stamp}.wav"
    timeline = recording.with_suffix(".timeline.jsonl")
    view = LiveView(console, show_numbers)
    session = live_session(line, setup, view, recording.name)
    started = datetime.now().astimezone()
    with view:  # the panel is stopped once, on leaving, with the call's last state drawn
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
    call = EndedCall(result, setup.script, prepared.values, started, "live")
    keep_one_call(console, keeper, call, setup.settings, f"live call, script {setup.script.name}")
    raise typer.Exit(EXIT_CODES.get(result.outcome, 0))


def register(app: typer.Typer) -> None:
    """Add `call` to the CLI."""
    app.command("call", short_help="Run a demo call live: speaker and microphone.")(call_command)
