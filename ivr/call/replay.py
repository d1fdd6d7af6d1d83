"""Replaying a recording as the callee side of a call, on a virtual clock.

A replay is a call session (ivr.call.session) between the recording as the callee's port and a
virtual speaker as ours: block by block, as fast as the CPU allows, with the call runner's
frame order (ivr.call.runner). After the recording ends the callee's line is silent until the
call hangs up. The call is written as a
stereo WAV (left: our prompts at their times, right: the callee, including what was ignored)
and a JSON-lines timeline, each atomically.
"""

from __future__ import annotations

from pathlib import Path

from ivr.audio.source import FileSource, RawFormat
from ivr.call.recognition import AsrBackend
from ivr.call.result import CallResult
from ivr.call.session import CallSession
from ivr.call_settings import CallSettings
from ivr.engine import HangUp
from ivr.safe_names import inside
from ivr.script.model import Script
from ivr.timeline import write_timeline
from ivr.transports.base import PromptAudioLike, PromptSource
from ivr.transports.replay import FileCallee, VirtualSpeaker

BARGE_IN_BLOCK_FRAMES = 5
"""Frames per block when a script allows barge-in (100 ms), so that the echo check follows
the engine's state closely; otherwise files are read in large blocks."""


def replay_call(
    source: FileSource,
    script: Script,
    prompts: PromptSource,
    settings: CallSettings | None = None,
    asr: AsrBackend | None = None,
) -> CallSession:
    """A session replaying `source` against `script`: the recording as the callee's port (then
    silence until the call ends), a virtual speaker as ours."""
    return CallSession(FileCallee(source), VirtualSpeaker(prompts), script, settings, asr)


def run_replay(
    session: CallSession,
    recording: Path | None = None,
    timeline: Path | None = None,
    show_numbers: bool = False,
) -> CallResult:
    """Run a replay session; write the stereo recording and the timeline if paths are given
    (the timeline with phone numbers masked unless `show_numbers`)."""
    session.record(recording)
    return keep_call(session, recording, timeline, show_numbers)


def keep_call(
    session: CallSession,
    recording: Path | None,
    timeline: Path | None,
    show_numbers: bool = False,
) -> CallResult:
    """The result of a session that has run; the timeline written if `timeline` is given."""
    engine = session.engine
    assert engine.result is not None
    result = CallResult(
        name=session.name,
        outcome=engine.result.outcome,
        reason=engine.result.reason,
        frames=engine.result.frame,
        prompts=list(engine.prompts_said),
        timeline=engine.log,
        recording=recording,
        timeline_path=timeline,
    )
    if timeline is not None:
        write_timeline(timeline, engine.log, show_numbers)
    return result


def replay_file(
    path: Path,
    script: Script,
    prompts: PromptSource,
    settings: CallSettings | None = None,
    out_dir: Path | None = None,
    channel: str = "mix",
    asr: AsrBackend | None = None,
    show_numbers: bool = False,
    out_stem: str | None = None,
    raw: RawFormat | None = None,
) -> CallResult:
    """Replay one recording; with `out_dir`, write `<stem>.call.wav` and `<stem>.timeline.jsonl`
    (phone numbers masked in it unless `show_numbers`); `stem` is `out_stem`, else the
    recording's own. `raw`: how to read a headerless file.

    Without `asr` the call runs in detector-only mode: speech counts as an answer. A file that
    cannot be read raises AudioFormatError, an output that cannot be written OutputError (both
    IvrError, one line naming the file); what is odd but readable is in the result's `notes`."""
    if script.allows_barge_in:
        source = FileSource(path, channel=channel, raw=raw, block_frames=BARGE_IN_BLOCK_FRAMES)
    else:
        source = FileSource(path, channel=channel, raw=raw)
    session = replay_call(source, script, prompts, settings, asr)
    recording = timeline = None
    if out_dir is not None:
        stem = out_stem or Path(path).stem
        recording = inside(out_dir, out_dir / f"{stem}.call.wav")  # IvrError if it would not be
        timeline = out_dir / f"{stem}.timeline.jsonl"
    result = run_replay(session, recording, timeline, show_numbers)
    result.notes = source.info.warnings
    return result


__all__ = [
    "CallResult",
    "HangUp",
    "PromptAudioLike",
    "PromptSource",
    "keep_call",
    "replay_call",
    "replay_file",
    "run_replay",
    "write_timeline",
]
