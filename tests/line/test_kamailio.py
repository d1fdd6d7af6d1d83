"""Scale-out through Kamailio's dispatcher (tools/kamailio/config.py), on 127.0.0.1.

Our own SIP agent as a worker dials through Kamailio to baresip trunk gateways (round robin,
failover past one that is down); as a caller from outside it reaches baresip stand-ins for
workers (round robin; a CANCEL follows its INVITE). Then the real thing: two `ivr campaign`
workers sharing one call list, and two `ivr serve` workers taking calls from outside. Where each
call went is read from Kamailio's log (one line per INVITE routed) and from the callees' logs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from baresip_callee import RATE, baresip, free_port
from kamailio_proxy import FAILOVER_S, Proxy, generator, kamailio, write_config
from realcall import bundled
from test_sip_campaign import SCRIPT
from test_sip_serve import start_serve

from ivr.call.replay import CallResult, keep_call
from ivr.call.session import CallSession
from ivr.call_settings import CallSettings
from ivr.records.calllog import CallLog
from ivr.sip.states import CallState
from ivr.tts import PromptCache

if TYPE_CHECKING:
    from ivr.sip.call import SipCall

NUMBERS = tuple(f"1380000{i:04d}" for i in range(12))
NUMBER = NUMBERS[0]

CALL_TIMEOUT_S = 10.0
"""How long (s) a call of these tests may take to be answered (a failover adds 2 s)."""


def port_of(uri: str) -> int:
    return int(uri.rsplit(":", 1)[1])


def destinations(proxy: Proxy) -> list[int]:
    """The port each INVITE routed by `proxy` went to in the end (past any failover), in the
    order the calls came."""
    where: dict[str, int] = {}
    for line in proxy.log_text().splitlines():
        found = re.search(r"(?:to set \d|next destination):? sip:[\d.]+:(\d+) \(call (\S+)\)", line)
        if found:
            where[found.group(2)] = int(found.group(1))
    return list(where.values())


def answered(folder: Path) -> int:
    """How many calls the baresip run from `folder` answered (it logs each before its 200 OK;
    its "Call established" may never come for a call hung up as soon as it is)."""
    log = (folder / "baresip.log").read_text(errors="replace")
    return len(re.findall(r"answering call .* with 200", log))


def session(agent, uri: str, folder: Path) -> CallResult:
    """A full call session of the bundled outbound script from `agent` to `uri`, kept in
    `folder` (as `ivr dial` runs one); the call is forgotten by the agent afterwards."""
    from ivr.sip.call import SipCall
    from ivr.transports.sip import SipCallee, SipSpeaker

    script, prompts = bundled("outbound"), PromptCache()
    prompts.render_all(script.prompts)  # the call never waits for synthesis
    folder.mkdir(parents=True, exist_ok=True)
    call = SipCall(agent, uri)
    try:
        line = SipCallee(agent, call, "sip call", CALL_TIMEOUT_S)
        run = CallSession(line, SipSpeaker(call, prompts), script, CallSettings())
        run.record(folder / "call.wav", line_can_fail=True)
        return keep_call(run, folder / "call.wav", folder / "call.timeline.jsonl")
    finally:
        agent.forget(call)


def connect(agent, uri: str, until: str = "connected") -> tuple[str, SipCall]:
    """Place a call from `agent` to `uri`; wait until it is `until` ("connected": answered;
    "ringing") or has ended; then hang it up (BYE, or CANCEL while it rings) and wait for its
    end. The state it reached, and the call."""
    from ivr.sip.call import SipCall

    call = SipCall(agent, uri)
    before = ("calling", "ringing") if until == "connected" else ("calling",)
    give_up = time.monotonic() + CALL_TIMEOUT_S
    while call.state in before and time.monotonic() < give_up:
        agent.poll(10)
    reached = call.state
    call.hang_up()
    while call.state != CallState.ENDED and time.monotonic() < give_up:
        agent.poll(10)
    agent.forget(call)
    return reached, call


def test_the_config_lists_both_sets_and_kamailio_accepts_it(tmp_path):
    config = write_config(
        tmp_path / "k", "127.0.0.1:5060", ["127.0.0.1:5071", "10.0.0.4:5071"], ["10.0.0.9:5060"]
    )
    listed = (tmp_path / "k" / "dispatcher.list").read_text().splitlines()
    assert listed[1:] == ["2 sip:127.0.0.1:5071", "2 sip:10.0.0.4:5071", "1 sip:10.0.0.9:5060"]
    text = config.read_text()
    assert "listen=udp:127.0.0.1:5060" in text and str(tmp_path / "k" / "dispatcher.list") in text
    checked = subprocess.run(["kamailio", "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr[-2000:]
    for wrong in ("127.0.0.1", "host:port", ":5060", "127.0.0.1:70000"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            generator.parse_address(wrong)


def test_the_config_command_writes_the_files_and_says_how_to_run_kamailio(tmp_path):
    command = [sys.executable, str(Path(generator.__file__)), "--listen", "127.0.0.1:5060"]
    command += ["--worker", "127.0.0.1:5071", "--trunk", "127.0.0.1:5080", "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"kamailio -c -f {tmp_path / 'kamailio.cfg'}" in done.stdout
    assert "kamailio -DD -E" in done.stdout and (tmp_path / "dispatcher.list").is_file()
    bad = subprocess.run([*command[:3], "nowhere", "--out", str(tmp_path)], capture_output=True)
    assert bad.returncode == 1 and b"HOST:PORT" in bad.stderr


def test_a_workers_calls_are_balanced_round_robin_over_the_trunk_gateways(tmp_path):
    from ivr.sip.agent import SipAgent

    voice = np.zeros(RATE, np.int16)  # each gateway's callee hangs up after 1 s
    agent = SipAgent()  # the worker: Kamailio knows it by its address
    try:
        with ExitStack() as stack:
            farm = [
                stack.enter_context(baresip(tmp_path / f"gw{i}", voice, also_answers=(NUMBER,)))
                for i in range(2)
            ]
            trunks = [("127.0.0.1", port_of(g.uri)) for g in farm]
            proxy = stack.enter_context(
                kamailio(tmp_path / "kamailio", [("127.0.0.1", agent.port)], trunks)
            )
            results = [
                session(agent, proxy.uri_for(NUMBER), tmp_path / f"call{k}") for k in range(4)
            ]
            went = destinations(proxy)
            took = [answered(tmp_path / f"gw{i}") for i in range(2)]
    finally:
        agent.close()
    assert [r.outcome for r in results] == ["callee_hangup"] * 4, [r.summary() for r in results]
    assert all(r.prompts == ["opening"] for r in results)
    gateways = [port for _, port in trunks]
    assert went in ([*gateways, *gateways], [*gateways[::-1], *gateways[::-1]]), went
    assert took == [2, 2]


def test_a_gateway_that_is_down_is_skipped_and_every_call_gets_through(tmp_path):
    """Kamailio as the worker's outbound proxy: the request URI's host is not dialed."""
    from ivr.sip.agent import SipAgent

    voice = np.zeros(RATE * 10, np.int16)  # we hang up first
    with ExitStack() as stack:
        live = stack.enter_context(baresip(tmp_path / "gw", voice, also_answers=(NUMBER,)))
        down = ("127.0.0.1", free_port())  # nothing listens there: no reply, 408 in 2 s
        port = free_port()
        proxy = stack.enter_context(
            kamailio(
                tmp_path / "kamailio",
                [("127.0.0.1", port)],
                [down, ("127.0.0.1", port_of(live.uri))],
            )
        )
        agent = SipAgent(port=port, proxy=f"sip:127.0.0.1:{proxy.port}")
        try:
            began = time.monotonic()
            calls = [connect(agent, f"sip:{NUMBER}@trunk.invalid") for _ in range(4)]
            spent = time.monotonic() - began
        finally:
            agent.close()
        routed = proxy.log_text()
        took = answered(tmp_path / "gw")
    assert [r for r, _ in calls] == ["connected"] * 4, [(c.status, c.reason) for _, c in calls]
    assert destinations(proxy) == [port_of(live.uri)] * 4
    assert routed.count("next destination") == 2  # round robin sent every other call to it
    assert took == 4
    # the wait for the dead one (no reply in FAILOVER_S: 408; Kamailio's timer ticks every
    # 1/16 s, so up to a tick sooner), twice, and four short calls
    assert 2 * (FAILOVER_S - 1 / 16) <= spent < 2 * FAILOVER_S + 4, spent


def test_calls_from_outside_are_balanced_round_robin_over_the_workers(tmp_path):
    from ivr.sip.agent import SipAgent

    voice = np.zeros(RATE * 10, np.int16)
    agent = SipAgent(user="13912345678")  # a caller out there, not a worker
    try:
        with ExitStack() as stack:
            workers = [
                stack.enter_context(baresip(tmp_path / f"w{i}", voice, user="hotline"))
                for i in range(2)
            ]
            listening = [("127.0.0.1", port_of(w.uri)) for w in workers]
            proxy = stack.enter_context(kamailio(tmp_path / "kamailio", listening, []))
            calls = [connect(agent, proxy.uri_for("hotline")) for _ in range(4)]
            went = destinations(proxy)
            took = [answered(tmp_path / f"w{i}") for i in range(2)]
    finally:
        agent.close()
    assert [r for r, _ in calls] == ["connected"] * 4, [(c.status, c.reason) for _, c in calls]
    ports = [port for _, port in listening]
    assert went in ([*ports, *ports], [*ports[::-1], *ports[::-1]]), went
    assert took == [2, 2]


def test_a_call_from_outside_cancelled_while_it_rings_is_cancelled_at_the_worker(tmp_path):
    from ivr.sip.agent import SipAgent

    agent = SipAgent()
    log = tmp_path / "w" / "baresip.log"
    try:
        with ExitStack() as stack:
            quiet = np.zeros(RATE, np.int16)  # it rings, never answers
            worker = stack.enter_context(
                baresip(tmp_path / "w", quiet, user="hotline", answer=False)
            )
            proxy = stack.enter_context(
                kamailio(tmp_path / "kamailio", [("127.0.0.1", port_of(worker.uri))], [])
            )
            reached, call = connect(agent, proxy.uri_for("hotline"), until="ringing")
            give_up = time.monotonic() + 2  # its 487 came: its log line follows
            while "session closed" not in log.read_text() and time.monotonic() < give_up:
                time.sleep(0.02)
            rang = log.read_text(errors="replace")
    finally:
        agent.close()
    assert reached == "ringing" and call.state == CallState.ENDED and call.status == 487
    assert "Incoming call" in rang and "session closed" in rang, rang[-2000:]
    assert "answering call" not in rang


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
