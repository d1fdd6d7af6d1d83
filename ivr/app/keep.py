"""Keeping a call: its row in the call log and the report page (the QA score, the record and
the picture themselves: ivr.app.records)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.app.records import call_record
from ivr.errors import IvrError

if TYPE_CHECKING:
    from ivr.call.replay import CallResult
    from ivr.records.calllog import CallLog
    from ivr.report.html import ReportCall
    from ivr.script.model import Script


def log_call(
    log: CallLog,
    result: CallResult,
    script: Script,
    values: Mapping[str, str],
    source: str,
    qa: dict[str, Any],
    started: datetime,
    callee: str | None,
    remarks: str = "",
    **line: Any,
) -> int:
    """Add the call's record (`source`: replay, live or sip) to the call log; its id. `line`:
    what a SIP call adds (`sip_status`; `campaign`, `row_key`, `attempt` for a campaign's)."""
    record = call_record(result, script, values, source, qa, started, callee, remarks, **line)
    return log.add(record)


def write_page(
    report: Path, calls: Sequence[ReportCall], command: str, show_numbers: bool, subtitle: str
) -> Path:
    """Write the report page `report`/index.html of `calls`; IvrError if it cannot be."""
    from ivr.report.html import write_report

    try:
        return write_report(report, list(calls), command, show_numbers, subtitle)
    except OSError as exc:
        raise IvrError(f"{report}: cannot write the report: {exc}") from None
