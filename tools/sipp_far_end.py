"""SIPp as the far end of our calls on 127.0.0.1: a callee for `ivr dial` and `ivr campaign`
(SIPp as a UAS) or callers for `ivr serve` (SIPp as a UAC), one SIPp process for all the calls
of a run, speaking the real speech of tools/sipp_audio.py's pcaps. Its scenarios are
tests/line/sipp/*.xml; the SIP tests (tests/line/test_sipp_far_end.py) and the benchmark
(tools/bench_sip.py) both run them through here.

Each run gets its own folder: the pcap it plays is linked in as `callee.pcap` or `caller.pcap`
(the names the scenarios play), and SIPp's message trace is written there; the statuses each
call got are read back from it (`statuses`). SIPp's CPU time is read from the kernel when it
exits (`wait4`), so it can be reported beside ours.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from sipp_audio import write_pcaps

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "line" / "sipp"
"""The SIPp scenarios, shared by the SIP tests and the benchmark."""

_GIVEN: set[int] = set()


def free_port() -> int:
    """A UDP port free on 127.0.0.1 whose next two are free too (SIPp's media port takes
    PORT and PORT + 2), not handed out before by this process."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port in _GIVEN or port > 65000:
            continue
        try:
            for taken in (port, port + 1, port + 2):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
                    other.bind(("127.0.0.1", taken))
        except OSError:
            continue
        _GIVEN.update((port, port + 1, port + 2))
        return port


def require_sipp() -> str:
    """The sipp program; RuntimeError saying how to install it if there is none."""
    found = shutil.which("sipp")
    if found is None:
        raise RuntimeError("sipp is not installed: run `make test` (it installs sip-tester)")
    return found


@dataclass
class Sipp:
    """A SIPp process running one scenario in `folder`; `address` is its SIP HOST:PORT."""

    process: subprocess.Popen
    folder: Path
    address: str
    cpu_s: float | None = None
    """Its CPU time (user + system, s), once it has exited (`wait`)."""
    returncode: int | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def uri(self) -> str:
        """Whom to call to reach it (as a UAS)."""
        return f"sip:callee@{self.address}"

    def wait(self, timeout_s: float = 30.0) -> int:
        """Wait up to `timeout_s` for it to finish its calls (then end it); its exit status."""
        give_up = time.monotonic() + timeout_s
        ending = 0  # 1: asked to end (SIGTERM), 2: killed
        while self.returncode is None:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                self.process.returncode = self.returncode
                self.cpu_s = usage.ru_utime + usage.ru_stime
            elif time.monotonic() > give_up and ending < 2:
                (self.process.terminate if ending == 0 else self.process.kill)()
                ending += 1
                give_up = time.monotonic() + 5
            else:
                time.sleep(0.05)
        return self.returncode

    def statuses(self) -> dict[str, list[int]]:
        """The status codes of the responses to each call's INVITE, in order, by Call-ID."""
        return statuses(self.folder / "messages.log")


def start(
    scenario: str,
    folder: Path,
    pcap: str,
    calls: int,
    target: str | None = None,
    rate: float = 10.0,
    limit: int | None = None,
    cache: Path | None = None,
) -> Sipp:
    """SIPp running tests/line/sipp/SCENARIO.xml in `folder` for `calls` calls, playing
    tools/sipp_audio.py's `pcap` (made in `cache`, by default beside `folder`, if not there
    yet): a UAS (target None) that ends after that many calls, or a UAC calling `target`
    (HOST:PORT) at `rate` calls per second, at most `limit` at once."""
    sipp = require_sipp()
    folder.mkdir(parents=True, exist_ok=True)
    cache = cache or folder.parent / "pcaps"
    write_pcaps(cache)
    played = folder / ("callee.pcap" if target is None else "caller.pcap")
    played.unlink(missing_ok=True)
    played.symlink_to((cache / pcap).resolve())
    port = free_port()
    command = [sipp, "-sf", str(SCENARIOS / f"{scenario}.xml"), "-i", "127.0.0.1"]
    command += ["-p", str(port), "-mp", str(free_port()), "-m", str(calls), "-nostdin"]
    command += ["-trace_msg", "-message_file", str(folder / "messages.log")]
    command += ["-trace_err", "-error_file", str(folder / "errors.log")]
    if target is not None:
        command += [target, "-r", f"{rate:g}", "-rp", "1000"]
        if limit is not None:
            command += ["-l", str(limit)]
    process = subprocess.Popen(
        command, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.2)  # its socket is bound by then
    if process.poll() is not None:
        errors = (folder / "errors.log").read_text(errors="replace")[-500:]
        raise RuntimeError(f"sipp {scenario} exited at once ({process.returncode}): {errors}")
    return Sipp(process, folder, f"127.0.0.1:{port}")


def statuses(trace: Path) -> dict[str, list[int]]:
    """From SIPp's message trace: the status codes each call's INVITE got, by Call-ID."""
    got: dict[str, list[int]] = collections.defaultdict(list)
    if not trace.exists():
        return {}
    for message in re.split(r"\n-{20,}[^\n]*\n", trace.read_text(errors="replace")):
        status = re.search(r"^\s*SIP/2\.0 (\d{3})", message, re.M)
        cseq = re.search(r"^\s*CSeq:\s*\d+ INVITE", message, re.M | re.I)
        call_id = re.search(r"^\s*Call-ID:\s*(\S+)", message, re.M | re.I)
        if status and cseq and call_id:
            got[call_id.group(1)].append(int(status.group(1)))
    return dict(got)


def cpu_s(pid: int, thread: int | None = None) -> float:
    """The CPU time (user + system, s) of the live process `pid` (or of its thread `thread`)
    so far (/proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
