"""Scale-out through Kamailio's dispatcher (tools/kamailio/config.py), on 127.0.0.1: two
`ivr campaign` workers sharing one call list dial through Kamailio to a farm of baresip trunk
gateways (one of them down), and calls from outside are balanced over two `ivr serve` workers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from contextlib import ExitStack

import numpy as np
from baresip_callee import RATE, baresip, free_port
from kamailio_proxy import kamailio
from test_sip_campaign import SCRIPT
from test_sip_serve import start_serve

from ivr.records.calllog import CallLog

NUMBERS = tuple(f"1380000{i:04d}" for i in range(12))


def port_of(uri: str) -> int:
    return int(uri.rsplit(":", 1)[1])


def test_two_campaign_workers_behind_kamailio_log_every_row_once(tmp_path):
    voice = np.zeros(RATE * 2, np.int16)  # each gateway's callee hangs up after 2 s
    workers = [free_port(), free_port()]
    with ExitStack() as stack:
        farm = [
            stack.enter_context(baresip(tmp_path / f"gw{i}", voice, also_answers=NUMBERS))
            for i in range(2)
        ]
        down = ("127.0.0.1", free_port())  # a gateway that is down: Kamailio fails over
        trunks = [("127.0.0.1", port_of(g.uri)) for g in farm] + [down]
        proxy = stack.enter_context(
            kamailio(tmp_path / "kamailio", [("127.0.0.1", p) for p in workers], trunks)
        )
        call_list = tmp_path / "calls.csv"
        call_list.write_text("number\n" + "\n".join(NUMBERS) + "\n", encoding="utf-8")
        script = tmp_path / "short.yaml"
        script.write_text(SCRIPT.replace("您好{name}", "您好"), encoding="utf-8")
        runs = []
        for k, port in enumerate(workers, start=1):
            args = [sys.executable, "-m", "ivr", "campaign", str(call_list)]
            args += ["--script", str(script), "--asr", "none", "--shard", f"{k}/2"]
            args += ["--trunk", proxy.uri_for("{number}")]
            args += ["--listen", f"127.0.0.1:{port}", "--concurrency", "2"]
            args += ["--db", str(tmp_path / "calls.db"), "--out", str(tmp_path / f"w{k}")]
            runs.append(
                subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env={**os.environ})
            )  # fmt: skip
        outputs = [run.communicate(timeout=240) for run in runs]
        routed = proxy.log_text()
        answered = [(tmp_path / f"gw{i}" / "baresip.log").read_text() for i in range(2)]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, out + err
    with CallLog(tmp_path / "calls.db", create=False) as log:
        records = log.attempts("calls")
    assert sorted(r.row_key for r in records) == sorted(f"line {n}" for n in range(2, 14))
    assert {r.outcome for r in records} == {"callee_hangup"} and len(records) == 12
    # the rows were split between the workers: each called every other row
    senders = Counter(re.findall(r"from 127\.0\.0\.1:(\d+) to set 1", routed))
    assert senders == {str(workers[0]): 6, str(workers[1]): 6}, routed[-3000:]
    assert "next destination" in routed  # the gateway that is down was skipped
    counts = [text.count("Call established") for text in answered]
    assert sum(counts) == 12 and min(counts) >= 3, counts


def test_calls_from_outside_are_balanced_over_two_ivr_serve_workers(tmp_path):
    ports = [free_port(), free_port()]
    with ExitStack() as stack:
        proxy = stack.enter_context(
            kamailio(tmp_path / "kamailio", [("127.0.0.1", p) for p in ports], [])
        )
        servers = []
        for i, port in enumerate(ports):
            folder = tmp_path / f"serve{i}"
            folder.mkdir()
            server, _ = start_serve(folder, "--max-calls", "2", "--listen", f"127.0.0.1:{port}")
            servers.append(server)
        callers = [
            stack.enter_context(
                baresip(tmp_path / f"caller{i}", np.zeros(RATE * 2, np.int16), user=n)
            )
            for i, n in enumerate(NUMBERS[:4])
        ]
        for caller in callers:
            caller.dial(proxy.uri_for("hotline"))
        outputs = [server.communicate(timeout=120) for server in servers]
    for server, (out, err) in zip(servers, outputs, strict=True):
        assert server.returncode == 0, out + err
        assert "2 calls answered (2 callee_hangup)" in out, out
    for i in range(2):
        with CallLog(tmp_path / f"serve{i}" / "calls.db", create=False) as log:
            assert [r.direction for r in log.list()] == ["inbound", "inbound"]
