"""Every command keeps and reports a call the same way (ivr.app.keeping): a call that never got
through gets no QA score, whether `ivr dial` or `ivr campaign` placed it (on 127.0.0.1, to a
port nobody listens on)."""

from __future__ import annotations

import subprocess
import sys

from baresip_callee import free_port

from ivr.records.calllog import CallLog


def run_ivr(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ivr", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_dial_and_campaign_report_an_unreachable_call_alike(tmp_path):
    uri = f"sip:nobody@127.0.0.1:{free_port()}"
    common = ["--agent-id", "1001", "--asr", "none", "--answer-timeout-s", "5"]
    dial_db, campaign_db = tmp_path / "dial.db", tmp_path / "campaign.db"
    dial = run_ivr(
        "dial", uri, "--number", "13812345678", *common, "--db", str(dial_db),
        "--record", str(tmp_path / "dial.wav"), "--report", str(tmp_path / "dial_report"),
    )  # fmt: skip
    call_list = tmp_path / "list.csv"
    call_list.write_text(f"number,uri\n13812345678,{uri}\n", encoding="utf-8")
    campaign = run_ivr(
        "campaign", str(call_list), *common, "--db", str(campaign_db),
        "--out", str(tmp_path / "calls"), "--report", str(tmp_path / "campaign_report"),
    )  # fmt: skip
    dial_out, campaign_out = dial.stdout + dial.stderr, campaign.stdout + campaign.stderr
    assert dial.returncode == 1, dial_out  # unreachable
    assert campaign.returncode == 0, campaign_out
    for out in (dial_out, campaign_out):
        assert "unreachable" in out and "no QA" in out, out
        assert "QA score" not in out and "/100" not in out, out
    rows = []
    for db in (dial_db, campaign_db):
        with CallLog(db, create=False) as log:
            [record] = log.list()
        rows.append(record)
    assert [(r.outcome, r.qa, r.qa_score, r.source) for r in rows] == [
        ("unreachable", {}, None, "sip"),
        ("unreachable", {}, None, "sip"),
    ]
    for report in ("dial_report", "campaign_report"):
        page = (tmp_path / report / "index.html").read_text(encoding="utf-8")
        assert "unreachable" in page and "/100" not in page
