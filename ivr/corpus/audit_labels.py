"""The labels of an audit corpus: what `ivr audit --expect FILE` expects of each recording.

`ivr synth --audit` writes it beside its recordings (AUDIT_LABELS_NAME); it can be written by
hand too. Per recording, the expected verdict of each item it labels (items not listed are not
judged), and for a failed item optionally the moments that should fail it (s into the call),
each found within `tolerance_s`:

    version: 1
    generator: ivr synth --audit        # who wrote it (free text)
    seed: 7                             # optional
    tolerance_s: 0.1                    # optional: how far (s) a moment may be from its label
    calls:
    - file: interrupts_twice.wav        # the recording's name as `ivr audit` shows it: a file
                                        # name, or agent.wav+customer.wav for a mono pair
      agent: left                       # optional: the agent's side (left | right), used
                                        # when `ivr audit` is not given --agent
      part: held_out                    # optional: tuning | held_out
      items:
        interrupting: {verdict: fail, moments_s: [3.2, 7.9]}
        late_answer: pass               # a verdict alone: pass | fail | n/a
        hold: {verdict: n/a}

Item keys are those of ivr.audit.scorecard.ITEMS (the reader checks them when given the keys).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ivr.corpus.manifest import PARTS, SIDES, FieldReader, read_manifest_data

AUDIT_LABELS_NAME = "audit_labels.yaml"
"""The labels' file name beside the corpus's recordings."""
AUDIT_LABELS_VERSION = 1
VERDICTS = ("pass", "fail", "n/a")
"""An item's verdicts (ivr.audit.scorecard.Verdict's values)."""
DEFAULT_TOLERANCE_S = 0.1
"""How far (s) a failed moment may be from its label unless the file says (100 ms)."""


@dataclass(frozen=True)
class ItemLabel:
    """One item's expected result: its key, its verdict (pass | fail | n/a) and, for a fail,
    the moments that should fail it (s into the call; None: not checked)."""

    key: str
    verdict: str
    moments_s: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"invalid verdict: {self.verdict!r} (pass, fail or n/a)")
        if self.moments_s is not None:
            moments = tuple(float(m) for m in self.moments_s)
            if self.verdict != "fail" or not all(math.isfinite(m) and m >= 0 for m in moments):
                raise ValueError(f"invalid moments_s: {self.moments_s!r} (s >= 0, for a fail)")
            object.__setattr__(self, "moments_s", moments)


@dataclass(frozen=True)
class Utterance:
    """What the agent said in one turn: its start and end (s into the call) and its text."""

    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class AuditCallLabels:
    """One recording's labels: its name as `ivr audit` shows it, its items' expected results,
    the agent's side (None: --agent's), the corpus part it belongs to (None: not split) and
    the agent's words (None: not transcribed; `ivr audit --asr reference` scores them)."""

    file: str
    items: tuple[ItemLabel, ...]
    agent: str | None = None
    part: str | None = None
    agent_words: tuple[Utterance, ...] | None = None

    def item(self, key: str) -> ItemLabel | None:
        """The label of item `key`, or None when it is not judged."""
        return next((i for i in self.items if i.key == key), None)


@dataclass(frozen=True)
class AuditLabels:
    """A labels file: who wrote it, the seed, the moments' tolerance (s) and each recording's
    labels."""

    calls: tuple[AuditCallLabels, ...]
    generator: str = "ivr synth --audit"
    seed: int | None = None
    tolerance_s: float = DEFAULT_TOLERANCE_S
    path: Path | None = None
    """The file read (None for labels made in memory)."""

    def find(self, name: str) -> AuditCallLabels | None:
        """The labels of the recording `name` (a file name, or agent.wav+customer.wav)."""
        return next((c for c in self.calls if c.file == name), None)


def load_audit_labels(path: str | Path, item_keys: Collection[str] | None = None) -> AuditLabels:
    """Read and check a labels file; ManifestError naming the file and the field otherwise
    (an item key not in `item_keys`, when given, included)."""
    path = Path(path)
    reader = _Reader(path, item_keys)
    top = reader.mapping(read_manifest_data(path), "labels")
    version = top.get("version")
    if version != AUDIT_LABELS_VERSION:
        raise reader.fail("version", f"unsupported {version!r} (expected {AUDIT_LABELS_VERSION})")
    tolerance = reader.number(top.get("tolerance_s", DEFAULT_TOLERANCE_S), "tolerance_s")
    seed = top.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise reader.fail("seed", f"expected an integer, got {seed!r}")
    raw = top.get("calls")
    if not isinstance(raw, list):
        raise reader.fail("calls", f"expected a list, got {raw!r}")
    calls = tuple(reader.call(item, f"calls[{i}]") for i, item in enumerate(raw))
    files = [c.file for c in calls]
    duplicates = sorted({f for f in files if files.count(f) > 1})
    if duplicates:
        raise reader.fail("calls", f"file {duplicates[0]!r} listed more than once")
    generator = str(top.get("generator") or "")
    return AuditLabels(calls, generator, seed, tolerance, path)


class _Reader(FieldReader):
    """The labels' fields, items (known to `item_keys`, when given) and words."""

    def __init__(self, path: Path, item_keys: Collection[str] | None) -> None:
        super().__init__(path)
        self.item_keys = item_keys

    def number(self, value: Any, name: str) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value < 0:
            raise self.fail(name, f"expected a number >= 0, got {value!r}")
        return float(value)

    def choice(self, data: dict, key: str, where: str, allowed: Sequence[str]) -> str | None:
        value = data.get(key)
        if value is not None and value not in allowed:
            raise self.fail(f"{where}.{key}", f"must be one of {', '.join(allowed)}, got {value!r}")
        return value

    def call(self, item: Any, where: str) -> AuditCallLabels:
        data = self.mapping(item, where)
        file = data.get("file")
        if not isinstance(file, str) or not file or Path(file).name != file:
            raise self.fail(f"{where}.file", f"must be a plain file name, got {file!r}")
        items = self.mapping(data.get("items"), f"{where}.items")
        labels = tuple(
            self.item(key, value, f"{where}.items.{key}") for key, value in items.items()
        )
        agent = self.choice(data, "agent", where, SIDES)
        part = self.choice(data, "part", where, PARTS)
        words = data.get("agent_words")
        if words is not None:
            words = self.utterances(words, f"{where}.agent_words")
        return AuditCallLabels(file, labels, agent, part, words)

    def utterances(self, value: Any, where: str) -> tuple[Utterance, ...]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected a list of {{start_s, end_s, text}}, got {value!r}")
        out = []
        for i, item in enumerate(value):
            data = self.mapping(item, f"{where}[{i}]")
            start = self.number(data.get("start_s"), f"{where}[{i}].start_s")
            end = self.number(data.get("end_s"), f"{where}[{i}].end_s")
            text = data.get("text")
            if not isinstance(text, str) or end < start:
                raise self.fail(f"{where}[{i}]", "expected a text and end_s >= start_s")
            out.append(Utterance(start, end, text))
        return tuple(out)

    def item(self, key: Any, value: Any, where: str) -> ItemLabel:
        if not isinstance(key, str) or (self.item_keys is not None and key not in self.item_keys):
            known = f"; items: {', '.join(self.item_keys)}" if self.item_keys else ""
            raise self.fail(where, f"unknown item {key!r}{known}")
        data = {"verdict": value} if isinstance(value, str) else self.mapping(value, where)
        unknown = set(data) - {"verdict", "moments_s"}
        if unknown:
            raise self.fail(where, f"unknown field {sorted(unknown)[0]!r} (verdict, moments_s)")
        moments = data.get("moments_s")
        if moments is not None:
            if not isinstance(moments, list):
                raise self.fail(f"{where}.moments_s", f"expected a list, got {moments!r}")
            moments = tuple(self.number(m, f"{where}.moments_s") for m in moments)
        try:
            return ItemLabel(key, data.get("verdict"), moments)  # type: ignore[arg-type]
        except ValueError as exc:
            raise self.fail(where, str(exc)) from None


def audit_labels_yaml(labels: AuditLabels) -> str:
    """The labels as the file's text (UTF-8 YAML, the module's shape)."""
    calls = []
    for call in labels.calls:
        entry: dict[str, Any] = {"file": call.file}
        if call.agent is not None:
            entry["agent"] = call.agent
        if call.part is not None:
            entry["part"] = call.part
        entry["items"] = {i.key: _item_data(i) for i in call.items}
        if call.agent_words is not None:
            entry["agent_words"] = [
                {"start_s": round(u.start_s, 3), "end_s": round(u.end_s, 3), "text": u.text}
                for u in call.agent_words
            ]
        calls.append(entry)
    document = {
        "version": AUDIT_LABELS_VERSION,
        "generator": labels.generator,
        "seed": labels.seed,
        "tolerance_s": labels.tolerance_s,
        "calls": calls,
    }
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000)


def _item_data(label: ItemLabel) -> Any:
    if label.moments_s is None:
        return label.verdict
    return {"verdict": label.verdict, "moments_s": [round(m, 3) for m in label.moments_s]}


def write_audit_labels(path: str | Path, labels: AuditLabels) -> Path:
    """Write the labels to `path` atomically (whole or not at all); the path. OSError as the
    file system raises it."""
    from ivr.atomic import write_text_atomic

    write_text_atomic(path, audit_labels_yaml(labels))
    return Path(path)
