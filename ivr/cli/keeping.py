"""What `ivr call`, `ivr dial`, `ivr serve` and `ivr campaign` show and keep once a call is
over: its QA score, its row in the call log, its report page (the call set up by
ivr.app.setup.set_up_line_call)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from ivr.app.keep import log_call, write_page
from ivr.app.records import calls_command, draw_picture, open_call_log, qa_of, report_view
from ivr.app.setup import LineCallSetup
from ivr.call.replay import CallResult
from ivr.cli.common import fail_line
from ivr.errors import IvrError
from ivr.privacy import mask_number

if TYPE_CHECKING:
    from ivr.detect.settings import CallSettings
    from ivr.qa.phrases import ForbiddenPhrase
    from ivr.records.calllog import CallLog
    from ivr.report.html import ReportCall
    from ivr.script.model import Script
    from ivr.sip.perform import SipCallResult

EXIT_CODES = {"aborted": 130, "device_error": 1, "call_failed": 1, "unreachable": 1}
"""Exit status of a call on a line by its outcome; every other outcome is a call that ended
normally (0)."""


@dataclass(frozen=True)
class Keeping:
    """Where a finished call goes: the call log (`db`, none with `no_db`) and a report folder."""

    db: Path | None
    no_db: bool
    report: Path | None
    show_numbers: bool
    callee: str | None
    answer_within_ms: int | None


def keep_call_of_line(
    console: Console,
    result: CallResult,
    prepared: LineCallSetup,
    started: datetime,
    command: str,
    keeping: Keeping,
    sip_status: int | None = None,
) -> None:
    """Score the call made by `command` (`ivr call`, `ivr dial`), log it and write its page; a
    line each. A SIP call (`ivr dial`) is logged with its last SIP status `sip_status`."""
    script, values, settings = prepared.call.script, prepared.values, prepared.call.settings
    forbidden = prepared.forbidden
    recording, timeline = result.recording, result.timeline_path
    console.print(f"recording {recording}, timeline {timeline}", markup=False)
    qa = qa_of(result, script, forbidden, keeping.answer_within_ms)
    failed = [item for item, verdict in qa["items"].items() if verdict is False]
    console.print(
        f"QA score {qa['score']:.0f}/100" + (f" (failed: {', '.join(failed)})" if failed else ""),
        markup=False,
    )
    if not keeping.no_db:
        try:
            with open_call_log(keeping.db, keeping.show_numbers) as log:
                line = {"sip_status": sip_status} if command == "ivr dial" else {}
                source = "sip" if command == "ivr dial" else "live"
                call_id = log_call(
                    log, result, script, values, source, qa, started, keeping.callee, **line
                )
        except IvrError as exc:
            fail_line(f"{exc} (the recording and timeline are saved)", code=1)
        shown_log = f"call {call_id} logged in {log.path} ({calls_command(log, 'show')} {call_id})"
        console.print(shown_log, markup=False)
    if keeping.report is not None:
        report, show = keeping.report, keeping.show_numbers
        picture, note = draw_picture(result, report / "pictures", settings, show)
        subtitle = f"{'SIP' if command == 'ivr dial' else 'live'} call, script {script.name}"
        try:
            page = write_page(
                report, [report_view(result, qa, picture, note)], command, show, subtitle
            )
        except IvrError as exc:
            fail_line(str(exc), code=1)
        console.print(f"report {page}", markup=False)


class CallKeeper:
    """Keeps the calls of `ivr serve` and `ivr campaign`, one line each: the QA score, the row
    in the call log (opened once, on the thread that keeps), a view in the report written by
    `close`. Used on one thread (the agent's)."""

    def __init__(
        self, console: Console, keeping: Keeping, forbidden: Sequence[ForbiddenPhrase], command: str
    ) -> None:
        self.console, self.keeping, self.forbidden = console, keeping, forbidden
        self.command = command
        self.log: CallLog | None = None
        if not keeping.no_db:
            self.log = open_call_log(keeping.db, keeping.show_numbers)
        self._views: list[ReportCall] = []

    def keep(
        self,
        done: SipCallResult,
        script: Script,
        settings: CallSettings,
        values: Mapping[str, str],
        started: datetime,
        callee_name: str | None = None,
        **campaign: Any,
    ) -> int | None:
        """Score and log one SIP call (`campaign`: its campaign, row_key and attempt); its id in
        the call log, None with --no-db. Prints one line; IvrError if the log refuses it."""
        result, show = done.result, self.keeping.show_numbers
        qa = {}  # nothing to score on a call that never got through
        if done.answered:
            qa = qa_of(result, script, self.forbidden, self.keeping.answer_within_ms)
        call_id = None
        if self.log is not None:
            call_id = log_call(
                self.log, result, script, values, "sip", qa, started,
                callee_name or self.keeping.callee, sip_status=done.status, **campaign,
            )  # fmt: skip
        score = f"QA {qa['score']:.0f}/100" if qa else "no QA"
        line = f"{result.summary()} · {score}"
        if call_id is not None:
            line = f"call {call_id}: {line}"
        line = line if show else mask_number(line)
        # the recording's path as it is on disk: its data-made names are masked there already
        self.console.print(f"{line} · {result.recording}", markup=False, highlight=False)
        if self.keeping.report is not None:
            folder = self.keeping.report / "pictures"
            picture, note = draw_picture(result, folder, settings, show)
            self._views.append(report_view(result, qa, picture, note))
        return call_id

    def close(self, subtitle: str) -> None:
        """Write the report page (if asked for) and close the call log."""
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.keeping.report is not None and self._views:
            report, show = self.keeping.report, self.keeping.show_numbers
            page = write_page(report, self._views, self.command, show, subtitle)
            self.console.print(f"report {page}", markup=False)
