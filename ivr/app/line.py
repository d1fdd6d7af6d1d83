"""What every call on a line (`ivr call`, `ivr dial`, `ivr serve`, `ivr campaign`) shares
before its first call: its options as one object, its set-up and its keeper (one block, not one
per command), our SIP address, and stopping on signals."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.app.keeping import CallKeeper, KeepOptions
from ivr.app.setup import LineCallSetup, set_up_line_call

if TYPE_CHECKING:
    from ivr.sip.agent import SipAgent


@dataclass(frozen=True)
class LineOptions:
    """The options every line command declares alike: the script, its placeholder values as
    given (org, agent_id, number), the config and --set overrides, the prompt cache, the
    recognition, whether numbers are shown."""

    script: str
    placeholders: dict[str, str | None]
    config: Path | None = None
    overrides: tuple[str, ...] = ()
    cache_dir: Path | None = None
    asr: str = "vosk"
    model: str | None = None
    show_numbers: bool = False


def check_line_asr(asr: str, calls: str) -> None:
    """ValueError unless `asr` is vosk or none (what a call on a line, named by `calls` in the
    message, can recognize with: it has no reference transcript)."""
    from ivr.app.recognition import ASR_MODES

    if asr not in ASR_MODES or asr == "reference":
        raise ValueError(f"invalid --asr {asr!r} for {calls}: use vosk or none")


def open_line_calls(
    line: LineOptions, keep: KeepOptions, command: str
) -> tuple[LineCallSetup, CallKeeper]:
    """Set up the calls of `command` (the script with its values, the settings, every prompt
    rendered, the recognizer, the QA limits checked) and open their keeper (a call log that
    cannot take a row is said here, before any call). IvrError or ValueError if not."""
    prepared = set_up_line_call(
        line.script, line.config, line.placeholders, list(line.overrides), line.cache_dir,
        line.asr, line.model, keep.answer_within_ms,
    )  # fmt: skip
    return prepared, CallKeeper(keep, prepared.forbidden, command)


def parse_listen(listen: str) -> tuple[str, int]:
    """--listen HOST[:PORT] -> (host, port); port 0 (or none) means any free one. ValueError
    if bad."""
    host, _, port = listen.rpartition(":") if ":" in listen else (listen, "", "0")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"invalid --listen {listen!r}: give HOST[:PORT]")
    return host, int(port)


def open_agent(listen: str, prepared: LineCallSetup, answers: bool, calls: int) -> SipAgent:
    """Our SIP agent on `listen` (answering calls or not), with the front end's filter and
    learned detector loaded for `calls` calls at once. DeviceError, ValueError if it cannot
    be."""
    from ivr.detect.frontend import warm_up
    from ivr.sip.agent import SipAgent

    host, port = parse_listen(listen)
    agent = SipAgent(host, port, answers=answers)
    warm_up(prepared.call.settings.front_end, calls)
    return agent


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
