"""The pieces of keeping a call (ivr.app.keeping): its QA score, its record in the call log, its
timeline picture and its view in the HTML report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.qa.phrases import ForbiddenPhrase
from ivr.qa.score import QaScore, QaSettings, score_call
from ivr.script.model import Script

if TYPE_CHECKING:
    from ivr.call.result import CallResult
    from ivr.call_settings import CallSettings
    from ivr.records.calllog import CallLog, CallRecord
    from ivr.report.html import ReportCall


def call_log_path(db: Path | None) -> Path:
    """--db, else $IVR_CALL_DB, else calls/calls.db."""
    from ivr.records.calllog import default_db_path

    return db if db is not None else default_db_path()


def open_call_log(db: Path | None, show_numbers: bool = False) -> CallLog:
    """The call log (created on first use); numbers masked in it unless `show_numbers`."""
    from ivr.records.calllog import CallLog

    return CallLog(call_log_path(db), show_numbers=show_numbers)


def calls_command(log: CallLog, verb: str) -> str:
    """The `ivr calls` command line that reads `log` (`--db` only when it is not the default)."""
    db = "" if log.path == call_log_path(None) else f" --db {log.path}"
    return f"ivr calls {verb}{db}"


def qa_of(
    result: CallResult,
    script: Script,
    forbidden: Sequence[ForbiddenPhrase],
    answer_within_ms: int | None = None,
) -> QaScore:
    """The QA score of a call, against the script's `qa:` limits (`answer_within_ms`, ms, if
    given instead)."""
    settings = QaSettings.for_script(script, answer_within_ms)
    return score_call(result.timeline, script.templates or script.prompts, forbidden, settings)


def call_record(
    result: CallResult,
    script: Script,
    values: Mapping[str, str],
    source: str,
    qa: QaScore | None,
    started_at: str | datetime,
    callee_name: str | None = None,
    remarks: str = "",
    **line: Any,
) -> CallRecord:
    """A call-log record of a replayed or live call (masked when the log adds it). `values`
    are the script's placeholder values: the number called, and the agent id (工号) the bot
    gives as its own, which is the record's handler (记录人/处理人)."""
    from ivr.records.calllog import record_from_result

    agent = values.get("agent_id")
    return record_from_result(
        result,
        script_name=script.name,
        direction=script.direction,
        number=values.get("number", ""),
        started_at=started_at,
        source=source,
        qa=qa.to_dict() if qa is not None else {},
        handler=f"ivr agent {agent}" if agent else "ivr",
        callee_name=callee_name,
        remarks=remarks,
        **line,
    )


def draw_picture(
    result: CallResult, folder: Path, settings: CallSettings, show_numbers: bool
) -> tuple[Path | None, str]:
    """The call's timeline picture, `folder`/<recording's stem>.png (drawn with the detector
    settings the call ran with), or None and why it could not be drawn."""
    from ivr.privacy import mask_number
    from ivr.report.picture import draw_timeline

    if result.recording is None:
        return None, "no timeline picture: the call has no recording"
    title = f"{result.name}: {result.outcome} after {result.duration_s:.2f} s ({result.reason})"
    target = Path(folder) / f"{Path(result.recording).stem.removesuffix('.call')}.png"
    try:
        draw_timeline(
            result.recording,
            result.timeline,
            target,
            settings,
            title if show_numbers else mask_number(title),
        )
    except (OSError, ValueError, RuntimeError) as exc:
        return None, f"no timeline picture: {exc}"
    return target, ""


def report_view(
    result: CallResult,
    qa: QaScore | None,
    picture: Path | None,
    note: str = "",
    expected: str | None = None,
    passed: bool | None = None,
    problems: Sequence[str] = (),
) -> ReportCall:
    """A call as the report shows it (`expected`, `passed`, `problems`: its expectation)."""
    from ivr.records.calllog import transcript_of
    from ivr.report.html import ReportCall

    return ReportCall(
        name=result.name,
        outcome=result.outcome,
        expected=expected,
        passed=passed,
        problems=tuple(problems),
        duration_s=result.duration_s,
        prompts=tuple(result.prompts),
        summary=result.summary(),
        transcript=transcript_of(result.timeline),
        recording=result.recording,
        picture=picture,
        timeline_path=result.timeline_path,
        qa=qa.to_dict() if qa is not None else {},
        note=note,
    )
