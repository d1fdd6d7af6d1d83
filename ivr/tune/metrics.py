"""What one setting does to labelled calls: per-call mistakes and costs, and their summary.

A labelled call (`CallLabel`, from a test-call manifest) says what the callee did: the
situation, the outcome the call must reach and the stretches of callee speech. A replayed call
(`CallRun`) is the engine's timeline with one setting. `call_metrics` compares the two;
`summarize` turns the calls of one setting into rates and mean times. Times are seconds from
the start of the call; frames are 20 ms.

A label may hold less than a metric needs (a hand-written manifest with outcomes only): a
metric a call cannot tell is None for that call, and a rate or mean over no call that can tell
is None ("n/a"), never 0. What each needs: premature re-prompts and hang-ups, labelled speech
(`CallLabel.speech_labelled`); missed quiet callees, too_quiet calls (`CallLabel.quiet`); noise
taken for an answer, noisy_line calls (`CallLabel.noisy`); dead-line seconds, never_answers
calls; the response time, labelled speech segments. `missing_details` says which are lacking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ivr.audio.format import frames_to_seconds
from ivr.corpus.labels import load_labels
from ivr.timeline import CallTimeline, TimelineRecord
from ivr.vocabulary import NO_PROGRESS_EVENTS

OUTCOME_BY_SITUATION = {
    "answers_at_once": "answered",
    "answers_late": "answered",
    "never_answers": "no_answer",
    "too_quiet": "low_volume",
    "noisy_line": "noisy_line",
    "cut_in_out": "choppy_line",
}
"""The outcome a call must reach when its label gives a situation but no outcome."""

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
    speech_labelled: bool = True
    """Whether `speech` is all the callee said: the label has a `speech:` list (`[]`: the
    callee never speaks) or the situation never_answers. False for a label without either (an
    outcomes-only manifest): its `speech` is empty because it is unknown, so premature
    re-prompts and hang-ups cannot be told on the call."""
    needs_recognition: bool = False
    """The call's outcome depends on what the callee said (`expect.needs_recognition`): it
    cannot be scored when the sweep runs without recognition."""

    @property
    def expected_outcome(self) -> str | None:
        """`outcome`, or the situation's outcome (OUTCOME_BY_SITUATION); None if neither."""
        return (
            self.outcome if self.outcome is not None else OUTCOME_BY_SITUATION.get(self.situation)
        )

    @property
    def quiet(self) -> bool:
        """A too-quiet callee: situation too_quiet, or an expected outcome of low_volume."""
        return self.situation == "too_quiet" or self.expected_outcome == "low_volume"

    @property
    def noisy(self) -> bool:
        """A noisy line: situation noisy_line, or an expected outcome of noisy_line."""
        return self.situation == "noisy_line" or self.expected_outcome == "noisy_line"


def labels_from_manifest(path: str | Path) -> dict[str, CallLabel]:
    """The labelled calls of a manifest, by file name.

    Reads the manifest leniently (ivr.corpus.labels): of each entry of `calls:` only
    `file`, `situation`, `speech[].start_s/end_s` (s), `expect.outcome` and
    `expect.needs_recognition` are used, and
    entries or fields of the wrong shape are skipped. A call with neither an `expect.outcome`
    nor a situation that gives one is unlabelled and left out (compare the keys with the calls
    to report them). A call without a `speech:` list (`speech:` with nothing after it is none)
    that is not never_answers has its speech unlabelled (`CallLabel.speech_labelled` False).
    Raises `ManifestError` naming the file if it cannot be read or is not YAML.
    """
    labels: dict[str, CallLabel] = {}
    for call in load_labels(path):
        if call.file is None:
            continue
        speech = tuple(sorted((s.start_s, s.end_s) for s in call.speech or ()))
        labelled = call.speech is not None or call.situation == "never_answers"
        needs = call.expectation is not None and call.expectation.needs_recognition
        label = CallLabel(call.name, call.situation, call.outcome, speech, labelled, needs)
        if label.expected_outcome is not None:
            labels[label.file] = label
    return labels


@dataclass(frozen=True)
class CallRun:
    """One call replayed with one setting."""

    file: str
    """The recording's file name."""
    outcome: str
    """The outcome the call hung up with."""
    frames: int
    """The hang-up frame (20 ms frames from the start of the call)."""
    timeline: tuple[TimelineRecord, ...]
    """The engine's timeline records (ivr.timeline), in order."""


@dataclass(frozen=True)
class CallMetrics:
    """The mistakes and time costs of one replayed call, against its label."""

    correct: bool
    """The call's outcome is the label's outcome (or the one its situation gives)."""
    premature_reprompts: int | None
    """Timer-driven prompts (a `prompt_started` right after a `noinput` at the same frame, at
    t) said while labelled speech starts within (t - 0.1 s, t + answer_window_s]: the callee
    was about to answer and we spoke over them. None when the label's speech is unlabelled."""
    premature_hangup: bool | None
    """We hung up before the start of a labelled speech segment (the callee would still have
    spoken); False for a label without speech, None when its speech is unlabelled."""
    missed_quiet: bool | None
    """A too-quiet call (`CallLabel.quiet`) whose timeline has no `low_volume` event: quiet
    speech taken for silence. None for any other call."""
    noise_as_answer: bool | None
    """A noisy line (`CallLabel.noisy`) whose outcome is `answered`; None for any other call."""
    dead_line_s: float | None
    """For a never_answers call, the hang-up time (s): time spent on a dead line; else None."""
    response_s: tuple[float, ...]
    """For each prompt answering understood speech (the first `prompt_started` after a
    `speech` or intent event, before we listen again), the time from the end of the last
    labelled speech segment that ended before the prompt to the prompt's start (s)."""
    situation: str = ""
    """The label's situation, to count calls per situation."""


def call_metrics(run: CallRun, label: CallLabel, answer_window_s: float = 2.0) -> CallMetrics:
    """Compare a replayed call with its label (see CallMetrics for each definition).

    `answer_window_s` (s): how soon after a re-prompt's start labelled speech must begin for
    the re-prompt to count as premature.
    """
    call = CallTimeline(run.timeline)
    hangup_t = call.hangup.t if call.hangup is not None else frames_to_seconds(run.frames)
    starts = [start for start, _ in label.speech]
    premature_reprompts = 0
    responses: list[float] = []
    for trigger, prompt in call.prompts_after_events:
        t = prompt.t
        if trigger.event == "noinput":
            if trigger.frame == prompt.frame and any(
                t - REPROMPT_LEAD_S < s <= t + answer_window_s for s in starts
            ):
                premature_reprompts += 1
        elif trigger.event not in NO_PROGRESS_EVENTS:  # not an answer understood
            ends = [end for _, end in label.speech if end <= t]
            if ends:
                responses.append(round(t - max(ends), 6))
    speech_known = label.speech_labelled
    heard_quiet = call.has_event("low_volume")
    return CallMetrics(
        correct=run.outcome == label.expected_outcome,
        premature_reprompts=premature_reprompts if speech_known else None,
        premature_hangup=any(s > hangup_t for s in starts) if speech_known else None,
        missed_quiet=not heard_quiet if label.quiet else None,
        noise_as_answer=run.outcome == "answered" if label.noisy else None,
        dead_line_s=hangup_t if label.situation == "never_answers" else None,
        response_s=tuple(responses),
        situation=label.situation,
    )


@dataclass(frozen=True)
class Summary:
    """One setting over all labelled calls. Rates are shares in 0..1, times seconds.

    A rate or mean time is None ("n/a") when no call can tell it: each is over the calls that
    have what it needs (see the fields), and a manifest with outcomes only has none of that
    for any of them but accuracy. None is not 0: it says the labels cannot tell.
    """

    accuracy: float
    """Share of calls with the right outcome (0 for no calls)."""
    premature_reprompt_rate: float | None
    """Share of the calls with labelled speech that have at least one premature re-prompt
    (None when no call has labelled speech)."""
    premature_hangup_rate: float | None
    """Share of the calls with labelled speech hung up before the callee's speech (None when
    no call has labelled speech)."""
    missed_quiet_rate: float | None
    """Share of too-quiet calls without a low_volume event (None when there are none)."""
    noise_as_answer_rate: float | None
    """Share of noisy-line calls taken as answered (None when there are none)."""
    dead_line_s: float | None
    """Mean time on a dead line over never_answers calls (s; None when there are none)."""
    response_s: float | None
    """Mean time from the callee's end of speech to our answering prompt, over all responses
    of all calls (s; None when there are none)."""
    cost_s: float | None
    """dead_line_s + response_s: the time cost of the setting (s). A part that is None adds
    nothing; None when both are (ranking then counts it as 0 s, see `cost_or_zero`)."""
    calls: int
    """Number of calls."""


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def _known_share(flags: Iterable[bool | None]) -> float | None:
    """Share of True among the flags that are not None; None if every one is (or none)."""
    known = [flag for flag in flags if flag is not None]
    return sum(known) / len(known) if known else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def time_cost(dead_line_s: float | None, response_s: float | None) -> float | None:
    """The time cost (s): the sum of the parts that are known; None if neither is."""
    parts = [p for p in (dead_line_s, response_s) if p is not None]
    return sum(parts) if parts else None


def cost_or_zero(cost_s: float | None) -> float:
    """A cost (s) for ranking and plotting: n/a (None) counts as 0 s."""
    return 0.0 if cost_s is None else float(cost_s)


def summarize(metrics: Sequence[CallMetrics]) -> Summary:
    """The summary of one setting's calls (see Summary for each field; accuracy 0, the rest
    None for no calls)."""
    dead_line = _mean([m.dead_line_s for m in metrics if m.dead_line_s is not None])
    response = _mean([r for m in metrics for r in m.response_s])
    return Summary(
        accuracy=_share([m.correct for m in metrics]),
        premature_reprompt_rate=_known_share(
            None if m.premature_reprompts is None else m.premature_reprompts > 0 for m in metrics
        ),
        premature_hangup_rate=_known_share(m.premature_hangup for m in metrics),
        missed_quiet_rate=_known_share(m.missed_quiet for m in metrics),
        noise_as_answer_rate=_known_share(m.noise_as_answer for m in metrics),
        dead_line_s=dead_line,
        response_s=response,
        cost_s=time_cost(dead_line, response),
        calls=len(metrics),
    )


def missing_details(labels: Iterable[CallLabel]) -> list[str]:
    """Why metrics will be n/a for every setting: one note per detail the labels lack (no
    never_answers call: dead-line seconds; no speech segment: response time; no labelled
    speech: premature re-prompts and hang-ups; no too-quiet call: missed quiet callees; no
    noisy line: noise taken for an answer)."""
    labels = list(labels)
    notes = []
    if not any(label.situation == "never_answers" for label in labels):
        notes.append("dead-line seconds need calls labelled situation: never_answers")
    if not any(label.speech for label in labels):
        notes.append("response time needs labelled speech segments (speech: start_s, end_s)")
    if not any(label.speech_labelled for label in labels):
        notes.append(
            "premature re-prompts and hang-ups need labelled speech (a speech: list per call, "
            "[] when the callee says nothing)"
        )
    if not any(label.quiet for label in labels):
        notes.append(
            "missed quiet callees need calls labelled situation: too_quiet (or outcome: low_volume)"
        )
    if not any(label.noisy for label in labels):
        notes.append(
            "noise taken for an answer needs calls labelled situation: noisy_line (or outcome: "
            "noisy_line)"
        )
    return notes


__all__ = [
    "OUTCOME_BY_SITUATION",
    "CallLabel",
    "CallMetrics",
    "CallRun",
    "Summary",
    "call_metrics",
    "cost_or_zero",
    "labels_from_manifest",
    "missing_details",
    "summarize",
    "time_cost",
]
