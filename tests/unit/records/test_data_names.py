"""Names that come from data (call-list ids, campaign names, recording stems) stay safe file
names inside the output folder, with phone numbers masked; the call-log export opens in a
spreadsheet as data, never as a formula; a call list's SIP addresses are checked before the
first call.

The campaigns dial `sip:x@127.0.0.1:9` (nobody answers): each call ends after
--answer-timeout-s 1, its recording and timeline written as for any call.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shared import ivr

from ivr.app.recordings import output_stems
from ivr.campaign.calllist import CallRow
from ivr.campaign.names import CampaignNames
from ivr.campaign.plan import Attempt
from ivr.records.calllog import COLUMNS, CallLog, CallRecord
from ivr.records.cells import spreadsheet_cell
from ivr.safe_names import MAX_NAME_BYTES, safe_name, unique_names

SCRIPT = """\
script: short
direction: outbound
start: ask
placeholders:
  name: null
prompts:
  ask: "您好{name}"
  bye: "再见"
defaults:
  listen: {noinput_timeout_s: 1.0, end_of_speech_s: 0.5, max_speech_s: 5.0}
states:
  ask:
    say: [ask]
    listen: {}
    "on":
      speech: [{count: 1, do: [{goto: done}]}]
      noinput: [{count: 1, do: [{say: bye}, {hangup: no_answer}]}]
  done:
    say: [bye]
    do: [{hangup: answered}]
"""

NOBODY = "sip:x@127.0.0.1:9"
"""A SIP address where nobody answers: a call to it ends after --answer-timeout-s."""

LIST_NUMBER, ROW_NUMBERS, NAME_NUMBER = "13912345092", ("13912345090", "13900005090"), "13912345093"


def campaign(tmp_path: Path, call_list: Path, *extra: str) -> subprocess.CompletedProcess:
    script = tmp_path / "short.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    args = [sys.executable, "-m", "ivr", "campaign", str(call_list), "--script", str(script)]
    args += ["--asr", "none", "--retries", "0", "--answer-timeout-s", "1", "--concurrency", "6"]
    args += ["--db", str(tmp_path / "calls.db"), "--out", str(tmp_path / "deep" / "out"), *extra]
    env = {**os.environ, "COLUMNS": "2000"}  # one console line per call
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)


def write_list(path: Path, ids: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["id", "number", "name", "uri"])
    for i, key in enumerate(ids):
        writer.writerow([key, f"1380000{i:04d}", f"客户{i}", NOBODY])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


# 1. Path traversal; 3. numbers masked in ids and names


@pytest.mark.line  # real SIP calls on 127.0.0.1, timed on the wall clock
def test_call_list_ids_and_a_numbered_list_name_stay_inside_out_masked(tmp_path):
    ids = [
        "../../../PWNED", f"{tmp_path}/abs/x", "a/b", "a_b", "a\x00b", ROW_NUMBERS[0],
        ROW_NUMBERS[1], ".hidden", "-rf", "CON", "x" * 300, "tab\there\nnewline",
    ]  # fmt: skip
    call_list = write_list(tmp_path / "lists" / f"{LIST_NUMBER}.csv", ids)
    before = files_under(tmp_path)
    done = campaign(tmp_path, call_list, "--report", str(tmp_path / "deep" / "out" / "report"))
    out = done.stdout + done.stderr
    assert done.returncode == 0 and "Traceback" not in out, out
    out_dir = tmp_path / "deep" / "out"
    new = files_under(tmp_path) - before
    outside = {p for p in new if not p.resolve().is_relative_to(out_dir.resolve())}
    ours = ("short.yaml", "calls.db", "calls.db-wal", "calls.db-shm")
    assert outside <= {tmp_path / name for name in ours}
    folder = out_dir / "139****5092"  # the list's name, masked on disk as on the console
    recordings = sorted(p.name for p in folder.glob("*.wav"))
    assert len(recordings) == len(ids) and {p.parent for p in folder.rglob("*")} == {folder}
    for name in ("_.._.._PWNED-1.wav", "a_b-1.wav", "a_b-2-1.wav", "a_b-3-1.wav", "rf-1.wav"):
        assert name in recordings
    assert {"139****5090-1.wav", "139****5090-2-1.wav", "hidden-1.wav", "_CON-1.wav"} <= set(
        recordings
    )
    assert all(len(n.encode()) <= MAX_NAME_BYTES + len("-1.wav") for n in recordings)
    assert all(not n.startswith((".", "-")) for n in recordings)
    calls = [line for line in done.stdout.splitlines() if line.startswith("call ")]
    shown = [line.rsplit(" · ", 1)[1] for line in calls]
    assert len(shown) == len(ids) and all(Path(path).is_file() for path in shown), shown
    exported = ivr("calls", "export", "--csv", "--db", str(tmp_path / "calls.db"), timeout=60)
    assert exported.returncode == 0, exported.stderr
    with sqlite3.connect(tmp_path / "calls.db") as conn:
        logged = conn.execute("SELECT campaign, row_key, recording_path FROM calls").fetchall()
    assert {campaign for campaign, _, _ in logged} == {"139****5092"}
    assert {"139****5090", "139****5090-2"} <= {key for _, key, _ in logged}
    everything = [out, exported.stdout, repr(logged)]
    everything += [p.read_text("utf-8", "replace") for p in new if p.suffix in (".html", ".jsonl")]
    everything += [p.name for p in new]
    for number in (LIST_NUMBER, *ROW_NUMBERS):
        assert not any(number in text for text in everything), number
    again = campaign(tmp_path, call_list)  # resumed: nothing left to call, the same rows found
    assert again.returncode == 0 and re.search(r"calls placed by this run\s+0\n", again.stdout)


@pytest.mark.line  # real SIP calls on 127.0.0.1, timed on the wall clock
def test_a_campaign_name_cannot_lead_out_of_out(tmp_path):
    call_list = write_list(tmp_path / "list.csv", ["r1"])
    done = campaign(tmp_path, call_list, "--name", f"../../{NAME_NUMBER}")
    assert done.returncode == 0 and "Traceback" not in done.stdout + done.stderr, done.stderr
    out_dir = tmp_path / "deep" / "out"
    assert files_under(out_dir) >= {out_dir / "_.._139****5093" / "r1-1.wav"}
    assert not (tmp_path / NAME_NUMBER).exists() and not list(tmp_path.glob("*.wav"))
    assert NAME_NUMBER not in done.stdout + done.stderr


def test_a_campaign_resumes_whether_its_numbers_were_logged_masked_or_not():
    rows = [CallRow(key, n, f"1380000{n:04d}", None, None, {}) for n, key in enumerate(ROW_NUMBERS)]
    masked = CampaignNames.of(LIST_NUMBER, rows, show_numbers=False)
    shown = CampaignNames.of(LIST_NUMBER, rows, show_numbers=True)
    assert masked.name == "139****5092" and masked.logged_names() == ["139****5092", LIST_NUMBER]
    assert list(masked.keys.values()) == ["139****5090", "139****5090-2"]  # apart once masked
    assert list(shown.keys.values()) == list(ROW_NUMBERS) and shown.folder == LIST_NUMBER
    ended = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    logged = [Attempt("139****5090-2", 1, "busy", ended), Attempt(ROW_NUMBERS[0], 1, "busy", ended)]
    for names in (masked, shown):
        back = names.from_log([*logged, Attempt(ROW_NUMBERS[1], 1, "busy", ended)])
        assert [(a.row_key, a.attempt) for a in back] == [(ROW_NUMBERS[1], 1), (ROW_NUMBERS[0], 1)]


@given(st.text(max_size=400))
def test_any_text_becomes_one_safe_name_inside_its_folder(text):
    name = safe_name(text)
    folder = Path("/srv/out")
    assert name and "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith((".", "-"))
    assert not any(unicodedata.category(ch)[0] == "C" or ch in "\u2028\u2029" for ch in name)
    assert len(name.encode()) <= MAX_NAME_BYTES
    assert (folder / name).resolve().parent == folder
    assert len(set(unique_names([text, text, name]))) == 3


def test_replayed_recordings_get_safe_output_stems():
    files = [Path("x/-rf.wav"), Path("x/a\tb.wav"), Path("y/a_b.wav"), Path(f"z/{'长' * 90}.wav")]
    stems = output_stems(files, show_numbers=False)
    assert stems[:3] == ["rf", "a_b", "a_b-2"]
    assert stems[3] == "长" * 40 and len(stems[3].encode()) == MAX_NAME_BYTES


# 2. Formula injection in the export


FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1+1)", "-2+3", "@SUM(1+1)", '=HYPERLINK("http://x")']


def test_export_neutralizes_formulas_and_opens_chinese_right(tmp_path):
    db = tmp_path / "calls.db"
    record = CallRecord(
        started_at="2026-12-01T10:15:00+08:00", direction="outbound", number="",
        script=FORMULAS[0], outcome="answered", duration_s=12.5, source="sip", file=FORMULAS[4],
        callee_name=FORMULAS[1], transcript=FORMULAS[2], handler=FORMULAS[3], result="\tTAB",
        remarks="NUL\x00 张三", sip_status=200, campaign="=1+1", row_key="-1", attempt=1,
    )  # fmt: skip
    with CallLog(db, show_numbers=True) as log:
        log.add(record)
    target = tmp_path / "calls.csv"
    base = ["calls", "export", "--csv", "--db", str(db)]
    to_file = ivr(*base, "--out", str(target), timeout=60, text=False)
    to_stdout = ivr(*base, timeout=60, text=False)
    assert to_file.returncode == 0 and to_stdout.returncode == 0, to_file.stderr
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,") and to_stdout.stdout == data
    assert b"\x00" not in data
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    cells = dict(zip(header, row, strict=True))
    assert header == ["id", *COLUMNS]
    assert [cells[c] for c in ("script", "callee_name", "transcript", "handler", "file")] == [
        "'" + FORMULAS[0], "'" + FORMULAS[1], "'" + FORMULAS[2], "'" + FORMULAS[3],
        "'" + FORMULAS[4],
    ]  # fmt: skip
    assert (cells["result"], cells["remarks"]) == ("'\tTAB", "NUL 张三")
    assert (cells["campaign"], cells["row_key"]) == ("'=1+1", "'-1")
    assert (cells["duration_s"], cells["sip_status"], cells["attempt"]) == ("12.5", "200", "1")


def test_only_text_cells_are_neutralized():
    assert spreadsheet_cell(-42.5) == -42.5 and spreadsheet_cell(-3) == -3
    assert spreadsheet_cell("-42.5") == "'-42.5" and spreadsheet_cell(None) == ""
    assert spreadsheet_cell("张三") == "张三" and spreadsheet_cell(True) == "True"


# 14. SIP addresses checked before the first call; the placeholder hint


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("sip:{number}@127.0.0.1:9", "a uri cell is dialed as written ({number} is filled only"),
        ("sip:x@127.0.0.1:99999", "port 99999 is not 1 to 65535"),
        ("sip:x@bad_host", "give sip:USER@HOST[:PORT]"),
    ],
)
def test_a_bad_uri_on_any_row_stops_the_campaign_before_the_first_call(tmp_path, uri, problem):
    call_list = tmp_path / "list.csv"
    call_list.write_text(
        f"number,name,uri\n13800001111,甲,{NOBODY}\n13800002222,乙,{uri}\n", encoding="utf-8"
    )
    done = campaign(tmp_path, call_list)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith(f"error: {call_list}:3: invalid SIP address ")
    assert problem in done.stderr and done.stderr.count("\n") == 1
    assert not (tmp_path / "deep").exists()  # nothing dialed, nothing recorded


def test_the_placeholder_hint_names_the_call_list_column_not_name(tmp_path):
    call_list = tmp_path / "list.csv"
    call_list.write_text(f"number,uri\n13800001111,{NOBODY}\n", encoding="utf-8")
    done = campaign(tmp_path, call_list, "--name", "spring")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "no value for {name}" in done.stderr
    assert "the call list's 'name' column" in done.stderr and "--name" not in done.stderr
