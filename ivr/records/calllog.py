"""The call log: one row per call in a SQLite file, like the hotline's 400接听记录单.

The record sheet's columns, adapted to a bot: 来电时间 -> `started_at`; 来电者姓名 ->
`callee_name` (and the `number`); 来电何人为何事 -> `script`, `prompts_said`, `transcript`;
记录人(处理人) -> `handler`; 处理结果 -> `outcome` and `result`; 备注 -> `remarks`. Added for
a bot: the recording, the timeline, the QA items and score, and where the call came from;
for a SIP call its last SIP status, and for a campaign's call the campaign, the call-list row
and which attempt at that row it was. A recorded call of a human agent scored by `ivr audit`
is a row too (source `audit`), with its scorecard's items.

Phone numbers are masked before anything is written (`show_numbers=False`, the default), in
every field but the time and the paths of the recording and timeline (which must lead to the
files; `ivr replay` names them with numbers masked, `ivr call` after the time), the SIP
status, and the campaign fields (names and row keys chosen by the user, kept as written). The
file is in WAL mode with full sync, and each call is its own transaction: a crash loses at most
the call being added. A campaign row's attempt is logged at most once (a unique index), so a
restarted campaign never logs a row twice. The schema version is `PRAGMA user_version`.

A log opened to be written (`create=True`, as every command that logs calls opens it) is
checked before the first call: its disk has room, and a call's row goes in (added and rolled
back under the write lock). A read-only file, a damaged one, one without its `calls` table,
one another process keeps locked for over BUSY_TIMEOUT_MS, or a full disk is refused then, in
one line that says which; a later failure of `add` is an IvrError in the same words.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from ivr.errors import IvrError
from ivr.records.cells import spreadsheet_cell
from ivr.records.record import (
    COLUMNS,
    SIP_STATUS_RANGE,
    SOURCES,
    AuditItem,
    CallRecord,
    EndedCall,
    audit_item_dict,
    mask_record,
    parse_instant,
    record_dict,
    record_from_result,
    transcript_of,
)
from ivr.records.schema import SCHEMA_VERSION as SCHEMA_VERSION  # the call log's, here too
from ivr.records.schema import migrate
from ivr.records.writable import check_space, check_writable, why_not_written

DB_ENV = "IVR_CALL_DB"
"""Environment variable naming the call log file."""

DEFAULT_DB = Path("calls") / "calls.db"
"""The call log used when neither --db nor $IVR_CALL_DB is given."""

BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another process holding the log (replay -j N)."""


def default_db_path() -> Path:
    """`$IVR_CALL_DB`, or calls/calls.db."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""


def _is_sqlite(path: Path, empty_ok: bool) -> bool:
    """Whether `path` starts like an SQLite database, or is missing or (`empty_ok`) empty; an
    unreadable file is left to SQLite to refuse."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError:
        return True
    return head == SQLITE_HEADER or (empty_ok and not head)


def _to_row(record: CallRecord) -> dict[str, Any]:
    row = asdict(record)
    del row["id"]
    row["prompts_said"] = json.dumps(list(record.prompts_said), ensure_ascii=False)
    try:
        row["qa"] = json.dumps(record.qa, ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"qa is not JSON-able: {exc}") from None
    row["audit"] = json.dumps([audit_item_dict(i) for i in record.audit])
    row["rtp"] = json.dumps(record.rtp) if record.rtp is not None else None
    row["started_utc"] = parse_instant(record.started_at, "started_at").timestamp()
    return row


def _from_row(row: sqlite3.Row) -> CallRecord:
    values = {name: row[name] for name in COLUMNS}
    values["prompts_said"] = tuple(json.loads(row["prompts_said"]))
    values["qa"] = json.loads(row["qa"])
    values["audit"] = tuple(AuditItem(**item) for item in json.loads(row["audit"]))
    values["rtp"] = json.loads(row["rtp"]) if row["rtp"] is not None else None
    return CallRecord(**values, id=row["id"])


AUDIT_COLUMN_PREFIX = "audit_"
"""An export's column of one audit item is `audit_<key>` (audit_interrupting, ...)."""


class CallLog:
    """The call log file: `add` calls, read them back, export them (a context manager)."""

    def __init__(self, path: Path | str, show_numbers: bool = False, create: bool = True):
        self.path = Path(path)
        self.show_numbers = show_numbers
        if not create and not self.path.is_file():
            raise IvrError(f"{self.path}: no call log here")
        if not _is_sqlite(self.path, empty_ok=create):  # SQLite would make it one, losing it
            raise IvrError(f"{self.path}: cannot open call log: file is not a database")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if create:
                check_space(self.path)
            self._conn = sqlite3.connect(self.path, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise IvrError(f"{self.path}: cannot open call log: {exc}") from None
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            migrate(self._conn, self.path)  # refuses a foreign or newer file before changing it
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")  # a reported add survives power loss
            if create:
                now = datetime.now().astimezone().isoformat(timespec="seconds")
                probe = CallRecord(now, "outbound", "", "", "", 0.0, "replay", "")
                check_writable(self._conn, self.path, _to_row(probe), BUSY_TIMEOUT_MS)
        except BaseException as exc:
            self._conn.close()
            if isinstance(exc, sqlite3.Error):
                raise IvrError(f"{self.path}: cannot open call log: {exc}") from None
            raise

    def __enter__(self) -> CallLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (again is harmless)."""
        self._conn.close()

    def add(self, record: CallRecord) -> int:
        """Store one call in its own transaction (masked unless show_numbers); its id.

        IvrError if the record's campaign row attempt is already logged."""
        if not self.show_numbers:
            record = mask_record(record)
        row = _to_row(record)
        names = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._refuse_logged_attempt(record)  # under the write lock: no one slips in
                cursor = self._conn.execute(f"INSERT INTO calls ({names}) VALUES ({marks})", row)
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            why = why_not_written(exc, BUSY_TIMEOUT_MS)
            raise IvrError(f"{self.path}: cannot add the call: {why}") from None
        return int(cursor.lastrowid)

    def _refuse_logged_attempt(self, record: CallRecord) -> None:
        if record.campaign is None:
            return
        logged = self._conn.execute(
            "SELECT id FROM calls WHERE campaign = ? AND row_key = ? AND attempt = ?",
            (record.campaign, record.row_key, record.attempt),
        ).fetchone()
        if logged is not None:
            raise IvrError(
                f"{self.path}: campaign {record.campaign!r}, row {record.row_key!r}: attempt "
                f"{record.attempt} is already logged (call {logged['id']})"
            )

    def get(self, id: int) -> CallRecord | None:
        """The call with this id, or None."""
        row = self._query("SELECT * FROM calls WHERE id = ?", (id,)).fetchone()
        return _from_row(row) if row is not None else None

    def list(
        self,
        outcome: str | None = None,
        since: str | None = None,
        limit: int | None = None,
        source: str | None = None,
    ) -> list[CallRecord]:
        """Calls oldest first; only `outcome`, only from `since` (an ISO date or time, local
        unless it has an offset), only the latest `limit`, only from `source` (SOURCES)."""
        where, args = [], []
        if outcome is not None:
            where.append("outcome = ?")
            args.append(outcome)
        if source is not None:
            if source not in SOURCES:
                raise ValueError(f"invalid source: {source!r} ({', '.join(SOURCES)})")
            where.append("source = ?")
            args.append(source)
        if since is not None:
            start = parse_instant(since, "since")
            where.append("started_utc >= ?")
            args.append((start if start.tzinfo else start.astimezone()).timestamp())
        sql = "SELECT * FROM calls" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY started_utc DESC, id DESC"
        if limit is not None:
            if limit < 0:
                raise ValueError(f"invalid limit: {limit!r} (must be >= 0)")
            sql += " LIMIT ?"
            args.append(limit)
        return [_from_row(row) for row in reversed(self._query(sql, args).fetchall())]

    def outcomes(self) -> dict[str, int]:
        """Every outcome in the log with its number of calls, most calls first."""
        rows = self._query(
            "SELECT outcome, COUNT(*) FROM calls GROUP BY outcome ORDER BY COUNT(*) DESC, outcome"
        )
        return {row[0]: row[1] for row in rows.fetchall()}

    def recordings(self, source: str) -> set[str]:
        """The recording paths of the calls from `source` (replay, live, sip), as stored."""
        rows = self._query(
            "SELECT recording_path FROM calls WHERE source = ? AND recording_path IS NOT NULL",
            (source,),
        )
        return {row[0] for row in rows.fetchall()}

    def sip_hang_ups(self) -> dict[str, str]:
        """Who sent the BYE of each SIP call with a recording: its recording's path (resolved
        from here) -> `customer` (the call ended `callee_hangup`) or `agent` (our side hung
        up); the latest call of a path counts."""
        rows = self._query(
            "SELECT recording_path, outcome FROM calls WHERE source = 'sip' "
            "AND recording_path IS NOT NULL ORDER BY id"
        )
        return {
            str(Path(path).resolve()): "customer" if outcome == "callee_hangup" else "agent"
            for path, outcome in rows.fetchall()
        }

    def attempts(self, campaign: str) -> list[CallRecord]:
        """The campaign's calls, oldest first (in the order they were logged)."""
        rows = self._query("SELECT * FROM calls WHERE campaign = ? ORDER BY id", (campaign,))
        return [_from_row(row) for row in rows.fetchall()]

    def audit_keys(self) -> list[str]:
        """The item keys of the audited calls, in their scorecards' order."""
        keys: dict[str, None] = {}
        for row in self._query("SELECT audit FROM calls WHERE source = 'audit' ORDER BY id"):
            keys.update((item["key"], None) for item in json.loads(row[0]))
        return list(keys)

    def export_csv(self, out: TextIO, mask: bool | None = None) -> int:
        """Every call as CSV (header `id` then COLUMNS; lists, QA, audit items and RTP counts
        as JSON; a text cell that would start a formula gets a leading ', see
        ivr.records.cells); the count. When audited calls are logged, a column per audit item
        follows, `audit_<key>`: an audited call's verdict there, `pass`, `n/a` or `fail: 1.3,
        4.2` (the moments that failed it, s into the call); empty for other calls.

        Numbers are masked unless the log was opened with show_numbers (or `mask=False`)."""
        mask = not self.show_numbers if mask is None else mask
        keys = self.audit_keys()
        writer = csv.writer(out)
        writer.writerow(["id", *COLUMNS, *(AUDIT_COLUMN_PREFIX + key for key in keys)])
        count = 0
        for row in self._query("SELECT * FROM calls ORDER BY started_utc, id"):
            record = _from_row(row)
            if mask:
                record = mask_record(record)
            values = asdict(record)
            values["prompts_said"] = json.dumps(list(record.prompts_said), ensure_ascii=False)
            values["qa"] = json.dumps(record.qa, ensure_ascii=False) if record.qa else ""
            items = {item.key: item for item in record.audit}
            audit = [audit_item_dict(i) for i in record.audit]
            values["audit"] = json.dumps(audit) if audit else ""
            values["rtp"] = json.dumps(record.rtp) if record.rtp is not None else ""
            cells = [values[c] for c in COLUMNS]
            cells += [items[k].cell() if k in items else None for k in keys]
            writer.writerow([record.id, *(spreadsheet_cell(c) for c in cells)])
            count += 1
        return count

    def _query(self, sql: str, args: Any = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, args)
        except sqlite3.Error as exc:
            raise IvrError(f"{self.path}: cannot read the call log: {exc}") from None


__all__ = [
    "AUDIT_COLUMN_PREFIX",
    "BUSY_TIMEOUT_MS",
    "COLUMNS",
    "DB_ENV",
    "DEFAULT_DB",
    "SCHEMA_VERSION",
    "SIP_STATUS_RANGE",
    "SOURCES",
    "AuditItem",
    "CallLog",
    "CallRecord",
    "EndedCall",
    "default_db_path",
    "mask_record",
    "migrate",
    "record_dict",
    "record_from_result",
    "transcript_of",
]
