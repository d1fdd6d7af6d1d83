"""One call as the call log keeps it (`CallRecord`), masked, as plain values, and made from a
call's result (any object with its plain fields: `EndedCall`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ivr.privacy import mask_value
from ivr.script.model import DIRECTIONS
from ivr.timeline import Recognized, TimelineRecord

SOURCES = ("replay", "live", "sip", "audit")
"""Where a call came from: a replayed recording, the sound card, a SIP line, or a recorded
call of a human agent scored by `ivr audit`."""

AUDIT_VERDICTS = ("pass", "fail", "n/a")
"""An audit item's verdicts (ivr.audit.scorecard.Verdict's values)."""

SIP_STATUS_RANGE = range(100, 700)
"""The SIP status codes a record may carry (1xx to 6xx)."""

RTP_COUNTS = ("packets", "lost", "discarded", "filled", "jitter_max_ms")
"""What a SIP call's audio stream received, as a record keeps it (`rtp`): RTP packets
received, lost (gaps in their sequence numbers), discarded (too late, or the jitter buffer
full), frames the jitter buffer had none for, and the largest interarrival jitter (ms)."""


def parse_instant(text: str, name: str) -> datetime:
    """The ISO 8601 time `text`; ValueError naming the field `name` if it is not one."""
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"invalid {name}: {text!r} (expected ISO 8601)") from None


@dataclass(frozen=True)
class AuditItem:
    """One item of an audited call's scorecard, as the call log keeps it: the item's `key`
    (ivr.audit.scorecard.ITEMS), its verdict (pass, fail, n/a) and the moments that failed it
    (s into the call)."""

    key: str
    verdict: str
    moments_s: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"invalid audit item key: {self.key!r}")
        if self.verdict not in AUDIT_VERDICTS:
            raise ValueError(f"invalid audit verdict: {self.verdict!r} (pass, fail or n/a)")
        moments = tuple(float(m) for m in self.moments_s)
        if not all(m >= 0 for m in moments):
            raise ValueError(f"invalid audit moments: {self.moments_s!r} (s, >= 0)")
        object.__setattr__(self, "moments_s", moments)

    def cell(self) -> str:
        """As an export cell: `pass`, `n/a`, or `fail` with the moments (s), `fail: 1.3, 4.2`."""
        if self.verdict != "fail" or not self.moments_s:
            return self.verdict
        return "fail: " + ", ".join(f"{m:g}" for m in self.moments_s)


@dataclass(frozen=True)
class CallRecord:
    """One call, as the call log keeps it; `id` is set on records read from the log.

    `started_at`: ISO 8601 local time with UTC offset (来电时间). `direction`: outbound or
    inbound. `number`: the other party's (masked in the log unless show_numbers). `outcome`:
    the script's hang-up outcome; `result`: why it ended, e.g. `noinput #3 in opening`
    (处理结果). `duration_s`: up to the hang-up. `source`: replay, live or sip; `file`: the
    replayed file's name or the live recording's. `transcript`: what recognition heard, ` / `
    between utterances. `handler`: the bot (记录人/处理人; ivr replay and ivr call write
    `ivr agent <工号>`), default `ivr/<direction>`. `qa`: QA items and `score`, JSON-able, may
    be empty. `sip_status`: the last SIP status code of a SIP call (200, 486, 487, ...).
    `campaign`: the campaign's name; `row_key`: the call-list row the call was for; `attempt`:
    1 for the row's first try, 2 for its first retry, ... (the three come together or not at
    all). `audit`: an audited call's items (source `audit` only; `outcome` is then its
    scorecard's verdict, pass or fail). `rtp`: what a SIP call's audio stream received
    (RTP_COUNTS; None when it had no stream, or for another source): `packets` 0 on an answered
    call says no audio ever came from the line, whatever its outcome says of the callee.
    """

    started_at: str
    direction: str
    number: str
    script: str
    outcome: str
    duration_s: float
    source: str
    file: str
    callee_name: str | None = None
    transcript: str = ""
    prompts_said: tuple[str, ...] = ()
    handler: str = ""
    result: str = ""
    remarks: str = ""
    recording_path: str | None = None
    timeline_path: str | None = None
    qa: dict[str, Any] = field(default_factory=dict, hash=False)
    sip_status: int | None = None
    campaign: str | None = None
    row_key: str | None = None
    attempt: int | None = None
    audit: tuple[AuditItem, ...] = ()
    rtp: dict[str, float] | None = field(default=None, hash=False)
    id: int | None = None

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"invalid direction: {self.direction!r} (outbound or inbound)")
        if self.source not in SOURCES:
            raise ValueError(f"invalid source: {self.source!r} ({', '.join(SOURCES)})")
        if parse_instant(self.started_at, "started_at").tzinfo is None:
            raise ValueError(f"started_at must carry a UTC offset: {self.started_at!r}")
        if not self.duration_s >= 0:
            raise ValueError(f"invalid duration_s: {self.duration_s!r} (must be >= 0)")
        if not isinstance(self.qa, dict):
            raise TypeError(f"qa must be a dict, got {type(self.qa).__name__}")
        self._check_sip_and_campaign()
        audit = tuple(i if isinstance(i, AuditItem) else AuditItem(**i) for i in self.audit)
        if audit and self.source != "audit":
            raise ValueError(f"audit items belong to source audit, not {self.source!r}")
        self._check_rtp()
        object.__setattr__(self, "audit", audit)
        object.__setattr__(self, "prompts_said", tuple(self.prompts_said))
        object.__setattr__(self, "duration_s", float(self.duration_s))
        if not self.handler:
            object.__setattr__(self, "handler", f"ivr/{self.direction}")

    def _check_sip_and_campaign(self) -> None:
        status = self.sip_status
        if status is not None and (not _is_int(status) or status not in SIP_STATUS_RANGE):
            raise ValueError(f"invalid sip_status: {status!r} (a SIP status code, 100 to 699)")
        if self.attempt is not None and (not _is_int(self.attempt) or self.attempt < 1):
            raise ValueError(f"invalid attempt: {self.attempt!r} (1 for the first try, or more)")
        given = [self.campaign is not None, self.row_key is not None, self.attempt is not None]
        if any(given) and not all(given):
            raise ValueError(
                f"campaign, row_key and attempt come together: got campaign={self.campaign!r}, "
                f"row_key={self.row_key!r}, attempt={self.attempt!r}"
            )
        if self.campaign == "" or self.row_key == "":
            raise ValueError("campaign and row_key must not be empty")

    def _check_rtp(self) -> None:
        if self.rtp is None:
            return
        if self.source != "sip":
            raise ValueError(f"rtp counts belong to source sip, not {self.source!r}")
        if not isinstance(self.rtp, dict) or set(self.rtp) != set(RTP_COUNTS):
            raise ValueError(f"invalid rtp: {self.rtp!r} (the counts {', '.join(RTP_COUNTS)})")
        for name, value in self.rtp.items():
            whole = name != "jitter_max_ms"
            if not (_is_int(value) if whole else _is_number(value)) or not value >= 0:
                kind = "a whole number" if whole else "a number of ms"
                raise ValueError(f"invalid rtp {name}: {value!r} ({kind}, >= 0)")
        object.__setattr__(self, "rtp", {name: self.rtp[name] for name in RTP_COUNTS})

    @property
    def qa_score(self) -> float | None:
        """The QA score, if the record has one."""
        score = self.qa.get("score")
        return score if isinstance(score, int | float) and not isinstance(score, bool) else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


COLUMNS = tuple(f.name for f in fields(CallRecord) if f.name != "id")
"""The record's fields as stored, in order (export columns, after `id`)."""

_UNMASKED = {
    "started_at", "direction", "source", "duration_s", "id", "recording_path", "timeline_path",
    "sip_status", "campaign", "row_key", "attempt", "audit", "rtp",
}  # fmt: skip
"""Fields kept as they are: those that cannot hold a phone number, the paths of the call's
files, which must lead to them (replay names its outputs with numbers masked), and the campaign
and row key, which name a campaign and its call-list row (`line 12` must stay `line 12`), an
audit's items (keys, verdicts and times) and a SIP call's RTP counts."""


def mask_record(record: CallRecord) -> CallRecord:
    """The record with every phone number masked in every field that may hold one."""
    changes = {
        f.name: mask_value(getattr(record, f.name))
        for f in fields(CallRecord)
        if f.name not in _UNMASKED
    }
    return replace(record, **changes)


def record_dict(record: CallRecord) -> dict[str, Any]:
    """The record as plain JSON-able values (`prompts_said` a list), `id` first."""
    values = asdict(record)
    values["prompts_said"] = list(record.prompts_said)
    values["audit"] = [audit_item_dict(i) for i in record.audit]
    return {"id": values.pop("id"), **values}


def audit_item_dict(item: AuditItem) -> dict[str, Any]:
    """An audit item as plain JSON-able values."""
    return {"key": item.key, "verdict": item.verdict, "moments_s": list(item.moments_s)}


def transcript_of(timeline: Sequence[TimelineRecord]) -> str:
    """What recognition heard in a call's timeline, ` / ` between utterances.

    Each `recognized` record's text; its free transcription when the grammar found nothing."""
    heard = (r.text or r.free_text for r in timeline if isinstance(r, Recognized))
    return " / ".join(h for h in heard if h)


class EndedCall(Protocol):
    """What the call log reads of a call's result (ivr.call.result.CallResult is one): plain
    values and the timeline records."""

    name: str
    outcome: str
    reason: str
    prompts: list[str]
    timeline: list[TimelineRecord]
    recording: Path | None
    timeline_path: Path | None

    @property
    def duration_s(self) -> float: ...


def record_from_result(
    result: EndedCall,
    script_name: str,
    direction: str,
    number: str,
    started_at: str | datetime,
    source: str,
    qa: dict[str, Any] | None = None,
    handler: str | None = None,
    *,
    callee_name: str | None = None,
    remarks: str = "",
    sip_status: int | None = None,
    campaign: str | None = None,
    row_key: str | None = None,
    attempt: int | None = None,
    rtp: dict[str, float] | None = None,
) -> CallRecord:
    """A call log record for a replayed, live or SIP call's result (masking happens in `add`);
    `sip_status` and `rtp` (RTP_COUNTS) for a SIP call, `campaign`, `row_key` and `attempt` for
    a campaign's call."""
    if isinstance(started_at, datetime):
        started_at = started_at.astimezone().isoformat(timespec="seconds")
    return CallRecord(
        started_at=started_at,
        direction=direction,
        number=number,
        script=script_name,
        outcome=result.outcome,
        duration_s=round(result.duration_s, 3),
        source=source,
        file=result.name,
        callee_name=callee_name,
        transcript=transcript_of(result.timeline),
        prompts_said=tuple(result.prompts),
        handler=handler or f"ivr/{direction}",
        result=result.reason,
        remarks=remarks,
        recording_path=str(result.recording) if result.recording is not None else None,
        timeline_path=str(result.timeline_path) if result.timeline_path is not None else None,
        qa=dict(qa or {}),
        sip_status=sip_status,
        campaign=campaign,
        row_key=row_key,
        attempt=attempt,
        rtp=rtp,
    )
