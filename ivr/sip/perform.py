"""Performing a script on one SIP call, placed or taken: the call's session with its recording
and timeline, on whichever thread runs it (see ivr.sip.threads for several at once)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.call.replay import CallResult, keep_call
from ivr.call.session import CallSession
from ivr.sip.line import ANSWER_TIMEOUT_S, SipCallee, SipSpeaker

if TYPE_CHECKING:
    from ivr.app.setup import CallSetup
    from ivr.sip.agent import SipAgent
    from ivr.sip.call import SipCall


@dataclass(frozen=True)
class SipCallResult:
    """A SIP call performed: the call's result, its last SIP status, how it went on the line."""

    result: CallResult
    status: int | None
    answered: bool
    """Whether the call got through (its other side answered)."""
    late_s: float
    """The longest a received frame waited before the session took it (s; 0 without timing)."""


def perform_call(
    agent: SipAgent,
    call: SipCall,
    setup: CallSetup,
    recording: Path,
    show_numbers: bool = False,
    answer_timeout_s: float = ANSWER_TIMEOUT_S,
    on_callee: Callable[[SipCallee], None] | None = None,
) -> SipCallResult:
    """Perform `setup`'s script on `call` until either side hangs up; the stereo recording at
    `recording`, its timeline beside it (numbers masked unless `show_numbers`). `on_callee`
    sees the callee's port first (to `interrupt` it from another thread)."""
    callee = SipCallee(agent, call, recording.name, answer_timeout_s)
    if on_callee is not None:
        on_callee(callee)
    speaker = SipSpeaker(call, setup.prompts)
    session = CallSession(callee, speaker, setup.script, setup.settings, setup.recognition.vosk)
    session.record(recording, line_can_fail=True)
    timeline = recording.with_suffix(".timeline.jsonl")
    result = keep_call(session, recording, timeline, show_numbers)
    return SipCallResult(result, call.status, call.answered, callee.late_s)
