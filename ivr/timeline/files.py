"""Timelines as JSON lines: one record per line, `t`, `frame`, `event`, `state`, then the
record's own fields in their declared order.

`state` and the optional fields (those that default to None, e.g. a `speech_ignored`'s
`heard_s`) are left out when None; every other field is written, null or not. A record read
back writes out byte-identically. A line of a kind this version does not know (an `event`
that is neither a known kind nor a dialog event, which has a `count`) or with fields its kind
does not have is an error naming the kind, not a record read in part.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ivr.atomic import atomic_path
from ivr.errors import IvrError
from ivr.privacy import mask_value
from ivr.timeline.records import KINDS, RECORD_CLASSES, DialogEventRecord, TimelineRecord


class TimelineFormatError(IvrError, ValueError):
    """A timeline record or line that is not one this version writes."""


def _field_plan(cls: type) -> tuple[tuple[str, bool], ...]:
    """(name, left out when None) of a class's fields after `frame`, `event` excluded."""
    plan = []
    for f in dataclasses.fields(cls):
        if f.name in ("frame", "event"):
            continue
        optional = f.name == "state" or f.default is None
        plan.append((f.name, optional))
    return tuple(plan)


_PLANS: dict[type, tuple[tuple[str, bool], ...]] = {cls: _field_plan(cls) for cls in RECORD_CLASSES}
_REQUIRED: dict[type, frozenset[str]] = {
    cls: frozenset(
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.name != "state"
    )
    for cls in RECORD_CLASSES
}


def record_to_json(record: TimelineRecord) -> dict[str, Any]:
    """The record as the timeline file holds it (a dict in the file's key order)."""
    out: dict[str, Any] = {"t": record.t, "frame": record.frame, "event": record.event}
    for name, optional in _PLANS[type(record)]:
        value = getattr(record, name)
        if value is not None or not optional:
            out[name] = value
    return out


def record_from_json(data: Mapping[str, Any]) -> TimelineRecord:
    """The record of one line of a timeline file (`t` is not read: it follows from `frame`).

    Raises TimelineFormatError naming the kind when the kind is unknown, a field is missing or
    a field is not one the kind has."""
    event = data.get("event")
    if not isinstance(event, str):
        raise TimelineFormatError(f"timeline record without an event name: {dict(data)!r}")
    cls = DialogEventRecord if "count" in data else KINDS.get(event)
    if cls is None:
        raise TimelineFormatError(f"unknown timeline record kind {event!r}")
    names = {"frame", *(name for name, _ in _PLANS[cls])}
    if cls is DialogEventRecord:
        names.add("event")
    extra = set(data) - names - {"t", "event"}
    if extra:
        raise TimelineFormatError(f"{event!r} record with unknown fields: {sorted(extra)}")
    missing = _REQUIRED[cls] - set(data)
    if missing:
        raise TimelineFormatError(f"{event!r} record without {', '.join(sorted(missing))}")
    values = {name: data.get(name) for name, _ in _PLANS[cls]}
    if cls is DialogEventRecord:
        values["event"] = event
    return cls(frame=data["frame"], **values)


def write_timeline(
    path: Path, records: Iterable[TimelineRecord], show_numbers: bool = False
) -> None:
    """The timeline as JSON lines, atomically; byte-identical for the same call. Phone numbers
    in its texts (what recognition heard) are masked unless `show_numbers`."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            data = record_to_json(record)
            if not show_numbers:
                data = mask_value(data)
            f.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")


def read_timeline(path: str | Path) -> list[TimelineRecord]:
    """The records of a timeline file (the format `write_timeline` writes).

    Raises TimelineFormatError naming the file and line of a record that cannot be read, and
    OSError when the file cannot be."""
    records = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise TimelineFormatError("not a JSON object")
                records.append(record_from_json(data))
            except (json.JSONDecodeError, TimelineFormatError) as exc:
                raise TimelineFormatError(f"{path}:{number}: {exc}") from None
    return records
