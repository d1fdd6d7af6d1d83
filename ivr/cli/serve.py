"""`ivr serve`: answer incoming SIP calls with a script (the inbound one by default), several
at once, each kept like any other call (recording, timeline, QA, call-log row)."""

from __future__ import annotations

import collections
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ivr.app.keeping import CallKeeper, EndedCall, KeepOptions
from ivr.app.line import (
    LineOptions,
    StopRequest,
    check_line_asr,
    open_agent,
    open_line_calls,
    stop_on_signals,
)
from ivr.app.options import (
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
    SetOption,
)
from ivr.app.recordings import time_stamp
from ivr.cli.common import fail_line, make_console
from ivr.cli.keeping import call_line_printer
from ivr.errors import DeviceError, IvrError
from ivr.privacy import mask_number
from ivr.service.workers import CALLS_PER_WORKER
from ivr.sip.guard import BAD_REQUEST

if TYPE_CHECKING:
    from concurrent.futures import Future

    from ivr.app.setup import CallSetup
    from ivr.service.perform import SipCallResult
    from ivr.sip.agent import SipAgent
    from ivr.sip.call import SipCall

BUSY = 486
"""The SIP status a call gets when every call thread is taken (486 Busy Here)."""


def serve_command(
    listen: Annotated[
        str, typer.Option(help="Where to take calls: HOST[:PORT] (UDP; port 0: any free one).")
    ] = "127.0.0.1:5070",
    script: Annotated[str, typer.Option(help="Script name (prompts/NAME.yaml) or path.")] = (
        "inbound"
    ),
    org: OrgOption = None,
    agent_id: AgentIdOption = None,
    concurrency: Annotated[
        int, typer.Option(help="Calls at once; a call beyond them is refused busy (486).")
    ] = CALLS_PER_WORKER,
    max_calls: Annotated[
        int | None, typer.Option(help="Stop after answering this many calls (default: never).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder of the calls' recordings and timelines.")] = (
        Path("calls")
    ),
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
    server = Server(agent, setup, prepared.values, keeper, out, concurrency, max_calls)
    server.console = console
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


class Server:
    """The answering loop of `ivr serve` on the agent's thread."""

    def __init__(
        self,
        agent: SipAgent,
        setup: CallSetup,
        values: dict[str, str],
        keeper: CallKeeper,
        out: Path,
        concurrency: int,
        max_calls: int | None,
    ) -> None:
        from ivr.service.threads import CallThreads

        self.agent, self.setup, self.values, self.keeper = agent, setup, values, keeper
        self.out, self.max_calls = out, max_calls
        self.threads = CallThreads(agent, concurrency)
        self.answered = 0
        """Calls taken (answered 200)."""
        self.missed = 0
        """Calls whose caller hung up before we could answer (logged as `no_answer`)."""
        self.outcomes: collections.Counter[str] = collections.Counter()
        """The outcomes of the calls taken."""
        self._stamp = time_stamp()
        self.console = Console()
        """Where the loop says what it does (set by the command)."""

    def summary(self) -> str:
        """One line: the calls answered by outcome, those missed, those refused."""
        outcomes = ", ".join(f"{n} {o}" for o, n in sorted(self.outcomes.items())) or "none"
        parts = [f"{self.answered} calls answered ({outcomes})"]
        if self.missed:
            parts.append(f"{self.missed} hung up before the answer")
        refused = self.agent.refused  # 486: no call thread free, 400: a malformed INVITE
        if refused:
            what = {BUSY: "busy", BAD_REQUEST: "malformed"}
            counts = ", ".join(f"{n} {what.get(s, 'other')} ({s})" for s, n in refused.items())
            parts.append(f"refused {counts}")
        return "; ".join(parts)

    def _full(self) -> bool:
        return self.max_calls is not None and self.answered >= self.max_calls

    def run(self, stop: StopRequest) -> bool:
        """Serve until --max-calls or `stop`; whether it was stopped."""
        try:
            while not (self._full() and self.threads.running == 0) and not stop:
                self._take_calls()
                self._keep(self.threads.poll())
            if stop:
                self.threads.interrupt()
                self._keep(self.threads.drain())
            return bool(stop)
        finally:
            self.threads.close()
            self.agent.close()

    def _take_calls(self) -> None:
        from ivr.service.perform import perform_call

        agent, threads = self.agent, self.threads
        while agent.incoming:
            call = agent.incoming.popleft()
            if self._full() or threads.free <= 0:
                agent.refuse(call, BUSY)
                continue
            taken = call.answer(180) and call.answer(200)  # no: its caller hung up first
            if taken:
                self.answered += 1
            else:
                self.missed += 1
            count = self.answered + self.missed
            recording = self.out / f"serve-{self._stamp}-{count:03d}.wav"
            started = datetime.now().astimezone()
            caller = call.remote_user or "an unknown caller"
            shown = caller if self.keeper.options.show_numbers else mask_number(caller)
            verb = "answered" if taken else "missed (hung up before the answer)"
            self.console.print(f"{verb} {shown} ({recording.name})", markup=False)

            def job(call: SipCall = call, recording: Path = recording) -> SipCallResult:
                show = self.keeper.options.show_numbers
                watch = threads.watch
                return perform_call(agent, call, self.setup, recording, show, on_callee=watch)

            threads.start((call, started), job)

    def _keep(self, finished: list[tuple[tuple[SipCall, datetime], Future]]) -> None:
        from ivr.service.threads import result_of

        for (call, started), future in finished:
            done = result_of(future)
            self.agent.forget(call)
            if isinstance(done, BaseException):
                failure = mask_number(f"call failed: {done!r}")
                self.console.print(failure, markup=False)
                self.outcomes["error"] += 1
                continue
            if call.accepted:
                self.outcomes[done.result.outcome] += 1
            values = {**self.values, "number": call.remote_user}
            ended = EndedCall(
                done.result, self.setup.script, values, started, "sip", done.answered, done.status
            )
            try:
                self.keeper.keep(ended, self.setup.settings)
            except (IvrError, ValueError) as exc:
                self.console.print(f"error: {mask_number(str(exc))}", markup=False)


def register(app: typer.Typer) -> None:
    """Add `serve` to the CLI."""
    app.command("serve")(serve_command)
