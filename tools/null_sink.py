"""A private PulseAudio daemon with a 16 kHz null sink, for live calls in tests and benchmarks.

The null sink `line` is the default sink and its monitor the default source: a program that
plays to the default device and records from it hears itself, plus whatever is played into
`line` (the callee). Everything runs under a private runtime folder, so no other audio server
is touched, and the daemon is killed on exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path


def pactl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run a PulseAudio command line tool against the private daemon."""
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=30)


@contextlib.contextmanager
def null_sink(folder: Path) -> Iterator[dict[str, str]]:
    """Start the daemon under `folder`; yield the environment that reaches it."""
    if shutil.which("pulseaudio") is None:
        raise RuntimeError("pulseaudio is not installed: run `make test` (it installs it)")
    runtime = folder / "pulse-runtime"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(folder)}
    env.pop("PULSE_SERVER", None)
    started = pactl(
        env,
        "pulseaudio",
        "-D",
        "-n",
        "--exit-idle-time=-1",
        "--disallow-exit",
        "--load=module-native-protocol-unix",
        "--load=module-null-sink sink_name=line rate=16000 channels=1",
        f"--log-target=file:{folder / 'pulse.log'}",
    )
    if started.returncode != 0:
        raise RuntimeError(f"pulseaudio did not start: {started.stderr.strip()}")
    try:
        for _ in range(50):
            if pactl(env, "pactl", "info").returncode == 0:
                break
            time.sleep(0.1)
        pactl(env, "pactl", "set-default-sink", "line")
        pactl(env, "pactl", "set-default-source", "line.monitor")
        yield env
    finally:
        pactl(env, "pulseaudio", "--kill")
