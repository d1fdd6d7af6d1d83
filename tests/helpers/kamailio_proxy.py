"""Kamailio for tests: the repository's dispatcher config (tools/kamailio/config.py) on
127.0.0.1 with a free port, in front of the given workers and trunk gateways."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from baresip_callee import free_port
from shared import stop_process

CONFIG = Path(__file__).resolve().parents[2] / "tools" / "kamailio" / "config.py"
"""The repository's config generator, loaded from its file (tools/ is not a package)."""


def _load_config_module():
    spec = importlib.util.spec_from_file_location("kamailio_config", CONFIG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_config_module()
write_config = generator.write_config
"""write_config(folder, listen, workers, trunks) -> the kamailio.cfg written in `folder`."""

FAILOVER_S = generator.FAILOVER_MS / 1000
"""How long (s) Kamailio waits for a member that does not answer before it tries the next."""


@dataclass
class Proxy:
    """A running Kamailio on 127.0.0.1:`port`; its log is `log`."""

    port: int
    log: Path
    process: subprocess.Popen

    def uri_for(self, user: str) -> str:
        """sip:`user`@ this proxy."""
        return f"sip:{user}@127.0.0.1:{self.port}"

    def log_text(self) -> str:
        """Its log so far (one line per INVITE routed: its set, its destination, its Call-ID)."""
        return self.log.read_text(errors="replace")


def _answers_options(port: int) -> bool:
    """Whether Kamailio answers a SIP OPTIONS on 127.0.0.1:`port` (within 0.2 s)."""
    tag = uuid.uuid4().hex[:8]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        own = sock.getsockname()[1]
        request = (
            f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{own};branch=z9hG4bK{tag}\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sip:probe@127.0.0.1:{own}>;tag={tag}\r\n"
            f"To: <sip:127.0.0.1:{port}>\r\n"
            f"Call-ID: {tag}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(request.encode(), ("127.0.0.1", port))
        try:
            return sock.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            return False


@contextlib.contextmanager
def kamailio(
    folder: Path, workers: list[tuple[str, int]], trunks: list[tuple[str, int]]
) -> Iterator[Proxy]:
    """Run Kamailio on 127.0.0.1 (a free UDP port) from a config written in `folder`, in front
    of `workers` (dispatcher set 2) and `trunks` (set 1), each (host, port); the config is
    checked (`kamailio -c`) first, and the proxy is up (it answers an OPTIONS) when this yields.
    Stopped (SIGTERM, then SIGKILL after 5 s) at the end."""
    if shutil.which("kamailio") is None:
        raise RuntimeError("kamailio is not installed: run `make test` (it installs it)")
    port = free_port()
    config = write_config(
        folder, f"127.0.0.1:{port}", [f"{h}:{p}" for h, p in workers],
        [f"{h}:{p}" for h, p in trunks],
    )  # fmt: skip
    check = subprocess.run(["kamailio", "-c", "-f", str(config)], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"kamailio rejects {config}: {check.stderr[-2000:]}")
    log = folder / "kamailio.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["kamailio", "-DD", "-E", "-f", str(config), "-P", str(folder / "kamailio.pid"),
             "-Y", str(folder)],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        give_up = time.monotonic() + 10
        while not _answers_options(port):
            if process.poll() is not None or time.monotonic() > give_up:
                raise RuntimeError(f"kamailio did not start: {log.read_text()[-2000:]}")
        yield Proxy(port, log, process)
    finally:
        stop_process(process)
