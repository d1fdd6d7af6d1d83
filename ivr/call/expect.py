"""Expected outcomes of replayed calls, and checking a call against them.

A manifest (the test-call generator's, or one written by hand) lists calls by file name with
an `expect:` mapping: the outcome, optional key events with their times and a tolerance (the
format: ivr.corpus.labels). Replay reads only what it needs and ignores the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ivr.corpus.labels import CallExpectation, ExpectedEvent, load_labels
from ivr.timeline import TimelineRecord


def load_expectations(path: Path) -> dict[str, CallExpectation]:
    """File name -> expectation, from a manifest (calls with neither an outcome nor events left
    out); ManifestError naming the file and field."""
    out: dict[str, CallExpectation] = {}
    for call in load_labels(path):
        call.require("file", "expect")
        if call.expectation is not None:
            out[call.name] = call.expectation
    return out


_ABSENT = object()
"""A field a record does not have: equal to no expected value."""


def check_call(
    expectation: CallExpectation, outcome: str, timeline: Sequence[TimelineRecord]
) -> list[str]:
    """What differs from the expectation (empty when the call passes). An expected event's
    other fields (`prompt`, `db`, `outcome`, ...) are compared with the record's fields of the
    same name; a record without such a field does not match."""
    problems = []
    if expectation.outcome is not None and outcome != expectation.outcome:
        problems.append(f"outcome {outcome}, expected {expectation.outcome}")
    position = 0
    # half a sample of slack so a tolerance of exactly one frame is not lost to rounding
    tolerance = expectation.tolerance_s + 1e-6
    for expected in expectation.events:
        found = None
        for k in range(position, len(timeline)):
            record = timeline[k]
            if record.event == expected.event and all(
                getattr(record, key, _ABSENT) == value for key, value in expected.match
            ):
                found = k
                break
        label = expected.event + "".join(f" {v}" for _, v in expected.match)
        if found is None:
            when = f" (expected at {expected.t:.2f} s)" if expected.t is not None else ""
            problems.append(f"no {label}{when}")
            continue
        position = found + 1
        actual = timeline[found].t
        if expected.t is not None and abs(actual - expected.t) > tolerance:
            problems.append(f"{label} at {actual:.2f} s, expected {expected.t:.2f} s")
    return problems


def callee_channels(path: str | Path | None) -> dict[str, str]:
    """File name -> the callee's side, for the stereo calls of a test-call manifest (empty for
    None, or for an expectations file that is not a full manifest)."""
    if path is None:
        return {}
    from ivr.corpus.manifest import ManifestError, load_manifest

    try:
        calls = load_manifest(path).calls
    except ManifestError:
        return {}
    return {call.file: call.callee_channel for call in calls if call.callee_channel}


__all__ = ["CallExpectation", "ExpectedEvent", "callee_channels", "check_call", "load_expectations"]
