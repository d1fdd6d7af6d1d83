"""What a call's timeline says, derived once from its records: when each prompt played, the
listening windows and their timers, the callee's speech as the detectors saw it, the dialog
events and the prompts that answered them.

QA (ivr.qa.score), the timeline picture (ivr.report.picture) and the tuning metrics
(ivr.tune.metrics) read these instead of walking the records themselves. Each measure is
computed on first use, so a reader pays only for what it reads. Frames are 20 ms from the start
of the call; times are seconds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from ivr.timeline.line_records import StillListening
from ivr.timeline.records import (
    CALLEE_SPEECH,
    BargeIn,
    DialogEventRecord,
    HungUp,
    ListenStarted,
    PauseStarted,
    PromptFinished,
    PromptOut,
    PromptStarted,
    SpeechEnded,
    StateEntered,
    TimelineRecord,
    VadEnd,
    VadOpen,
    VadStart,
)

LISTEN_ENDS = (PromptStarted, HungUp, ListenStarted, StateEntered, DialogEventRecord)
"""Records that end a listening window before its deadline."""


def _seconds(frame: int) -> float:
    """A frame's time (s), rounded to the ms as the records' `t`."""
    return round(frame * 0.02, 3)


@dataclass(frozen=True, slots=True)
class PromptWindow:
    """One prompt's playout: from its start to its last sample, a barge-in, the next prompt
    or the hang-up."""

    prompt: str
    start: int
    """Frame its first sample was due."""
    end: int | None
    """Frame its playout ended; None when the timeline ends while it plays."""

    @property
    def start_s(self) -> float:
        """Start (s)."""
        return _seconds(self.start)

    @property
    def end_s(self) -> float | None:
        """End (s); None when the timeline ends while it plays."""
        return None if self.end is None else _seconds(self.end)


@dataclass(frozen=True, slots=True)
class ListenWindow:
    """A no-input timer window: from `listen_started` to its deadline, or to where listening
    ended first."""

    start: int
    """Frame the window opened (the end of a prompt's playout)."""
    deadline: int
    """Frame the no-input timer was armed for."""
    end: int
    """Frame the window ended: its deadline, or the record that ended it first."""
    fired: bool
    """Whether the no-input timer fired (the window ended with `noinput`)."""

    @property
    def start_s(self) -> float:
        """Start (s)."""
        return _seconds(self.start)

    @property
    def end_s(self) -> float:
        """End (s)."""
        return _seconds(self.end)

    @property
    def armed_s(self) -> float:
        """The timer's length as armed (s)."""
        return _seconds(self.deadline) - _seconds(self.start)


class CallTimeline:
    """The measures of one call's timeline (records in the order they were written)."""

    def __init__(self, records: Sequence[TimelineRecord]) -> None:
        self.records = records

    @cached_property
    def hangup(self) -> HungUp | None:
        """The hang-up (a call has at most one), or None when the timeline has none."""
        for r in reversed(self.records):  # at the end, or just before the session's last notes
            if type(r) is HungUp:
                return r
        return None

    @cached_property
    def prompts(self) -> list[PromptStarted]:
        """Every prompt started, in order."""
        return [r for r in self.records if isinstance(r, PromptStarted)]

    @cached_property
    def dialog_events(self) -> list[DialogEventRecord]:
        """Every event the script handled, in order."""
        return [r for r in self.records if r.is_dialog_event]

    @cached_property
    def event_names(self) -> frozenset[str]:
        """The names of the dialog events that happened."""
        return frozenset(r.event for r in self.dialog_events)

    def has_event(self, name: str) -> bool:
        """Whether any dialog event is `name` (e.g. low_volume)."""
        return name in self.event_names

    @cached_property
    def prompt_windows(self) -> list[PromptWindow]:
        """Each prompt's playout (see PromptWindow)."""
        windows, current = [], None
        for r in self.records:
            if current is not None and isinstance(r, PromptFinished | BargeIn | HungUp):
                windows.append(PromptWindow(current.prompt, current.frame, r.frame))
                current = None
            if isinstance(r, PromptStarted):
                if current is not None:
                    windows.append(PromptWindow(current.prompt, current.frame, r.frame))
                current = r
        if current is not None:
            windows.append(PromptWindow(current.prompt, current.frame, None))
        return windows

    @cached_property
    def pauses(self) -> list[PauseStarted]:
        """Every pause started, with its length (s)."""
        return [r for r in self.records if isinstance(r, PauseStarted)]

    @cached_property
    def listen_windows(self) -> list[ListenWindow]:
        """Every no-input timer window (see ListenWindow)."""
        out = []
        records = self.records
        for i, r in enumerate(records):
            if not isinstance(r, ListenStarted):
                continue
            deadline = round(r.deadline_s / 0.02)
            end, fired = deadline, False
            for later in records[i + 1 :]:
                if later.frame > deadline:
                    break
                if isinstance(later, DialogEventRecord) and later.event == "noinput":
                    end, fired = later.frame, True
                    break
                if isinstance(later, LISTEN_ENDS):
                    end = later.frame
                    break
            out.append(ListenWindow(r.frame, deadline, end, fired))
        return out

    @cached_property
    def speech_segments(self) -> list[tuple[float, float]]:
        """The detectors' speech segments, (start s, end s), from their `vad_end` records."""
        return [(r.speech_start_s, r.speech_end_s) for r in self.records if isinstance(r, VadEnd)]

    @cached_property
    def heard_as(self) -> dict[float, str | None]:
        """How the engine classified each of the detectors' segments alone, by its start (s):
        from its `vad_end`, or for one still open at the hang-up its `vad_open`; None when
        the record does not say (older timelines). Segments with neither are left out."""
        return {
            r.speech_start_s: r.heard_as for r in self.records if isinstance(r, VadEnd | VadOpen)
        }

    def is_callee_speech(self, start_s: float) -> bool:
        """Whether the detectors' segment that began at `start_s` (s) is the callee speaking:
        the engine heard it as `speech` or `low_volume` (CALLEE_SPEECH), or it was not judged
        (an older timeline, or a segment open at the hang-up and never measured)."""
        heard = self.heard_as.get(start_s)
        return heard is None or heard in CALLEE_SPEECH

    @cached_property
    def callee_speech(self) -> list[tuple[float, float]]:
        """The callee's speech: the speech segments the engine hears as the callee speaking
        (see is_callee_speech; a noisy line's babble is not), and such a segment that began
        (`vad_start`) but never ended, as (start s, infinity)."""
        spans = [
            (start, end) for start, end in self.speech_segments if self.is_callee_speech(start)
        ]
        ends = {start for start, _ in self.speech_segments}
        spans += [
            (r.speech_start_s, math.inf)
            for r in self.records
            if isinstance(r, VadStart)
            and r.speech_start_s not in ends
            and self.is_callee_speech(r.speech_start_s)
        ]
        return spans

    def segments_open_at(self, frame: int, callee_only: bool = False) -> int:
        """How many of the detectors' speech segments were open at `frame` (records up to the
        first one after it), from the frames their start and end were decided; with
        `callee_only`, only those that are the callee speaking (see is_callee_speech)."""
        open_starts: list[float] = []
        for r in self.records:
            if r.frame > frame:
                break
            if isinstance(r, VadStart):
                open_starts.append(r.speech_start_s)
            elif isinstance(r, VadEnd) and open_starts:
                ended = r.speech_start_s
                open_starts.remove(ended if ended in open_starts else open_starts[0])
        if callee_only:
            return sum(1 for start in open_starts if self.is_callee_speech(start))
        return len(open_starts)

    @cached_property
    def timer_prompts(self) -> list[PromptStarted]:
        """Prompts that a no-input timeout started: said right after a `noinput`, at its frame."""
        records = self.records
        return [
            r
            for before, r in itertools.pairwise(records)
            if isinstance(r, PromptStarted)
            and isinstance(before, DialogEventRecord)
            and before.event == "noinput"
            and before.frame == r.frame
        ]

    @cached_property
    def answer_delays_ms(self) -> list[float]:
        """For each dialog event on the callee's speech (any but `noinput`, after a
        `speech_ended`) whose handler spoke (a prompt started at the event's frame): ms from the
        end of that speech to our answer's first sample. On a live call the prompt's measured
        start latency (`prompt_out`) is added. A handler that only acts (e.g. raises the input
        gain, seed 000 二、2 01) owes no answer. The still-listening prompt (seed 000 三、6)
        answers the callee's pause: it counts from the end of the speech before it, and what
        we say after it answers only speech that came after it. The speech is the engine's own
        (`speech_ended` records, not the detectors' `vad_end`): a handler answers what the
        engine heard, so an answer to a noisy line (`noise`) is timed like any other."""
        latency = {
            (r.frame, r.prompt): float(r.start_latency_ms)
            for r in self.records
            if isinstance(r, PromptOut)
        }
        last_end: float | None = None
        waiting: int | None = None  # frame of a dialog event not yet answered
        delays = []
        for r in self.records:
            if waiting is not None and r.frame > waiting:
                waiting = None  # the handler said nothing
            match r:
                case SpeechEnded():
                    last_end = r.speech_end_s
                case DialogEventRecord() if r.event != "noinput" and last_end is not None:
                    waiting = r.frame
                case StillListening() if last_end is not None:
                    # "我在听" answers the pause; what follows answers later speech only
                    delays.append(round((r.t - last_end) * 1000, 3))
                    last_end = None
                case PromptStarted() if waiting is not None and last_end is not None:
                    extra_ms = latency.get((r.frame, r.prompt), 0.0)
                    delays.append(round((r.t - last_end) * 1000 + extra_ms, 3))  # no float noise
                    waiting = None
        return delays

    @cached_property
    def prompts_after_events(self) -> list[tuple[DialogEventRecord, PromptStarted]]:
        """Each dialog event whose handler went on to speak, with the first prompt it started
        (before listening again, hanging up or the next dialog event)."""
        pairs = []
        trigger: DialogEventRecord | None = None  # the dialog event the next prompt answers
        for r in self.records:  # run for every call of every setting a tuner tries: lean
            kind = type(r)
            if kind is DialogEventRecord:
                trigger = r
            elif kind is ListenStarted or kind is HungUp:
                trigger = None
            elif kind is PromptStarted and trigger is not None:
                pairs.append((trigger, r))
                trigger = None
        return pairs
