"""The console of the CLI commands and their one-line errors (their shared options:
ivr.app.options; `DbOption` is also here for `ivr calls`)."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import NoReturn

from rich.console import Console

from ivr.app.options import DbOption

PLAIN_WIDTH = 120
"""Width (characters) of tables printed to a pipe or file, where rich would assume 80."""


def make_console(stderr: bool = False) -> Console:
    """A rich console; on a pipe or file, wide enough that tables are not truncated."""
    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=max(console.width, PLAIN_WIDTH))
    return console


def check_line_asr(asr: str, calls: str) -> None:
    """Exit with a one-line error unless `asr` is vosk or none (what a call on a line, named by
    `calls` in the message, can recognize with: it has no reference transcript)."""
    from ivr.app.recognition import ASR_MODES

    if asr not in ASR_MODES or asr == "reference":
        fail_line(f"invalid --asr {asr!r} for {calls}: use vosk or none")


def parse_listen(listen: str) -> tuple[str, int]:
    """HOST[:PORT] -> (host, port); port 0 (or none) means any free one. ValueError if bad."""
    host, _, port = listen.rpartition(":") if ":" in listen else (listen, "", "0")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"invalid --listen {listen!r}: give HOST[:PORT]")
    return host, int(port)


def fail_line(message: str, code: int = 2) -> NoReturn:
    """Print `error: message` on stderr (one line, no traceback) and exit with `code`."""
    sys.stderr.write(f"error: {message}\n")
    raise SystemExit(code)


class StopRequest:
    """Whether the user asked a long-running command to stop (Ctrl-C, SIGTERM)."""

    def __init__(self) -> None:
        self.requested = False

    def __bool__(self) -> bool:
        return self.requested


@contextlib.contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Within: Ctrl-C (SIGINT) and SIGTERM (a service manager's stop, `kill`) only set the
    yielded request, which the command's loop checks between steps, so calls under way end as
    `aborted` and are saved, and no step is cut in half."""
    request = StopRequest()

    def stop(signum: int, frame: object) -> None:
        request.requested = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


__all__ = [
    "PLAIN_WIDTH",
    "DbOption",
    "StopRequest",
    "check_line_asr",
    "fail_line",
    "make_console",
    "parse_listen",
    "stop_on_signals",
]
