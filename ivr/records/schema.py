"""The call log's SQLite schema and the steps that bring an older file up to date.

The schema version is `PRAGMA user_version`: 0 for a new file, then one step per version, each
in the one transaction that also sets the new version (a crash leaves the file as it was).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ivr.errors import IvrError

SCHEMA_VERSION = 4
"""The `PRAGMA user_version` this code writes; a newer file is refused."""

_SCHEMA_V1 = """CREATE TABLE calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, started_utc REAL NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')), number TEXT NOT NULL,
    callee_name TEXT, script TEXT NOT NULL, outcome TEXT NOT NULL, duration_s REAL NOT NULL,
    transcript TEXT NOT NULL, prompts_said TEXT NOT NULL, handler TEXT NOT NULL,
    result TEXT NOT NULL, remarks TEXT NOT NULL, recording_path TEXT, timeline_path TEXT,
    qa TEXT NOT NULL, source TEXT NOT NULL CHECK (source IN ('replay', 'live')),
    file TEXT NOT NULL);
CREATE INDEX calls_started ON calls (started_utc);
CREATE INDEX calls_outcome ON calls (outcome);"""
"""Version 1: one row per call; `started_utc` (s since the epoch) orders and filters by time."""


def _create_v1(conn: sqlite3.Connection) -> None:
    for statement in _SCHEMA_V1.split(";"):
        conn.execute(statement)


_CALLS_V2 = """CREATE TABLE calls_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, started_utc REAL NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')), number TEXT NOT NULL,
    callee_name TEXT, script TEXT NOT NULL, outcome TEXT NOT NULL, duration_s REAL NOT NULL,
    transcript TEXT NOT NULL, prompts_said TEXT NOT NULL, handler TEXT NOT NULL,
    result TEXT NOT NULL, remarks TEXT NOT NULL, recording_path TEXT, timeline_path TEXT,
    qa TEXT NOT NULL, source TEXT NOT NULL CHECK (source IN ('replay', 'live', 'sip')),
    file TEXT NOT NULL, sip_status INTEGER, campaign TEXT, row_key TEXT,
    attempt INTEGER CHECK (attempt >= 1))"""
"""Version 2's table, created under a temporary name and renamed to `calls` once filled."""

_V1_COLUMNS = (
    "id, started_at, started_utc, direction, number, callee_name, script, outcome, duration_s, "
    "transcript, prompts_said, handler, result, remarks, recording_path, timeline_path, qa, "
    "source, file"
)

_INDEXES_V2 = """CREATE INDEX calls_started ON calls (started_utc);
CREATE INDEX calls_outcome ON calls (outcome);
CREATE UNIQUE INDEX calls_attempt ON calls (campaign, row_key, attempt)"""
"""A campaign row's attempt is unique (NULLs are distinct in SQLite: calls outside a campaign
are not concerned); the index also finds a campaign's calls."""


def _rebuild_v2(conn: sqlite3.Connection) -> None:
    """Version 2: the SIP status and the campaign fields, and `sip` as a source."""
    _rebuild(conn, _CALLS_V2, "calls_v2", _V1_COLUMNS)


_CALLS_V3 = """CREATE TABLE calls_v3 (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, started_utc REAL NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')), number TEXT NOT NULL,
    callee_name TEXT, script TEXT NOT NULL, outcome TEXT NOT NULL, duration_s REAL NOT NULL,
    transcript TEXT NOT NULL, prompts_said TEXT NOT NULL, handler TEXT NOT NULL,
    result TEXT NOT NULL, remarks TEXT NOT NULL, recording_path TEXT, timeline_path TEXT,
    qa TEXT NOT NULL, source TEXT NOT NULL CHECK (source IN ('replay', 'live', 'sip', 'audit')),
    file TEXT NOT NULL, sip_status INTEGER, campaign TEXT, row_key TEXT,
    attempt INTEGER CHECK (attempt >= 1), audit TEXT NOT NULL DEFAULT '[]')"""
"""Version 3's table: `audit` as a source, and an audited call's items (`audit`: a JSON list
of {key, verdict, moments_s}; `[]` for every other call)."""

_V2_COLUMNS = _V1_COLUMNS + ", sip_status, campaign, row_key, attempt"


def _rebuild_v3(conn: sqlite3.Connection) -> None:
    """Version 3: `audit` as a source, and the `audit` column of an audited call's items."""
    _rebuild(conn, _CALLS_V3, "calls_v3", _V2_COLUMNS)


def _rebuild(conn: sqlite3.Connection, create: str, temporary: str, copied: str) -> None:
    """Rebuild `calls` as the table `create` makes (named `temporary` until filled), with the
    old table's `copied` columns.

    SQLite cannot change a CHECK constraint, so the table is rebuilt: a new table, the rows
    copied with their ids, the old one dropped, the new one renamed, the indexes recreated. The
    AUTOINCREMENT counter is carried over, so no id is ever given out twice."""
    (sequence,) = conn.execute(
        "SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'calls'"
    ).fetchone()
    conn.execute(create)
    conn.execute(f"INSERT INTO {temporary} ({copied}) SELECT {copied} FROM calls")
    conn.execute("DROP TABLE calls")
    conn.execute(f"ALTER TABLE {temporary} RENAME TO calls")
    conn.execute("DELETE FROM sqlite_sequence WHERE name = 'calls'")
    conn.execute(
        "INSERT INTO sqlite_sequence (name, seq) "
        "SELECT 'calls', max(?, coalesce(max(id), 0)) FROM calls",
        (sequence,),
    )
    for statement in _INDEXES_V2.split(";"):
        conn.execute(statement)


def _add_rtp_v4(conn: sqlite3.Connection) -> None:
    """Version 4: `rtp`, what a SIP call's audio stream received (a JSON object of its
    counts, ivr.records.record.RTP_COUNTS; NULL for every other call, and for SIP calls logged
    before)."""
    conn.execute("ALTER TABLE calls ADD COLUMN rtp TEXT")


MIGRATIONS = {1: _create_v1, 2: _rebuild_v2, 3: _rebuild_v3, 4: _add_rtp_v4}
"""Schema version -> the step that brings the previous version to it."""


def migrate(conn: sqlite3.Connection, path: Path | str) -> int:
    """Bring the file's schema up to SCHEMA_VERSION; IvrError for a newer or foreign file."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return version
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # now under the lock
        if version > SCHEMA_VERSION:
            raise IvrError(
                f"{path}: call log schema version {version} is newer than this ivr supports "
                f"({SCHEMA_VERSION}); upgrade ivr to read it"
            )
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and tables - {"sqlite_sequence"}:
            raise IvrError(f"{path}: not an ivr call log (it holds other tables)")
        while version < SCHEMA_VERSION:
            version += 1
            MIGRATIONS[version](conn)
            conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return version
