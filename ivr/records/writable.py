"""Whether the call log can take a call, checked before the first one, and what a failed write
means in words a user can act on.

A log can open and still refuse every row: a read-only file, damaged pages, a `calls` table
someone dropped, a lock another process holds, a full disk. Each would otherwise surface at
the first call's row, after the call was made; `check_writable` finds them up front by adding a
call's row under the write lock and rolling it back (nothing is kept, no id is used up).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from ivr.atomic import free_bytes, mount_point
from ivr.errors import IvrError

MIN_FREE_BYTES = 256 * 1024
"""Free space (bytes) on the log's disk below which it is refused before the first call: a
call's row and its write-ahead log frames take a few pages of 4 KiB each."""


def check_space(path: Path) -> None:
    """IvrError naming `path` unless its disk has MIN_FREE_BYTES free (checked before the file
    is opened: SQLite says `disk I/O error` when it cannot make its shared-memory file)."""
    free = free_bytes(path.parent)
    if free < MIN_FREE_BYTES:
        raise IvrError(
            f"{path}: cannot write the call log: no space left on {mount_point(path.parent)} "
            f"({free // 1024} KiB free)"
        )


def check_writable(conn: sqlite3.Connection, path: Path, row: dict[str, Any], busy_ms: int) -> None:
    """IvrError naming `path` and the reason unless `row` (a call's row, as the log's `add`
    writes it) can go in now: added and rolled back under the write lock, after waiting up to
    `busy_ms` (ms) for another writer."""
    check_space(path)
    names, marks = ", ".join(row), ", ".join(f":{name}" for name in row)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"INSERT INTO calls ({names}) VALUES ({marks})", row)
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
    except sqlite3.Error as exc:
        why = why_not_written(exc, busy_ms)
        raise IvrError(f"{path}: cannot write the call log: {why}") from None


def why_not_written(exc: sqlite3.Error, busy_ms: int) -> str:
    """What a failed write to the log means (`busy_ms`: how long the writer waited, ms), with
    SQLite's own words after it."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_READONLY"):
        return f"the file is read-only ({exc})"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"another process has held it for over {busy_ms / 1000:g} s ({exc})"
    if name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB":
        return f"the file is damaged ({exc}): restore it from a copy, or use another file"
    if name == "SQLITE_FULL":
        return f"no space left ({exc})"
    if "no such table" in str(exc) or "has no column" in str(exc):
        return f"not a whole ivr call log ({exc})"
    return str(exc)
