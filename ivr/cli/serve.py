"""`ivr serve`: answer incoming SIP calls with a script (the inbound one by default), several
at once, each kept like any other call (recording, timeline, QA, call-log row)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated

import typer

from ivr.app.keeping import KeepOptions
from ivr.app.line import (
    LineOptions,
    check_line_asr,
    open_agent,
    open_line_calls,
    stop_on_signals,
)
from ivr.app.options import (
    OUT_DIR,
    AgentIdOption,
    AnswerWithinOption,
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
from ivr.cli.common import fail_line, make_console
from ivr.cli.keeping import call_line_printer
from ivr.errors import DeviceError, IvrError
from ivr.service.server import Server
from ivr.service.workers import CALLS_PER_WORKER


def serve_command(
    listen: Annotated[
        str, typer.Option(help="Where to take calls: HOST[:PORT] (UDP; port 0: any free one).")
    ] = "127.0.0.1:5070",
    script: ScriptOption = "inbound",
    org: OrgOption = None,
    agent_id: AgentIdOption = None,
    concurrency: Annotated[
        int, typer.Option(help="Calls at once; a call beyond them is refused busy (486).")
    ] = CALLS_PER_WORKER,
    max_calls: Annotated[
        int | None, typer.Option(help="Stop after answering this many calls (default: never).")
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Folder of the calls' recordings and timelines.", **OUT_DIR)
    ] = Path("calls"),
    config: LineConfigOption = None,
    settings_overrides: SetOption = None,
    asr: LineAsrOption = "vosk",
    model: ModelOption = None,
    cache_dir: PromptCacheOption = None,
    show_numbers: LineShowNumbersOption = False,
    db: DbOption = None,
    no_db: NoDbOption = False,
    report: ReportOption = None,
    answer_within_ms: AnswerWithinOption = None,
) -> None:
    """Answer incoming SIP calls with the script until stopped (Ctrl-C, SIGTERM, --max-calls)."""
    if not 1 <= concurrency <= CALLS_PER_WORKER:
        fail_line(
            f"invalid --concurrency {concurrency}: 1 to {CALLS_PER_WORKER} calls per ivr serve "
            "(the SIP stack's limit); run several behind Kamailio for more"
        )
    console = make_console()
    placeholders = {"org": org, "agent_id": agent_id, "number": None}
    options = LineOptions(
        script, placeholders, config, tuple(settings_overrides or []), cache_dir, asr, model,
        show_numbers,
    )  # fmt: skip
    keep = KeepOptions(db, no_db, report, show_numbers, None, answer_within_ms)
    try:
        check_line_asr(asr, "SIP calls")
        prepared, keeper = open_line_calls(options, keep, "ivr serve")
        keeper.on_kept = call_line_printer(console, show_numbers)
        agent = open_agent(listen, prepared, answers=True, calls=concurrency)
    except DeviceError as exc:
        fail_line(str(exc), code=1)
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    setup = prepared.call
    if setup.recognition.notice:
        console.print(f"note: {setup.recognition.notice}", style="yellow", markup=False)
    say = functools.partial(console.print, markup=False)
    server = Server(agent, setup, prepared.values, keeper, out, concurrency, max_calls, say)
    console.print(
        f"answering sip:{agent.address} with script {setup.script.name}, up to {concurrency} "
        "calls at once; Ctrl-C stops",
        markup=False,
    )
    with stop_on_signals() as stop:
        interrupted = server.run(stop)
    page = keeper.close(f"SIP calls answered, script {setup.script.name}")
    if page is not None:
        console.print(f"report {page}", markup=False)
    console.print(server.summary(), markup=False)
    raise typer.Exit(130 if interrupted else 0)


def register(app: typer.Typer) -> None:
    """Add `serve` to the CLI."""
    app.command("serve", short_help="Answer incoming SIP calls with a script.")(serve_command)
