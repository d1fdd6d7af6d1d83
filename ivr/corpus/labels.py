"""What replay, reference recognition and tuning read of a manifest, generated or hand-written.

The generator's manifest (ivr.corpus.manifest) gives every field; one written by hand may give
only what a reader needs, e.g. a `file:` and an `expect: {outcome: ...}` per call:

    calls:
    - file: silent.wav
      situation: never_answers     # optional
      speech:                      # optional: the callee's labelled speech (s), text optional
      - {start_s: 1.0, end_s: 2.0, text: 不是}
      expect:
        outcome: no_answer
        tolerance_s: 0.02          # optional; default one frame (0.02 s)
        events:                    # optional key events, matched in order
        - {event: prompt_started, prompt: hello_again, t: 7.46}
        - {event: hangup, t: 16.08}
        - {event: output_volume, db: 6}   # without t: it must happen, at any time
        needs_recognition: true    # judged only when the replay recognizes speech

`load_labels` reads every entry once. A field of the wrong shape does not stop the others:
it is kept as a one-line problem naming the file and the field (`LabelledCall.problems`), and a
reader that needs that field raises it (`LabelledCall.require`); tuning skips what it cannot
use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.audio.format import FRAME_S
from ivr.corpus.manifest import ManifestError, read_manifest_data


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
    """How far (s) an event may be from its expected time."""
    needs_recognition: bool = False
    """Outcome and events depend on what the callee said: not judged without recognition."""


@dataclass(frozen=True)
class LabelledSpeech:
    """A labelled stretch of the callee's speech: start and end (s), what is said ("" when not
    given)."""

    start_s: float
    end_s: float
    text: str = ""


@dataclass(frozen=True)
class LabelledCall:
    """One entry of `calls:` as far as it could be read."""

    file: str | None
    """The file as given (None: the entry has no file name)."""
    situation: str
    """The generator's situation ("" when not given)."""
    speech: tuple[LabelledSpeech, ...] | None
    """The labelled speech segments that could be read, as given; None without a `speech:`
    list (`speech:` with nothing after it is none)."""
    outcome: str | None
    """`expect.outcome`, if it is a non-empty string."""
    expectation: CallExpectation | None
    """The whole `expect:` for replay; None when it gives neither an outcome nor events."""
    problems: tuple[tuple[str, str], ...] = ()
    """(part, message) of each part that could not be read: part `file`, `speech` or
    `expect`; the message names the manifest and the field."""

    @property
    def name(self) -> str:
        """The file name, without any folder ("" without a file)."""
        return Path(self.file).name if self.file else ""

    def require(self, *parts: str) -> None:
        """Raise ManifestError for the first problem in one of `parts`."""
        for part, message in self.problems:
            if part in parts:
                raise ManifestError(message)


def load_labels(path: str | Path) -> tuple[LabelledCall, ...]:
    """Every entry of a manifest's `calls:` (the manifest a mapping with a `calls:` list, or
    that list itself); ManifestError naming the file if it cannot be read, is not YAML or has
    no list of calls."""
    path = Path(path)
    data = read_manifest_data(path)
    calls = data.get("calls") if isinstance(data, Mapping) else data
    if not isinstance(calls, list):
        raise ManifestError(f"{path}: calls: expected a list of calls")
    return tuple(_call(item, f"{path}: calls[{i}]") for i, item in enumerate(calls))


def _call(item: Any, where: str) -> LabelledCall:
    if not isinstance(item, Mapping) or not isinstance(item.get("file"), str):
        problem = ("file", f"{where}: needs a `file:` name")
        return LabelledCall(None, "", None, None, None, (problem,))
    problems: list[tuple[str, str]] = []
    situation = item.get("situation")
    speech = _speech(item.get("speech"), where, problems)
    expect = item.get("expect") or {}
    outcome = expect.get("outcome") if isinstance(expect, Mapping) else None
    expectation = None
    try:
        expectation = _expectation(item["file"], expect, where)
    except ManifestError as exc:
        problems.append(("expect", str(exc)))
    return LabelledCall(
        item["file"],
        situation if isinstance(situation, str) else "",
        speech,
        outcome if isinstance(outcome, str) and outcome else None,
        expectation,
        tuple(problems),
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _speech(
    given: Any, where: str, problems: list[tuple[str, str]]
) -> tuple[LabelledSpeech, ...] | None:
    if not isinstance(given, list):
        return None
    segments = []
    for j, segment in enumerate(given):
        start = _number(segment.get("start_s")) if isinstance(segment, Mapping) else None
        end = _number(segment.get("end_s")) if isinstance(segment, Mapping) else None
        if start is None or end is None:
            message = f"{where}.speech[{j}]: needs start_s, end_s and text"
            problems.append(("speech", message))
            continue
        segments.append(LabelledSpeech(start, end, segment.get("text") or ""))
    return tuple(segments)


def _expectation(file: str, expect: Any, where: str) -> CallExpectation | None:
    if not isinstance(expect, Mapping):
        raise ManifestError(f"{where}.expect: expected a mapping")
    outcome = expect.get("outcome")
    tolerance = expect.get("tolerance_s", FRAME_S)
    if not isinstance(tolerance, int | float) or tolerance < 0:
        raise ManifestError(f"{where}.expect.tolerance_s: expected a number >= 0 s")
    events = []
    for j, item in enumerate(expect.get("events") or []):
        if not isinstance(item, Mapping) or "event" not in item:
            raise ManifestError(f"{where}.expect.events[{j}]: needs `event:` (and `t:`)")
        t = item.get("t")
        if t is not None and not isinstance(t, int | float):
            raise ManifestError(f"{where}.expect.events[{j}].t: expected seconds, got {t!r}")
        extra = tuple(sorted((k, v) for k, v in item.items() if k not in ("event", "t")))
        events.append(ExpectedEvent(str(item["event"]), None if t is None else float(t), extra))
    if outcome is None and not events:
        return None
    return CallExpectation(
        file,
        outcome,
        tuple(events),
        float(tolerance),
        bool(expect.get("needs_recognition", False)),
    )
