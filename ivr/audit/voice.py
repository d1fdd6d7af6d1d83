"""Item 6: the agent's volume and pace (seed 001 音量适中, 语速适中; 003 三.3).

Volume: the agent's segments make turns: segments parted by pauses of at most TURN_PAUSE_S
with no customer speech starting in the pause are one turn (digits or a list read out come in
pieces shorter than a back-channel). Each turn with more speech than a back-channel has its
active speech level: its segments' `level_dbfs` from the front end (dBFS in the speech band,
noise power taken out), averaged as powers weighted by their lengths; a turn outside
`level_min_dbfs`..`level_max_dbfs` fails, at its start. Short words are left out: their level
says little.

Pace: the agent's speech in stretches of `pace_window_s` (ivr.audit.pace.stretches), each
stretch's syllable nuclei per second of its speech (ivr.audit.pace); a stretch faster than
`pace_max_sps` fails, at its first segment's start.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ivr.audio.format import frames_to_seconds, ms_to_frames
from ivr.audit.pace import nuclei, stretches
from ivr.audit.scorecard import ItemResult, failed, not_applicable, passed
from ivr.audit.settings import AuditSettings
from ivr.audit.sides import CallSides
from ivr.events import Segment

TURN_PAUSE_S = 0.5
"""Longest pause (s) inside one of the agent's turns, for the volume item: the pauses between
read-out digits or the items of a list are 0.2-0.4 s."""


@dataclass(frozen=True)
class Turn:
    """The agent's segments said as one turn (in order)."""

    segments: tuple[Segment, ...]

    @property
    def start_s(self) -> float:
        """Where the turn starts (s)."""
        return self.segments[0].start_s

    @property
    def speech_s(self) -> float:
        """Its speech, pauses left out (s)."""
        return frames_to_seconds(sum(s.end - s.start for s in self.segments))

    @property
    def level_dbfs(self) -> float:
        """Its active speech level (dBFS): the segments' levels as powers, length-weighted."""
        lengths = np.array([s.end - s.start for s in self.segments], dtype=np.float64)
        powers = 10.0 ** (np.array([s.level_dbfs for s in self.segments]) / 10.0)
        return float(10.0 * np.log10(np.sum(lengths * powers) / np.sum(lengths)))


def agent_turns(agent: list[Segment], customer: list[Segment]) -> list[Turn]:
    """The agent's segments (in order) joined into turns (see the module)."""
    pause = ms_to_frames(TURN_PAUSE_S * 1000)
    turns: list[list[Segment]] = []
    for segment in agent:
        if turns:
            last = turns[-1][-1]
            interrupted = any(last.end <= c.start < segment.start for c in customer)
            if segment.start - last.end <= pause and not interrupted:
                turns[-1].append(segment)
                continue
        turns.append([segment])
    return [Turn(tuple(t)) for t in turns]


def volume(sides: CallSides, settings: AuditSettings) -> ItemResult:
    """The volume item (see the module)."""
    key = "volume"
    turns = [
        t
        for t in agent_turns(sides.agent_speech, sides.customer_speech)
        if t.speech_s > settings.backchannel_max_s
    ]
    if not turns:
        return not_applicable(key, "no agent turn longer than a back-channel")
    low, high = settings.level_min_dbfs, settings.level_max_dbfs
    quiet = [t for t in turns if t.level_dbfs < low]
    loud = [t for t in turns if t.level_dbfs > high]
    levels = f"{min(t.level_dbfs for t in turns):.1f} to {max(t.level_dbfs for t in turns):.1f}"
    if quiet or loud:
        reasons = []
        if quiet:
            reasons.append(f"{len(quiet)} turn(s) under {low:g} dBFS")
        if loud:
            reasons.append(f"{len(loud)} turn(s) over {high:g} dBFS")
        moments = sorted(t.start_s for t in (*quiet, *loud))
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
