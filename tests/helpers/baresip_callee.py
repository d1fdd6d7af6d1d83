"""A real SIP callee for tests: Debian's baresip, headless, on 127.0.0.1 with free ports.

It answers (or, with `answer=False`, rings and refuses after `refuse_after_s`), plays a WAV as
its voice (its `aufile` source; baresip hangs up when the WAV ends) and records what it hears
(the `sndfile` filter: `record_dir/dump-*-dec.wav`, 8 kHz). Started and stopped by the test.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from shared import stop_process

RATE = 8000
"""baresip's aufile plays 8 kHz mono WAVs only."""


_GIVEN: set[int] = set()
"""Ports already handed out in this test run: never handed out twice."""


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (baresip listens on both), and not handed
    out before in this run: the kernel may offer a port again once its probe socket is closed,
    and two servers told the same port (baresip's control and console) answer on one socket."""
    while True:
        tcp = socket.socket()
        tcp.bind(("127.0.0.1", 0))
        port = tcp.getsockname()[1]
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            if port in _GIVEN:
                continue
            udp.bind(("127.0.0.1", port))
            _GIVEN.add(port)
            return port
        except OSError:
            continue
        finally:
            tcp.close()
            udp.close()


def free_sip_port() -> int:
    """A port for baresip's SIP (free_port) whose next port is free for TCP and not handed out
    either: baresip listens for SIP over TLS on the port after its UDP and TCP one, and fails
    to start when that one is taken (by another baresip's, or its own control port)."""
    while True:
        port = free_port()
        if port + 1 in _GIVEN or port + 1 > 65535:
            continue
        probe = socket.socket()
        try:
            probe.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        finally:
            probe.close()
        _GIVEN.add(port + 1)
        return port


@dataclass
class Callee:
    """A running baresip: dial `uri`; what it heard is in `record_dir`. It can also call out
        (`dial`) and be told to hang up (`command`), over its control port `ctrl_port`, and press
    keys (`press`) on its UDP console `cons_port`."""

    uri: str
    record_dir: Path
    process: subprocess.Popen
    ctrl_port: int = 0
    cons_port: int = 0

    def press(self, keys: str) -> None:
        """Press telephone keys in the call, as a user at baresip's console would: baresip
        sends each as an RFC 4733 telephone-event, released at once (\x04 is its key-up)."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for key in keys:
                udp.sendto(f"{key}\x04".encode(), ("127.0.0.1", self.cons_port))

    def command(self, command: str, params: str = "") -> dict:
        """Send one ctrl_tcp command (netstring JSON) and return baresip's reply."""
        body = json.dumps({"command": command, "params": params, "token": "1"}).encode()
        with socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=5) as conn:
            conn.sendall(str(len(body)).encode() + b":" + body + b",")
            data = b""
            while True:  # replies are netstrings; events may come first
                chunk = conn.recv(65536)
                if not chunk:
                    raise RuntimeError(f"baresip closed its control port: {data!r}")
                data += chunk
                while b":" in data:
                    size, _, rest = data.partition(b":")
                    if len(rest) < int(size) + 1:
                        break
                    message, data = json.loads(rest[: int(size)]), rest[int(size) + 1 :]
                    if message.get("response"):
                        return message

    def dial(self, uri: str) -> None:
        """Call `uri` (baresip then plays its voice into the call and hangs up at its end)."""
        reply = self.command("dial", uri)
        if not reply.get("ok"):
            raise RuntimeError(f"baresip cannot dial {uri}: {reply}")

    def heard(self) -> np.ndarray:
        """What it received from us (int16 at 8 kHz), from its recording."""
        [path] = sorted(self.record_dir.glob("dump-*-dec.wav"))
        return sf.read(path, dtype="int16")[0]


@contextlib.contextmanager
def baresip(
    folder: Path,
    voice: np.ndarray,
    answer: bool = True,
    refuse_after_s: int = 120,
    user: str = "callee",
    max_calls: int = 4,
    also_answers: tuple[str, ...] = (),
) -> Iterator[Callee]:
    """Run baresip from a private config in `folder`, speaking `voice` (int16, 8 kHz), as
    sip:`user`@127.0.0.1 (a caller's number, when it calls out), up to `max_calls` calls at once
    (each plays `voice` from its start); also as sip:NUMBER@ for each of `also_answers` (a
    trunk gateway's numbers: baresip answers only the users it has an account for)."""
    if shutil.which("baresip") is None:
        raise RuntimeError("baresip is not installed: run `make test` (it installs it)")
    folder.mkdir(parents=True, exist_ok=True)
    sip, ctrl, cons = free_sip_port(), free_port(), free_port()
    source, records = folder / "voice.wav", folder / "heard"
    records.mkdir(exist_ok=True)
    sf.write(source, voice, RATE, subtype="PCM_16")
    (folder / "config").write_text(
        f"""poll_method epoll
sip_listen 127.0.0.1:{sip}
call_local_timeout {refuse_after_s}
call_max_calls {max_calls}
audio_player alsa,null
audio_source aufile,{source}
audio_alert alsa,null
audio_level no
audio_buffer 20-160
rtp_ports 20000-29999
rtcp_mux no
jitter_buffer_delay 5-10
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module alsa.so
module sndfile.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{ctrl}
module cons.so
cons_listen 127.0.0.1:{cons}
snd_path {records}
"""
    )
    mode = "auto" if answer else "manual"
    (folder / "accounts").write_text(
        "".join(
            f"<sip:{name}@127.0.0.1:{sip}>;regint=0;answermode={mode};audio_codecs=PCMU,PCMA\n"
            for name in (user, *also_answers)
        )
    )
    (folder / "contacts").write_text("")
    with open(folder / "baresip.log", "wb") as log:
        process = subprocess.Popen(
            ["baresip", "-f", str(folder)], stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )  # it keeps its own copy of the log's descriptor
    try:
        for _ in range(250):  # up in ~20 ms; wait for its control and console ports
            if process.poll() is not None:
                raise RuntimeError(f"baresip exited: {(folder / 'baresip.log').read_text()}")
            with contextlib.suppress(OSError):
                for port in (ctrl, cons):  # the console is loaded last
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.02)
        yield Callee(f"sip:{user}@127.0.0.1:{sip}", records, process, ctrl, cons)
    finally:
        stop_process(process)
