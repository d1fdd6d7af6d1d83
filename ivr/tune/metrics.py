"""What one setting does to labelled calls: per-call mistakes and costs, and their summary.

A labelled call (`CallLabel`, from a test-call manifest) says what the callee did: the
situation, the outcome the call must reach and the stretches of callee speech. A replayed call
(`CallRun`) is the engine's timeline with one setting. `call_metrics` compares the two;
`summarize` turns the calls of one setting into rates and mean times. Times are seconds from
the start of the call; frames are 20 ms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ivr.audio.format import frames_to_seconds
from ivr.synth.manifest import ManifestError

OUTCOME_BY_SITUATION = {
    "answers_at_once": "answered",
    "answers_late": "answered",
    "never_answers": "no_answer",
    "too_quiet": "low_volume",
    "noisy_line": "noisy_line",
    "cut_in_out": "choppy_line",
}
"""The outcome a call must reach when its label gives a situation but no outcome."""

NON_ANSWER_EVENTS = frozenset({"noinput", "low_volume", "noise", "choppy", "nomatch"})
"""Dialog events that are not an answer understood from the callee."""

REPROMPT_LEAD_S = 0.1
"""A re-prompt counts as premature for speech starting up to this long before it (s): the
detectors decide a start about 100 ms after it."""


@dataclass(frozen=True)
class CallLabel:
    """The ground truth of one recorded call."""

    file: str
    """The recording's file name (no folder)."""
    situation: str
    """answers_at_once | answers_late | never_answers | too_quiet | noisy_line | cut_in_out
    ("" when the label gives only an outcome)."""
    outcome: str | None
    """The outcome the call must reach (e.g. answered); None: derived from the situation."""
    speech: tuple[tuple[float, float], ...]
    """Labelled callee speech as (start_s, end_s) pairs (s), in time order."""

    @property
    def expected_outcome(self) -> str | None:
        """`outcome`, or the situation's outcome (OUTCOME_BY_SITUATION); None if neither."""
        return (
            self.outcome if self.outcome is not None else OUTCOME_BY_SITUATION.get(self.situation)
        )


def labels_from_manifest(path: str | Path) -> dict[str, CallLabel]:
    """The labelled calls of a manifest, by file name.

    Reads the YAML leniently: of each entry of `calls:` only `file`, `situation`,
    `speech[].start_s/end_s` (s) and `expect.outcome` are used, and entries or fields of the
    wrong shape are skipped. A call with neither an `expect.outcome` nor a situation that
    gives one is unlabelled and left out (compare the keys with the calls to report them).
    Raises `ManifestError` naming the file if it cannot be read or is not YAML.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"{path}: not valid YAML{where}") from None
    calls = data.get("calls") if isinstance(data, Mapping) else data
    if not isinstance(calls, list):
        raise ManifestError(f"{path}: calls: expected a list of calls")
    labels: dict[str, CallLabel] = {}
    for entry in calls:
        label = _label(entry)
        if label is not None:
            labels[label.file] = label
    return labels


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _label(entry: Any) -> CallLabel | None:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("file"), str):
        return None
    file = Path(entry["file"]).name
    situation = entry.get("situation")
    situation = situation if isinstance(situation, str) else ""
    expect = entry.get("expect")
    outcome = expect.get("outcome") if isinstance(expect, Mapping) else None
    outcome = outcome if isinstance(outcome, str) and outcome else None
    speech = []
    for segment in entry.get("speech") or ():
        if isinstance(segment, Mapping):
            start, end = _number(segment.get("start_s")), _number(segment.get("end_s"))
            if start is not None and end is not None:
                speech.append((start, end))
    label = CallLabel(file, situation, outcome, tuple(sorted(speech)))
    return label if label.expected_outcome is not None else None


@dataclass(frozen=True)
class CallRun:
    """One call replayed with one setting."""

    file: str
    """The recording's file name."""
    outcome: str
    """The outcome the call hung up with."""
    frames: int
    """The hang-up frame (20 ms frames from the start of the call)."""
    timeline: tuple[dict, ...]
    """The engine's timeline records: `t` (s), `frame`, `event`, maybe `state`, `count`, ..."""


@dataclass(frozen=True)
class CallMetrics:
    """The mistakes and time costs of one replayed call, against its label."""

    correct: bool
    """The call's outcome is the label's outcome (or the one its situation gives)."""
    premature_reprompts: int
    """Timer-driven prompts (a `prompt_started` right after a `noinput` at the same frame, at
    t) said while labelled speech starts within (t - 0.1 s, t + answer_window_s]: the callee
    was about to answer and we spoke over them."""
    premature_hangup: bool
    """We hung up before the start of a labelled speech segment (the callee would still have
    spoken); False for a label without speech."""
    missed_quiet: bool
    """A too_quiet call whose timeline has no `low_volume` event: quiet speech taken for
    silence."""
    noise_as_answer: bool
    """A noisy_line call whose outcome is `answered`."""
    dead_line_s: float | None
    """For a never_answers call, the hang-up time (s): time spent on a dead line; else None."""
    response_s: tuple[float, ...]
    """For each prompt answering understood speech (the first `prompt_started` after a
    `speech` or intent event, before we listen again), the time from the end of the last
    labelled speech segment that ended before the prompt to the prompt's start (s)."""
    situation: str = ""
    """The label's situation, so that summaries can count per situation."""


def _time(record: Mapping[str, Any]) -> float:
    """A record's time (s)."""
    t = record.get("t")
    return float(t) if t is not None else frames_to_seconds(int(record.get("frame", 0)))


def _is_dialog_event(record: Mapping[str, Any]) -> bool:
    """An event the script handles: the engine records those with their `count`."""
    return "count" in record or record.get("event") in NON_ANSWER_EVENTS | {"speech"}


def call_metrics(run: CallRun, label: CallLabel, answer_window_s: float = 2.0) -> CallMetrics:
    """Compare a replayed call with its label (see CallMetrics for each definition).

    `answer_window_s` (s): how soon after a re-prompt's start labelled speech must begin for
    the re-prompt to count as premature.
    """
    hangup_t = next(
        (_time(r) for r in run.timeline if r.get("event") == "hangup"),
        frames_to_seconds(run.frames),
    )
    starts = [start for start, _ in label.speech]
    premature_reprompts = 0
    responses: list[float] = []
    trigger: Mapping[str, Any] | None = None  # the dialog event the next prompt answers
    for record in run.timeline:
        event = record.get("event")
        if _is_dialog_event(record):
            trigger = record
        elif event in ("listen_started", "hangup"):
            trigger = None
        elif event == "prompt_started" and trigger is not None:
            t = _time(record)
            if trigger.get("event") == "noinput":
                if trigger.get("frame") == record.get("frame") and any(
                    t - REPROMPT_LEAD_S < s <= t + answer_window_s for s in starts
                ):
                    premature_reprompts += 1
            elif trigger.get("event") not in NON_ANSWER_EVENTS:
                ends = [end for _, end in label.speech if end <= t]
                if ends:
                    responses.append(round(t - max(ends), 6))
            trigger = None
    situation = label.situation
    return CallMetrics(
        correct=run.outcome == label.expected_outcome,
        premature_reprompts=premature_reprompts,
        premature_hangup=any(s > hangup_t for s in starts),
        missed_quiet=situation == "too_quiet"
        and not any(r.get("event") == "low_volume" for r in run.timeline),
        noise_as_answer=situation == "noisy_line" and run.outcome == "answered",
        dead_line_s=hangup_t if situation == "never_answers" else None,
        response_s=tuple(responses),
        situation=situation,
    )


@dataclass(frozen=True)
class Summary:
    """One setting over all labelled calls. Rates are shares in 0..1, times seconds."""

    accuracy: float
    """Share of calls with the right outcome."""
    premature_reprompt_rate: float
    """Share of calls with at least one premature re-prompt."""
    premature_hangup_rate: float
    """Share of calls hung up before the callee's labelled speech."""
    missed_quiet_rate: float
    """Share of too_quiet calls without a low_volume event (0 when there are none)."""
    noise_as_answer_rate: float
    """Share of noisy_line calls taken as answered (0 when there are none)."""
    dead_line_s: float
    """Mean time on a dead line over never_answers calls (s; 0 when there are none)."""
    response_s: float
    """Mean time from the callee's end of speech to our answering prompt, over all responses
    of all calls (s; 0 when there are none)."""
    cost_s: float
    """dead_line_s + response_s: the time cost of the setting (s)."""
    calls: int
    """Number of calls."""


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def summarize(metrics: Sequence[CallMetrics]) -> Summary:
    """The summary of one setting's calls (see Summary for each field; all 0 for no calls)."""
    quiet = [m.missed_quiet for m in metrics if m.situation == "too_quiet"]
    noisy = [m.noise_as_answer for m in metrics if m.situation == "noisy_line"]
    dead_line = _mean([m.dead_line_s for m in metrics if m.dead_line_s is not None])
    response = _mean([r for m in metrics for r in m.response_s])
    return Summary(
        accuracy=_share([m.correct for m in metrics]),
        premature_reprompt_rate=_share([m.premature_reprompts > 0 for m in metrics]),
        premature_hangup_rate=_share([m.premature_hangup for m in metrics]),
        missed_quiet_rate=_share(quiet),
        noise_as_answer_rate=_share(noisy),
        dead_line_s=dead_line,
        response_s=response,
        cost_s=dead_line + response,
        calls=len(metrics),
    )


__all__ = [
    "OUTCOME_BY_SITUATION",
    "CallLabel",
    "CallMetrics",
    "CallRun",
    "Summary",
    "call_metrics",
    "labels_from_manifest",
    "summarize",
]
