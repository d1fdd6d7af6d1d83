"""The call log in SQLite and `ivr calls`: round trips, masking, filters, schema and its
migration, campaign attempts, errors, CLI."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from shared import ivr

from ivr.call.replay import CallResult
from ivr.cli.calls import parse_since
from ivr.errors import IvrError
from ivr.records.calllog import (
    COLUMNS,
    SCHEMA_VERSION,
    CallLog,
    CallRecord,
    mask_record,
    migrate,
    record_dict,
    record_from_result,
)

NUMBER = "13812345678"
MASKED = "138****5678"
QA = {"items": {"greeting": True, "closing": False, "answer_time": None}, "score": 66.7}


RTP = {"packets": 1496, "lost": 3, "discarded": 1, "filled": 4, "jitter_max_ms": 2.75}
"""A SIP call's RTP counts (ivr.records.record.RTP_COUNTS)."""


def record(**changes) -> CallRecord:
    values = {
        "started_at": "2026-12-01T10:15:00+08:00",
        "direction": "outbound",
        "number": NUMBER,
        "script": "outbound",
        "outcome": "answered",
        "duration_s": 12.5,
        "source": "replay",
        "file": "call_001.wav",
    }
    return CallRecord(**{**values, **changes})


def full_record(**changes) -> CallRecord:
    """Every field set, with the number in every field that may hold one."""
    values = {
        "file": f"{NUMBER}_001.wav",
        "callee_name": "张三",
        "transcript": f"是的 / 我的号码是{NUMBER}",
        "prompts_said": ("hello", "confirm", "bye"),
        "handler": "ivr/outbound",
        "result": f"confirmed {NUMBER}",
        "remarks": "call back on 138-1234-5678",
        "recording_path": "out/2026-12-01/call_001.call.wav",
        "timeline_path": "out/2026-12-01/call_001.timeline.jsonl",
        "qa": {**QA, "callback": NUMBER},
    }
    return record(**{**values, **changes})


def db_bytes(folder: Path) -> bytes:
    """The call log file and any -wal / -shm beside it."""
    return b"".join(p.read_bytes() for p in sorted(folder.glob("calls.db*")))


def test_add_get_list_round_trip_every_field(tmp_path):
    first = full_record()
    second = record(started_at="2026-12-01T11:00:00+08:00", direction="inbound", source="live")
    with CallLog(tmp_path / "calls.db", show_numbers=True) as log:
        assert [log.add(first), log.add(second)] == [1, 2]
        assert log.add(second) == 3
        got = log.get(1)
        assert got == replace(first, id=1)
        assert got.prompts_said == ("hello", "confirm", "bye")
        assert got.qa == {**QA, "callback": NUMBER} and got.qa_score == 66.7
        assert got.recording_path == "out/2026-12-01/call_001.call.wav"
        bare = log.get(2)
        assert bare.callee_name is None and bare.recording_path is None
        assert bare.prompts_said == () and bare.qa == {} and bare.qa_score is None
        assert bare.handler == "ivr/inbound" and bare.duration_s == 12.5
        assert log.get(4) is None
    with CallLog(tmp_path / "calls.db") as log:  # reopened: all still there
        assert log.list() == [replace(first, id=1), replace(second, id=2), replace(second, id=3)]
    as_dict = record_dict(got)
    assert list(as_dict) == ["id", *COLUMNS]
    assert as_dict["id"] == 1 and as_dict["prompts_said"] == ["hello", "confirm", "bye"]
    assert json.loads(json.dumps(as_dict))["qa"] == {**QA, "callback": NUMBER}


def test_numbers_are_masked_everywhere_but_started_at_and_paths_by_default(tmp_path):
    with CallLog(tmp_path / "calls.db") as log:
        stored = log.get(log.add(full_record()))
    assert stored.number == MASKED
    assert stored.file == f"{MASKED}_001.wav"
    assert stored.transcript == f"是的 / 我的号码是{MASKED}"
    assert stored.result == f"confirmed {MASKED}"
    assert stored.remarks == "call back on 138-****-5678"
    # paths are kept as they are, so that they lead to the files (dates and all)
    assert stored.recording_path == "out/2026-12-01/call_001.call.wav"
    assert stored.timeline_path == "out/2026-12-01/call_001.timeline.jsonl"
    assert stored.qa == {**QA, "callback": MASKED}
    assert stored.started_at == "2026-12-01T10:15:00+08:00"
    assert stored.callee_name == "张三" and stored.duration_s == 12.5
    assert stored == replace(mask_record(full_record()), id=1)
    raw = db_bytes(tmp_path)
    assert NUMBER.encode() not in raw and b"138-1234-5678" not in raw
    assert MASKED.encode() in raw and b"2026-12-01T10:15:00+08:00" in raw
    masked = mask_record(record(started_at="2026-12-01T08:00:00-05:00"))
    assert masked.started_at == "2026-12-01T08:00:00-05:00" and masked.callee_name is None


def test_show_numbers_stores_numbers_unmasked(tmp_path):
    with CallLog(tmp_path / "calls.db", show_numbers=True) as log:
        stored = log.get(log.add(full_record()))
    assert stored == replace(full_record(), id=1)
    assert NUMBER.encode() in db_bytes(tmp_path)


@pytest.fixture
def local_tz(monkeypatch):
    """Set the local time zone (POSIX TZ) for the test."""

    def set_tz(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_tz
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def four_calls(tmp_path) -> CallLog:
    """Calls 1..4; by time they come 1, 3, 2, 4 (01:00Z, 02:00Z, 02:30Z, next day)."""
    log = CallLog(tmp_path / "calls.db")
    for started, outcome in [
        ("2026-11-01T09:00:00+08:00", "answered"),
        ("2026-11-01T02:30:00+00:00", "no_answer"),
        ("2026-11-01T10:00:00+08:00", "answered"),
        ("2026-11-02T08:00:00+08:00", "answered"),
    ]:
        log.add(record(started_at=started, outcome=outcome))
    yield log
    log.close()


def ids(records: list[CallRecord]) -> list[int | None]:
    return [r.id for r in records]


def test_list_filters_orders_oldest_first_and_limit_keeps_the_latest(four_calls):
    assert ids(four_calls.list()) == [1, 3, 2, 4]
    assert ids(four_calls.list(outcome="answered")) == [1, 3, 4]
    assert ids(four_calls.list(outcome="no_answer")) == [2]
    assert four_calls.list(outcome="busy") == []
    assert ids(four_calls.list(limit=2)) == [2, 4]
    assert ids(four_calls.list(outcome="answered", limit=2)) == [3, 4]
    assert four_calls.list(limit=0) == []
    assert ids(four_calls.list(since="2026-11-01T10:00:00+08:00")) == [3, 2, 4]  # inclusive
    assert ids(four_calls.list(since="2026-11-01T02:00:01+00:00")) == [2, 4]
    assert ids(four_calls.list(since="2026-11-01T02:00:00Z", outcome="answered")) == [3, 4]
    with pytest.raises(ValueError, match="invalid limit: -1"):
        four_calls.list(limit=-1)
    with pytest.raises(ValueError, match="invalid since: 'yesterday'"):
        four_calls.list(since="yesterday")


@pytest.mark.parametrize(
    ("tz", "since", "expected"),
    [
        ("CST-8", "2026-11-01T10:00", [3, 2, 4]),  # 02:00Z
        ("UTC0", "2026-11-01T10:00", [4]),
        ("CST-8", "2026-11-01T02:15", [1, 3, 2, 4]),  # the day before, 18:15Z
        ("UTC0", "2026-11-01T02:15", [2, 4]),
        ("CST-8", "2026-11-02", [4]),  # 2026-11-01T16:00Z
    ],
)
def test_since_without_offset_is_local_time(four_calls, local_tz, tz, since, expected):
    local_tz(tz)
    assert ids(four_calls.list(since=since)) == expected


def test_file_is_in_wal_mode_with_the_schema_version(tmp_path):
    path = tmp_path / "calls.db"
    CallLog(path).close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert migrate(conn, path) == SCHEMA_VERSION
    finally:
        conn.close()
    fresh = sqlite3.connect(":memory:", isolation_level=None)
    assert migrate(fresh, "memory") == SCHEMA_VERSION
    assert fresh.execute("SELECT count(*) FROM calls").fetchone()[0] == 0


def test_newer_schema_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "calls.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(IvrError) as error:
        CallLog(path)
    assert str(error.value).startswith(f"{path}: call log schema version 5 is newer")


def test_sqlite_file_of_other_tables_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "calls.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.execute("INSERT INTO contacts VALUES ('张三')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(IvrError) as error:
        CallLog(path)
    assert str(error.value) == f"{path}: not an ivr call log (it holds other tables)"
    assert path.read_bytes() == before  # not even switched to WAL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calls.db"]


def test_non_sqlite_file_gives_one_clear_error(tmp_path):
    path = tmp_path / "calls.db"
    path.write_text("id,number\n1,138****5678\n" * 20, encoding="utf-8")
    with pytest.raises(IvrError) as error:
        CallLog(path)
    assert str(error.value) == f"{path}: cannot open call log: file is not a database"
    assert path.read_text(encoding="utf-8") == "id,number\n1,138****5678\n" * 20
    missing = tmp_path / "none.db"
    with pytest.raises(IvrError) as error:
        CallLog(missing, create=False)
    assert str(error.value) == f"{missing}: no call log here"
    assert not missing.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"direction": "sideways"}, "invalid direction: 'sideways'"),
        ({"source": "tape"}, "invalid source: 'tape'"),
        ({"started_at": "2026-12-01T10:15:00"}, "started_at must carry a UTC offset"),
        ({"started_at": "01/12/2026"}, "invalid started_at: '01/12/2026'"),
        ({"duration_s": -0.5}, "invalid duration_s: -0.5"),
        ({"duration_s": float("nan")}, "invalid duration_s: nan"),
        ({"sip_status": 99}, "invalid sip_status: 99"),
        ({"sip_status": 700}, "invalid sip_status: 700"),
        ({"sip_status": "486"}, "invalid sip_status: '486'"),
        ({"sip_status": True}, "invalid sip_status: True"),
        ({"campaign": "c", "row_key": "1", "attempt": 0}, "invalid attempt: 0"),
        ({"campaign": "c", "row_key": "1", "attempt": 1.0}, "invalid attempt: 1.0"),
        ({"campaign": "c", "row_key": "1"}, "campaign, row_key and attempt come together"),
        ({"row_key": "1", "attempt": 1}, "campaign, row_key and attempt come together"),
        ({"attempt": 1}, "campaign, row_key and attempt come together"),
        ({"campaign": "", "row_key": "1", "attempt": 1}, "campaign and row_key must not be"),
        ({"rtp": RTP}, "rtp counts belong to source sip, not 'replay'"),
        ({"source": "sip", "rtp": {"packets": 1}}, "invalid rtp: {'packets': 1}"),
        ({"source": "sip", "rtp": {**RTP, "lost": -1}}, "invalid rtp lost: -1"),
        ({"source": "sip", "rtp": {**RTP, "packets": 2.0}}, "invalid rtp packets: 2.0"),
        ({"source": "sip", "rtp": {**RTP, "jitter_max_ms": float("inf")}}, "jitter_max_ms: inf"),
    ],
)
def test_invalid_records_raise_value_error(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        record(**changes)


def test_two_logs_on_one_file_both_add(tmp_path):
    path = tmp_path / "calls.db"
    with CallLog(path) as one, CallLog(path) as two:
        added = [one.add(record(file="a1.wav")), two.add(record(file="b1.wav"))]
        added += [two.add(record(file="b2.wav")), one.add(record(file="a2.wav"))]
        assert added == [1, 2, 3, 4]
        expected = ["a1.wav", "b1.wav", "b2.wav", "a2.wav"]
        assert [r.file for r in one.list()] == expected
        assert [r.file for r in two.list()] == expected


def test_failed_add_keeps_earlier_calls_and_the_file_readable(tmp_path):
    path = tmp_path / "calls.db"
    with CallLog(path) as log:
        assert log.add(record(file="first.wav")) == 1
        with pytest.raises(ValueError, match="qa is not JSON-able"):
            log.add(record(qa={"score": float("nan")}))
        with pytest.raises(ValueError, match="qa is not JSON-able"):
            log.add(record(qa={"when": datetime(2026, 12, 1)}))
        with pytest.raises(IvrError, match="cannot add the call: NOT NULL constraint failed"):
            log.add(record(script=None))  # fails inside the transaction: rolled back
        assert log.add(record(file="second.wav")) == 2
    with CallLog(path) as log:
        assert [(r.id, r.file) for r in log.list()] == [(1, "first.wav"), (2, "second.wav")]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_export_csv_has_id_then_columns_and_masks_unless_asked(tmp_path):
    path = tmp_path / "calls.db"
    with CallLog(path, show_numbers=True) as log:
        log.add(full_record())
        log.add(record(started_at="2026-12-01T09:00:00+08:00", outcome="no_answer"))
        out = io.StringIO(newline="")
        assert log.export_csv(out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows[0] == ["id", *COLUMNS] and len(rows) == 3
    older, full = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert older["id"] == "2" and older["outcome"] == "no_answer"
    assert older["callee_name"] == "" and older["qa"] == "" and older["prompts_said"] == "[]"
    assert full["id"] == "1" and full["number"] == NUMBER
    assert full["started_at"] == "2026-12-01T10:15:00+08:00" and full["duration_s"] == "12.5"
    assert json.loads(full["prompts_said"]) == ["hello", "confirm", "bye"]
    assert json.loads(full["qa"]) == {**QA, "callback": NUMBER}
    with CallLog(path) as log:
        masked, unmasked = io.StringIO(), io.StringIO()
        assert log.export_csv(masked) == 2 and log.export_csv(unmasked, mask=False) == 2
    assert NUMBER not in masked.getvalue() and "138-1234-5678" not in masked.getvalue()
    assert f"{MASKED},outbound" in masked.getvalue()
    assert unmasked.getvalue() == out.getvalue()


V1_DDL = """CREATE TABLE calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, started_utc REAL NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')), number TEXT NOT NULL,
    callee_name TEXT, script TEXT NOT NULL, outcome TEXT NOT NULL, duration_s REAL NOT NULL,
    transcript TEXT NOT NULL, prompts_said TEXT NOT NULL, handler TEXT NOT NULL,
    result TEXT NOT NULL, remarks TEXT NOT NULL, recording_path TEXT, timeline_path TEXT,
    qa TEXT NOT NULL, source TEXT NOT NULL CHECK (source IN ('replay', 'live')),
    file TEXT NOT NULL);
CREATE INDEX calls_started ON calls (started_utc);
CREATE INDEX calls_outcome ON calls (outcome)"""
"""The call log as version 1 wrote it, to check that its files migrate."""


def write_v1_log(path: Path) -> None:
    """A version 1 call log with calls 1, 2 and 5 (3, 4 and 6 were deleted: the counter is 6)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in V1_DDL.split(";"):
        conn.execute(statement)
    insert = (
        "INSERT INTO calls (id, started_at, started_utc, direction, number, callee_name, script,"
        " outcome, duration_s, transcript, prompts_said, handler, result, remarks,"
        " recording_path, timeline_path, qa, source, file)"
        " VALUES (?, ?, ?, 'outbound', ?, ?, 'outbound', ?, 12.5, '是的', '[\"hello\"]',"
        " 'ivr agent 1001', 'confirmed', '', ?, NULL, ?, ?, ?)"
    )
    started = "2026-12-01T10:15:00+08:00"
    utc = datetime.fromisoformat(started).timestamp()
    for id, source, qa in [(1, "replay", '{"score": 50}'), (2, "live", "{}")]:
        conn.execute(
            insert, (id, started, utc, MASKED, "张三", "answered", "a.wav", qa, source, "f")
        )
    for id in (3, 4, 5, 6):
        conn.execute(insert, (id, started, utc + id, MASKED, None, "busy", None, "{}", "live", "g"))
    conn.execute("DELETE FROM calls WHERE id IN (3, 4, 6)")
    conn.execute("PRAGMA user_version = 1")
    conn.close()


def schema_of(path: Path) -> dict[str, str]:
    """Table and index name -> its SQL, as SQLite keeps it."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        return dict(rows.fetchall())
    finally:
        conn.close()


def test_a_version_1_log_migrates_with_its_calls_and_ids(tmp_path):
    path = tmp_path / "calls.db"
    write_v1_log(path)
    with CallLog(path) as log:
        calls = log.list()
        assert ids(calls) == [1, 2, 5]
        first = calls[0]
        assert first == CallRecord(
            started_at="2026-12-01T10:15:00+08:00", direction="outbound", number=MASKED,
            script="outbound", outcome="answered", duration_s=12.5, source="replay", file="f",
            callee_name="张三", transcript="是的", prompts_said=("hello",),
            handler="ivr agent 1001", result="confirmed", recording_path="a.wav",
            qa={"score": 50}, id=1,
        )  # fmt: skip
        assert calls[2].outcome == "busy" and calls[2].callee_name is None
        assert all(c.sip_status is None and c.campaign is None for c in calls)
        assert log.add(record(source="sip", sip_status=486)) == 7  # no id given out twice
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    schema = schema_of(path)
    indexes = {"calls_started", "calls_outcome", "calls_attempt"}
    assert set(schema) == {"calls", "sqlite_sequence", *indexes}
    assert "'sip'" in schema["calls"] and "'audit'" in schema["calls"]
    assert "UNIQUE" in schema["calls_attempt"]


def test_a_new_log_has_the_same_schema_as_a_migrated_one(tmp_path):
    write_v1_log(tmp_path / "old.db")
    CallLog(tmp_path / "old.db").close()
    CallLog(tmp_path / "new.db").close()
    assert schema_of(tmp_path / "new.db") == schema_of(tmp_path / "old.db")


def test_an_empty_version_1_log_migrates(tmp_path):
    path = tmp_path / "calls.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in V1_DDL.split(";"):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with CallLog(path) as log:
        assert log.list() == [] and log.add(record()) == 1


def campaign_call(row_key: str, attempt: int, **changes) -> CallRecord:
    values = {"source": "sip", "campaign": "双十一 20261111", "row_key": row_key}
    return record(**{**values, "attempt": attempt, **changes})


def test_sip_and_campaign_fields_round_trip_unmasked(tmp_path):
    call = campaign_call("line 12", 2, sip_status=486, outcome="busy")
    keyed = campaign_call("客户 1234567", 1)  # a row key holding digits stays as written
    with CallLog(tmp_path / "calls.db") as log:
        stored = [log.get(log.add(call)), log.get(log.add(keyed))]
    assert stored[0] == replace(call, number=MASKED, id=1)
    assert stored[0].campaign == "双十一 20261111" and stored[0].row_key == "line 12"
    assert stored[0].sip_status == 486 and stored[0].attempt == 2
    assert stored[1].row_key == "客户 1234567"
    assert mask_record(call).row_key == "line 12"
    assert COLUMNS[-6:] == ("sip_status", "campaign", "row_key", "attempt", "audit", "rtp")


def test_a_campaign_rows_attempt_is_logged_once(tmp_path):
    path = tmp_path / "calls.db"
    with CallLog(path) as log, CallLog(path) as other:
        assert log.add(campaign_call("line 2", 1)) == 1
        with pytest.raises(IvrError) as error:
            other.add(campaign_call("line 2", 1, outcome="busy"))
        assert str(error.value) == (
            f"{path}: campaign '双十一 20261111', row 'line 2': attempt 1 is already logged "
            "(call 1)"
        )
        assert log.add(campaign_call("line 2", 2)) == 2
        assert log.add(campaign_call("line 2", 1, campaign="another")) == 3
        assert log.add(campaign_call("line 3", 1)) == 4
        assert [log.add(record()), log.add(record())] == [5, 6]  # no campaign: no limit
        assert ids(log.list()) == [1, 2, 3, 4, 5, 6]
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):  # the file itself refuses it
        conn.execute(
            "INSERT INTO calls SELECT NULL, started_at, started_utc, direction, number,"
            " callee_name, script, outcome, duration_s, transcript, prompts_said, handler,"
            " result, remarks, recording_path, timeline_path, qa, source, file, sip_status,"
            " campaign, row_key, attempt, audit, rtp FROM calls WHERE id = 1"
        )
    conn.close()


def test_attempts_lists_one_campaigns_calls_in_the_order_logged(tmp_path):
    with CallLog(tmp_path / "calls.db") as log:
        log.add(campaign_call("line 3", 1, started_at="2026-12-01T11:00:00+08:00"))
        log.add(campaign_call("line 2", 1, campaign="another"))
        log.add(record())
        log.add(campaign_call("line 2", 1, started_at="2026-12-01T09:00:00+08:00"))
        log.add(campaign_call("line 3", 2))
        attempts = log.attempts("双十一 20261111")
        assert [(r.id, r.row_key, r.attempt) for r in attempts] == [
            (1, "line 3", 1), (4, "line 2", 1), (5, "line 3", 2),
        ]  # fmt: skip
        assert ids(log.attempts("another")) == [2] and log.attempts("none") == []


def test_record_from_result_carries_the_sip_and_campaign_fields():
    result = CallResult("call.wav", "busy", "SIP 486 Busy Here", 50, [], [])
    started = datetime(2026, 12, 1, 10, 15, tzinfo=timezone(timedelta(hours=8)))
    made = record_from_result(
        result, "outbound", "outbound", NUMBER, started, "sip",
        sip_status=486, campaign="c", row_key="line 2", attempt=1,
    )  # fmt: skip
    assert (made.sip_status, made.campaign, made.row_key, made.attempt) == (486, "c", "line 2", 1)
    assert datetime.fromisoformat(made.started_at) == started and made.duration_s == 1.0
    plain = record_from_result(result, "outbound", "outbound", NUMBER, started, "live")
    assert plain.sip_status is None and plain.campaign is None and plain.attempt is None


NOW = datetime(2026, 11, 8, 12, 0, tzinfo=timezone(timedelta(hours=8)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", "2026-11-08T11:30:00+08:00"),
        ("12h", "2026-11-08T00:00:00+08:00"),
        ("7d", "2026-11-01T12:00:00+08:00"),
        ("2w", "2026-10-25T12:00:00+08:00"),
        ("1.5h", "2026-11-08T10:30:00+08:00"),
        ("2026-11-01", "2026-11-01"),
        ("2026-11-01T09:00", "2026-11-01T09:00"),
        ("2026-11-01T09:00:00+08:00", "2026-11-01T09:00:00+08:00"),
    ],
)
def test_parse_since(text, expected):
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["garbage", "7x", "-3d", "", "99999999w"])
def test_parse_since_refuses_garbage_naming_it(text):
    with pytest.raises(ValueError, match=re.escape(f"invalid --since {text!r}")):
        parse_since(text, now=NOW)


@pytest.fixture
def cli_db(tmp_path) -> Path:
    """Two calls stored unmasked: the CLI must mask them itself."""
    path = tmp_path / "calls.db"
    with CallLog(path, show_numbers=True) as log:
        log.add(full_record())
        log.add(record(started_at="2026-12-01T11:00:00+08:00", outcome="no_answer", number=""))
    return path


def test_cli_list_masks_numbers_and_filters(cli_db):
    listed = ivr("calls", "list", "--db", str(cli_db))
    assert listed.returncode == 0, listed.stderr
    assert "2 calls" in listed.stdout and MASKED in listed.stdout
    assert "2026-12-01 10:15:00" in listed.stdout and "no_answer" in listed.stdout
    assert NUMBER not in listed.stdout
    only = ivr("calls", "list", "--db", str(cli_db), "--outcome", "no_answer")
    assert only.returncode == 0, only.stderr
    assert "1 call" in only.stdout and "no_answer" in only.stdout
    assert "answered" not in only.stdout and MASKED not in only.stdout
    shown = ivr("calls", "list", "--db", str(cli_db), "--show-numbers")
    assert shown.returncode == 0 and NUMBER in shown.stdout


def test_cli_list_json_one_object_per_line(cli_db):
    listed = ivr("calls", "list", "--db", str(cli_db), "--json")
    assert listed.returncode == 0, listed.stderr
    calls = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [c["id"] for c in calls] == [1, 2] and list(calls[0]) == ["id", *COLUMNS]
    started = [c["started_at"] for c in calls]
    assert started == ["2026-12-01T10:15:00+08:00", "2026-12-01T11:00:00+08:00"]
    assert calls[0]["number"] == MASKED and calls[0]["qa"]["callback"] == MASKED
    assert calls[0]["prompts_said"] == ["hello", "confirm", "bye"]
    assert NUMBER not in listed.stdout


def test_cli_show_prints_fields_and_qa_items(cli_db):
    shown = ivr("calls", "show", "1", "--db", str(cli_db))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "call 1"
    assert "  started      2026-12-01T10:15:00+08:00" in lines
    assert f"  number       {MASKED}" in lines
    assert "  callee       张三" in lines
    assert "  prompts said hello, confirm, bye" in lines
    assert f"  source       replay of {MASKED}_001.wav" in lines
    assert "  QA score     67" in lines
    qa_items = [line.split()[:2] for line in lines[-3:]]  # id, verdict, then the title
    assert qa_items == [["greeting", "pass"], ["closing", "FAIL"], ["answer_time", "n/a"]]
    assert NUMBER not in shown.stdout
    missing = ivr("calls", "show", "999", "--db", str(cli_db))
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr == f"error: no call 999 in {cli_db} (ivr calls list shows the ids)\n"


def test_cli_show_names_a_campaign_call_and_its_sip_status(tmp_path):
    path = tmp_path / "calls.db"
    with CallLog(path) as log:
        log.add(record(source="sip", sip_status=486, campaign="spring", row_key="r7", attempt=2))
    shown = ivr("calls", "show", "1", "--db", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "  campaign     spring, row r7, attempt 2" in shown.stdout.splitlines()
    assert "  SIP status   486" in shown.stdout.splitlines()


def test_a_sip_calls_rtp_counts_are_kept_shown_and_exported(tmp_path):
    path = tmp_path / "calls.db"
    silent = {**RTP, "packets": 0, "filled": 1500}
    with CallLog(path) as log:
        ids_ = [log.add(record(source="sip", sip_status=200, rtp=r)) for r in (RTP, silent)]
        assert [log.get(i).rtp for i in ids_] == [RTP, silent]
        assert log.get(log.add(record(source="sip"))).rtp is None  # no audio stream
    lines = ivr("calls", "show", "1", "--db", str(path)).stdout.splitlines()
    assert (
        "  RTP received 1496 packets, 3 lost, 1 discarded, 4 frames filled in, jitter up to "
        "2.75 ms" in lines
    )
    lines = ivr("calls", "show", "2", "--db", str(path)).stdout.splitlines()
    assert "  RTP received 0 packets: no audio came from the line" in lines
    assert not any("RTP" in line for line in ivr("calls", "show", "3", "--db", str(path)).stdout)
    exported = ivr("calls", "export", "--db", str(path)).stdout
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [json.loads(r["rtp"]) if r["rtp"] else None for r in rows] == [RTP, silent, None]


def test_a_version_3_log_gains_the_rtp_column_with_its_calls(tmp_path):
    path = tmp_path / "calls.db"
    write_v1_log(path)
    with CallLog(path) as log:  # to version 4 ...
        before = log.list()
    conn = sqlite3.connect(path, isolation_level=None)  # ... and back to a version 3 file
    conn.execute("ALTER TABLE calls DROP COLUMN rtp")
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    with CallLog(path) as log:
        assert log.list() == before and all(c.rtp is None for c in before)
        assert log.get(log.add(record(source="sip", rtp=RTP))).rtp == RTP
    assert schema_of(path) == schema_of(new_log(tmp_path / "new.db"))


def new_log(path: Path) -> Path:
    CallLog(path).close()
    return path


def test_cli_export_csv_to_a_file(cli_db, tmp_path):
    out = tmp_path / "calls.csv"
    done = ivr("calls", "export", "--csv", "--out", str(out), "--db", str(cli_db))
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"2 calls written to {out}\n"
    assert out.read_bytes().startswith("\ufeffid,".encode())  # a BOM: Excel reads it as UTF-8
    with out.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["id", *COLUMNS] and [r[0] for r in rows[1:]] == ["1", "2"]
    assert rows[1][COLUMNS.index("number") + 1] == MASKED
    assert NUMBER not in out.read_text(encoding="utf-8")
    no_format = ivr("calls", "export", "--db", str(cli_db))  # CSV, the only format, by default
    assert no_format.returncode == 0
    assert no_format.stdout.splitlines() == out.read_text(encoding="utf-8").splitlines()


def test_cli_errors_are_one_line(cli_db, tmp_path):
    missing = tmp_path / "nowhere" / "calls.db"
    for command in (["list"], ["show", "1"], ["export", "--csv"]):
        done = ivr("calls", *command, "--db", str(missing))
        assert done.returncode == 2, command
        assert done.stderr.startswith(f"error: {missing}: no call log here")
        assert done.stderr.count("\n") == 1 and done.stdout == ""
    assert not missing.parent.exists()
    for since in ("garbage", "99999999w"):
        done = ivr("calls", "list", "--db", str(cli_db), "--since", since)
        assert done.returncode == 2
        assert done.stderr.startswith(f"error: invalid --since {since!r}")
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
