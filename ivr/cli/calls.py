"""`ivr calls`: read the call log that `ivr replay` and `ivr call` write (list, show, export)."""

from __future__ import annotations

import difflib
import io
import json
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ivr.app.options import OUT_FILE
from ivr.cli.common import DbOption, fail_line, make_console
from ivr.cli.tables import CliTable, print_table
from ivr.errors import IvrError

if TYPE_CHECKING:
    from ivr.records.calllog import CallRecord

calls_app = typer.Typer(
    help="The call log: every replayed, live, SIP or audited call (SQLite; --db, $IVR_CALL_DB "
    "or calls/calls.db).",
    no_args_is_help=True,
)

BOM = "\ufeff"
"""The byte-order mark an export starts with: Excel takes a CSV file without it for the
local code page (GBK on a Chinese Windows) and garbles UTF-8 Chinese."""

ShowNumbers = Annotated[bool, typer.Option(help="Show phone numbers unmasked.")]

_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: datetime | None = None) -> str:
    """--since as an ISO 8601 time: an ISO date or time as given, or a span back from now
    (`30m`, `12h`, `7d`, `2w`). ValueError naming the value otherwise."""
    match = _RELATIVE.fullmatch(text.strip())
    if match:
        now = now or datetime.now().astimezone()
        try:
            back = timedelta(seconds=float(match[1]) * _UNIT_S[match[2]])
            return (now - back).isoformat(timespec="seconds")
        except OverflowError:
            raise ValueError(f"invalid --since {text!r}: too far back") from None
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"invalid --since {text!r}: give an ISO date or time (2026-11-01, "
            "2026-11-01T09:00) or a span back from now (30m, 12h, 7d, 2w)"
        ) from None
    return text


def _open(db: Path | None, show_numbers: bool):
    from ivr.app.records import call_log_path
    from ivr.records.calllog import CallLog

    path = call_log_path(db)
    if not path.is_file():
        fail_line(f"{path}: no call log here (ivr replay and ivr call write one; or give --db)")
    try:
        return CallLog(path, show_numbers=show_numbers, create=False)
    except IvrError as exc:
        fail_line(str(exc))


def _shown(show_numbers: bool):
    from ivr.privacy import mask_number

    return (lambda text: text) if show_numbers else mask_number


def _qa_text(score: float | None) -> str:
    return "-" if score is None else f"{score:.0f}"


def _no_calls(outcome: str | None, since: str | None, logged: dict[str, int]) -> str:
    """Why `calls list` shows nothing: an empty log, filters that match nothing, or an outcome
    no call has (with the closest one and every outcome in the log, `logged`: outcome ->
    calls)."""
    if not logged:
        return "no calls logged yet"
    if outcome is None or outcome in logged:
        return "no calls match"
    close = difflib.get_close_matches(outcome, list(logged), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    known = ", ".join(f"{name} ({count})" for name, count in logged.items())
    return f"no calls with outcome {outcome!r}{hint}; outcomes in the log: {known}"


@calls_app.command("list", short_help="List the calls, newest last.")
def list_command(
    outcome: Annotated[str | None, typer.Option(help="Only calls with this outcome.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only calls from then on: ISO date/time, or 30m, 12h, 7d, 2w back."),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the latest N calls.")] = None,
    source: Annotated[
        str | None, typer.Option(help="Only calls from replay, live, sip or audit.")
    ] = None,
    db: DbOption = None,
    show_numbers: ShowNumbers = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines, one call each.")] = False,
) -> None:
    """One line per call, oldest first: id, start, direction, number, script, outcome,
    duration, QA score and why it ended."""
    try:
        since_at = parse_since(since) if since is not None else None
        if limit is not None and limit < 0:
            raise ValueError(f"invalid --limit {limit}: must be >= 0")
        from ivr.records.calllog import SOURCES

        if source is not None and source not in SOURCES:
            raise ValueError(f"invalid --source {source!r}: one of {', '.join(SOURCES)}")
    except ValueError as exc:
        fail_line(str(exc))
    shown = _shown(show_numbers)
    with _open(db, show_numbers) as log:
        try:
            records = log.list(outcome=outcome, since=since_at, limit=limit, source=source)
            logged = log.outcomes() if not records else {}
        except (IvrError, ValueError) as exc:
            fail_line(str(exc))
    if as_json:
        from ivr.records.calllog import mask_record, record_dict

        for record in records:
            record = record if show_numbers else mask_record(record)
            sys.stdout.write(json.dumps(record_dict(record), ensure_ascii=False) + "\n")
        return
    console = make_console()
    if not records:
        console.print(_no_calls(outcome, since, logged), markup=False, highlight=False)
        return
    table = CliTable(f"{len(records)} call{'s' if len(records) != 1 else ''}")
    for name in ("id", "started", "dir", "number", "script", "outcome", "s", "QA", "result"):
        table.column(
            name,
            keep=name in ("number", "outcome"),
            justify="right" if name in ("id", "s", "QA") else "left",
        )
    for r in records:
        table.add_row(
            str(r.id),
            r.started_at.replace("T", " ")[:19],
            r.direction[:3],
            shown(r.number) or "-",
            r.script,
            r.outcome,
            f"{r.duration_s:.1f}",
            _qa_text(r.qa_score),
            shown(r.result),
        )
    print_table(console, table)


@calls_app.command("show", short_help="Everything logged of one call.")
def show_command(
    call_id: Annotated[int, typer.Argument(help="The call's id (ivr calls list).")],
    db: DbOption = None,
    show_numbers: ShowNumbers = False,
) -> None:
    """Everything logged of one call: the record sheet's fields, the QA items, the files."""
    with _open(db, show_numbers) as log:
        record = log.get(call_id)
    if record is None:
        fail_line(f"no call {call_id} in {log.path} (ivr calls list shows the ids)", code=1)
    shown = _shown(show_numbers)
    fields = [  # (name, value, may hold a phone number)
        ("started", record.started_at, False),
        ("direction", record.direction, False),
        ("number", record.number or "-", True),
        ("callee", record.callee_name or "-", True),
        ("script", record.script, True),
        ("outcome", record.outcome, False),
        ("duration", f"{record.duration_s:.2f} s", False),
        ("result", record.result or "-", True),
        ("handler", record.handler, True),
        ("prompts said", ", ".join(record.prompts_said) or "-", True),
        ("transcript", record.transcript or "-", True),
        ("remarks", record.remarks or "-", True),
        ("source", f"{record.source} of {record.file}", True),
        ("recording", record.recording_path or "-", False),
        ("timeline", record.timeline_path or "-", False),
        ("QA score", _qa_text(record.qa_score), False),
    ]
    if record.rtp is not None:
        fields.insert(8, ("RTP received", _rtp_text(record.rtp), False))
    if record.sip_status is not None:
        fields.insert(8, ("SIP status", str(record.sip_status), False))
    if record.campaign is not None:
        where = f"{record.campaign}, row {record.row_key}, attempt {record.attempt}"
        fields.insert(1, ("campaign", where, True))
    out = io.StringIO()
    out.write(f"call {record.id}\n")
    for name, value, private in fields:
        out.write(f"  {name:<13}{shown(value) if private else value}\n")
    from ivr.qa.checks import QA_TITLES, qa_order

    for item, verdict in qa_order(record.qa.get("items") or {}):
        mark = {True: "pass", False: "FAIL", None: "n/a"}.get(verdict, str(verdict))
        out.write(f"    {item:<26}{mark:<6}{QA_TITLES.get(item, '')}".rstrip() + "\n")
    _audit_items(out, record)
    sys.stdout.write(out.getvalue())


def _rtp_text(rtp: dict[str, float]) -> str:
    """A SIP call's RTP counts in a line (`0 packets` on its own: no audio came in)."""
    if not rtp["packets"]:
        return "0 packets: no audio came from the line"
    return (
        f"{rtp['packets']} packets, {rtp['lost']} lost, {rtp['discarded']} discarded, "
        f"{rtp['filled']} frames filled in, jitter up to {rtp['jitter_max_ms']:g} ms"
    )


def _audit_items(out: io.StringIO, record: CallRecord) -> None:
    """An audited call's items: key, verdict, title and the moments that failed it (s)."""
    if not record.audit:
        return
    from ivr.audit.scorecard import ITEM_BY_KEY

    out.write("  audit items\n")
    for item in record.audit:
        known = ITEM_BY_KEY.get(item.key)
        title = f"{known.number} {known.title}" if known else ""
        mark = "FAIL" if item.verdict == "fail" else item.verdict
        times = ", ".join(f"{m:.2f}" for m in item.moments_s)
        at = f" at {times} s" if times else ""
        out.write(f"    {item.key:<26}{mark:<6}{title}{at}".rstrip() + "\n")


@calls_app.command("export", short_help="Every call as CSV.")
def export_command(
    csv_format: Annotated[
        bool, typer.Option("--csv", help="Comma-separated values (the default; the only format).")
    ] = True,
    out: Annotated[
        Path | None,
        typer.Option(help="Write to this file (atomically); default: stdout.", **OUT_FILE),
    ] = None,
    db: DbOption = None,
    show_numbers: ShowNumbers = False,
) -> None:
    """Every call as CSV, with every field (lists and QA as JSON), oldest first: UTF-8 with a
    byte-order mark (Excel then reads Chinese right), text cells that would start a formula
    behind a `'`. `--csv` may be given; CSV is the only format."""
    from ivr.atomic import write_text_atomic

    del csv_format  # accepted for the command lines that name the format
    buffer = io.StringIO(newline="")
    buffer.write(BOM)
    with _open(db, show_numbers) as log:
        count = log.export_csv(buffer)
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(buffer.getvalue().encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    try:
        write_text_atomic(out, buffer.getvalue())
    except OSError as exc:
        fail_line(f"{out}: cannot write: {exc}", code=1)
    sys.stderr.write(f"{count} call{'s' if count != 1 else ''} written to {out}\n")


def register(app: typer.Typer) -> None:
    """Add `calls` to the CLI."""
    app.add_typer(calls_app, name="calls", short_help="The call log: list, show, export calls.")
