"""Keeping a finished call, one way for every command (`ivr replay`, `ivr call`, `ivr dial`,
`ivr serve`, `ivr campaign`): its QA score, its row in the call log, its timeline picture and
its view in the report page.

A call that never got through (a SIP call nobody answered, that was busy, refused or
unreachable) gets no QA score: there was no conversation to judge. Its row and its view carry
an empty QA (`{}`), and every command says `no QA` for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.app.records import call_record, draw_picture, open_call_log, qa_of, report_view
from ivr.errors import IvrError
from ivr.records.record import RTP_COUNTS

if TYPE_CHECKING:
    from ivr.call.result import CallResult
    from ivr.call_settings import CallSettings
    from ivr.qa.phrases import ForbiddenPhrase
    from ivr.qa.score import QaScore
    from ivr.records.calllog import CallLog
    from ivr.report.html import ReportCall
    from ivr.script.model import Script
    from ivr.sip.call import RtpReceived


@dataclass(frozen=True)
class KeepOptions:
    """Where a finished call goes: the call log (`db`; none with `no_db`), a report folder (or
    None), whether numbers are shown unmasked, the callee's name for the log, and the QA's
    answer limit (ms; None: the script's)."""

    db: Path | None = None
    no_db: bool = False
    report: Path | None = None
    show_numbers: bool = False
    callee: str | None = None
    answer_within_ms: int | None = None


@dataclass(frozen=True)
class CampaignAttempt:
    """Which campaign, call-list row and attempt a campaign's call was."""

    campaign: str
    row_key: str
    attempt: int


@dataclass(frozen=True)
class EndedCall:
    """A call that has ended, with what keeping it needs besides its result."""

    result: CallResult
    script: Script
    values: Mapping[str, str]
    """The script's placeholder values (the number called, the agent id)."""
    started: datetime
    source: str
    """replay, live or sip."""
    answered: bool = True
    """Whether the call got through; one that did not gets no QA score."""
    sip_status: int | None = None
    callee_name: str | None = None
    """The callee's name for the log (None: KeepOptions.callee)."""
    remarks: str = ""
    attempt: CampaignAttempt | None = None
    rtp: RtpReceived | None = None
    """What a SIP call's audio stream received (None: no stream, or not a SIP call)."""


def rtp_counts(rtp: RtpReceived | None) -> dict[str, float] | None:
    """A SIP call's RTP counts as the call log keeps them (ivr.records.record.RTP_COUNTS)."""
    if rtp is None:
        return None
    counts = {name: getattr(rtp, name) for name in RTP_COUNTS}
    counts["jitter_max_ms"] = round(rtp.jitter_max_ms, 3)
    return counts


@dataclass(frozen=True)
class KeptCall:
    """What keeping a call gave: its QA score (None: the call never got through) and its id
    in the call log (None without a log)."""

    qa: QaScore | None
    call_id: int | None


def write_page(
    report: Path, calls: Sequence[ReportCall], command: str, show_numbers: bool, subtitle: str
) -> Path:
    """Write the report page `report`/index.html of `calls`; IvrError if it cannot be."""
    from ivr.report.html import write_report

    try:
        return write_report(report, list(calls), command, show_numbers, subtitle)
    except OSError as exc:
        raise IvrError(f"{report}: cannot write the report: {exc}") from None


class CallKeeper:
    """Keeps the calls of one command run: the call log opened once (IvrError here if it
    cannot take a row: said before any call), each call scored, logged and added to the report,
    the report page written by `close`. Used on one thread."""

    def __init__(
        self,
        options: KeepOptions,
        forbidden: Sequence[ForbiddenPhrase],
        command: str,
        on_kept: Callable[[EndedCall, KeptCall], None] | None = None,
    ) -> None:
        self.options, self.forbidden, self.command = options, forbidden, command
        self.on_kept = on_kept
        """Told of each call `keep` kept (the command says it)."""
        self.log: CallLog | None = None
        if not options.no_db:
            self.log = open_call_log(options.db, options.show_numbers)
        self.views: list[ReportCall] = []
        """The report's calls, in the order they were kept."""
        self._closed = False

    def score(self, call: EndedCall) -> QaScore | None:
        """The call's QA score; None for a call that never got through."""
        if not call.answered:
            return None
        return qa_of(call.result, call.script, self.forbidden, self.options.answer_within_ms)

    def add_to_log(self, call: EndedCall, qa: QaScore | None) -> int | None:
        """Add the call's row to the call log; its id (None without a log). IvrError if the
        log refuses it."""
        if self.log is None:
            return None
        attempt = call.attempt
        record = call_record(
            call.result, call.script, call.values, call.source, qa, call.started,
            call.callee_name or self.options.callee, call.remarks,
            sip_status=call.sip_status,
            rtp=rtp_counts(call.rtp),
            campaign=attempt.campaign if attempt else None,
            row_key=attempt.row_key if attempt else None,
            attempt=attempt.attempt if attempt else None,
        )  # fmt: skip
        return self.log.add(record)

    def add_to_report(self, call: EndedCall, qa: QaScore | None, settings: CallSettings) -> None:
        """With a report folder: the call's timeline picture drawn, its view added."""
        if self.options.report is None:
            return
        folder = self.options.report / "pictures"
        picture, note = draw_picture(call.result, folder, settings, self.options.show_numbers)
        self.views.append(report_view(call.result, qa, picture, note))

    def keep(self, call: EndedCall, settings: CallSettings) -> KeptCall:
        """Score the call, log it, add it to the report (drawn with the detector `settings` it
        ran with). IvrError if the log refuses it (then it is not in the report either)."""
        qa = self.score(call)
        call_id = self.add_to_log(call, qa)
        self.add_to_report(call, qa, settings)
        kept = KeptCall(qa, call_id)
        if self.on_kept is not None:
            self.on_kept(call, kept)
        return kept

    def close_log(self) -> None:
        """Close the call log (its `path` stays readable)."""
        if self.log is not None and not self._closed:
            self.log.close()
        self._closed = True

    def write_report(self, subtitle: str, views: Sequence[ReportCall] | None = None) -> Path | None:
        """With a report folder: the report page of `views` (a batch's calls in its own
        order; default: the calls kept) written, if there is a call; its path. IvrError if it
        cannot be written."""
        views = self.views if views is None else views
        if self.options.report is None or not views:
            return None
        show = self.options.show_numbers
        return write_page(self.options.report, views, self.command, show, subtitle)

    def close(self, subtitle: str) -> Path | None:
        """Close the call log, then write the report page (see `write_report`); its path."""
        self.close_log()
        return self.write_report(subtitle)
