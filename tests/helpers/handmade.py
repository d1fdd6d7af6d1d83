"""Hand-made timeline records for tests: `record(t, event, **fields)` with the fields a test
does not care about given neutral values."""

from __future__ import annotations

import dataclasses

from ivr.timeline import KINDS, DialogEventRecord, TimelineRecord

NEUTRAL = {"str": "", "float": 0.0, "int": 0, "bool": False, "list": []}
"""The value of a required field a test leaves out, by its annotation."""


def record(t: float, event: str, state: str | None = "s", **fields) -> TimelineRecord:
    """A record at `t` (s, on a frame); a dialog event when `count` is given or the event is
    not a known kind (count 1 then); a `speech_start_s` left out is `t`."""
    frame = round(t * 50)
    cls = KINDS.get(event)
    if "count" in fields or cls is None:
        return DialogEventRecord(frame, state, event, **{"count": 1, **fields})
    for f in dataclasses.fields(cls):
        if f.name not in ("frame", "state") and f.default is dataclasses.MISSING:
            neutral = t if f.name == "speech_start_s" else NEUTRAL.get(str(f.type))
            fields.setdefault(f.name, neutral)
    if any(f.name == "state" for f in dataclasses.fields(cls)):
        fields["state"] = state
    return cls(frame, **fields)
