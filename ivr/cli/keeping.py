"""What the line commands (`ivr call`, `ivr dial`, `ivr serve`, `ivr campaign`) say about a
call once it is kept (the keeping itself, one way for every command: ivr.app.keeping)."""

from __future__ import annotations

from rich.console import Console

from ivr.app.keeping import CallKeeper, EndedCall, KeptCall
from ivr.app.records import calls_command
from ivr.call_settings import CallSettings
from ivr.errors import IvrError
from ivr.privacy import mask_number
from ivr.qa.checks import qa_named
from ivr.qa.score import QaScore
from ivr.vocabulary import Outcome

EXIT_CODES = {
    Outcome.ABORTED: 130, Outcome.DEVICE_ERROR: 1, Outcome.MEDIA_ERROR: 1,
    Outcome.CALL_FAILED: 1, Outcome.UNREACHABLE: 1,
}  # fmt: skip
"""Exit status of a call on a line by its outcome; every other outcome is a call that ended
normally (0)."""

NO_QA = "no QA"
"""What every command says of a call that never got through (it has no QA score)."""


def qa_text(qa: QaScore | None) -> str:
    """The QA score in a call's one line: `QA 86/100`, or `no QA`."""
    return f"QA {qa.score:.0f}/100" if qa is not None else NO_QA


def keep_one_call(
    console: Console, keeper: CallKeeper, call: EndedCall, settings: CallSettings, subtitle: str
) -> None:
    """Keep the one call of `ivr call` or `ivr dial` and say so, a line each: its files, its
    QA score, its row in the call log, its report page. Exits with 1 if the log or the report
    refuses it."""
    from ivr.cli.common import fail_line

    result = call.result
    console.print(f"recording {result.recording}, timeline {result.timeline_path}", markup=False)
    try:
        kept = keeper.keep(call, settings)
    except IvrError as exc:
        fail_line(f"{exc} (the recording and timeline are saved)", code=1)
    qa = kept.qa
    if qa is None:
        console.print(f"{NO_QA}: the call never got through", markup=False)
    else:
        failed = f" (failed: {'; '.join(map(qa_named, qa.failed))})" if qa.failed else ""
        console.print(f"QA score {qa.score:.0f}/100{failed}", markup=False)
    if kept.call_id is not None and keeper.log is not None:
        log, call_id = keeper.log, kept.call_id
        shown_log = f"call {call_id} logged in {log.path} ({calls_command(log, 'show')} {call_id})"
        console.print(shown_log, markup=False)
    try:
        page = keeper.close(subtitle)
    except IvrError as exc:
        fail_line(str(exc), code=1)
    if page is not None:
        console.print(f"report {page}", markup=False)


def call_line_printer(console: Console, show_numbers: bool):
    """What `ivr serve` and `ivr campaign` say of each call kept: one line, `call N: <summary>
    · QA n/100 (or no QA) · <recording>`."""

    def say_kept(call: EndedCall, kept: KeptCall) -> None:
        result = call.result
        line = f"{result.summary()} · {qa_text(kept.qa)}"
        if kept.call_id is not None:
            line = f"call {kept.call_id}: {line}"
        line = line if show_numbers else mask_number(line)
        # the recording's path as it is on disk: its data-made names are masked there already
        console.print(f"{line} · {result.recording}", markup=False, highlight=False)

    return say_kept
