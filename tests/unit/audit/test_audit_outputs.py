"""`ivr audit`'s outputs: each scorecard a row in the call log (source audit) that `ivr calls`
lists, shows and exports with a column per item; batches in parallel (-j) in the files' order,
a broken file failing alone; and --expect's labels (ivr.corpus.audit_labels) judged per item."""

from __future__ import annotations

import csv
import io
import json

import pytest
import soundfile as sf
from audit_calls import say, write_call, write_clean, write_late
from typer.testing import CliRunner

from ivr.cli import app
from ivr.corpus.audit_labels import (
    AuditCallLabels,
    AuditLabels,
    ItemLabel,
    load_audit_labels,
    write_audit_labels,
)
from ivr.corpus.manifest import ManifestError
from ivr.records.calllog import CallLog, CallRecord

DEAD_AIR = ("--set", "dead_air_s=4")  # the clean call's longest answer is 3.3 s
LATE_AT_S = 1.3
"""When the late call's answer becomes late (s): its customer's first turn ends at 0.8 s."""


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def calls(tmp_path):
    """A clean call, and a late answer (8 kHz mu-law): the agent first speaks at 4.0 s."""
    return write_clean(tmp_path), write_late(tmp_path, "=1+1.wav")


def test_each_scorecard_is_a_row_the_call_log_lists_shows_and_exports(tmp_path, calls):
    db = str(tmp_path / "calls.db")
    done = invoke("audit", *map(str, calls), *DEAD_AIR, "--db", db, "--script", "outbound")
    assert done.exit_code == 0, done.output
    assert f"scorecards logged in {db}" in done.stdout
    with CallLog(db, create=False) as log:
        log.add(CallRecord("2026-12-01T09:00:00+08:00", "outbound", "", "x", "done", 1.0,
                           "replay", "r.wav"))  # fmt: skip
        clean, late = log.list(source="audit")
    assert (clean.file, clean.outcome, clean.script, clean.direction) == (
        "clean.wav", "pass", "outbound", "outbound",
    )  # fmt: skip
    assert late.file == "=1+1.wav" and late.outcome == "fail" and late.handler == "ivr audit"
    assert late.duration_s == pytest.approx(9.0, abs=0.05) and late.result.startswith("FAIL 1")
    assert late.recording_path == str(calls[1].resolve())
    items = {i.key: i for i in late.audit}
    assert items["late_answer"].verdict == "fail" and items["forbidden"].verdict == "n/a"
    assert items["late_answer"].moments_s[0] == pytest.approx(LATE_AT_S, abs=0.1)

    listed = invoke("calls", "list", "--source", "audit", "--db", db)
    assert "2 calls" in listed.stdout and "r.wav" not in listed.stdout
    assert invoke("calls", "list", "--source", "nonsense", "--db", db).exit_code == 2
    shown = invoke("calls", "show", str(late.id), "--db", db).stdout
    assert "audit items" in shown and "source       audit of =1+1.wav" in shown
    line = next(ln for ln in shown.splitlines() if "late_answer" in ln)
    assert line.split()[:2] == ["late_answer", "FAIL"] and "answering late at 1." in line

    exported = invoke("calls", "export", "--csv", "--db", db).stdout.removeprefix("\ufeff")
    rows = list(csv.DictReader(io.StringIO(exported)))
    by_file = {row["file"]: row for row in rows}
    assert list(rows[0])[-11:] == [f"audit_{key}" for key in items]  # one column per item
    bad = by_file["'=1+1.wav"]  # the formula neutralized
    assert bad["audit_late_answer"].startswith("fail: 1.") and bad["audit_hold"] == "pass"
    assert by_file["clean.wav"]["audit_late_answer"] == "pass"
    assert by_file["r.wav"]["audit_late_answer"] == "" and by_file["r.wav"]["audit"] == ""


def test_no_db_logs_nothing_and_json_names_the_call_ids(tmp_path, calls):
    db = tmp_path / "calls.db"
    done = invoke("audit", str(calls[0]), "--db", str(db), "--no-db", "--json")
    assert done.exit_code == 0, done.output
    assert not db.exists()
    assert "call_id" not in json.loads(done.stdout)[0]
    logged = invoke("audit", str(calls[0]), "--db", str(db), "--json")
    assert json.loads(logged.stdout)[0]["call_id"] == 1


def test_a_parallel_batch_keeps_the_files_order_and_a_broken_file_fails_alone(tmp_path, calls):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt ")
    files = [str(calls[1]), str(broken), str(calls[0]), str(calls[1])]
    runs = {
        jobs: invoke("audit", *files, *DEAD_AIR, "-j", jobs, "--db", str(tmp_path / f"{jobs}.db"))
        for jobs in ("1", "3")
    }
    for done in runs.values():
        assert done.exit_code == 1
        assert done.stderr.count("error:") == 1 and "broken.wav" in done.stderr
        lines = done.stdout.splitlines()[:3]
        assert [ln.split(":")[0] for ln in lines] == ["=1+1.wav", "clean.wav", "=1+1.wav"]
    assert [plain(run.stdout) for run in runs.values()] == [plain(runs["1"].stdout)] * 2
    with CallLog(tmp_path / "3.db", create=False) as log:
        assert [r.file for r in log.list()] == ["=1+1.wav", "clean.wav", "=1+1.wav"]
    assert invoke("audit", files[0], "-j", "0").exit_code == 2


def plain(stdout: str) -> list[str]:
    """The lines of `ivr audit`'s output but the one naming the call log."""
    return [line for line in stdout.splitlines() if not line.startswith("scorecards logged")]


def labels_of(calls, late_answer: ItemLabel, agent: str | None = None) -> AuditLabels:
    clean = AuditCallLabels("clean.wav", (ItemLabel("late_answer", "pass"),
                                          ItemLabel("dead_air", "pass")))  # fmt: skip
    late = AuditCallLabels(calls[1].name, (late_answer, ItemLabel("interrupting", "pass")), agent)
    return AuditLabels((clean, late), seed=7, tolerance_s=0.15)


def test_labels_met_give_a_table_and_a_summary(tmp_path, calls):
    path = write_audit_labels(
        tmp_path / "audit_labels.yaml", labels_of(calls, ItemLabel("late_answer", "fail", (1.3,)))
    )
    done = invoke("audit", *map(str, calls), *DEAD_AIR, "--no-db", "--expect", str(path))
    assert done.exit_code == 0, done.output
    assert "Expected vs got" in done.stdout
    assert "expectations: 4 of 4 met in 2 recordings" in done.stdout
    cards = json.loads(invoke("audit", *map(str, calls), *DEAD_AIR, "--no-db", "--json",
                              "--expect", str(path)).stdout)  # fmt: skip
    assert [c["met"] for c in cards[1]["expectations"]] == [True, True]


@pytest.mark.parametrize(
    ("label", "problem"),
    [
        (ItemLabel("late_answer", "pass"), "fail, want pass"),
        (ItemLabel("late_answer", "fail", (3.0,)), "no fail within 0.15 s of 3.00 s"),
        (ItemLabel("late_answer", "fail", ()), "unlabelled fail at 1."),
    ],
)
def test_a_label_not_met_is_shown_and_exits_1(tmp_path, calls, label, problem):
    path = write_audit_labels(tmp_path / "labels.yaml", labels_of(calls, label))
    done = invoke("audit", *map(str, calls), *DEAD_AIR, "--no-db", "--expect", str(path))
    assert done.exit_code == 1
    assert problem in done.stdout
    assert "3 of 4 met in 2 recordings; 1 not met in 1 recording" in done.stdout


def test_the_labels_give_the_agent_side_and_unlabelled_files_are_named(tmp_path, calls):
    audio, rate = sf.read(calls[1], dtype="int16")
    swapped = tmp_path / "swapped.wav"
    sf.write(swapped, audio[:, ::-1], rate)
    items = (ItemLabel("late_answer", "fail", (1.3,)), ItemLabel("interrupting", "pass"))
    labels = AuditLabels((AuditCallLabels("swapped.wav", items, agent="right"),))
    path = write_audit_labels(tmp_path / "labels.yaml", labels)
    done = invoke("audit", str(swapped), str(calls[0]), *DEAD_AIR, "--no-db", "--expect", str(path))
    assert done.exit_code == 0, done.output
    assert "1 recording not labelled" in done.stdout
    assert "not in the labels" in done.stderr and "clean.wav" in done.stderr


def test_the_labels_file_round_trips_and_is_checked(tmp_path, calls):
    labels = labels_of(calls, ItemLabel("late_answer", "fail", (1.3, 4.25)), agent="left")
    path = write_audit_labels(tmp_path / "labels.yaml", labels)
    again = load_audit_labels(path, ["late_answer", "dead_air", "interrupting"])
    assert again.calls == labels.calls and (again.seed, again.tolerance_s) == (7, 0.15)
    assert again.find("clean.wav").item("dead_air") == ItemLabel("dead_air", "pass")
    hand = tmp_path / "hand.yaml"
    hand.write_text("version: 1\ncalls:\n- file: a.wav\n  items: {late_answer: 'n/a'}\n")
    assert load_audit_labels(hand).calls[0].items == (ItemLabel("late_answer", "n/a"),)
    assert load_audit_labels(hand).tolerance_s == 0.1
    hand.write_text("version: 1\ncalls:\n- file: a.wav\n  items: {lateness: pass}\n")
    with pytest.raises(ManifestError, match=r"calls\[0\]\.items\.lateness: unknown item"):
        load_audit_labels(hand, ["late_answer"])
    done = invoke("audit", str(calls[0]), "--no-db", "--expect", str(hand))
    assert done.exit_code == 2 and "unknown item 'lateness'" in done.stderr
    hand.write_text("version: 1\ncalls:\n- file: a.wav\n  items: {hold: {verdict: maybe}}\n")
    with pytest.raises(ManifestError, match="invalid verdict: 'maybe'"):
        load_audit_labels(hand)


@pytest.mark.parametrize(("outcome", "verdict"), [("callee_hangup", "pass"), ("answered", "fail")])
def test_a_sip_calls_bye_in_the_call_log_says_who_hung_up_first(tmp_path, outcome, verdict):
    """The recording ends while the customer speaks: by the audio alone the agent hung up
    over them; when the call log's SIP call of this recording says the customer sent the BYE
    (`callee_hangup`), they hung up first."""
    turns = [say("customer", 0.5, 0), say("agent", 2.0, 9), say("customer", 5.3, 6)]
    path = write_call(tmp_path, "sip.wav", turns, turns[-1].end_s - 0.5)
    db = str(tmp_path / "calls.db")
    with CallLog(tmp_path / "calls.db") as log:
        log.add(CallRecord("2026-12-01T09:00:00+08:00", "outbound", "13812345678", "outbound",
                           outcome, 8.0, "sip", "sip.wav", recording_path=str(path)))  # fmt: skip
    done = invoke("audit", str(path), *DEAD_AIR, "--db", db, "--json")
    [card] = json.loads(done.stdout)
    item = next(i for i in card["items"] if i["item"] == "hung_up_first")
    assert item["verdict"] == verdict, item
    if verdict == "pass":
        assert "SIP BYE" in item["detail"]
    else:
        assert item["moments_s"] == [round(card["duration_s"], 2)]
    alone = invoke("audit", str(path), *DEAD_AIR, "--no-db", "--json")  # no call log: audio
    assert json.loads(alone.stdout)[0]["items"][4]["verdict"] == "fail"
