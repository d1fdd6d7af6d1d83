"""Turn-taking items of the standard, from the speech segments of both sides (20 ms frames).

Items 1 (interrupting), 2 (answering late), 4 (hold etiquette), 5 (who hung up first) and 7
(dead air). A silence here is a stretch where neither side speaks, between the first and the
last speech of the call; who spoke last before it decides what it is: after the customer, the
agent owes an answer (dead air, item 7); after the agent, the customer waits on the agent
(a hold, item 4). Back-channels (segments at most `backchannel_max_s` long: 嗯, 好的) do not
decide who spoke last when a longer turn is there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ivr.audio.format import frames_to_seconds
from ivr.audit.scorecard import ItemResult, failed, not_applicable, passed
from ivr.audit.settings import AuditSettings
from ivr.events import Segment

SPEAKING_AT_END_FRAMES = 10
"""A customer segment ending this close to the recording's end (20 ms frames: 200 ms) was
still going when the recording stopped: the segmenter trims an open segment's end back by up
to 160 ms of quiet frames."""


@dataclass(frozen=True)
class Talk:
    """Both sides' speech segments (frames) and the call's length (frames)."""

    agent: list[Segment]
    customer: list[Segment]
    frames: int


@dataclass(frozen=True)
class Silence:
    """Frames [start, end) where neither side speaks, and who spoke last before it (`agent`
    or `customer`)."""

    start: int
    end: int
    after: str

    @property
    def seconds(self) -> float:
        """Length (s)."""
        return frames_to_seconds(self.end - self.start)


def _s(frames: int) -> float:
    return frames_to_seconds(frames)


def _longer(segment: Segment, seconds: float) -> bool:
    """Whether `segment` is longer than `seconds` (s)."""
    return _s(segment.end - segment.start) > seconds


def silences(talk: Talk, backchannel_max_s: float) -> list[Silence]:
    """The silences between the call's first and last speech, with who spoke last."""
    speaking = np.zeros(talk.frames, dtype=bool)
    for s in (*talk.agent, *talk.customer):
        speaking[s.start : s.end] = True
    edges = np.flatnonzero(np.diff(np.concatenate(([1], speaking.astype(np.int8), [1]))))
    runs = edges.reshape(-1, 2)  # runs of not speaking: [start, end)
    found = []
    for start, end in runs:
        if start == 0 or end >= talk.frames:
            continue  # before anyone speaks, or running to the end: not between turns
        found.append(Silence(int(start), int(end), _last_speaker(talk, start, backchannel_max_s)))
    return found


def _last_speaker(talk: Talk, frame: int, backchannel_max_s: float) -> str:
    """Who spoke last before `frame`: the side whose latest turn longer than a back-channel
    ended later (any segment when neither has such a turn)."""

    def latest(segments: list[Segment], turns_only: bool) -> int:
        ends = [
            s.end
            for s in segments
            if s.end <= frame and (not turns_only or _longer(s, backchannel_max_s))
        ]
        return max(ends, default=-1)

    agent, customer = latest(talk.agent, True), latest(talk.customer, True)
    if agent < 0 and customer < 0:
        agent, customer = latest(talk.agent, False), latest(talk.customer, False)
    return "agent" if agent >= customer else "customer"


def interrupting(talk: Talk, settings: AuditSettings) -> ItemResult:
    """Item 1: agent turns longer than a back-channel that start while the customer speaks
    and overlap them longer than `overlap_max_s`; each at the agent's start (s)."""
    key = "interrupting"
    if not talk.agent or not talk.customer:
        return not_applicable(key, "one side never spoke")
    moments = []
    for a in talk.agent:
        if not _longer(a, settings.backchannel_max_s):
            continue
        for c in talk.customer:
            if c.start < a.start < c.end and _s(min(a.end, c.end) - a.start) > (
                settings.overlap_max_s
            ):
                moments.append(_s(a.start))
                break
    if moments:
        return failed(key, moments, f"{len(moments)} time(s) over the customer")
    return passed(key)


def late_answer(talk: Talk, settings: AuditSettings) -> ItemResult:
    """Item 2: `hello_turns` customer turns before the agent's first words (at the last of
    them), or the first words more than `answer_within_s` after the customer's first turn
    ended (at that end)."""
    key = "late_answer"
    first = talk.agent[0].start if talk.agent else talk.frames
    hellos = [c for c in talk.customer if c.start < first]
    if not talk.agent and not talk.customer:
        return not_applicable(key, "neither side spoke")
    if not hellos:
        return passed(key, "the agent spoke first")
    if len(hellos) >= settings.hello_turns:
        return failed(
            key,
            [_s(hellos[settings.hello_turns - 1].start)],
            f"the customer spoke {len(hellos)} times before the agent's first words",
        )
    wait = _s(first - hellos[0].end)
    if wait > settings.answer_within_s:
        said = "never answered" if not talk.agent else f"answered after {wait:.1f} s"
        return failed(key, [_s(hellos[0].end)], said)
    return passed(key, f"answered after {max(wait, 0.0):.1f} s")


def hold(talk: Talk, settings: AuditSettings) -> ItemResult:
    """Item 4: silences after the agent's words longer than `hold_update_s` (at their
    start), and holds (such silences of at least `hold_min_s`, joined by the agent's updates
    with the customer silent) longer than `hold_max_s` (at their start)."""
    key = "hold"
    waits = [s for s in silences(talk, settings.backchannel_max_s) if s.after == "agent"]
    long_waits = [s for s in waits if s.seconds >= settings.hold_min_s]
    moments = [_s(s.start) for s in waits if s.seconds > settings.hold_update_s]
    if not long_waits and not moments:
        return passed(key, "no hold")
    reasons = []
    if moments:
        reasons.append(f"{len(moments)} silence(s) over {settings.hold_update_s:g} s")
    for first, last in _holds(talk, long_waits, settings.backchannel_max_s):
        if _s(last.end - first.start) > settings.hold_max_s:
            moments.append(_s(first.start))
            reasons.append(f"a hold of {_s(last.end - first.start):.0f} s")
    longest = max(s.seconds for s in waits)
    detail = f"longest gap {longest:.1f} s"
    if moments:
        return failed(key, sorted(set(moments)), "; ".join([*reasons, detail]))
    return passed(key, detail)


def _holds(
    talk: Talk, waits: list[Silence], backchannel_max_s: float
) -> list[tuple[Silence, Silence]]:
    """Long silences after the agent grouped into holds: consecutive ones with no customer
    turn (longer than a back-channel) between them. Each hold as (first, last) silence."""
    groups: list[tuple[Silence, Silence]] = []
    for wait in waits:
        if groups:
            first, last = groups[-1]
            between = [
                c
                for c in talk.customer
                if last.end <= c.start < wait.start and _longer(c, backchannel_max_s)
            ]
            if not between:
                groups[-1] = (first, wait)
                continue
        groups.append((wait, wait))
    return groups


def hung_up_first(talk: Talk, settings: AuditSettings, bye_from: str | None = None) -> ItemResult:
    """Item 5: the recording ends while the customer speaks, or less than
    `hangup_after_customer_s` after their last words with no agent words after them; at the
    recording's end (s). `bye_from`: who sent the SIP BYE, when the call log knows (`customer`:
    they hung up, the item passes; `agent`: the audio decides as above)."""
    key = "hung_up_first"
    if not talk.customer:
        return not_applicable(key, "the customer never spoke")
    if bye_from == "customer":
        return passed(key, "the customer hung up (their SIP BYE, in the call log)")
    last = max(talk.customer, key=lambda s: s.end)
    end = _s(talk.frames)
    if talk.frames - last.end <= SPEAKING_AT_END_FRAMES:
        return failed(key, [end], "the recording ends while the customer speaks")
    after = any(a.end > last.end for a in talk.agent)
    gap = _s(talk.frames - last.end)
    if not after and gap < settings.hangup_after_customer_s:
        return failed(key, [end], f"ended {gap:.1f} s after the customer's last words, no closing")
    return passed(key)


def dead_air(talk: Talk, settings: AuditSettings) -> ItemResult:
    """Item 7: silences after the customer's words longer than `dead_air_s`; each at its
    start (when the customer stopped, s)."""
    key = "dead_air"
    if not talk.customer:
        return not_applicable(key, "the customer never spoke")
    waits = [s for s in silences(talk, settings.backchannel_max_s) if s.after == "customer"]
    long = [s for s in waits if s.seconds > settings.dead_air_s]
    if long:
        worst = max(s.seconds for s in long)
        return failed(
            key, [_s(s.start) for s in long], f"{len(long)} silence(s), longest {worst:.1f} s"
        )
    return passed(key)
