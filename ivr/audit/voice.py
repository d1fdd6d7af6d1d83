"""Item 6: the agent's volume and pace (seed 001 音量适中, 语速适中; 003 三.3).

Volume: each agent turn longer than a back-channel has its active speech level (dBFS in the
speech band, noise power taken out: the segment's `level_dbfs` from the front end); a turn
outside `level_min_dbfs`..`level_max_dbfs` fails, at its start. Short words are left out:
their level says little.

Pace: the agent's speech in stretches of `pace_window_s` (ivr.audit.pace.stretches), each
stretch's syllable nuclei per second of its speech (ivr.audit.pace); a stretch faster than
`pace_max_sps` fails, at its first segment's start.
"""

from __future__ import annotations

import numpy as np

from ivr.audio.format import frames_to_seconds, ms_to_frames
from ivr.audit.pace import nuclei, stretches
from ivr.audit.scorecard import ItemResult, failed, not_applicable, passed
from ivr.audit.settings import AuditSettings
from ivr.audit.sides import CallSides


def volume(sides: CallSides, settings: AuditSettings) -> ItemResult:
    """The volume item (see the module)."""
    key = "volume"
    turns = [
        s
        for s in sides.agent_speech
        if frames_to_seconds(s.end - s.start) > settings.backchannel_max_s
    ]
    if not turns:
        return not_applicable(key, "no agent turn longer than a back-channel")
    low, high = settings.level_min_dbfs, settings.level_max_dbfs
    quiet = [s for s in turns if s.level_dbfs < low]
    loud = [s for s in turns if s.level_dbfs > high]
    levels = f"{min(s.level_dbfs for s in turns):.1f} to {max(s.level_dbfs for s in turns):.1f}"
    if quiet or loud:
        reasons = []
        if quiet:
            reasons.append(f"{len(quiet)} turn(s) under {low:g} dBFS")
        if loud:
            reasons.append(f"{len(loud)} turn(s) over {high:g} dBFS")
        moments = sorted(s.start_s for s in (*quiet, *loud))
        return failed(key, moments, f"{'; '.join(reasons)} (levels {levels} dBFS)")
    return passed(key, f"levels {levels} dBFS")


def speaking_rates(sides: CallSides, settings: AuditSettings) -> list[tuple[float, float]]:
    """Each stretch of the agent's speech as (start s, syllables per second of speech)."""
    track = sides.agent.track
    if track is None:
        return []
    segments = sides.agent_speech
    found = nuclei(sides.envelope_db, track.voiced, segments)
    window = ms_to_frames(settings.pace_window_s * 1000)
    rates = []
    for group in stretches(segments, window):
        inside = np.zeros(0, dtype=bool)
        for s in group:
            hits = (found >= s.start) & (found < s.end)
            inside = hits if inside.size == 0 else inside | hits
        speech = frames_to_seconds(sum(s.end - s.start for s in group))
        count = int(inside.sum()) if inside.size else 0
        rates.append((group[0].start_s, count / speech if speech else 0.0))
    return rates


def pace(sides: CallSides, settings: AuditSettings) -> ItemResult:
    """The pace item (see the module)."""
    key = "pace"
    rates = speaking_rates(sides, settings)
    if not rates:
        return not_applicable(
            key, f"less than {settings.pace_window_s / 2:g} s of agent speech to time"
        )
    fast = [(start, rate) for start, rate in rates if rate > settings.pace_max_sps]
    top = max(rate for _, rate in rates)
    if fast:
        return failed(
            key,
            [start for start, _ in fast],
            f"{len(fast)} stretch(es) over {settings.pace_max_sps:g} syllables/s "
            f"(fastest {top:.1f})",
        )
    return passed(key, f"fastest {top:.1f} syllables/s")
