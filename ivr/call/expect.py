"""Expected outcomes of replayed calls, and checking a call against them.

A manifest (the test-call generator's, or one written by hand) lists calls by file name with
an `expect:` mapping; replay reads only what it needs and ignores the rest:

    calls:
    - file: silent.wav
      expect:
        outcome: no_answer
        tolerance_s: 0.02          # optional; default one frame (0.02 s)
        events:                    # optional key events, matched in order
        - {event: prompt_started, prompt: hello_again, t: 7.46}
        - {event: hangup, t: 16.08}
        - {event: output_volume, db: 6}   # without t: it must happen, at any time
        needs_recognition: true    # judged only when the replay recognizes speech
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ivr.audio.format import FRAME_S
from ivr.errors import IvrError


@dataclass(frozen=True)
class ExpectedEvent:
    """A timeline event expected at `t` (s), or at any time when `t` is None; `match` are
    other fields that must be equal."""

    event: str
    t: float | None
    match: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class CallExpectation:
    """What a replayed call must do."""

    file: str
    outcome: str | None
    events: tuple[ExpectedEvent, ...]
    tolerance_s: float = FRAME_S
    needs_recognition: bool = False
    """Outcome and events depend on what the callee said: not judged without recognition."""


def load_expectations(path: Path) -> dict[str, CallExpectation]:
    """File name -> expectation, from a manifest; IvrError naming the file and field."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise IvrError(f"{path}: cannot read expectations: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise IvrError(f"{path}{where}: not valid YAML") from None
    if not isinstance(data, dict) or not isinstance(data.get("calls"), list):
        raise IvrError(f"{path}: expected a mapping with a `calls:` list")
    out: dict[str, CallExpectation] = {}
    for i, call in enumerate(data["calls"]):
        where = f"{path}: calls[{i}]"
        if not isinstance(call, dict) or not isinstance(call.get("file"), str):
            raise IvrError(f"{where}: needs a `file:` name")
        expect = call.get("expect") or {}
        if not isinstance(expect, dict):
            raise IvrError(f"{where}.expect: expected a mapping")
        outcome = expect.get("outcome")
        tolerance = expect.get("tolerance_s", FRAME_S)
        if not isinstance(tolerance, int | float) or tolerance < 0:
            raise IvrError(f"{where}.expect.tolerance_s: expected a number >= 0 s")
        events = []
        for j, item in enumerate(expect.get("events") or []):
            if not isinstance(item, dict) or "event" not in item:
                raise IvrError(f"{where}.expect.events[{j}]: needs `event:` (and `t:`)")
            t = item.get("t")
            if t is not None and not isinstance(t, int | float):
                raise IvrError(f"{where}.expect.events[{j}].t: expected seconds, got {t!r}")
            extra = tuple(sorted((k, v) for k, v in item.items() if k not in ("event", "t")))
            events.append(ExpectedEvent(str(item["event"]), None if t is None else float(t), extra))
        if outcome is None and not events:
            continue
        out[Path(call["file"]).name] = CallExpectation(
            call["file"],
            outcome,
            tuple(events),
            float(tolerance),
            bool(expect.get("needs_recognition", False)),
        )
    return out


def check_call(
    expectation: CallExpectation, outcome: str, timeline: list[dict[str, Any]]
) -> list[str]:
    """What differs from the expectation (empty when the call passes)."""
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
            if record.get("event") == expected.event and all(
                record.get(key) == value for key, value in expected.match
            ):
                found = k
                break
        label = expected.event + "".join(f" {v}" for _, v in expected.match)
        if found is None:
            when = f" (expected at {expected.t:.2f} s)" if expected.t is not None else ""
            problems.append(f"no {label}{when}")
            continue
        position = found + 1
        actual = timeline[found]["t"]
        if expected.t is not None and abs(actual - expected.t) > tolerance:
            problems.append(f"{label} at {actual:.2f} s, expected {expected.t:.2f} s")
    return problems


def callee_channels(path: str | Path | None) -> dict[str, str]:
    """File name -> the callee's side, for the stereo calls of a test-call manifest (empty for
    None, or for an expectations file that is not a full manifest)."""
    if path is None:
        return {}
    from ivr.synth.manifest import ManifestError, load_manifest

    try:
        calls = load_manifest(path).calls
    except ManifestError:
        return {}
    return {call.file: call.callee_channel for call in calls if call.callee_channel}
