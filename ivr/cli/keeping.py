"""What `ivr call` and `ivr dial` show and keep once a call is over: its QA score, its row in
the call log, its report page (the call set up by ivr.app.setup.set_up_line_call)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console

from ivr.app.keep import log_call, write_page
from ivr.app.records import calls_command, draw_picture, open_call_log, qa_of, report_view
from ivr.app.setup import LineCallSetup
from ivr.call.replay import CallResult
from ivr.cli.common import fail_line
from ivr.errors import IvrError

EXIT_CODES = {"aborted": 130, "device_error": 1, "call_failed": 1}
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
) -> None:
    """Score the live call made by `command` (`ivr call`, `ivr dial`), log it and write its
    page; a line each."""
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
                call_id = log_call(log, result, script, values, "live", qa, started, keeping.callee)
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
