"""The call-rate part of the SIP benchmark (tools/bench_sip.py): `ivr serve` called by SIPp at
rising call rates, one process alone and several behind Kamailio's dispatcher."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import ivr  # noqa: F401  (first: it sets numpy's OpenBLAS threads, ivr.BLAS_THREADS)

# isort: split
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import sipp_far_end  # noqa: E402

RATES = (2, 5, 10, 20)
"""Call rates (calls per second) `ivr serve` is called at."""

SERVE_WORKERS = 6
"""`ivr serve` processes behind Kamailio in the second call-rate run: 1.5 s calls at 10 calls/s
hold about 15-20 call slots, and one process holds 4 (the wheel's PJSUA_MAX_CALLS)."""

RATE_SECONDS = 4
"""How long each call rate is kept up (s): rate x this many calls."""


def answer_times(trace: Path) -> list[float]:
    """From SIPp's message trace: each answered call's INVITE-to-200 time (s)."""
    sent: dict[str, float] = {}
    times = []
    blocks = re.split(r"^-{20,} (\S+ \S+)\n", trace.read_text(errors="replace"), flags=re.M)
    for stamp, message in zip(blocks[1::2], blocks[2::2], strict=True):
        at = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp()
        call_id = re.search(r"^Call-ID:\s*(\S+)", message, re.M | re.I)
        if call_id is None:
            continue
        if re.search(r"^INVITE ", message, re.M) and call_id.group(1) not in sent:
            sent[call_id.group(1)] = at
        elif re.search(r"^SIP/2\.0 200", message, re.M) and re.search(
            r"^CSeq:\s*\d+ INVITE", message, re.M | re.I
        ):
            first = sent.pop(call_id.group(1), None)
            if first is not None:
                times.append(at - first)
    return times


def start_serve(folder: Path, concurrency: int, listen: str = "127.0.0.1:0") -> tuple[Any, str]:
    """`ivr serve` on `listen` with `--concurrency`; it and the address it answers on."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "ivr", "serve", "--listen", listen, "--asr", "none"]
    command += ["--concurrency", str(concurrency), "--out", str(folder / "calls")]
    command += ["--db", str(folder / "calls.db"), "--cache-dir", str(folder.parent / "cache")]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in server.stdout:
        found = re.search(r"answering sip:(\S+) ", line)
        if found:
            return server, found.group(1)
    raise RuntimeError(f"ivr serve did not start: {server.stderr.read()[-500:]}")


def serve_rate(
    folder: Path, rate: float, concurrency: int, workers: int = 1
) -> tuple[int, int, list[float]]:
    """`ivr serve` called by SIPp at `rate` calls per second for RATE_SECONDS: (calls placed,
    calls answered and ended as SIPp expected, answer times in s). With `workers` > 1, that
    many `ivr serve` processes behind Kamailio's dispatcher (tools/kamailio), which SIPp
    calls."""
    calls = max(4, round(rate * RATE_SECONDS))
    servers = []
    with contextlib.ExitStack() as stack:
        try:
            if workers == 1:
                server, address = start_serve(folder / f"serve{rate:g}", concurrency)
                servers.append(server)
            else:
                sys.path.insert(0, str(ROOT / "tests" / "helpers"))
                from baresip_callee import free_port
                from kamailio_proxy import kamailio

                ports = [free_port() for _ in range(workers)]
                for i, port in enumerate(ports):
                    where = folder / f"serve{rate:g}-{i}"
                    servers.append(start_serve(where, concurrency, f"127.0.0.1:{port}")[0])
                members = [("127.0.0.1", p) for p in ports]
                proxy = stack.enter_context(kamailio(folder / f"kamailio{rate:g}", members, []))
                address = f"127.0.0.1:{proxy.port}"
            callers = sipp_far_end.start(
                "uac_short", folder / f"rate{rate:g}-{workers}", "caller_short.pcap",
                calls=calls, target=address, rate=rate, cache=folder / "pcaps",
            )  # fmt: skip
            callers.wait(calls / rate + 60)
        finally:
            for server in servers:
                server.send_signal(signal.SIGTERM)
            for server in servers:
                server.communicate(timeout=60)
    got = callers.statuses()
    answered = sum(1 for s in got.values() if s and max(s) == 200)
    ok = answered if callers.returncode == 0 else min(answered, calls - 1)
    return calls, ok, answer_times(callers.folder / "messages.log")


def bench_serve_rate(folder: Path, concurrency: int, workers: int = 1) -> None:
    if workers == 1:
        print(
            f"ivr serve (one process, --concurrency {concurrency}) called by SIPp: each caller "
            "says one word and hangs up 1.5 s after the answer"
        )
    else:
        print(
            f"{workers} ivr serve processes (--concurrency {concurrency} each) behind Kamailio's "
            "dispatcher, called by SIPp: each caller says one word and hangs up 1.5 s after "
            "the answer"
        )
    best = 0.0
    for rate in RATES:
        calls, ok, times = serve_rate(folder, rate, concurrency, workers)
        ms = 1000 * np.array(times or [np.nan])
        verdict = "ok" if ok == calls else "FAILED CALLS"
        print(
            f"  {rate:4g} calls/s: {ok:3d} of {calls:3d} answered; answer time median "
            f"{np.median(ms):6.1f} ms, max {np.max(ms):6.1f} ms  {verdict}"
        )
        if ok < calls:
            break
        best = rate
    print(f"  highest call rate without a failed call: {best:g} calls/s (target: at least 10)")
