"""`ivr campaign`: dial a call list over SIP with the outbound script, resumably.

The rows (number, name, any placeholder column) are called at most `--concurrency` at a time,
inside `--hours`, never the numbers of the `--dnc` list; busy and unanswered rows are tried
again after a growing wait. Every call is logged with its campaign, row and attempt, so running
the same command again (after Ctrl-C, a crash, a reboot) calls only what is left.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from ivr.app.keeping import CallKeeper, KeepOptions
from ivr.app.line import check_line_asr, parse_listen, stop_on_signals
from ivr.app.options import (
    IN_FILE,
    OUT_DIR,
    AgentIdOption,
    AnswerWithinOption,
    DbOption,
    LineAsrOption,
    LineConfigOption,
    LineShowNumbersOption,
    ModelOption,
    OrgOption,
    PromptCacheOption,
    ReportOption,
    ScriptOption,
    SetOption,
)
from ivr.cli.campaign_view import CampaignView, summary_table
from ivr.cli.common import fail_line, make_console
from ivr.cli.keeping import call_line_printer
from ivr.cli.tables import print_table
from ivr.errors import DeviceError, IvrError
from ivr.privacy import mask_number

EXIT_PENDING = 3
"""Exit status when rows are left to call later (outside the hours, retries not yet due)."""

SHARD = re.compile(r"^(\d+)/(\d+)$")


def parse_shard(text: str) -> tuple[int, int]:
    """--shard K/N (1 <= K <= N) -> (K-1, N). ValueError if bad."""
    found = SHARD.match(text)
    if not found or not 1 <= int(found.group(1)) <= int(found.group(2)):
        raise ValueError(f"invalid --shard {text!r}: give K/N, this worker's number K of N")
    return int(found.group(1)) - 1, int(found.group(2))


def campaign_command(
    call_list: Annotated[
        Path, typer.Argument(help="The call list (CSV with a number column).", **IN_FILE)
    ],
    script: ScriptOption = "outbound",
    trunk: Annotated[
        str | None,
        typer.Option(help="Where to call a row without a uri column: sip:{number}@HOST[:PORT]."),
    ] = None,
    proxy: Annotated[
        str | None, typer.Option(help="Send every call through this SIP proxy (sip:HOST:PORT).")
    ] = None,
    listen: Annotated[
        str,
        typer.Option(
            help="Our SIP address HOST[:PORT]; worker i of the run on PORT+i (0: any port)."
        ),
    ] = "127.0.0.1:0",
    concurrency: Annotated[int, typer.Option(help="Calls at once.")] = 4,
    retries: Annotated[
        int,
        typer.Option(help="Retries of a busy or unanswered row (or one that met a network tone)."),
    ] = 2,
    retry_after_s: Annotated[
        float, typer.Option(help="Wait before the first retry (s); each next one doubles.")
    ] = 300.0,
    retry_on: Annotated[
        str, typer.Option(help="Outcomes that are tried again, comma-separated.")
    ] = "busy,no_answer,network_tone",
    hours: Annotated[
        str | None, typer.Option(help="Calling hours HH:MM-HH:MM, local time (default: any).")
    ] = None,
    days: Annotated[
        str | None, typer.Option(help="Calling days, e.g. mon-fri or mon,wed,sat (default: all).")
    ] = None,
    wait: Annotated[
        bool, typer.Option(help="Wait for the calling hours and for retries due later.")
    ] = True,
    dnc: Annotated[
        Path | None,
        typer.Option(help="Do-not-call list: one number per line, or a CSV.", **IN_FILE),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The campaign's name in the call log (default: file stem).")
    ] = None,
    shard: Annotated[
        str, typer.Option(help="This worker's share K/N: every N-th row from the K-th.")
    ] = "1/1",
    answer_timeout_s: Annotated[
        float, typer.Option(help="How long a call may ring before we give up (s).")
    ] = 30.0,
    out: Annotated[
        Path, typer.Option(help="Folder of the recordings (one folder per name).", **OUT_DIR)
    ] = Path("calls"),
    org: OrgOption = None,
    agent_id: AgentIdOption = None,
    config: LineConfigOption = None,
    settings_overrides: SetOption = None,
    asr: LineAsrOption = "vosk",
    model: ModelOption = None,
    cache_dir: PromptCacheOption = None,
    show_numbers: LineShowNumbersOption = False,
    db: DbOption = None,
    report: ReportOption = None,
    answer_within_ms: AnswerWithinOption = None,
) -> None:
    """Dial a call list over SIP; run it again to go on where it stopped."""
    import faulthandler
    import signal

    from ivr.campaign.setup import open_campaign

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # kill -USR1: where each thread is

    console = make_console()
    try:
        check_line_asr(asr, "SIP calls")
        host, port = parse_listen(listen)
        campaign = open_campaign(
            call_list, script, name, org, agent_id, config, settings_overrides or [], asr, model,
            cache_dir, dnc, hours, days, retries, retry_after_s, retry_on, db, show_numbers,
        )  # fmt: skip
        options = campaign.options(
            trunk, concurrency, wait, answer_timeout_s, out, parse_shard(shard)
        )
        from ivr.service.workers import WorkerPool

        pool = WorkerPool(campaign.recipe((host, port), proxy, options, show_numbers), concurrency)
        pool.start()
    except DeviceError as exc:
        fail_line(str(exc), code=1)
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    for line in [*campaign.notices, *campaign.calls.problems]:
        console.print(f"note: {line}", style="yellow", markup=False, highlight=False)
    keep = KeepOptions(db, False, report, show_numbers, None, answer_within_ms)
    printer = call_line_printer(console, show_numbers)
    keeper = CallKeeper(keep, campaign.forbidden, "ivr campaign", printer)
    from ivr.campaign.runner import Campaign

    view = CampaignView(console, campaign.plan, options)
    run = Campaign(pool, campaign.plan, campaign, keeper, options, on_call=view.on_call)
    try:
        with stop_on_signals() as stop, view:
            stopped = run.run(stop)
    finally:
        pool.close()
        page = keeper.close(f"campaign {options.name}, script {campaign.script_name}")
        if page is not None:
            console.print(f"report {page}", markup=False)
    for problem in run.problems:
        shown = problem if show_numbers else mask_number(problem)
        console.print(f"error: {shown}", style="red", markup=False, highlight=False)
    print_table(console, summary_table(campaign.plan, run, options))
    if stopped:
        raise typer.Exit(130)
    if run.stopped_for:
        console.print(f"rows left to call: {run.stopped_for}; run again to go on", markup=False)
        raise typer.Exit(EXIT_PENDING)
    raise typer.Exit(1 if run.problems else 0)


def register(app: typer.Typer) -> None:
    """Add `campaign` to the CLI."""
    app.command("campaign", short_help="Dial a call list over SIP; run again to go on.")(
        campaign_command
    )
