"""`ivr dial`: one outbound call over SIP (G.711), with the same engine and session as replay."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from ivr.app.keeping import EndedCall, KeepOptions
from ivr.app.line import LineOptions, check_line_asr, open_agent, open_line_calls
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
from ivr.campaign.calllist import sip_uri_problem
from ivr.cli.common import fail_line, make_console
from ivr.cli.keeping import EXIT_CODES, keep_one_call
from ivr.errors import DeviceError, IvrError
from ivr.privacy import mask_number


def dial_command(
    uri: Annotated[str, typer.Argument(help="Whom to call: sip:USER@HOST[:PORT].")],
    script: ScriptOption = "outbound",
    number: Annotated[str | None, typer.Option(help="The number called: {number}.")] = None,
    org: OrgOption = None,
    agent_id: AgentIdOption = None,
    listen: Annotated[
        str, typer.Option(help="Our SIP address HOST[:PORT] (port 0 or none: any free one).")
    ] = "127.0.0.1",
    answer_timeout_s: Annotated[
        float, typer.Option(help="How long the call may ring before we give up (s).")
    ] = 30.0,
    record: Annotated[
        Path | None,
        typer.Option(
            help="Stereo recording of the call (default calls/dial-<time>.wav).", **OUT_FILE
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
    """Place one SIP call and perform the script on its audio."""
    if sip_uri_problem(uri) is not None:
        unfilled = " (it is dialed as written: put the number in it)" if "{" in uri else ""
        fail_line(f"invalid SIP address {mask_number(uri)!r}: give sip:USER@HOST[:PORT]{unfilled}")
    console = make_console()
    placeholders = {"org": org, "agent_id": agent_id, "number": number}
    options = LineOptions(
        script, placeholders, config, tuple(settings_overrides or []), cache_dir, asr, model,
        show_numbers,
    )  # fmt: skip
    keep = KeepOptions(db, no_db, report, show_numbers, callee, answer_within_ms)
    try:
        check_line_asr(asr, "a SIP call")
        prepared, keeper = open_line_calls(options, keep, "ivr dial")
        agent = open_agent(listen, prepared, answers=False, calls=1)
    except DeviceError as exc:
        fail_line(str(exc), code=1)
    except (IvrError, ValueError) as exc:
        fail_line(str(exc))
    setup = prepared.call
    if setup.recognition.notice:
        console.print(f"note: {setup.recognition.notice}", style="yellow", markup=False)
    from ivr.cli.dial_view import DialView
    from ivr.service.perform import perform_call
    from ivr.sip.call import SipCall

    stamp = time_stamp()
    recording = record or Path("calls") / f"dial-{stamp}.wav"
    started = datetime.now().astimezone()
    view = DialView(console, uri, answer_timeout_s, show_numbers)
    try:
        with view:
            call = SipCall(agent, uri)
            done = perform_call(
                agent, call, setup, recording, show_numbers, answer_timeout_s,
                observers=[view], on_ring=view.ringing,
            )  # fmt: skip
            view.end(done.result.outcome)
    except DeviceError as exc:
        fail_line(str(exc), code=1)
    finally:
        agent.close()
    result = done.result
    shown = result.summary() if show_numbers else mask_number(result.summary())
    console.print(shown, markup=False, highlight=False)
    call = EndedCall(
        result,
        setup.script,
        prepared.values,
        started,
        "sip",
        done.answered,
        done.status,
        rtp=done.rtp,
    )
    keep_one_call(console, keeper, call, setup.settings, f"SIP call, script {setup.script.name}")
    raise typer.Exit(EXIT_CODES.get(result.outcome, 0))


def register(app: typer.Typer) -> None:
    """Add `dial` to the CLI."""
    app.command("dial", short_help="Place one SIP call and perform the script.")(dial_command)
